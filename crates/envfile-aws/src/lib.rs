//! envfile backend `aws` (to be written by its issue's helper).
