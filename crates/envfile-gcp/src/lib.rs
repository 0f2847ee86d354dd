//! envfile backend `gcp` (to be written by its issue's helper).
