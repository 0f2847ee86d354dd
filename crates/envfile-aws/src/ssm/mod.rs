//! envfile backend `ssm`: AWS Systems Manager Parameter Store, in the AWS crate so it shares the
//! `aws` backend's credentials chain, role assumption, region, endpoint and retry settings.
//!
//! ```toml
//! [default.backends.ssm]
//! kind = "ssm"
//! region = "eu-central-1"
//! # endpoint_url, profile, role_arn, external_id, session_name, duration: as for `aws`
//! ```
//!
//! A locator is a parameter name (`/app/prod/db_password`), an ARN (ECS `valueFrom`), or a
//! `/aws/reference/secretsmanager/NAME` path, optionally with a selector (`:3`, `:label`).
//! String, StringList (the comma-joined text) and SecureString (decrypted) are read alike.
//! `get_many` uses GetParameters, ten names a call (the API's limit). A refresh round's version
//! probe is GetParameters without decryption (no KMS call; a String parameter's answer is its
//! value, kept so a changed one is not read again), ten a call, or with
//! `version_probe = "list"` DescribeParameters, fifty a call (`describe.rs`). Writes
//! (`envfile import`) are PutParameter, SecureString unless told otherwise. A path ending in `/`
//! reads every parameter below it (GetParametersByPath, recursive) as one JSON object, for
//! `expand`.

mod describe;
pub mod names;

use crate::client::load_sdk_config;
use crate::config::AwsConfig;
use crate::error::{from_code, from_sdk, Context};
use crate::identity::Learned;
use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_sdk_ssm::Client;
use envfile_core::retry::RetryPolicy;
use envfile_core::{
    Backend, Capabilities, Error, ErrorKind, Fetched, LoadedConfig, Locator, PutOutcome, Result,
    SecretMeta, SecretValue,
};
use futures::StreamExt;
use names::Param;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Parameters to ask for in batches: region → API name → the parameter and the indices of the
/// locators that asked for it.
type Groups = BTreeMap<String, BTreeMap<String, (Param, Vec<usize>)>>;

/// GetParameters takes at most ten names a call.
pub const MAX_BATCH: usize = 10;

/// A path read keeps at most this many parameters (a bound on memory, not an API limit).
const MAX_PATH_PARAMETERS: usize = 10_000;

/// A locator that names a path (every parameter below it) rather than a parameter: parameter
/// names never end in `/`.
fn is_path(p: &str) -> bool {
    p.ends_with('/')
}

/// A short stable digest (FNV-1a, 64 bits) as hex: a version id, not a security measure.
fn digest(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The `ssm` backend.
pub struct SsmBackend {
    name: String,
    base: SdkConfig,
    default_region: Option<String>,
    by_region: Mutex<HashMap<String, Client>>,
    retry: RetryPolicy,
    learned: Learned,
    sts: aws_sdk_sts::Client,
    role_arn: Option<String>,
    /// The type `put` writes (`SecureString` unless the import says otherwise).
    put_type: ParameterType,
    /// `version_probe`: `each` probes one parameter per call; otherwise GetParameters batches.
    probe_each: bool,
    /// `version_probe = "list"`: DescribeParameters, 50 names a call.
    probe_list: bool,
    /// DescribeParameters was denied to this role: GetParameters from then on.
    describe_denied: AtomicBool,
    /// Why a probe fell back, logged once per reason.
    probe_notes: Mutex<HashSet<&'static str>>,
}

impl std::fmt::Debug for SsmBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsmBackend")
            .field("name", &self.name)
            .field("default_region", &self.default_region)
            .finish_non_exhaustive()
    }
}

impl SsmBackend {
    /// Build from `backends.NAME` of the config (`kind = "ssm"`).
    pub async fn from_config(name: &str, cfg: &LoadedConfig) -> Result<Self> {
        let c = AwsConfig::from_config_kind(name, cfg, "ssm")?;
        Ok(Self::new(name, &c).await)
    }

    /// Build from typed settings.
    pub async fn new(name: &str, cfg: &AwsConfig) -> Self {
        let base = load_sdk_config(cfg).await;
        Self {
            name: name.to_owned(),
            default_region: base.region().map(|r| r.to_string()),
            sts: aws_sdk_sts::Client::new(&base),
            base,
            by_region: Mutex::new(HashMap::new()),
            retry: RetryPolicy::default(),
            learned: Learned::default(),
            role_arn: cfg.role_arn.clone(),
            put_type: ParameterType::SecureString,
            probe_each: cfg.version_probe == Some(crate::config::VersionProbeMode::Each),
            probe_list: cfg.version_probe == Some(crate::config::VersionProbeMode::List),
            describe_denied: AtomicBool::new(false),
            probe_notes: Mutex::new(HashSet::new()),
        }
    }

