//! envfile backend `vault` (to be written by its issue's helper).
