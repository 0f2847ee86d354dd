//! envfile backend `vault`: HashiCorp Vault and OpenBao KV secrets (v1 and v2).
//!
//! ```toml
//! [default.backends.vault]
//! kind = "vault"
//! address = "https://vault.internal:8200"          # default: VAULT_ADDR
//! auth = { method = "kubernetes", role = "ml-incident-api" }   # or token / approle / jwt / cert
//! ```
//!
//! - A reference's path is `MOUNT/PATH`; on KV v2 `MOUNT/data/PATH` (as in Vault Agent templates)
//!   reads the same secret. The mount and its KV version are looked up once and cached.
//! - The value is the secret's data object as compact JSON, so `vault:ml-incident/prod/api#jwt_secret_key`
//!   selects one key. `?version=N` pins a KV v2 version.
//! - Writes (`envfile import`) store a JSON object: `MOUNT/data/PATH` with `{"data": …}` on KV v2,
//!   `MOUNT/PATH` on KV v1, and nothing when the secret already holds the same object.
//! - [`VaultBackend::policy_paths`] tells which API paths a policy must allow (`envfile policy`).
//! - Tokens are obtained lazily, renewed at two thirds of their lease, and obtained again when
//!   Vault stops accepting them. They never appear in logs, errors or `Debug`.
#![warn(missing_docs)]

mod auth;
mod caller;
mod client;
pub mod config;
mod dynamic;
mod error;
mod kv;
mod lease;
mod probe;
mod raw;

pub use auth::AuthStats;
pub use config::{AuthConfig, TokenSink, VaultConfig, VaultSettings};
pub use kv::{KvVersion, PolicyPath};
pub use lease::LeaseStats;

use crate::auth::Auth;
use crate::caller::Caller;
use crate::client::Http;
use crate::error::Action;
use crate::kv::{KvPath, Mount, Mounts};
use crate::lease::{DynKey, Leases};
use async_trait::async_trait;
use envfile_core::retry::RetryPolicy;
use envfile_core::{
    Backend, Capabilities, Error, ErrorKind, Fetched, LoadedConfig, Locator, Native, PutOutcome,
    Result, SecretJson, SecretMeta, SecretValue,
};
use futures::StreamExt;
use reqwest::Method;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A Vault / OpenBao server as an envfile backend.
pub struct VaultBackend {
    name: String,
    address: String,
    auth: Arc<Auth>,
    caller: Caller,
    /// Dynamic secrets' credentials and their leases.
    leases: Arc<Leases>,
    /// The config's `revoke_leases`, which overrides the command's default.
    revoke_leases: Option<bool>,
    mounts: Mounts,
    /// When the whole mount list was last asked for (see [`VaultBackend::known_mount`]); the
    /// lock makes concurrent misses wait for one call instead of each making their own.
    listed: tokio::sync::Mutex<Option<Instant>>,
    /// Recent metadata and LIST answers (see [`VaultBackend::native_get`]).
    answers: std::sync::Mutex<std::collections::HashMap<String, (Instant, Answer)>>,
    retry: RetryPolicy,
}

/// A metadata or LIST answer: Vault's body, or its error (a 404 is reused like a body).
type Answer = std::result::Result<Arc<serde_json::Value>, Error>;

/// How long a metadata or LIST answer is reused. The broker asks these on behalf of clients,
/// uncached by its secret cache; reusing them for a moment bounds what a client repeating one
/// request costs Vault to one call per path per interval.
const ANSWER_TTL: Duration = Duration::from_secs(1);
/// At most this many answers are kept; the map is emptied when full.
const MAX_ANSWERS: usize = 1024;

/// How often a path under no known mount may make the backend ask Vault for the mount list
/// again. A grant check looks up the identity of whatever path a client sends, so a miss must
/// not cost a Vault call per request.
const MOUNT_LIST_INTERVAL: Duration = Duration::from_secs(10);

impl fmt::Debug for VaultBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultBackend")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("auth", &self.auth.stats())
            .finish_non_exhaustive()
    }
}

