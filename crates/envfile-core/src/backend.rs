//! The one trait every secrets backend implements, and the registry the resolver looks them up in.

use crate::error::{Error, ErrorKind, Result};
use crate::reference::{BackendSel, Locator};
use crate::secret::SecretValue;
use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How many `get`s the default [`Backend::get_many`] runs at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// One secret as a backend returned it: the whole value (key selection happens in the resolver).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The payload.
    pub value: SecretValue,
    /// The backend's version id (AWS VersionId, Vault KV v2 version, GCP version number,
    /// a content hash for the file backend), when it has one.
    pub version: Option<String>,
    /// A lease, for backends that hand out leased secrets.
    pub lease: Option<Lease>,
    /// What the backend said about the secret besides its value, for routes that answer in the
    /// backend's own shape (the AWS agent's `ARN`, `Name`, `CreatedDate`, `VersionStages`;
    /// Vault's read envelope). Never holds a secret value.
    pub meta: Option<Arc<SecretMeta>>,
}

impl Fetched {
    /// A value with a version and no lease.
    pub fn new(value: SecretValue, version: Option<String>) -> Self {
        Self {
            value,
            version,
            lease: None,
            meta: None,
        }
    }

    /// The same, with the backend's metadata.
    pub fn with_meta(mut self, meta: SecretMeta) -> Self {
        self.meta = Some(Arc::new(meta));
        self
    }
}

/// A secret's metadata as its backend returned it with the value (none of it is secret). Only
/// what the backend really said is set: routes must not invent what it did not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretMeta {
    /// The canonical identity of the secret the backend actually answered with (see
    /// [`Backend::identity`]), so a route can check grants against what was read, not only
    /// against what was asked for (an ambiguous AWS ARN may resolve to another secret).
    pub identity: Option<String>,
    /// The resource's ARN (AWS).
    pub arn: Option<String>,
    /// The secret's or parameter's name.
    pub name: Option<String>,
    /// When this version was created (or the parameter last modified): seconds since the epoch.
    pub created: Option<f64>,
    /// Staging labels of the version read (AWS `VersionStages`).
    pub stages: Option<Vec<String>>,
    /// The value came as binary (AWS `SecretBinary`) even if its bytes are valid UTF-8.
    pub binary: bool,
    /// The parameter type (SSM `String`, `StringList`, `SecureString`).
    pub type_name: Option<String>,
    /// The parameter data type (SSM `text`, `aws:ec2:image`).
    pub data_type: Option<String>,
    /// The selector the read used (SSM `:3`, `:label`).
    pub selector: Option<String>,
    /// Where the value came from when it is a reference (SSM `SourceResult`).
    pub source_result: Option<String>,
    /// The backend's whole answer without the value, for a route that answers in that backend's
    /// own shape (Vault: the read's envelope, with KV v2's `metadata` object).
    pub envelope: Option<serde_json::Value>,
}

/// A lease on a secret (Vault dynamic secrets); the broker renews or refetches before `ttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease id (not secret: it names the lease, it does not grant it).
    pub id: String,
    /// How long the value is valid from the time it was fetched.
    pub ttl: Duration,
    /// Whether the lease can be renewed.
    pub renewable: bool,
}

