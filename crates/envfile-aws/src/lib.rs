//! envfile backend `aws`: AWS Secrets Manager through `aws-sdk-secretsmanager`.
//!
//! ```toml
//! [default.backends.aws]
//! kind = "aws"
//! region = "eu-central-1"          # optional: else AWS_REGION / the profile's region
//! # endpoint_url = "http://127.0.0.1:5000"   # moto, LocalStack, a VPC endpoint
//! # profile = "dev"
//! # role_arn = "arn:aws:iam::123456789012:role/secrets-reader"
//! # version_probe = "batch"       # refresh change detection: batch (default) | list | each
//! ```
//!
//! A locator's path is a secret name, a partial ARN (no `-XXXXXX` suffix) or a full ARN; an ARN's
//! region wins over the configured one. `version` pins a VersionId, `stage` a VersionStage
//! (`AWSPREVIOUS`). SecretString and SecretBinary are both returned as bytes. [`AwsBackend`]
//! batches reads with BatchGetSecretValue, probes versions in batches too (see `probe`: a refresh
//! round costs ⌈N/20⌉ calls, or ListSecrets pages), and writes with
//! CreateSecret / PutSecretValue for `envfile import`.
#![warn(missing_docs)]

mod batch;
pub mod client;
pub mod config;
mod error;
pub mod identity;
mod probe;
pub mod ssm;

pub use aws_sdk_secretsmanager as sdk;
pub use aws_sdk_ssm as ssm_sdk;
pub use config::{AwsConfig, VersionProbeMode};
pub use error::ACCESS_DENIED_HINT;
pub use ssm::SsmBackend;

use crate::client::Clients;
use crate::error::{from_sdk, Context};
use async_trait::async_trait;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::primitives::Blob;
use envfile_core::retry::RetryPolicy;
use envfile_core::{
    Backend, Capabilities, Error, ErrorKind, Fetched, LoadedConfig, Locator, PutOutcome, Result,
    SecretMeta, SecretValue,
};
use std::future::Future;
use std::sync::atomic::AtomicBool;

/// The `aws` backend.
pub struct AwsBackend {
    name: String,
    clients: Clients,
    retry: RetryPolicy,
    /// Set once BatchGetSecretValue was denied, so later `get_many`s skip straight to single reads.
    batch_denied: AtomicBool,
    /// Which secret each ARN spelling turned out to name, and the credentials' account.
    learned: identity::Learned,
    /// The role assumed, for errors about assuming it.
    role_arn: Option<String>,
    /// STS, for the account id when an ARN must be compared before any read revealed it.
    sts: aws_sdk_sts::Client,
    /// `version_probe` as configured (unset: automatic).
    version_probe: Option<config::VersionProbeMode>,
    /// Why some secrets were probed one by one, logged once each.
    probe_notes: std::sync::Mutex<std::collections::BTreeSet<&'static str>>,
}

impl std::fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsBackend")
            .field("name", &self.name)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

impl AwsBackend {
    /// Build from `backends.NAME` of the config.
    pub async fn from_config(name: &str, cfg: &LoadedConfig) -> Result<Self> {
        let c = AwsConfig::from_config(name, cfg)?;
        Ok(Self::new(name, &c).await)
    }

    /// Build from typed settings.
    pub async fn new(name: &str, cfg: &AwsConfig) -> Self {
        let sdk = client::load_sdk_config(cfg).await;
        Self {
            name: name.to_owned(),
            sts: aws_sdk_sts::Client::new(&sdk),
            role_arn: cfg.role_arn.clone(),
            learned: identity::Learned::default(),
            clients: Clients::new(sdk),
            retry: RetryPolicy::default(),
            // `batch = false` takes the path a denied batch takes: one GetSecretValue per secret.
            batch_denied: AtomicBool::new(cfg.batch == Some(false)),
            version_probe: cfg.version_probe,
            probe_notes: Default::default(),
        }
    }

    /// Replace the retry policy (tests use a short one).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The configured (or default-chain) region, if any: `envfile policy` builds ARNs with it.
    pub fn default_region(&self) -> Option<&str> {
        self.clients.default_region()
    }

    async fn get_one(&self, loc: &Locator) -> Result<Fetched> {
        let region = self
            .clients
            .region_of(loc)
            .map_err(|e| e.with_backend(&self.name))?;
        let client = self.clients.for_region(&region);
        let out = self
            .call("GetSecretValue", &loc.path, &region, || {
                client
                    .get_secret_value()
                    .secret_id(&loc.path)
                    .set_version_id(loc.version.clone())
                    .set_version_stage(loc.stage.clone())
                    .send()
            })
            .await
            .map_err(|e| self.pin_hint(e, loc).with_backend(&self.name))?;
        let meta = self.meta(
            &loc.path,
            out.arn,
            out.name,
            out.created_date,
            out.version_stages,
            out.secret_binary.is_some() && out.secret_string.is_none(),
        );
        payload(
            &loc.path,
            out.secret_string,
            out.secret_binary,
            out.version_id,
        )
        .map(|f| f.with_meta(meta))
        .map_err(|e| e.with_backend(&self.name))
    }