    /// Replace the retry policy (tests use a short one).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Write plain `String` parameters instead of `SecureString` (`import --type String`).
    pub fn writing_plain_strings(mut self) -> Self {
        self.put_type = ParameterType::String;
        self
    }

    /// The configured (or default-chain) region, if any.
    pub fn default_region(&self) -> Option<&str> {
        self.default_region.as_deref()
    }

    fn client(&self, region: &str) -> Client {
        let mut map = self.by_region.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_ssm::config::Builder::from(&self.base)
                    .region(Region::new(region.to_owned()))
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    fn region_of(&self, p: &Param, loc: &Locator) -> Result<String> {
        if let Some(r) = &p.arn_region {
            return Ok(r.clone());
        }
        if let Some(r) = loc.params.get("region") {
            return Ok(r.clone());
        }
        self.default_region.clone().ok_or_else(|| {
            Error::config(format!("no AWS region for parameter `{}`", p.id))
                .with_backend(&self.name)
                .with_hint(
                    "set `region` in the ssm backend config, AWS_REGION in the environment, or \
                     use the parameter's ARN (which names its region)",
                )
        })
    }

    fn map_err(&self, e: Error, p: &Param, region: &str) -> Error {
        let e = match e.kind() {
            ErrorKind::NotFound => {
                let hint = names::not_found_hint(p, region, self.default_region.as_deref());
                e.with_hint(hint)
            }
            ErrorKind::PermissionDenied if e.message().contains("access denied") => e.with_hint(
                "the reading role needs ssm:GetParameter and ssm:GetParameters on the parameter \
                 (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`, no leading `/` after `parameter`), \
                 and kms:Decrypt on its key for a SecureString with a customer-managed key; \
                 `envfile policy --for aws` prints one",
            ),
            ErrorKind::Unauthenticated => match &self.role_arn {
                Some(role) => Error::new(
                    ErrorKind::Unauthenticated,
                    format!("cannot assume role `{role}`: {}", e.message()),
                )
                .with_hint(
                    "the role's trust policy must allow the base credentials to call \
                     sts:AssumeRole (with the configured `external_id` if it requires one)",
                ),
                None => e,
            },
            _ => e,
        };
        e.with_backend(&self.name)
    }

    fn fetched(&self, asked: &Param, p: Parameter) -> Result<Fetched> {
        let identity = self.record(asked, p.arn(), p.name());
        let meta = SecretMeta {
            identity,
            arn: p.arn.clone(),
            name: p.name.clone(),
            created: p
                .last_modified_date
                .map(|d| d.secs() as f64 + f64::from(d.subsec_nanos()) / 1e9),
            stages: None,
            binary: false,
            type_name: p.r#type.as_ref().map(|t| t.as_str().to_owned()),
            data_type: p.data_type.clone(),
            selector: p.selector.clone(),
            source_result: p.source_result.clone(),
            envelope: None,
        };
        let value = p.value.ok_or_else(|| {
            Error::new(
                ErrorKind::Empty,
                format!("parameter `{}` came back without a value", asked.id),
            )
            .with_backend(&self.name)
        })?;
        Ok(
            Fetched::new(SecretValue::from_string(value), Some(p.version.to_string()))
                .with_meta(meta),
        )
    }

    /// Remember the home account (a name resolves there) and return the answered identity.
    fn record(&self, asked: &Param, arn: Option<&str>, name: Option<&str>) -> Option<String> {
        let f: Vec<&str> = arn?.split(':').collect();
        let (region, account) = (*f.get(3)?, *f.get(4)?);
        if asked.arn_region.is_none() {
            self.learned.set_home(account);
        }
        let name = name?;
        // Before the account is known, our ARN cannot be told from another account's.
        self.learned
            .home()
            .map(|_| self.learned.ident(account, region, name))
    }

    async fn get_one(&self, loc: &Locator) -> Result<Fetched> {
        if is_path(&loc.path) {
            return self.get_path(loc, true).await;
        }
        let p = names::parse(loc).map_err(|e| e.with_backend(&self.name))?;
        let region = self.region_of(&p, loc)?;
        let client = self.client(&region);
        let api_name = p.api_name();
        let ctx = Context {
            op: "GetParameter",
            secret_id: &api_name,
            region: &region,
        };
        let out = self
            .retry
            .run(|| async {
                client
                    .get_parameter()
                    .name(&api_name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, ctx))
            })
            .await
            .map_err(|e| self.map_err(e, &p, &region))?;
        let param = out.parameter.ok_or_else(|| {
            Error::new(
                ErrorKind::Other,
                format!("GetParameter for `{api_name}` answered without a parameter"),
            )
            .with_backend(&self.name)
        })?;
        self.fetched(&p, param)
    }

