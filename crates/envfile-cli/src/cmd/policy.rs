//! `envfile policy --for aws|vault|gcp`: the least-privilege access policy for the secrets a
//! config reads.
//!
//! - `aws`: an IAM policy document. Why each resource has two forms (see the ECS partial-ARN
//!   incident): IAM matches the ARN a request names. A request by name or full ARN is matched
//!   against the secret's real ARN, `…:secret:NAME-XXXXXX`, which `NAME-??????` covers; a request
//!   by *partial* ARN (ECS `valueFrom` without the suffix) is matched as written, `…:secret:NAME`,
//!   which `NAME-??????` does not cover. Listing both covers either way of asking without the
//!   over-broad `NAME*` (which also matches `NAME-old`, `NAME2`, …).
//! - `vault`: an HCL policy, `read` on each secret's API path. The API path depends on the mount's
//!   KV version, which only the server knows, so the backend asks it (`--offline` assumes KV v2).
//! - `gcp`: `roles/secretmanager.secretAccessor` on each secret (not on the project), as `gcloud`
//!   commands or as IAM policy bindings in JSON.

use crate::context::GlobalArgs;
use crate::exit::Failure;
use envfile_core::config::{Config, VarSource};
use envfile_core::{BackendSel, Error, ErrorKind, LoadedConfig, Reference};
use std::collections::{BTreeMap, BTreeSet};

/// The one role that reads secret payloads: `secretmanager.versions.access`, nothing else.
const GCP_ROLE: &str = "roles/secretmanager.secretAccessor";

/// Arguments of `envfile policy`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  envfile policy --for aws --account 123456789012 > task-role-policy.json
  envfile policy --for aws api worker --role execution --region eu-central-1
  envfile policy --for vault api > api.hcl && bao policy write api api.hcl
  envfile policy --for vault --offline --version-probes api
  envfile policy --for gcp --member serviceAccount:api@my-project.iam.gserviceaccount.com | sh
  envfile policy --for gcp --member serviceAccount:api@my-project.iam.gserviceaccount.com --format json")]
pub struct Args {
    /// Which backend kind to write a policy for.
    #[arg(long = "for", value_name = "KIND", value_parser = ["aws", "vault", "gcp"])]
    pub kind: String,
    /// Env files to cover [default: all in the config].
    #[arg(value_name = "ENVFILE")]
    pub envfiles: Vec<String>,
    /// aws: region for secret names [default: the backend's `region`, else `*`].
    #[arg(long)]
    pub region: Option<String>,
    /// aws: account id for secret names [default: `*`].
    #[arg(long)]
    pub account: Option<String>,
    /// aws: `task`: envfile reads at run time (GetSecretValue, DescribeSecret,
    /// BatchGetSecretValue). `execution`: ECS injects task-definition `secrets` (GetSecretValue
    /// only).
    #[arg(long, default_value = "task", value_parser = ["task", "execution"])]
    pub role: String,
    /// aws: ARN of a customer-managed KMS key the secrets are encrypted with (repeatable).
    #[arg(long = "kms-key", value_name = "KEY_ARN")]
    pub kms_keys: Vec<String>,
    /// vault: do not ask the server which mount each path is in; assume the first path
    /// segment is a KV v2 mount.
    #[arg(long)]
    pub offline: bool,
    /// vault: also allow `read` on KV v2 metadata (`MOUNT/metadata/PATH`), so `envfile serve`
    /// and `run --watch` can check versions without reading values (without it they fall back
    /// to full reads).
    #[arg(long)]
    pub version_probes: bool,
    /// gcp: who gets access, as IAM writes it
    /// (`serviceAccount:NAME@PROJECT.iam.gserviceaccount.com`, `user:…`, `group:…`)
    /// [default: the placeholder `MEMBER`, with a warning].
    #[arg(long, value_name = "MEMBER")]
    pub member: Option<String>,
    /// gcp: `commands` (gcloud add-iam-policy-binding, one per secret) or `json` (the IAM
    /// policy bindings to add, per secret) [default: commands].
    #[arg(long, value_name = "FORMAT", value_parser = ["commands", "json"])]
    pub format: Option<String>,
}