    /// The metadata AWS returned with a value, recording which secret `asked` named.
    pub(crate) fn meta(
        &self,
        asked: &str,
        arn: Option<String>,
        name: Option<String>,
        created: Option<aws_smithy_types::DateTime>,
        stages: Option<Vec<String>>,
        binary: bool,
    ) -> SecretMeta {
        SecretMeta {
            identity: self.learned.record(asked, arn.as_deref(), name.as_deref()),
            arn,
            name,
            created: created.map(|d| d.secs() as f64 + f64::from(d.subsec_nanos()) / 1e9),
            stages,
            binary,
            ..SecretMeta::default()
        }
    }

    /// The credentials' account id: learned from a read by name, else asked of STS once.
    async fn home_account(&self) -> Result<&str> {
        if let Some(a) = self.learned.home() {
            return Ok(a);
        }
        let out = self
            .retry
            .run(|| async {
                self.sts.get_caller_identity().send().await.map_err(|e| {
                    Error::new(
                        ErrorKind::Unavailable,
                        format!(
                            "cannot learn the AWS account id (sts:GetCallerIdentity failed: {})",
                            aws_sdk_sts::error::DisplayErrorContext(&e)
                        ),
                    )
                    .with_hint(
                        "grants on ARNs compare accounts: allow network access to STS (a VPC \
                         endpoint for sts), or grant and ask by secret name",
                    )
                })
            })
            .await
            .map_err(|e| e.with_backend(&self.name))?;
        if let Some(a) = out.account() {
            self.learned.set_home(a);
        }
        self.learned.home().ok_or_else(|| {
            Error::new(ErrorKind::Unavailable, "STS returned no account id")
                .with_backend(&self.name)
        })
    }

    async fn identity_of(&self, path: &str) -> Result<String> {
        // `*` alone (every secret) stays a match-everything prefix.
        if path.is_empty() {
            return Ok(String::new());
        }
        if let Some(arn) = identity::parse_secret_arn(path) {
            self.home_account().await?;
            return Ok(self.learned.arn_ident(path, &arn));
        }
        if path.starts_with("arn:") {
            // Not a Secrets Manager ARN: nothing else is spelled like it.
            return Ok(format!("?/{path}"));
        }
        let region = self.clients.default_region().ok_or_else(|| {
            Error::config(format!("no AWS region for secret `{path}`"))
                .with_backend(&self.name)
                .with_hint("set `region` in the aws backend config or AWS_REGION")
        })?;
        Ok(identity::Learned::name_ident(region, path))
    }

