//! A refresh round's version probe of one secret, and whether it asked Vault. KV v2 metadata is
//! the only probe the API has (one read per secret); what needs no read is answered without
//! one: a pinned version never changes, a dynamic credential's version is the lease keeper's,
//! and KV v1 has no metadata (the caller reads it in full). Counting only real calls keeps a
//! round's call count — the broker's metric and its call ceiling — what reached Vault.
//!
//! A KV read's lease tells nothing more: KV v2 answers `lease_duration` 0, and KV v1's is the
//! mount's default TTL or the secret's `ttl` key, a hint of when to check back, not a promise
//! that the value stays (a write changes it at once). So no secret is skipped for its lease.

use crate::error::Action;
use crate::kv::{self, KvVersion};
use crate::VaultBackend;
use envfile_core::{ErrorKind, Locator, Result};

impl VaultBackend {
    /// The secret's current version (`None`: only a full read tells), and whether that took a
    /// call to Vault.
    pub(crate) async fn probe_counted(&self, loc: &Locator) -> (Result<Option<String>>, bool) {
        let path = match kv::check_path(&loc.path) {
            Ok(p) => p,
            Err(e) => return (Err(e.with_backend(&self.name)), false),
        };
        // An endpoint or KV v2 metadata has no version: only a full read tells.
        if crate::raw::is_plain_endpoint(path, loc) {
            return (Ok(None), false);
        }
        let kv = match self.locate(path).await {
            Ok(kv) => kv,
            Err(e) => return (Err(e), false),
        };
        if crate::raw::is_kv2_api(&kv, path) {
            return (Ok(None), false);
        }
        match self.dynamic_key(&kv, path, loc) {
            // The credential in use, from memory: it changes only when the lease keeper
            // replaced it. With none yet, the caller's full read issues one.
            Ok(Some((key, _))) => return (Ok(self.leases.current_version(&key)), false),
            Ok(None) => {}
            Err(e) => return (Err(e), false),
        }
        if kv.mount.version == KvVersion::V1 {
            // KV v1 has no metadata: only a full read tells.
            return (Ok(None), false);
        }
        if let Some(v) = &loc.version {
            // A pinned version never changes.
            let pinned = kv::check_version(v, path)
                .map(|n| Some(n.to_string()))
                .map_err(|e| e.with_backend(&self.name));
            return (pinned, false);
        }
        let api_path = kv.metadata_path();
        let action = Action::Metadata {
            api_path: api_path.clone(),
        };
        let got = match self.get_json(&api_path, &[], &action).await {
            Ok(body) => Ok(body.expose()["data"]["current_version"]
                .as_u64()
                .map(|v| v.to_string())),
            // Least-privilege policies (the runbook's) allow `data/` only: fall back to reads.
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                tracing::debug!(backend = %self.name, path = %api_path, "no read on KV metadata; version probes fall back to full reads");
                Ok(None)
            }
            Err(e) => Err(e),
        };
        (got, true)
    }
}