impl VaultBackend {
    /// Build from `backends.NAME` of the config. Does not contact Vault: the first read logs in.
    pub fn from_config(name: &str, cfg: &LoadedConfig) -> Result<Self> {
        Self::new(VaultConfig::load(name, cfg)?)
    }

    /// Build from validated settings.
    pub fn new(settings: VaultSettings) -> Result<Self> {
        let http = Arc::new(Http::new(&settings)?);
        let auth = Auth::new(
            settings.auth.clone(),
            settings.token_sink.clone(),
            http.clone(),
            settings.name.clone(),
        );
        let caller = Caller {
            http: http.clone(),
            auth: auth.clone(),
            backend: settings.name.as_str().into(),
        };
        Ok(Self {
            name: settings.name,
            address: settings.address,
            auth,
            leases: Leases::new(caller.clone(), RetryPolicy::default()),
            caller,
            revoke_leases: settings.revoke_leases,
            mounts: Mounts::default(),
            listed: tokio::sync::Mutex::new(None),
            answers: std::sync::Mutex::default(),
            retry: RetryPolicy::default(),
        })
    }

    /// Replace the retry policy (tests use [`RetryPolicy::none`] to see first failures).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.leases = Leases::new(self.caller.clone(), retry);
        self.retry = retry;
        self
    }

    /// How many dynamic credentials this backend issued, renewed and revoked.
    pub fn lease_stats(&self) -> LeaseStats {
        self.leases.stats()
    }

    /// The dynamic-secret key and error context of `loc` on a non-KV mount, or `None` for KV.
    fn dynamic_key(
        &self,
        kv: &KvPath,
        path: &str,
        loc: &Locator,
    ) -> Result<Option<(DynKey, Action)>> {
        if !kv.mount.is_dynamic() {
            return Ok(None);
        }
        dynamic::check_locator(path, loc).map_err(|e| e.with_backend(&self.name))?;
        let action = Action::Dynamic {
            path: path.to_owned(),
            mount: kv.mount.path.clone(),
            engine: kv.mount.engine.clone(),
            write: !loc.params.is_empty(),
        };
        let key = DynKey {
            api_path: path.to_owned(),
            params: loc.params.clone(),
        };
        Ok(Some((key, action)))
    }

    /// How many times this backend logged in and renewed its token.
    pub fn auth_stats(&self) -> AuthStats {
        self.auth.stats()
    }

    /// Log in now rather than on the first read (`envfile check`, broker start-up).
    pub async fn login(&self) -> Result<()> {
        self.auth.current().await.map(|_| ())
    }

    /// The KV version of the mount `path` is in (detected once, then cached).
    pub async fn kv_version(&self, path: &str) -> Result<KvVersion> {
        let path = kv::check_path(path)?;
        Ok(self.locate(path).await?.mount.version)
    }

    /// What the backend can do on a mount of `version`: KV v1 keeps no versions and has no
    /// metadata to probe.
    pub fn capabilities_for(version: KvVersion) -> Capabilities {
        let v2 = version == KvVersion::V2;
        Capabilities {
            versions: v2,
            stages: false,
            binary: false,
            write: true,
            cheap_version_probe: v2,
            json_only: true,
        }
    }

    /// The API paths a token needs, and the capabilities on each, to read `loc`: `read` on
    /// `MOUNT/data/PATH` (KV v2) or `MOUNT/PATH` (KV v1), plus `read` on `MOUNT/metadata/PATH`
    /// with `version_probes` (the cheap change probe of `envfile serve` and `run --watch`; without
    /// it they fall back to full reads). Asks Vault which mount `loc` is in, so this backend's
    /// token needs some capability under the mount.
    pub async fn policy_paths(
        &self,
        loc: &Locator,
        version_probes: bool,
    ) -> Result<Vec<PolicyPath>> {
        let path = kv::check_path(&loc.path).map_err(|e| e.with_backend(&self.name))?;
        // A pinned version never changes, so it is never probed.
        let probes = version_probes && loc.version.is_none();
        if raw::is_plain_endpoint(path, loc) {
            return Ok(vec![(path.to_owned(), vec!["read"])]);
        }
        let kv = self.locate(path).await?;
        if raw::is_kv2_api(&kv, path) {
            return Ok(vec![(path.to_owned(), vec!["read"])]);
        }
        if kv.mount.is_dynamic() {
            // A read with parameters is a write; renewing and revoking the lease are allowed by
            // Vault's `default` policy.
            let cap = if loc.params.is_empty() {
                "read"
            } else {
                "update"
            };
            return Ok(vec![(path.to_owned(), vec![cap])]);
        }
        Ok(kv.policy_paths(probes))
    }

    /// [`Self::policy_paths`] without a server: assumes the first path segment is a KV v2 mount.
    pub fn policy_paths_offline(loc: &Locator, version_probes: bool) -> Result<Vec<PolicyPath>> {
        kv::offline_policy_paths(&loc.path, version_probes && loc.version.is_none())
    }

    /// A GET with the current token, retried per the policy.
    async fn get_json(
        &self,
        api_path: &str,
        query: &[(&str, &str)],
        action: &Action,
    ) -> Result<SecretJson> {
        self.retry
            .run(|| self.call_once(Method::GET, api_path, query, None, action))
            .await
    }

    /// One call; when Vault refuses the token (expired, revoked), log in again and retry once.
    async fn call_once(
        &self,
        method: Method,
        api_path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
        action: &Action,
    ) -> Result<SecretJson> {
        self.caller
            .call_once(method, api_path, query, body, action)
            .await
    }

    /// Which mount `path` is in, asking Vault the first time.
    async fn locate(&self, path: &str) -> Result<KvPath> {
        let mount = match self.mounts.lookup(path) {
            Some(m) => m,
            None => {
                let action = Action::DetectMount {
                    path: path.to_owned(),
                };
                let body = self
                    .get_json(&format!("sys/internal/ui/mounts/{path}"), &[], &action)
                    .await?;
                let m =
                    Mount::from_ui_mounts(&body).map_err(|f| error::map(f, &action, &self.name))?;
                if !path.starts_with(&format!("{}/", m.path)) {
                    return Err(Error::new(
                        ErrorKind::InvalidRef,
                        format!("`{path}` names the mount `{}/`, not a secret in it", m.path),
                    )
                    .with_backend(&self.name));
                }
                tracing::debug!(backend = %self.name, mount = %m.path, version = %m.version, "found KV mount");
                self.mounts.remember(m)
            }
        };
        KvPath::new(mount, path).map_err(|e| e.with_backend(&self.name))
    }

    /// The mount `path` is in, from the mounts already known, else from one fresh listing of
    /// every mount the backend's token can see (`sys/internal/ui/mounts`), asked at most once per
    /// [`MOUNT_LIST_INTERVAL`]. Unlike [`Self::locate`], a path under no mount costs no call of
    /// its own, and the answer never depends on whether a secret exists. Vault refuses nested
    /// mounts, so the longest known mount holding `path` is the one Vault routes a read to, here
    /// and in [`Self::locate`] alike.
    async fn known_mount(&self, path: &str) -> Result<Arc<Mount>> {
        if let Some(m) = self.mounts.lookup(path) {
            return Ok(m);
        }
        self.list_mounts(|| self.mounts.lookup(path).is_none())
            .await?;
        self.mounts.lookup(path).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("`{path}` is under no mount the backend's token can see"),
            )
            .with_backend(&self.name)
        })
    }

    /// Ask Vault for every mount the token can see, unless that was done in the last
    /// [`MOUNT_LIST_INTERVAL`] or `still_needed` says another caller's listing already did it.
    async fn list_mounts(&self, still_needed: impl Fn() -> bool) -> Result<()> {
        let mut listed = self.listed.lock().await;
        let due = listed.is_none_or(|t| t.elapsed() >= MOUNT_LIST_INTERVAL);
        if due && still_needed() {
            // Set before the call, so failures are rate-limited too.
            *listed = Some(Instant::now());
            let action = Action::DetectMount { path: "*".into() };
            let body = self
                .get_json("sys/internal/ui/mounts", &[], &action)
                .await?;
            for m in Mount::list_from_ui_mounts(&body) {
                self.mounts.remember(m);
            }
        }
        Ok(())
    }

    /// A KV v2 metadata read or a LIST, whole, reused for [`ANSWER_TTL`].
    async fn native_get(
        &self,
        api_path: &str,
        query: &[(&str, &str)],
    ) -> Result<serde_json::Value> {
        let key = format!("{api_path}?{}", query.len());
        let now = Instant::now();
        let reused = self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .filter(|(at, _)| now.duration_since(*at) < ANSWER_TTL)
            .map(|(_, a)| a.clone());
        let answer = match reused {
            Some(a) => a,
            None => {
                let action = Action::Metadata {
                    api_path: api_path.to_owned(),
                };
                // Metadata and key names only: no secret value is in these answers.
                let fresh: Answer = self
                    .get_json(api_path, query, &action)
                    .await
                    .map(|body| Arc::new(body.expose().clone()));
                // Errors other than a 404 (Vault down, throttled) are not kept: the next request
                // should try again.
                let keep = match &fresh {
                    Ok(_) => true,
                    Err(e) => e.kind() == ErrorKind::NotFound,
                };
                if keep {
                    let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
                    if answers.len() >= MAX_ANSWERS {
                        answers.clear();
                    }
                    answers.insert(key, (now, fresh.clone()));
                }
                fresh
            }
        };
        answer.map(|v| (*v).clone())
    }

    /// A plain logical GET of `path` (see [`raw`]), `?version=` passed on as the agent does.
    async fn read_raw(&self, path: &str, loc: &Locator) -> Result<Fetched> {
        raw::check_locator(path, loc).map_err(|e| e.with_backend(&self.name))?;
        let action = Action::Endpoint {
            path: path.to_owned(),
        };
        let query: Vec<(&str, &str)> = loc
            .version
            .iter()
            .map(|v| ("version", v.as_str()))
            .collect();
        let body = self.get_json(path, &query, &action).await?;
        raw::parse(&body).map_err(|f| error::map(f, &action, &self.name))
    }

    /// What `identity` answers for a path that names no secret (see [`raw`]): no grant can
    /// name it, so the broker serves it to no client with a grant, nor to one granted `*`.
    fn not_a_secret(&self, path: &str) -> Error {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "`{path}` is not a secret (a Vault endpoint or KV v2 metadata): only templates \
                 and references in the configuration read it"
            ),
        )
        .with_backend(&self.name)
    }

    fn unsupported(&self, what: String) -> Error {
        Error::new(ErrorKind::Unsupported, what).with_backend(&self.name)
    }
}