    /// One SDK call about `secret_id` in `region`, retried under the backend's policy, its
    /// errors mapped with the operation named.
    async fn call<T, E, Fut>(
        &self,
        op: &'static str,
        secret_id: &str,
        region: &str,
        send: impl Fn() -> Fut,
    ) -> Result<T>
    where
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let ctx = Context {
            op,
            secret_id,
            region,
        };
        self.retry
            .run(|| async { send().await.map_err(|e| from_sdk(e, ctx)) })
            .await
            .map_err(|e| self.role_error(e))
    }

    /// A credentials failure under an assumed role is most often the role's trust policy (or
    /// its external id): say which role.
    pub(crate) fn role_error(&self, e: Error) -> Error {
        match &self.role_arn {
            Some(role) if e.kind() == ErrorKind::Unauthenticated => Error::new(
                ErrorKind::Unauthenticated,
                format!("cannot assume role `{role}`: {}", e.message()),
            )
            .with_hint(
                "the role's trust policy must allow the base credentials to call \
                 sts:AssumeRole (with the configured `external_id` if it requires \
                 sts:ExternalId), and `duration` must not exceed the role's maximum session",
            ),
            _ => e,
        }
    }

    /// A pinned read that is not found most often names a version or stage that does not exist.
    fn pin_hint(&self, e: Error, loc: &Locator) -> Error {
        match (&loc.version, &loc.stage) {
            (None, None) => e,
            _ if e.kind() != ErrorKind::NotFound
                || e.message().contains("scheduled for deletion") =>
            {
                e
            }
            (v, s) => e.with_hint(format!(
                "the secret may exist without this {}; list its versions with `aws secretsmanager \
                 list-secret-version-ids --secret-id {}`",
                match (v, s) {
                    (Some(v), _) => format!("version id `{v}`"),
                    (_, Some(s)) => format!("stage `{s}`"),
                    _ => unreachable!(),
                },
                loc.path
            )),
        }
    }

    async fn describe_version(&self, loc: &Locator) -> Result<Option<String>> {
        let region = self.clients.region_of(loc)?;
        let client = self.clients.for_region(&region);
        let out = self
            .call("DescribeSecret", &loc.path, &region, || {
                client.describe_secret().secret_id(&loc.path).send()
            })
            .await?;
        if out.deleted_date().is_some() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("secret `{}` is scheduled for deletion ({region})", loc.path),
            )
            .with_hint(
                "restore it with `aws secretsmanager restore-secret` within its recovery window",
            ));
        }
        let stages = out.version_ids_to_stages();
        if let Some(v) = &loc.version {
            // A pinned version never changes; report it only if it still exists.
            return match stages.and_then(|m| m.get(v)) {
                Some(_) => Ok(Some(v.clone())),
                None => Err(Error::new(
                    ErrorKind::NotFound,
                    format!("secret `{}` has no version `{v}`", loc.path),
                )),
            };
        }
        let stage = loc.stage.as_deref().unwrap_or("AWSCURRENT");
        let found = stages
            .into_iter()
            .flatten()
            .find(|(_, st)| st.iter().any(|s| s == stage))
            .map(|(id, _)| id.clone());
        match found {
            Some(id) => Ok(Some(id)),
            None => Err(Error::new(
                ErrorKind::NotFound,
                format!("secret `{}` has no version with stage `{stage}`", loc.path),
            )),
        }
    }

    async fn put_value(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        let loc = Locator::new(path);
        let region = self.clients.region_of(&loc)?;
        let client = self.clients.for_region(&region);
        let current = match self.get_one(&loc).await {
            Ok(f) => Some(f),
            // "Scheduled for deletion" is NotFound too, but creating over it fails: say so.
            Err(e)
                if e.kind() == ErrorKind::NotFound
                    && !e.message().contains("scheduled for deletion") =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(cur) = &current {
            if cur.value == *value {
                return Ok(PutOutcome::Unchanged);
            }
        }
        // One idempotency token for every attempt, so a retried write after a lost response
        // does not add a second version.
        let token = idempotency_token();
        let (text, binary) = match value.expose_str() {
            Some(s) => (Some(s.to_owned()), None),
            None => (None, Some(Blob::new(value.expose_bytes().to_vec()))),
        };
        let put = || {
            self.call("PutSecretValue", path, &region, || {
                client
                    .put_secret_value()
                    .secret_id(path)
                    .client_request_token(&token)
                    .set_secret_string(text.clone())
                    .set_secret_binary(binary.clone())
                    .send()
            })
        };
        if current.is_some() {
            put().await?;
            return Ok(PutOutcome::Updated);
        }
        let created = self
            .retry
            .run(|| async {
                let ctx = Context {
                    op: "CreateSecret",
                    secret_id: path,
                    region: &region,
                };
                match client
                    .create_secret()
                    .name(path)
                    .client_request_token(&token)
                    .set_secret_string(text.clone())
                    .set_secret_binary(binary.clone())
                    .send()
                    .await
                {
                    Ok(_) => Ok(true),
                    // It exists but had no readable current value: add one.
                    Err(e)
                        if e.as_service_error()
                            .map(|s| s.is_resource_exists_exception())
                            == Some(true) =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(from_sdk(e, ctx)),
                }
            })
            .await?;
        if created {
            Ok(PutOutcome::Created)
        } else {
            put().await?;
            Ok(PutOutcome::Updated)
        }
    }
}

/// Turn a SecretString / SecretBinary pair into a value. The SDK's `String` moves into the
/// zeroizing wrapper without a copy.
pub(crate) fn payload(
    id: &str,
    text: Option<String>,
    binary: Option<Blob>,
    version: Option<String>,
) -> Result<Fetched> {
    let value = match (text, binary) {
        (Some(s), _) => SecretValue::from_string(s),
        (None, Some(b)) => SecretValue::new(b.into_inner()),
        (None, None) => {
            return Err(Error::new(
                ErrorKind::Empty,
                format!("secret `{id}` has neither SecretString nor SecretBinary"),
            ))
        }
    };
    Ok(Fetched::new(value, version))
}

fn idempotency_token() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

#[async_trait]
impl Backend for AwsBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "aws"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            versions: true,
            stages: true,
            binary: true,
            write: true,
            cheap_version_probe: true,
            json_only: false,
        }
    }

    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        self.get_one(loc).await
    }

    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        self.get_many_batched(locs).await
    }

    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.describe_version(loc)
            .await
            .map_err(|e| e.with_backend(&self.name))
    }

    async fn identity(&self, path: &str) -> Result<String> {
        self.identity_of(path).await
    }

    async fn put(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        self.put_value(path, value)
            .await
            .map_err(|e| e.with_backend(&self.name))
    }

    fn probe_batch_size(&self) -> usize {
        self.probe_batch()
    }

    fn read_batch_size(&self) -> usize {
        if self.batch_denied.load(std::sync::atomic::Ordering::Relaxed) {
            1
        } else {
            batch::MAX_BATCH
        }
    }

    async fn current_versions(&self, locs: &[Locator]) -> envfile_core::VersionProbe {
        self.probe_versions(locs).await
    }
}
