//! The backend conformance suite: the contract every backend passes, as public async functions
//! that take a `&dyn Backend` and a [`Seeder`] that writes test secrets through the backend's real
//! API (not through envfile). Each backend's test file calls [`run_all`] against its real server.
//!
//! OWNER: conformance helper (bodies). The `Seeder` trait and the function names are fixed.

use async_trait::async_trait;
use envfile_core::Backend;

/// Writes test secrets into a backend's real server, through its own API.
#[async_trait]
pub trait Seeder: Send + Sync {
    /// Create `name` (lowercase letters, digits and `-`; unique per test run) holding `value`,
    /// or add a new version when it exists. Returns the locator path envfile uses for it
    /// (a Vault seeder adds its mount, for example).
    async fn put(&self, name: &str, value: &[u8]) -> String;

    /// Delete the secret at `path` (as returned by `put`) so it is not found afterwards.
    async fn delete(&self, path: &str);
}

/// Run every conformance check, skipping only what `backend.capabilities()` says it cannot do.
pub async fn run_all(backend: &dyn Backend, seeder: &dyn Seeder) {
    let _ = (backend, seeder);
    todo!("conformance helper")
}