/// Run `envfile policy`.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    check_flags(&args)?;
    let cfg = global.load_config()?;
    for name in &args.envfiles {
        cfg.envfile(name)?;
    }
    let refs = config_refs(&cfg.config, &args.envfiles)?;
    let text = match args.kind.as_str() {
        "aws" => aws_policy(&args, &cfg, &refs)?,
        "vault" => vault_policy(&args, &cfg, &refs).await?,
        _ => gcp_policy(&args, &cfg, &refs)?,
    };
    crate::output::write_stdout(text.as_bytes())?;
    Ok(())
}

/// Flags of another kind are refused rather than ignored: a `--member` on an AWS policy would
/// otherwise look like it had been applied.
fn check_flags(args: &Args) -> Result<(), Error> {
    let set: [(&str, &str, bool); 7] = [
        ("--region", "aws", args.region.is_some()),
        ("--account", "aws", args.account.is_some()),
        ("--kms-key", "aws", !args.kms_keys.is_empty()),
        ("--offline", "vault", args.offline),
        ("--version-probes", "vault", args.version_probes),
        ("--member", "gcp", args.member.is_some()),
        ("--format", "gcp", args.format.is_some()),
    ];
    match set.iter().find(|(_, kind, on)| *on && *kind != args.kind) {
        Some((flag, kind, _)) => Err(Error::config(format!(
            "`{flag}` applies to `--for {kind}`, not `--for {}`",
            args.kind
        ))
        .with_hint("see `envfile policy --help` for each kind's options")),
        None => Ok(()),
    }
}

/// Every reference the chosen env files read (all env files when none is named).
fn config_refs(c: &Config, only: &[String]) -> Result<Vec<Reference>, Error> {
    let mut refs = Vec::new();
    for (name, spec) in &c.envfiles {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        let raws = spec
            .vars
            .values()
            .filter_map(|v| match v {
                VarSource::Ref(r) => Some(r.as_str()),
                VarSource::Literal { .. } => None,
            })
            .chain(spec.expand.iter().map(|e| e.reference.as_str()));
        for raw in raws {
            refs.push(Reference::parse(raw)?);
        }
    }
    Ok(refs)
}

