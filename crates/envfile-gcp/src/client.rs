//! The `gcp` backend: Secret Manager over the official client's HTTP+JSON transport.

use crate::config::{CredentialsMode, GcpConfig};
use crate::error::{map_error, CallCtx};
use crate::names::{self, SecretName};
use async_trait::async_trait;
use envfile_core::retry::RetryPolicy;
use envfile_core::{
    Backend, Capabilities, Error, ErrorKind, Fetched, LoadedConfig, Locator, PutOutcome, Result,
    SecretValue,
};
use futures::StreamExt;
use google_cloud_gax::retry_policy::NeverRetry;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_secretmanager_v1::model::{replication, Replication, Secret, SecretPayload};

/// GCP Secret Manager backend (`kind = "gcp"`).
pub struct GcpBackend {
    name: String,
    cfg: GcpConfig,
    client: SecretManagerService,
    retry: RetryPolicy,
}

impl std::fmt::Debug for GcpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpBackend")
            .field("name", &self.name)
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl GcpBackend {
    /// Build from `backends.NAME` of the config.
    pub async fn from_config(name: &str, cfg: &LoadedConfig) -> Result<Self> {
        let gcp = GcpConfig::from_config(name, cfg)?;
        Self::new(name, gcp).await
    }

    /// Build from validated settings.
    pub async fn new(name: &str, cfg: GcpConfig) -> Result<Self> {
        // Retries live in envfile_core::retry (one policy, one deadline for every backend), so
        // the client's own loop is off: two nested loops would multiply attempts.
        let mut builder = SecretManagerService::builder().with_retry_policy(NeverRetry);
        if let Some(e) = &cfg.endpoint {
            builder = builder.with_endpoint(e.clone());
        }
        if cfg.credentials == CredentialsMode::Anonymous {
            builder = builder.with_credentials(
                google_cloud_auth::credentials::anonymous::Builder::new().build(),
            );
        }
        // Without explicit credentials the client uses Application Default Credentials, which
        // end at the metadata server (how Cloud Run supplies the service account).
        let client = builder.build().await.map_err(|e| {
            let kind = if e.is_default_credentials() {
                ErrorKind::Unauthenticated
            } else {
                ErrorKind::Config
            };
            Error::new(kind, format!("cannot create the Secret Manager client: {e}"))
                .with_backend(name)
                .with_hint(
                    "for Application Default Credentials run `gcloud auth application-default login` \
                     or set GOOGLE_APPLICATION_CREDENTIALS; for an emulator set `credentials = \"anonymous\"`",
                )
        })?;
        Ok(Self {
            name: name.to_owned(),
            cfg,
            client,
            retry: RetryPolicy::default(),
        })
    }

    /// Replace the retry policy (tests use [`RetryPolicy::none`] to see single failures).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The validated settings.
    pub fn config(&self) -> &GcpConfig {
        &self.cfg
    }

    fn ctx<'a>(&'a self, loc: &Locator, secret: &'a SecretName, version: &'a str) -> CallCtx<'a> {
        let mut reference = loc.path.clone();
        if let Some(v) = &loc.version {
            reference.push_str("?version=");
            reference.push_str(v);
        }
        CallCtx {
            backend: &self.name,
            reference,
            secret,
            version,
        }
    }

    async fn access(&self, loc: &Locator) -> Result<Fetched> {
        let (secret, version) =
            names::resolve(&self.cfg, loc).map_err(|e| e.or_backend(&self.name))?;
        let ctx = self.ctx(loc, &secret, &version);
        let full = secret.version_name(&version);
        let resp = self
            .retry
            .run(|| async {
                self.client
                    .access_secret_version()
                    .set_name(full.clone())
                    .send()
                    .await
                    .map_err(|e| map_error(&e, &ctx))
            })
            .await?;
        // The response name is the numbered version even when `latest` or an alias was asked.
        let numbered = names::version_id(&resp.name).map(str::to_owned);
        let payload = resp.payload.unwrap_or_default();
        if let Some(expected) = payload.data_crc32c {
            let actual = crc32c::crc32c(&payload.data);
            if i64::from(actual) != expected {
                return Err(Error::new(
                    ErrorKind::Integrity,
                    format!(
                        "CRC32C mismatch on version {} of secret `{}`: the response says {expected}, \
                         the {} bytes received hash to {actual}; the payload was corrupted in transit \
                         and is not used",
                        numbered.as_deref().unwrap_or(&version),
                        secret.name(),
                        payload.data.len()
                    ),
                )
                .with_reference(ctx.reference.clone())
                .with_backend(&self.name)
                .with_hint("retry; if it persists, check proxies between this host and the endpoint"));
            }
        }
        // `Vec::from(Bytes)` takes the buffer without a copy when it is not shared.
        let value = SecretValue::new(Vec::from(payload.data));
        Ok(Fetched::new(value, numbered.or(Some(version))))
    }
}