    /// The locators `alone` does not claim, by region and then by API name (several locators
    /// may share one), for GetParameters or DescribeParameters; a name that does not parse, or
    /// whose region cannot be told, gets its error in `out`. Also returns the indices `alone`
    /// claimed, in order.
    fn group<T>(
        &self,
        locs: &[Locator],
        alone: impl Fn(&Locator) -> bool,
        out: &mut [Option<Result<T>>],
    ) -> (Groups, Vec<usize>) {
        let mut groups = Groups::new();
        let mut claimed = Vec::new();
        for (i, loc) in locs.iter().enumerate() {
            if alone(loc) {
                claimed.push(i);
                continue;
            }
            let parsed = names::parse(loc).map_err(|e| e.with_backend(&self.name));
            match parsed.and_then(|p| Ok((self.region_of(&p, loc)?, p))) {
                Err(e) => out[i] = Some(Err(e)),
                Ok((region, p)) => groups
                    .entry(region)
                    .or_default()
                    .entry(p.api_name())
                    .or_insert_with(|| (p, Vec::new()))
                    .1
                    .push(i),
            }
        }
        (groups, claimed)
    }

    async fn get_batched(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        let mut out: Vec<Option<Result<Fetched>>> = vec![None; locs.len()];
        let (groups, paths) = self.group(locs, |loc| is_path(&loc.path), &mut out);
        for i in paths {
            out[i] = Some(self.get_path(&locs[i], true).await);
        }
        for (region, by_name) in groups {
            let entries: Vec<(String, (Param, Vec<usize>))> = by_name.into_iter().collect();
            for chunk in entries.chunks(MAX_BATCH) {
                let results = self.batch(&region, chunk, true).await;
                for ((_, (_, idxs)), r) in chunk.iter().zip(results) {
                    for &i in idxs {
                        out[i] = Some(r.clone());
                    }
                }
            }
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(
                        Error::new(ErrorKind::Other, "internal: no result for a locator")
                            .with_backend(&self.name),
                    )
                })
            })
            .collect()
    }

    /// One GetParameters call for up to ten names (`decrypt = false` for a version probe: no
    /// KMS call, and the value is not used).
    async fn batch(
        &self,
        region: &str,
        chunk: &[(String, (Param, Vec<usize>))],
        decrypt: bool,
    ) -> Vec<Result<Fetched>> {
        let client = self.client(region);
        let names: Vec<String> = chunk.iter().map(|(n, _)| n.clone()).collect();
        let ctx = Context {
            op: "GetParameters",
            secret_id: "(batch)",
            region,
        };
        let sent = self
            .retry
            .run(|| async {
                client
                    .get_parameters()
                    .set_names(Some(names.clone()))
                    .with_decryption(decrypt)
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, ctx))
            })
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                return chunk
                    .iter()
                    .map(|(_, (p, _))| Err(self.map_err(e.clone(), p, region)))
                    .collect()
            }
        };
        let mut found: Vec<Option<Parameter>> = vec![None; chunk.len()];
        for param in resp.parameters.unwrap_or_default() {
            let sel = param
                .selector()
                .map(|s| s.trim_start_matches(':').to_owned());
            let pos = chunk.iter().enumerate().position(|(i, (_, (p, _)))| {
                found[i].is_none()
                    && sel == p.selector
                    && (param.name() == Some(p.id.as_str())
                        || param.arn().is_some_and(|a| a == p.id)
                        || param.name() == Some(p.name().as_str()))
            });
            if let Some(pos) = pos {
                found[pos] = Some(param);
            }
        }
        chunk
            .iter()
            .zip(found)
            .map(|((api_name, (p, _)), f)| match f {
                Some(param) => self.fetched(p, param),
                None => {
                    let ctx = Context {
                        op: "GetParameters",
                        secret_id: api_name,
                        region,
                    };
                    Err(self.map_err(from_code("ParameterNotFound", "", 400, ctx), p, region))
                }
            })
            .collect()
    }

    /// Log `why` once for this backend.
    fn note_once(&self, reason: &'static str, why: &str) {
        let mut seen = self.probe_notes.lock().unwrap_or_else(|p| p.into_inner());
        if seen.insert(reason) {
            tracing::info!(backend = %self.name, reason, "{why}");
        }
    }

    /// Whether this round probes with DescribeParameters.
    fn lists(&self) -> bool {
        self.probe_list && !self.describe_denied.load(Ordering::Relaxed)
    }

    /// A refresh round's versions: GetParameters, ten names a call, without decryption (or
    /// DescribeParameters, fifty a call, with `version_probe = "list"`); a path, or a name the
    /// batch reported missing, is probed on its own (which names the precise error). Returns
    /// the calls made.
    async fn probe_batched(&self, locs: &[Locator]) -> envfile_core::VersionProbe {
        let mut out: Vec<Option<Result<Option<String>>>> = vec![None; locs.len()];
        let mut values: Vec<Option<Fetched>> = vec![None; locs.len()];
        let (mut groups, mut singles) =
            self.group(locs, |loc| self.probe_each || is_path(&loc.path), &mut out);
        let mut calls = 0;
        if self.lists() {
            calls += self
                .probe_described(&mut groups, &mut out, &mut singles)
                .await;
        }
        for (region, by_name) in groups {
            let entries: Vec<(String, (Param, Vec<usize>))> = by_name.into_iter().collect();
            if entries.is_empty() {
                continue;
            }
            if entries.len() == 1 {
                singles.extend(entries.into_iter().flat_map(|(_, (_, v))| v));
                continue;
            }
            for chunk in entries.chunks(MAX_BATCH) {
                calls += 1;
                let results = self.batch(&region, chunk, false).await;
                for ((_, (_, idxs)), r) in chunk.iter().zip(results) {
                    match r {
                        Ok(f) => {
                            // Undecrypted, a String or StringList answer is the value itself
                            // (a SecureString's is ciphertext): a changed one needs no read.
                            let plain = f.meta.as_ref().is_some_and(|m| {
                                matches!(m.type_name.as_deref(), Some("String" | "StringList"))
                            });
                            for &i in idxs {
                                out[i] = Some(Ok(f.version.clone()));
                                if plain {
                                    values[i] = Some(f.clone());
                                }
                            }
                        }
                        Err(e) if e.is_retryable() => {
                            idxs.iter().for_each(|&i| out[i] = Some(Err(e.clone())))
                        }
                        Err(_) => singles.extend(idxs),
                    }
                }
            }
        }
        calls += singles.len();
        let futs: Vec<_> = singles
            .iter()
            .map(|&i| async move { (i, self.probe(&locs[i]).await) })
            .collect();
        let done: Vec<_> = futures::stream::iter(futs)
            .buffer_unordered(envfile_core::backend::DEFAULT_CONCURRENCY)
            .collect()
            .await;
        for (i, r) in done {
            out[i] = Some(r);
        }
        envfile_core::VersionProbe {
            versions: out.into_iter().map(|r| r.unwrap_or(Ok(None))).collect(),
            values,
            calls,
        }
    }

    /// DescribeParameters for every describable parameter of `groups` (taken out of it; what
    /// stays is for GetParameters); returns the calls made.
    async fn probe_described(
        &self,
        groups: &mut Groups,
        out: &mut [Option<Result<Option<String>>>],
        singles: &mut Vec<usize>,
    ) -> usize {
        let mut calls = 0;
        for (region, by_name) in groups.iter_mut() {
            let names: Vec<String> = by_name
                .iter()
                .filter(|(_, (p, _))| describe::describable(p))
                .map(|(n, _)| n.clone())
                .collect();
            for chunk in names.chunks(describe::MAX_NAMES) {
                if self.describe_denied.load(Ordering::Relaxed) {
                    break;
                }
                let (found, pages) = match self.describe_versions(region, chunk).await {
                    Ok(f) => f,
                    Err((e, pages)) => {
                        calls += pages;
                        if e.is_retryable() || e.kind() == ErrorKind::Unauthenticated {
                            for n in chunk {
                                if let Some((_, idxs)) = by_name.remove(n) {
                                    idxs.iter().for_each(|&i| out[i] = Some(Err(e.clone())));
                                }
                            }
                        } else {
                            if e.kind() == ErrorKind::PermissionDenied {
                                self.describe_denied.store(true, Ordering::Relaxed);
                            }
                            self.note_once(
                                "describe-failed",
                                "version_probe = \"list\": DescribeParameters failed (the role needs ssm:DescribeParameters on *); probing with GetParameters, ten a call",
                            );
                        }
                        // Left in `by_name`: GetParameters probes them.
                        continue;
                    }
                };
                calls += pages;
                for n in chunk {
                    let Some((_, idxs)) = by_name.remove(n) else {
                        continue;
                    };
                    match found.get(n) {
                        Some(v) => idxs
                            .iter()
                            .for_each(|&i| out[i] = Some(Ok(Some(v.to_string())))),
                        None => {
                            self.note_once(
                                "describe-missing",
                                "version_probe = \"list\": a parameter was not in the DescribeParameters answer (deleted, or not visible to the role); probing it with GetParameter",
                            );
                            singles.extend(idxs);
                        }
                    }
                }
            }
        }
        calls
    }

    async fn probe(&self, loc: &Locator) -> Result<Option<String>> {
        if is_path(&loc.path) {
            // Without decryption: names and versions only, no KMS call.
            return Ok(self.get_path(loc, false).await?.version);
        }
        let p = names::parse(loc).map_err(|e| e.with_backend(&self.name))?;
        let region = self.region_of(&p, loc)?;
        let client = self.client(&region);
        let api_name = p.api_name();
        let ctx = Context {
            op: "GetParameter",
            secret_id: &api_name,
            region: &region,
        };
        // Without decryption: the version, without a KMS call.
        let out = self
            .retry
            .run(|| async {
                client
                    .get_parameter()
                    .name(&api_name)
                    .with_decryption(false)
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, ctx))
            })
            .await
            .map_err(|e| self.map_err(e, &p, &region))?;
        Ok(out.parameter.map(|p| p.version.to_string()))
    }

    /// A path (`/app/prod/`) read with GetParametersByPath, recursively: one JSON object from
    /// each parameter's name below the path to its value, so `expand` turns a hierarchy into
    /// variables (`/app/prod/db/password` → `db/password` → `DB_PASSWORD`). The version is a
    /// digest of every name and version, so adding, removing or changing one changes it.
    async fn get_path(&self, loc: &Locator, decrypt: bool) -> Result<Fetched> {
        let path = loc.path.as_str();
        if !path.starts_with('/') || loc.version.is_some() || loc.stage.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidRef,
                format!("`{path}`: a parameter path starts with `/` and takes no version or label"),
            )
            .with_backend(&self.name)
            .with_hint("write `ssm:/app/prod/` to read every parameter below /app/prod"));
        }
        let region = match loc.params.get("region") {
            Some(r) => r.clone(),
            None => self.default_region.clone().ok_or_else(|| {
                Error::config(format!("no AWS region for parameter path `{path}`"))
                    .with_backend(&self.name)
            })?,
        };
        let client = self.client(&region);
        let api_path = if path == "/" {
            "/"
        } else {
            path.trim_end_matches('/')
        };
        let ctx = Context {
            op: "GetParametersByPath",
            secret_id: path,
            region: &region,
        };
        let mut map = serde_json::Map::new();
        let mut versions = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .retry
                .run(|| async {
                    client
                        .get_parameters_by_path()
                        .path(api_path)
                        .recursive(true)
                        .with_decryption(decrypt)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| from_sdk(e, ctx))
                })
                .await
                .map_err(|e| e.with_backend(&self.name))?;
            for p in page.parameters.unwrap_or_default() {
                let Some(name) = p.name else { continue };
                let rel = name
                    .strip_prefix(api_path)
                    .unwrap_or(&name)
                    .trim_start_matches('/')
                    .to_owned();
                versions.push(format!("{name}:{}", p.version));
                if map.len() >= MAX_PATH_PARAMETERS {
                    return Err(Error::new(
                        ErrorKind::Other,
                        format!("`{path}` holds more than {MAX_PATH_PARAMETERS} parameters"),
                    )
                    .with_backend(&self.name)
                    .with_hint("expand a deeper path"));
                }
                map.insert(rel, serde_json::Value::String(p.value.unwrap_or_default()));
            }
            token = page.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        if map.is_empty() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no parameters below `{path}` in {region}"),
            )
            .with_backend(&self.name)
            .with_hint("check the path (case matters) and the region; GetParametersByPath returns only what the role may read"));
        }
        versions.sort();
        let json = envfile_core::SecretJson::from_value(serde_json::Value::Object(map));
        let text = serde_json::to_string(json.expose())
            .map_err(|_| Error::new(ErrorKind::Other, "JSON encoding failed"))?;
        Ok(Fetched::new(
            SecretValue::from_string(text),
            Some(digest(&versions.join("\n"))),
        ))
    }

    async fn home_account(&self) -> Result<()> {
        if self.learned.home().is_some() {
            return Ok(());
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
                })
            })
            .await
            .map_err(|e| e.with_backend(&self.name))?;
        if let Some(a) = out.account() {
            self.learned.set_home(a);
        }
        Ok(())
    }

    async fn identity_of(&self, path: &str) -> Result<String> {
        if path.is_empty() {
            return Ok(String::new());
        }
        // A grant prefix (`/app/*` given as `/app/`) is not a parameter: no selector to strip.
        let p = match names::parse(&Locator::new(path)) {
            Ok(p) => p,
            Err(_) => return Ok(format!("?/{path}")),
        };
        match (&p.arn_region, &p.arn_account) {
            (Some(region), Some(account)) => {
                self.home_account().await?;
                Ok(self.learned.ident(account, region, &p.name()))
            }
            _ => {
                let region = self.default_region.as_deref().ok_or_else(|| {
                    Error::config(format!("no AWS region for parameter `{path}`"))
                        .with_backend(&self.name)
                })?;
                Ok(Learned::name_ident(region, &p.id))
            }
        }
    }

    async fn put_value(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        let loc = Locator::new(path);
        let p = names::parse(&loc)?;
        if p.selector.is_some() {
            return Err(Error::new(
                ErrorKind::InvalidRef,
                format!("cannot write `{path}`: a version or label selects a read"),
            ));
        }
        let Some(text) = value.expose_str() else {
            return Err(Error::new(
                ErrorKind::Unrepresentable,
                format!("parameter `{path}`: Parameter Store holds text only, not binary"),
            ));
        };
        let current = match self.get_one(&loc).await {
            Ok(f) => Some(f),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if current.as_ref().is_some_and(|c| c.value == *value) {
            return Ok(PutOutcome::Unchanged);
        }
        let region = self.region_of(&p, &loc)?;
        let client = self.client(&region);
        let ctx = Context {
            op: "PutParameter",
            secret_id: path,
            region: &region,
        };
        self.retry
            .run(|| async {
                client
                    .put_parameter()
                    .name(&p.id)
                    .value(text)
                    .r#type(self.put_type.clone())
                    .overwrite(current.is_some())
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, ctx))
            })
            .await
            .map_err(|e| self.map_err(e, &p, &region))?;
        Ok(if current.is_some() {
            PutOutcome::Updated
        } else {
            PutOutcome::Created
        })
    }
}

#[async_trait]
impl Backend for SsmBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "ssm"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            versions: true,
            stages: false,
            binary: false,
            write: true,
            cheap_version_probe: true,
            json_only: false,
        }
    }

    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        self.get_one(loc).await
    }

    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        if locs.len() == 1 {
            return vec![self.get_one(&locs[0]).await];
        }
        self.get_batched(locs).await
    }

    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.probe(loc).await
    }

    fn probe_batch_size(&self) -> usize {
        if self.probe_each {
            1
        } else if self.lists() {
            describe::MAX_NAMES
        } else {
            MAX_BATCH
        }
    }

    fn read_batch_size(&self) -> usize {
        MAX_BATCH
    }

    async fn current_versions(&self, locs: &[Locator]) -> envfile_core::VersionProbe {
        self.probe_batched(locs).await
    }

    async fn identity(&self, path: &str) -> Result<String> {
        self.identity_of(path).await
    }

    async fn put(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        self.put_value(path, value)
            .await
            .map_err(|e| e.with_backend(&self.name))
    }
}