#[async_trait]
impl Backend for VaultBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "vault"
    }

    /// KV v2's: a backend can have mounts of both versions, and pins fail clearly on KV v1
    /// ([`VaultBackend::capabilities_for`] tells them apart).
    fn capabilities(&self) -> Capabilities {
        Self::capabilities_for(KvVersion::V2)
    }

    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        let path = kv::check_path(&loc.path).map_err(|e| e.with_backend(&self.name))?;
        if loc.stage.is_some() {
            return Err(self.unsupported(format!(
                "`{path}`: Vault has no staging labels (`stage=`); pin a KV v2 `version=` instead"
            )));
        }
        // Vault's own endpoints are read as written, as the agent does (a write to `sys/`,
        // such as `sys/tools/random`, stays a dynamic call below).
        if raw::is_plain_endpoint(path, loc) {
            return self.read_raw(path, loc).await;
        }
        let kv = self.locate(path).await?;
        if let Some((key, action)) = self.dynamic_key(&kv, path, loc)? {
            return self.leases.get(key, action).await;
        }
        if raw::is_kv2_api(&kv, path) {
            return self.read_raw(path, loc).await;
        }
        kv::check_params(path, loc).map_err(|e| e.with_backend(&self.name))?;
        let pinned = match (&loc.version, kv.mount.version) {
            (None, _) => None,
            (Some(v), KvVersion::V2) => {
                Some(kv::check_version(v, path).map_err(|e| e.with_backend(&self.name))?)
            }
            (Some(_), KvVersion::V1) => {
                return Err(self.unsupported(format!(
                    "`{path}`: mount `{}/` is KV v1, which keeps no versions",
                    kv.mount.path
                )))
            }
        };
        let api_path = kv.read_path();
        let action = Action::Read {
            path: path.to_owned(),
            api_path: api_path.clone(),
            mount: kv.mount.path.clone(),
            version: kv.mount.version,
        };
        let pin = pinned.map(|n| n.to_string());
        let query: Vec<(&str, &str)> = pin.iter().map(|v| ("version", v.as_str())).collect();
        let body = self.get_json(&api_path, &query, &action).await?;
        let (value, version) =
            kv::extract(&body, kv.mount.version).map_err(|f| error::map(f, &action, &self.name))?;
        let mut fetched = Fetched::new(value, version);
        fetched.meta = Some(Arc::new(SecretMeta {
            envelope: Some(kv::envelope(&body, kv.mount.version)),
            ..SecretMeta::default()
        }));
        Ok(fetched)
    }

    /// The mount and the secret's real name on it (see `kv::identity`); for a grant prefix
    /// ending in `*`, the same for the prefix, `*` kept. A prefix without `/` stops inside the
    /// first path segment, so it covers whole mounts and is its own identity. A prefix that
    /// reaches into a mount the token cannot see matches nothing (an error), rather than being
    /// compared as written, where `data/` could mean either thing.
    async fn identity(&self, path: &str) -> Result<String> {
        if let Some(prefix) = path.strip_suffix('*') {
            let prefix = prefix.trim_start_matches('/');
            if !prefix.contains('/') {
                return Ok(path.trim_start_matches('/').to_owned());
            }
            let mount = self.known_mount(prefix).await?;
            let id = kv::identity(mount, prefix, true).map_err(|e| e.with_backend(&self.name))?;
            return Ok(format!("{id}*"));
        }
        let path = kv::check_path(path).map_err(|e| e.with_backend(&self.name))?;
        if raw::is_endpoint(path) {
            return Err(self.not_a_secret(path));
        }
        let mount = self.known_mount(path).await?;
        let kv = KvPath::new(mount.clone(), path).map_err(|e| e.with_backend(&self.name))?;
        if raw::is_kv2_api(&kv, path) {
            return Err(self.not_a_secret(path));
        }
        kv::identity(mount, path, false).map_err(|e| e.with_backend(&self.name))
    }

    async fn native(&self, call: Native<'_>) -> Result<serde_json::Value> {
        match call {
            Native::Mounts => {
                self.list_mounts(|| true).await?;
                let mut out = serde_json::Map::new();
                for m in self.mounts.all() {
                    out.insert(format!("{}/", m.path), (*m.info).clone());
                }
                Ok(serde_json::Value::Object(out))
            }
            Native::MountOf(path) => {
                let m = self.known_mount(path.trim_start_matches('/')).await?;
                Ok((*m.info).clone())
            }
            Native::Metadata(path) => {
                let path = kv::check_path(path).map_err(|e| e.with_backend(&self.name))?;
                let kv = KvPath::new(self.known_mount(path).await?, path)?;
                if kv.mount.version == KvVersion::V1 {
                    return Err(self.unsupported(format!(
                        "`{path}`: mount `{}/` is KV v1, which keeps no metadata",
                        kv.mount.path
                    )));
                }
                self.native_get(&kv.metadata_path(), &[]).await
            }
            Native::List(path) => {
                let path = path.trim_matches('/');
                let m = self.known_mount(&format!("{path}/")).await?;
                let rest = path
                    .strip_prefix(m.path.as_str())
                    .unwrap_or_default()
                    .trim_start_matches('/');
                let api = match (m.version, rest) {
                    (KvVersion::V2, "") => format!("{}/metadata/", m.path),
                    (KvVersion::V2, r) => format!("{}/metadata/{r}/", m.path),
                    (KvVersion::V1, "") => format!("{}/", m.path),
                    (KvVersion::V1, r) => format!("{}/{r}/", m.path),
                };
                // The trailing `/` stays: Vault routes `MOUNT` without it to no mount.
                self.native_get(&api, &[("list", "true")]).await
            }
        }
    }

    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.probe_counted(loc).await.0
    }

    /// A pinned version is answered without a call (see `probe.rs`).
    fn probe_costs_call(&self, loc: &Locator) -> bool {
        loc.version.is_none()
    }

    /// One probe per secret, 16 at once (the broker's rounds give one at a time, spread),
    /// counting only those that asked Vault (see `probe.rs`).
    async fn current_versions(&self, locs: &[Locator]) -> envfile_core::VersionProbe {
        let futs: Vec<_> = locs.iter().map(|l| self.probe_counted(l)).collect();
        let done: Vec<_> = futures::stream::iter(futs)
            .buffered(envfile_core::backend::DEFAULT_CONCURRENCY)
            .collect()
            .await;
        envfile_core::VersionProbe {
            calls: done.iter().filter(|(_, called)| *called).count(),
            versions: done.into_iter().map(|(r, _)| r).collect(),
            values: Vec::new(),
        }
    }

    async fn release(&self, revoke: bool) {
        self.leases
            .release(self.revoke_leases.unwrap_or(revoke))
            .await;
    }

    async fn put(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        let path = kv::check_path(path).map_err(|e| e.with_backend(&self.name))?;
        let data = value
            .parse_json()
            .ok()
            .filter(SecretJson::is_object)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotJson,
                    format!(
                        "`{path}`: a Vault KV secret is a JSON object, and this value is not one"
                    ),
                )
                .with_reference(path)
                .with_backend(&self.name)
                .with_hint(
                    "with `envfile import`, add `--as-json NAME` to store every key of the file \
                     in one secret PREFIX+NAME (read keys back as `vault:PREFIX/NAME#KEY`)",
                )
            })?;
        if raw::is_endpoint(path) {
            return Err(self.not_a_secret(path));
        }
        let kv = self.locate(path).await?;
        if raw::is_kv2_api(&kv, path) {
            return Err(self.not_a_secret(path).with_hint(format!(
                "a KV v2 secret whose name starts with `metadata/` is written as `{}/data/NAME`",
                kv.mount.path
            )));
        }
        if kv.mount.is_dynamic() {
            return Err(self.unsupported(format!(
                "`{path}` is on the {} mount `{}/`, not a KV mount: envfile writes only KV secrets",
                kv.mount.engine, kv.mount.path
            )));
        }
        let outcome = match self.get(&Locator::new(path)).await {
            Ok(cur) if cur.value.parse_json().is_ok_and(|c| c == data) => {
                return Ok(PutOutcome::Unchanged)
            }
            Ok(_) => PutOutcome::Updated,
            // KV v2 answers 404 for a secret whose latest version is deleted, too: writing
            // brings it back, which is what "create" means to the person importing.
            Err(e) if e.kind() == ErrorKind::NotFound => PutOutcome::Created,
            Err(e) => return Err(e),
        };
        let api_path = kv.read_path();
        let action = Action::Write {
            path: path.to_owned(),
            api_path: api_path.clone(),
            mount: kv.mount.path.clone(),
            version: kv.mount.version,
        };
        // Held in a `SecretJson` so the copy of the values in the body is wiped when dropped.
        let body = match kv.mount.version {
            KvVersion::V2 => SecretJson::from_value(serde_json::json!({ "data": data.expose() })),
            KvVersion::V1 => data,
        };
        // A retried write stores the same object again: at worst one extra KV v2 version.
        self.retry
            .run(|| self.call_once(Method::POST, &api_path, &[], Some(body.expose()), &action))
            .await?;
        tracing::debug!(backend = %self.name, path = %api_path, outcome = ?outcome, "wrote KV secret");
        Ok(outcome)
    }
}
