//! The `envfile` binary. OWNER: CLI helper.
mod wiring;

fn main() {
    todo!("CLI helper")
}