#[async_trait]
impl Backend for GcpBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "gcp"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            versions: true,
            stages: false,
            binary: true,
            write: true,
            cheap_version_probe: true,
            json_only: false,
        }
    }

    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        if let Some(stage) = &loc.stage {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("GCP Secret Manager has no staging labels (got stage `{stage}`)"),
            )
            .with_reference(&loc.path)
            .with_backend(&self.name)
            .with_hint("pin a version with `?version=N`, or use `latest`"));
        }
        self.access(loc).await
    }

    /// GetSecretVersion on the requested version (default `latest`): metadata only, no payload.
    /// A numbered version needs no call: its payload never changes (an alias starts with a
    /// letter, so a number is never one), as Vault's pinned KV v2 versions are not probed.
    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        let (secret, version) =
            names::resolve(&self.cfg, loc).map_err(|e| e.or_backend(&self.name))?;
        if let Some(n) = numbered(&version) {
            return Ok(Some(n));
        }
        let ctx = self.ctx(loc, &secret, &version);
        let full = secret.version_name(&version);
        let v = self
            .retry
            .run(|| async {
                self.client
                    .get_secret_version()
                    .set_name(full.clone())
                    .send()
                    .await
                    .map_err(|e| map_error(&e, &ctx))
            })
            .await?;
        Ok(names::version_id(&v.name).map(str::to_owned))
    }

    /// A numbered version is answered without a call (see `current_version`).
    fn probe_costs_call(&self, loc: &Locator) -> bool {
        names::resolve(&self.cfg, loc).is_ok_and(|(_, version)| numbered(&version).is_none())
    }

    /// One probe per secret, 16 at once (the broker's rounds give one at a time, spread),
    /// counting only those that ask Secret Manager (a numbered version needs no call), so the
    /// broker's call metric and ceiling see what reached it.
    async fn current_versions(&self, locs: &[Locator]) -> envfile_core::VersionProbe {
        let calls = locs
            .iter()
            .filter(|l| {
                names::resolve(&self.cfg, l).is_ok_and(|(_, version)| numbered(&version).is_none())
            })
            .count();
        let futs: Vec<_> = locs.iter().map(|l| self.current_version(l)).collect();
        let versions = futures::stream::iter(futs)
            .buffered(envfile_core::backend::DEFAULT_CONCURRENCY)
            .collect()
            .await;
        envfile_core::VersionProbe {
            versions,
            values: Vec::new(),
            calls,
        }
    }

    /// Create the secret when missing (automatic replication for global secrets; regional
    /// secrets live in their location), then add a version unless `latest` already holds `value`.
    async fn put(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        let loc = Locator::new(path);
        let (secret, version) =
            names::resolve(&self.cfg, &loc).map_err(|e| e.or_backend(&self.name))?;
        if version != "latest" {
            return Err(Error::new(
                ErrorKind::InvalidRef,
                "a write adds a new version; the path must not name one",
            )
            .with_reference(path)
            .with_backend(&self.name));
        }
        let ctx = self.ctx(&loc, &secret, &version);
        let outcome = match self.access(&loc).await {
            Ok(current) if current.value == *value => return Ok(PutOutcome::Unchanged),
            Ok(_) => PutOutcome::Updated,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // NotFound covers a missing secret, one with no versions, and a disabled latest.
                let exists = self
                    .retry
                    .run(|| async {
                        match self
                            .client
                            .get_secret()
                            .set_name(secret.name())
                            .send()
                            .await
                        {
                            Ok(_) => Ok(true),
                            Err(e)
                                if e.status().map(|s| s.code)
                                    == Some(google_cloud_gax::error::rpc::Code::NotFound) =>
                            {
                                Ok(false)
                            }
                            Err(e) => Err(map_error(&e, &ctx)),
                        }
                    })
                    .await?;
                if exists {
                    PutOutcome::Updated
                } else {
                    let mut s = Secret::new();
                    if secret.location.is_none() {
                        s = s.set_replication(
                            Replication::new().set_automatic(replication::Automatic::default()),
                        );
                    }
                    self.retry
                        .run(|| async {
                            self.client
                                .create_secret()
                                .set_parent(secret.parent())
                                .set_secret_id(secret.secret.clone())
                                .set_secret(s.clone())
                                .send()
                                .await
                                .map_err(|e| map_error(&e, &ctx))
                        })
                        .await?;
                    PutOutcome::Created
                }
            }
            Err(e) => return Err(e),
        };
        let data = value.expose_bytes();
        let payload = SecretPayload::new()
            .set_data(data.to_vec())
            .set_data_crc32c(i64::from(crc32c::crc32c(data)));
        // AddSecretVersion is not idempotent: a retry after a lost response would add a second
        // version with the same data, which is harmless for readers of `latest`.
        self.retry
            .run(|| async {
                self.client
                    .add_secret_version()
                    .set_parent(secret.name())
                    .set_payload(payload.clone())
                    .send()
                    .await
                    .map_err(|e| map_error(&e, &ctx))
            })
            .await?;
        Ok(outcome)
    }
}

/// A version number as its resource name spells it (`get` reports that form), or `None` for
/// `latest` or an alias (which starts with a letter).
fn numbered(version: &str) -> Option<String> {
    if !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    version.parse::<u64>().ok().map(|n| n.to_string())
}