/// The backend instance of `kind` a reference goes to, chosen as at run time
/// ([`envfile_core::Backends::select`]): a named backend of that kind; for a kind (a pasted ARN,
/// GCP resource name…) the backend named like the kind, else the only one of that kind. `None`:
/// the reference is for another kind. A kind with no backend configured gives the kind's name
/// (its settings then come from the environment alone).
fn backend_for(c: &Config, sel: &BackendSel, kind: &str) -> Result<Option<String>, Error> {
    match sel {
        BackendSel::Named(n) => Ok(c
            .backends
            .get(n)
            .filter(|b| b.kind == kind)
            .map(|_| n.clone())),
        BackendSel::Kind(k) if k != kind => Ok(None),
        BackendSel::Kind(_) => {
            if c.backends.get(kind).is_some_and(|b| b.kind == kind) {
                return Ok(Some(kind.to_owned()));
            }
            let of_kind: Vec<&String> = c
                .backends
                .iter()
                .filter(|(_, b)| b.kind == kind)
                .map(|(n, _)| n)
                .collect();
            match of_kind.as_slice() {
                [] => Ok(Some(kind.to_owned())),
                [one] => Ok(Some((*one).clone())),
                many => Err(Error::config(format!(
                    "a reference needs a backend of kind `{kind}`, and {} are configured",
                    many.len()
                ))
                .with_hint(format!(
                    "write the reference as `NAME:PATH` with one of: {}",
                    many.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        }
    }
}

fn no_secrets(kind: &str, hint: &str) -> Error {
    Error::config(format!(
        "the config reads no secrets from a `{kind}` backend: no policy to write"
    ))
    .with_hint(hint)
}

fn aws_policy(args: &Args, cfg: &LoadedConfig, refs: &[Reference]) -> Result<String, Error> {
    let c = &cfg.config;
    let mut resources = BTreeSet::new();
    let mut regions = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    // Each backend's settings, read once: reading them costs a copy of the whole config, so
    // per reference it made a policy of thousands of secrets quadratic.
    let mut settings: BTreeMap<String, Option<envfile_aws::AwsConfig>> = BTreeMap::new();
    for r in refs {
        let Some(backend) = backend_for(c, &r.backend, "aws")? else {
            continue;
        };
        let conf = settings
            .entry(backend.clone())
            .or_insert_with(|| cfg.backend_config::<envfile_aws::AwsConfig>(&backend).ok());
        let path = &r.locator.path;
        let (partition, region, account, name) = if let Some(rest) = path.strip_prefix("arn:") {
            let f: Vec<&str> = rest.splitn(6, ':').collect();
            if f.len() < 6 {
                return Err(Error::new(
                    ErrorKind::InvalidRef,
                    format!("`{}`: not a secret ARN", r.raw),
                ));
            }
            (
                f[0].to_owned(),
                f[2].to_owned(),
                f[3].to_owned(),
                f[5].to_owned(),
            )
        } else {
            let backend_region = conf.as_ref().and_then(|b| b.region.clone());
            let region = r
                .locator
                .params
                .get("region")
                .cloned()
                .or_else(|| args.region.clone())
                .or(backend_region)
                .unwrap_or_else(|| "*".into());
            let account = args.account.clone().unwrap_or_else(|| "*".into());
            ("aws".to_owned(), region, account, path.clone())
        };
        regions.insert(region.clone());
        let base = format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}");
        secrets.insert(format!("{region}:{account}:{name}"));
        // Both forms, always: whether an ARN ends in the random suffix cannot be told from
        // the text (`session-secret` looks like one), and AWS resolves the ambiguity the same way.
        resources.insert(format!("{base}-??????"));
        resources.insert(base);
    }
    let SsmNeeds {
        params,
        regions: param_regions,
        by_path,
        lists: ssm_lists,
    } = ssm_resources(args, cfg, refs)?;
    if resources.is_empty() && params.is_empty() {
        return Err(no_secrets(
            "aws",
            "add references like `aws:app/db#password`, `ssm:/app/db_password` or ECS secret \
             ARNs to an envfile",
        ));
    }
    let execution = args.role == "execution";
    let mut actions = vec!["secretsmanager:GetSecretValue"];
    if !execution {
        actions.push("secretsmanager:DescribeSecret");
    }
    let mut statements = Vec::new();
    if !resources.is_empty() {
        statements.push(serde_json::json!({
            "Sid": "ReadSecrets",
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources.iter().collect::<Vec<_>>(),
        }));
    }
    if !params.is_empty() {
        // GetParameter reads one (and probes versions), GetParameters a batch of ten; ECS's
        // execution role needs only GetParameters.
        let mut actions = if execution {
            vec!["ssm:GetParameters"]
        } else {
            vec!["ssm:GetParameter", "ssm:GetParameters"]
        };
        if by_path {
            // `expand = [{ ref = "ssm:/app/prod/" }]` reads the hierarchy below a path.
            actions.push("ssm:GetParametersByPath");
        }
        statements.push(serde_json::json!({
            "Sid": "ReadParameters",
            "Effect": "Allow",
            "Action": actions,
            "Resource": params.iter().collect::<Vec<_>>(),
        }));
    }
    if !execution && secrets.len() > 1 {
        // BatchGetSecretValue is authorized on `*`; each secret in it is still checked against
        // GetSecretValue above, so this grants no read by itself.
        statements.push(serde_json::json!({
            "Sid": "BatchReadSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:BatchGetSecretValue"],
            "Resource": "*",
        }));
    }
    let lists = settings
        .values()
        .flatten()
        .any(|b| b.version_probe == Some(envfile_aws::VersionProbeMode::List));
    if !execution && lists {
        // `version_probe = "list"`: refresh rounds detect changes with ListSecrets, which
        // IAM authorizes only on `*` and which shows names and version ids, never values.
        statements.push(serde_json::json!({
            "Sid": "ListSecretVersions",
            "Effect": "Allow",
            "Action": ["secretsmanager:ListSecrets"],
            "Resource": "*",
        }));
    }
    if !execution && ssm_lists && !params.is_empty() {
        // `version_probe = "list"` on an ssm backend: refresh rounds read versions with
        // DescribeParameters, which IAM authorizes only on `*` and which shows metadata
        // (names, versions), never values.
        statements.push(serde_json::json!({
            "Sid": "DescribeParameterVersions",
            "Effect": "Allow",
            "Action": ["ssm:DescribeParameters"],
            "Resource": "*",
        }));
    }
    if !args.kms_keys.is_empty() {
        let mut via: Vec<String> = Vec::new();
        if !resources.is_empty() {
            via.extend(
                regions
                    .iter()
                    .map(|r| format!("secretsmanager.{r}.amazonaws.com")),
            );
        }
        via.extend(
            param_regions
                .iter()
                .map(|r| format!("ssm.{r}.amazonaws.com")),
        );
        statements.push(serde_json::json!({
            "Sid": "DecryptSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": args.kms_keys,
            "Condition": { "StringLike": { "kms:ViaService": via } },
        }));
    }
    let doc = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
    json_text(&doc)
}

/// What the `ssm` references need.
struct SsmNeeds {
    /// The parameter ARNs read.
    params: BTreeSet<String>,
    /// Their regions.
    regions: BTreeSet<String>,
    /// Whether any reads a path.
    by_path: bool,
    /// Whether a backend they use probes with DescribeParameters (`version_probe = "list"`).
    lists: bool,
}

/// The parameter ARNs (and their regions) the `ssm` references read, whether any reads a
/// path, and whether any backend lists. A parameter ARN writes a hierarchical name without its
/// leading `/`; a version or label selector is not part of it; a path (`/app/prod/`) covers
/// itself and everything below it.
fn ssm_resources(args: &Args, cfg: &LoadedConfig, refs: &[Reference]) -> Result<SsmNeeds, Error> {
    let mut out = BTreeSet::new();
    let mut regions = BTreeSet::new();
    let mut by_path = false;
    let mut lists = false;
    // Each backend's settings read once (reading a backend's settings extracts from the whole
    // config: per reference, that made the policy quadratic in the number of parameters).
    let mut settings: BTreeMap<String, Option<envfile_aws::AwsConfig>> = BTreeMap::new();
    for r in refs {
        let Some(backend) = backend_for(&cfg.config, &r.backend, "ssm")? else {
            continue;
        };
        let conf = settings
            .entry(backend.clone())
            .or_insert_with(|| cfg.backend_config::<envfile_aws::AwsConfig>(&backend).ok());
        lists |= conf
            .as_ref()
            .is_some_and(|b| b.version_probe == Some(envfile_aws::VersionProbeMode::List));
        let path = &r.locator.path;
        if path.ends_with('/') {
            by_path = true;
        }
        let arn = if path.starts_with("arn:") {
            let f: Vec<&str> = path.split(':').collect();
            if f.len() < 6 {
                return Err(Error::new(
                    ErrorKind::InvalidRef,
                    format!("`{}`: not a parameter ARN", r.raw),
                ));
            }
            regions.insert(f[3].to_owned());
            f[..6].join(":")
        } else {
            let name = path.rsplit_once(':').map_or(path.as_str(), |(n, _)| n);
            let backend_region = conf.as_ref().and_then(|b| b.region.clone());
            let region = r
                .locator
                .params
                .get("region")
                .cloned()
                .or_else(|| args.region.clone())
                .or(backend_region)
                .unwrap_or_else(|| "*".into());
            let account = args.account.clone().unwrap_or_else(|| "*".into());
            regions.insert(region.clone());
            let base = format!(
                "arn:aws:ssm:{region}:{account}:parameter/{}",
                name.trim_start_matches('/').trim_end_matches('/')
            );
            if path.ends_with('/') {
                out.insert(format!("{base}/*"));
            }
            base
        };
        out.insert(arn);
    }
    Ok(SsmNeeds {
        params: out,
        regions,
        by_path,
        lists,
    })
}

fn json_text(doc: &serde_json::Value) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(doc)
        .map_err(|_| Error::new(ErrorKind::Other, "JSON encoding failed"))?;
    text.push('\n');
    Ok(text)
}

/// Which env files a policy covers, for its header.
fn covering(args: &Args, c: &Config) -> String {
    let names: Vec<&str> = if args.envfiles.is_empty() {
        c.envfiles.keys().map(String::as_str).collect()
    } else {
        args.envfiles.iter().map(String::as_str).collect()
    };
    names.join(", ")
}

async fn vault_policy(
    args: &Args,
    cfg: &LoadedConfig,
    refs: &[Reference],
) -> Result<String, Error> {
    let mut by_backend: BTreeMap<String, Vec<&Reference>> = BTreeMap::new();
    for r in refs {
        if let Some(b) = backend_for(&cfg.config, &r.backend, "vault")? {
            by_backend.entry(b).or_default().push(r);
        }
    }
    if by_backend.is_empty() {
        return Err(no_secrets(
            "vault",
            "add references like `vault:secret/app#database_url` to an envfile",
        ));
    }
    // path → capabilities, per backend (each is its own server, so its own policy).
    let mut sections: Vec<(String, BTreeMap<String, BTreeSet<&'static str>>)> = Vec::new();
    for (name, refs) in &by_backend {
        let backend = if args.offline {
            None
        } else {
            Some(envfile_vault::VaultBackend::from_config(name, cfg)?)
        };
        let mut paths: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
        for r in refs {
            let found = match &backend {
                None => envfile_vault::VaultBackend::policy_paths_offline(
                    &r.locator,
                    args.version_probes,
                ),
                Some(b) => b
                    .policy_paths(&r.locator, args.version_probes)
                    .await
                    .map_err(|e| match e.kind() {
                        ErrorKind::InvalidRef | ErrorKind::NotFound => e,
                        // The lookup needs a token that sees the mount: the person writing the
                        // policy may not have one for this server yet.
                        _ => {
                            let hint = e.hint().map(|h| format!("{h}; ")).unwrap_or_default();
                            e.with_hint(format!(
                                "{hint}the mount and KV version of each path are looked up \
                                 with backend `{name}`'s credentials: pass `--offline` to \
                                 assume KV v2 mounts instead"
                            ))
                        }
                    }),
            }
            .map_err(|e| e.or_reference(r.raw.clone()).or_backend(name.clone()))?;
            for (path, caps) in found {
                paths.entry(path).or_default().extend(caps);
            }
        }
        sections.push((name.clone(), paths));
    }

    let mut out = format!(
        "# Vault policy written by `envfile policy --for vault` for envfile(s): {}.\n\
         # Read-only, one path per secret. Keep the `default` policy on the token as well:\n\
         # envfile looks up and renews its own token through it.\n",
        covering(args, &cfg.config)
    );
    if args.offline {
        out.push_str(
            "# --offline: each path's first segment is assumed to be a KV v2 mount (`MOUNT/data/PATH`).\n\
             # For a KV v1 or nested mount, run without --offline (`bao secrets list -detailed` shows them).\n",
        );
    }
    if args.version_probes {
        out.push_str(
            "# `MOUNT/metadata/PATH` read: lets `envfile serve` and `run --watch` check KV v2 versions\n\
             # without reading values (it also shows version history and custom metadata).\n",
        );
    } else {
        out.push_str(
            "# No KV v2 metadata access: `envfile serve` and `run --watch` check for changes by reading\n\
             # the values. Add --version-probes to allow cheaper checks on `MOUNT/metadata/PATH`.\n",
        );
    }
    let several = sections.len() > 1;
    for (name, paths) in &sections {
        if several {
            out.push_str(&format!(
                "\n# backend `{name}`: write this part on that server\n"
            ));
        }
        for (path, caps) in paths {
            let caps: Vec<String> = caps.iter().map(|c| format!("\"{c}\"")).collect();
            out.push_str(&format!(
                "\npath \"{path}\" {{\n  capabilities = [{}]\n}}\n",
                caps.join(", ")
            ));
        }
    }
    Ok(out)
}

fn gcp_policy(args: &Args, cfg: &LoadedConfig, refs: &[Reference]) -> Result<String, Error> {
    let member = match &args.member {
        Some(m) => {
            check_member(m)?;
            m.clone()
        }
        None => {
            eprintln!(
                "envfile: warning: no --member given: replace `MEMBER` with the identity the \
                 service runs as, e.g. serviceAccount:NAME@PROJECT.iam.gserviceaccount.com"
            );
            "MEMBER".to_owned()
        }
    };
    let mut settings: BTreeMap<String, envfile_gcp::GcpConfig> = BTreeMap::new();
    let mut grants: BTreeMap<String, envfile_gcp::names::SecretName> = BTreeMap::new();
    for r in refs {
        let Some(backend) = backend_for(&cfg.config, &r.backend, "gcp")? else {
            continue;
        };
        if !settings.contains_key(&backend) {
            settings.insert(backend.clone(), gcp_settings(&backend, cfg)?);
        }
        let (name, _version) = envfile_gcp::names::resolve(&settings[&backend], &r.locator)
            .map_err(|e| e.or_reference(r.raw.clone()).or_backend(backend.clone()))?;
        // IAM is granted on the secret: every version, `latest` and pinned, goes through it.
        grants.entry(name.name()).or_insert(name);
    }
    if grants.is_empty() {
        return Err(no_secrets(
            "gcp",
            "add references like `gcp:my-secret` or `projects/P/secrets/S` to an envfile",
        ));
    }
    if args.format.as_deref() == Some("json") {
        let doc: Vec<serde_json::Value> = grants
            .iter()
            .map(|(resource, g)| {
                serde_json::json!({
                    "resource": resource,
                    "project": g.project,
                    "location": g.location,
                    "secret": g.secret,
                    "bindings": [ { "role": GCP_ROLE, "members": [member] } ],
                })
            })
            .collect();
        return json_text(&serde_json::Value::Array(doc));
    }
    let mut out = format!(
        "# Grants written by `envfile policy --for gcp` for envfile(s): {}.\n\
         # {GCP_ROLE} on each secret (not on the project): read access to its versions only.\n",
        covering(args, &cfg.config)
    );
    for g in grants.values() {
        out.push_str(&format!(
            "gcloud secrets add-iam-policy-binding {} {} --member={} --role={GCP_ROLE}\n",
            g.secret,
            g.gcloud_flags(),
            shell_word(&member)
        ));
    }
    Ok(out)
}

/// The backend's settings, read the way the backend reads them (config `project`, then
/// GOOGLE_CLOUD_PROJECT, then CLOUDSDK_CORE_PROJECT). A reference with no `gcp` backend
/// configured falls back to the environment alone.
fn gcp_settings(name: &str, cfg: &LoadedConfig) -> Result<envfile_gcp::GcpConfig, Error> {
    if cfg.config.backends.contains_key(name) {
        return envfile_gcp::GcpConfig::from_config(name, cfg);
    }
    let project = envfile_gcp::config::PROJECT_ENV_VARS
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()));
    envfile_gcp::GcpConfig::new(project, None, None, envfile_gcp::CredentialsMode::default())
}