/// A read-only question to a backend's own API, answered in the backend's own JSON shape, for
/// the broker's compatibility routes (the Vault route answers `sys/internal/ui/mounts`, KV v2
/// metadata and LIST from these). Answers hold names and metadata, never secret values; the
/// caller checks grants before asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native<'a> {
    /// Every mount the backend can see, keyed `PATH/` (Vault: `data.secret` of
    /// `sys/internal/ui/mounts`).
    Mounts,
    /// The mount holding a path, as `sys/internal/ui/mounts/PATH` describes it (its `data`).
    MountOf(&'a str),
    /// A secret's version history (Vault: the whole KV v2 metadata response).
    Metadata(&'a str),
    /// The names in a folder (Vault: the whole LIST response, `data.keys`).
    List(&'a str),
}

/// What [`Backend::current_versions`] found.
#[derive(Debug, Clone, Default)]
pub struct VersionProbe {
    /// One per locator asked about, in order.
    pub versions: Vec<Result<Option<String>>>,
    /// The values the probe was answered with, where its API returns them anyway (AWS
    /// BatchGetSecretValue has no metadata-only form): one per locator, in order, `None` (or a
    /// short vector) where it has none. A changed secret whose value came with its version is
    /// stored from here instead of being read again. Debug prints no value (`SecretValue`).
    pub values: Vec<Option<Fetched>>,
    /// Backend calls made (the broker counts them against its per-backend ceiling).
    pub calls: usize,
}

/// What a write did, for `envfile import` plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The secret did not exist and was created.
    Created,
    /// The secret existed with another value; a new version was written.
    Updated,
    /// The secret already held this value; nothing was written.
    Unchanged,
}

/// What a backend can do beyond `get`, so the conformance suite skips only what it must.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// `Locator::version` pins are honoured.
    pub versions: bool,
    /// `Locator::stage` pins are honoured (AWS staging labels).
    pub stages: bool,
    /// Binary (non-UTF-8) payloads round-trip.
    pub binary: bool,
    /// [`Backend::put`] is implemented.
    pub write: bool,
    /// [`Backend::current_version`] is cheaper than a full read.
    pub cheap_version_probe: bool,
    /// Every secret is a JSON object (Vault KV): a value is its data object as compact JSON,
    /// so arbitrary text or bytes cannot be stored, only objects.
    pub json_only: bool,
}

/// A secrets backend. Small on purpose: conveniences live in the resolver, retries in
/// [`crate::retry`], so each backend only maps its API and its errors.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The instance name from the config (`aws`, `aws-eu`, `file`, …).
    fn name(&self) -> &str;

    /// The kind (`aws`, `vault`, `gcp`, `file`).
    fn kind(&self) -> &'static str;

    /// What this backend supports.
    fn capabilities(&self) -> Capabilities;

    /// Read one secret, whole. Errors carry the kind, the backend name, and a hint.
    async fn get(&self, loc: &Locator) -> Result<Fetched>;

    /// Read several secrets; one result per locator, in order. The default runs `get`
    /// with bounded concurrency; backends with a batch API override it.
    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        // Collected first: a lazy `map` closure here trips a higher-ranked lifetime limitation
        // of `async_trait` futures.
        let futs: Vec<_> = locs.iter().map(|l| self.get(l)).collect();
        stream::iter(futs)
            .buffered(DEFAULT_CONCURRENCY)
            .collect()
            .await
    }

    /// The current version id without reading the payload, where the backend has a cheap way;
    /// `Ok(None)` means "no cheap probe: do a full read".
    async fn current_version(&self, _loc: &Locator) -> Result<Option<String>> {
        Ok(None)
    }

    /// The canonical identity of the secret (or, for a grant pattern ending in `*`, the prefix)
    /// that `path` names on this backend. Grants are checked by comparing identities, never raw
    /// spellings: every spelling that reads one secret (a Vault KV v2 path with or without its
    /// `data/` segment, an AWS name, partial or full ARN) must give one identity, and spellings
    /// that read different secrets (a KV v1 secret literally named `data/x`) must not. The
    /// default is the path as written, for backends where each secret has one spelling.
    async fn identity(&self, path: &str) -> Result<String> {
        Ok(path.to_owned())
    }

    /// Answer a [`Native`] question; the default: this backend has no such API.
    async fn native(&self, call: Native<'_>) -> Result<serde_json::Value> {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!("backend kind `{}` cannot answer {call:?}", self.kind()),
        )
        .with_backend(self.name()))
    }

    /// Give back what the backend holds for this process before a clean exit: with `revoke`,
    /// the leases of the dynamic secrets it read are revoked (Vault), so the credentials stop
    /// working. The default holds nothing.
    async fn release(&self, _revoke: bool) {}

    /// Write a secret (create, or add a new version). Used by `envfile import`.
    async fn put(&self, _path: &str, _value: &SecretValue) -> Result<PutOutcome> {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!("backend kind `{}` does not support writes", self.kind()),
        )
        .with_backend(self.name()))
    }

    /// How many secrets one [`Backend::current_versions`] call should be given: the size of the
    /// backend's batch probe (AWS BatchGetSecretValue 20, SSM GetParameters 10), so the broker
    /// can pace a refresh round and count it against a call ceiling chunk by chunk. `1` (the
    /// default) for backends that probe one secret per call.
    fn probe_batch_size(&self) -> usize {
        1
    }

    /// Whether probing `loc` may take a call to the backend: `false` where the answer is known
    /// without one (a pinned Vault KV v2 or numbered GCP version, whose value cannot change), so
    /// the broker does not spend its call ceiling on a probe that reaches nobody.
    fn probe_costs_call(&self, _loc: &Locator) -> bool {
        true
    }

    /// How many secrets one call of [`Backend::get_many`] reads (AWS BatchGetSecretValue 20, SSM
    /// GetParameters 10), for charging a read against the broker's call ceiling. `1` (the
    /// default) for backends that read one secret per call. Not the probe's batch: an SSM
    /// `list` probe asks about 50 names a request, but its reads are still 10 a call.
    fn read_batch_size(&self) -> usize {
        1
    }

    /// The current version ids of several secrets, for a refresh round's change detection: one
    /// result per locator, in order (`Ok(None)`: no cheap probe, do a full read), and how many
    /// backend calls it took. The default probes one secret per call, at most
    /// [`DEFAULT_CONCURRENCY`] at once; backends with a batch or list API override it so that a
    /// round costs a few calls rather than one per secret.
    async fn current_versions(&self, locs: &[Locator]) -> VersionProbe {
        let futs: Vec<_> = locs.iter().map(|l| self.current_version(l)).collect();
        let versions: Vec<_> = stream::iter(futs)
            .buffered(DEFAULT_CONCURRENCY)
            .collect()
            .await;
        VersionProbe {
            calls: versions.len(),
            versions,
            values: Vec::new(),
        }
    }
}