/// IAM principals are `TYPE:ID` (`serviceAccount:…`, `user:…`, `group:…`, `domain:…`) or a
/// `principal://` / `principalSet://` identifier.
fn check_member(m: &str) -> Result<(), Error> {
    let ok = m
        .split_once(':')
        .is_some_and(|(kind, id)| !kind.is_empty() && !id.is_empty())
        && !m.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(
            Error::config(format!("--member `{m}` is not an IAM principal")).with_hint(
                "write it as IAM does: serviceAccount:NAME@PROJECT.iam.gserviceaccount.com, \
             user:EMAIL or group:EMAIL",
            ),
        )
    }
}

/// Quote a word for sh when it holds anything beyond the characters principals usually have.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_word("serviceAccount:api@p.iam.gserviceaccount.com"),
            "serviceAccount:api@p.iam.gserviceaccount.com"
        );
        assert_eq!(shell_word("user:a b"), "'user:a b'");
        assert_eq!(shell_word("x:it's"), r"'x:it'\''s'");
    }

    #[test]
    fn members_must_look_like_principals() {
        assert!(check_member("serviceAccount:api@p.iam.gserviceaccount.com").is_ok());
        assert!(check_member("principal://iam.googleapis.com/x").is_ok());
        for bad in ["api@p.iam.gserviceaccount.com", "user:", ":x", "user:a b"] {
            assert!(check_member(bad).is_err(), "{bad}");
        }
    }
}