/// The configured backend instances, by name.
#[derive(Clone, Default)]
pub struct Backends {
    by_name: BTreeMap<String, Arc<dyn Backend>>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}

impl Backends {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a backend under its own name.
    pub fn insert(&mut self, backend: Arc<dyn Backend>) {
        self.by_name.insert(backend.name().to_owned(), backend);
    }

    /// Iterate over `(name, backend)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn Backend>)> {
        self.by_name.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Look up the backend a reference names. A foreign reference form (an ECS ARN, a GCP
    /// resource name…) names a *kind*: it goes to the backend named like the kind, else to the
    /// only backend of that kind.
    pub fn select(&self, sel: &BackendSel) -> Result<Arc<dyn Backend>> {
        match sel {
            BackendSel::Named(name) => self.by_name.get(name).cloned().ok_or_else(|| {
                Error::config(format!("no backend named `{name}` is configured")).with_hint(
                    format!(
                        "add a [default.backends.{name}] table to the config, or use one of: {}",
                        self.names_or_none()
                    ),
                )
            }),
            BackendSel::Kind(kind) => {
                if let Some(b) = self.by_name.get(kind.as_str()) {
                    if b.kind() == kind {
                        return Ok(b.clone());
                    }
                }
                let of_kind: Vec<_> = self.by_name.values().filter(|b| b.kind() == kind).collect();
                match of_kind.as_slice() {
                    [one] => Ok((*one).clone()),
                    [] => Err(Error::config(format!(
                        "this reference needs a backend of kind `{kind}`, and none is configured"
                    ))
                    .with_hint(format!(
                        "add [default.backends.{kind}] with kind = \"{kind}\" to the config"
                    ))),
                    many => Err(Error::config(format!(
                        "this reference needs a backend of kind `{kind}`, and {} are configured",
                        many.len()
                    ))
                    .with_hint(format!(
                        "name one `{kind}` or write the reference as `NAME:PATH` with the backend's name"
                    ))),
                }
            }
        }
    }

    /// [`Backend::release`] every backend, all at once.
    pub async fn release_all(&self, revoke: bool) {
        futures::future::join_all(self.by_name.values().map(|b| b.release(revoke))).await;
    }

    fn names_or_none(&self) -> String {
        if self.by_name.is_empty() {
            "(none configured)".into()
        } else {
            self.by_name.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A probe now carries values (BatchGetSecretValue answers with them): its Debug, which a
    /// log line or a panic could print, must not show one.
    #[test]
    fn a_probe_with_values_debugs_without_them() {
        let probe = VersionProbe {
            versions: vec![Ok(Some("v2".into()))],
            values: vec![Some(Fetched::new(
                SecretValue::from_string("hunter2-probe".to_owned()),
                Some("v2".into()),
            ))],
            calls: 1,
        };
        let shown = format!("{probe:?}");
        assert!(shown.contains("v2"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
