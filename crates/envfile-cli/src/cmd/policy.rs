//! `envfile policy --for aws`: the least-privilege IAM policy for the secrets a config reads.
//!
//! Why each resource has two forms (see the ECS partial-ARN incident): IAM matches the ARN a
//! request names. A request by name or full ARN is matched against the secret's real ARN,
//! `…:secret:NAME-XXXXXX`, which `NAME-??????` covers; a request by *partial* ARN (ECS
//! `valueFrom` without the suffix) is matched as written, `…:secret:NAME`, which `NAME-??????`
//! does not cover. Listing both covers either way of asking without the over-broad `NAME*`
//! (which also matches `NAME-old`, `NAME2`, …).

use crate::context::GlobalArgs;
use crate::exit::Failure;
use envfile_core::config::VarSource;
use envfile_core::{BackendSel, Error, ErrorKind, Reference};
use std::collections::BTreeSet;

/// Arguments of `envfile policy`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  envfile policy --for aws --account 123456789012 > task-role-policy.json
  envfile policy --for aws api worker --role execution --region eu-central-1")]
pub struct Args {
    /// Which backend kind to write a policy for (only `aws` today).
    #[arg(long = "for", value_name = "KIND", value_parser = ["aws"])]
    pub kind: String,
    /// Env files to cover [default: all in the config].
    #[arg(value_name = "ENVFILE")]
    pub envfiles: Vec<String>,
    /// Region for secret names [default: the backend's `region`, else `*`].
    #[arg(long)]
    pub region: Option<String>,
    /// Account id for secret names [default: `*`].
    #[arg(long)]
    pub account: Option<String>,
    /// `task`: envfile reads at run time (GetSecretValue, DescribeSecret, BatchGetSecretValue).
    /// `execution`: ECS injects task-definition `secrets` (GetSecretValue only).
    #[arg(long, default_value = "task", value_parser = ["task", "execution"])]
    pub role: String,
    /// ARN of a customer-managed KMS key the secrets are encrypted with (repeatable).
    #[arg(long = "kms-key", value_name = "KEY_ARN")]
    pub kms_keys: Vec<String>,
}

/// Run `envfile policy`.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let cfg = global.load_config()?;
    let c = &cfg.config;
    for name in &args.envfiles {
        cfg.envfile(name)?;
    }
    let mut refs = Vec::new();
    for (name, spec) in &c.envfiles {
        if !args.envfiles.is_empty() && !args.envfiles.contains(name) {
            continue;
        }
        refs.extend(spec.vars.values().filter_map(|v| match v {
            VarSource::Ref(r) => Some(r.clone()),
            VarSource::Literal { .. } => None,
        }));
        refs.extend(spec.expand.iter().map(|e| e.reference.clone()));
    }
    let mut resources = BTreeSet::new();
    let mut regions = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    for raw in refs {
        let r = Reference::parse(&raw)?;
        let backend = match &r.backend {
            BackendSel::Kind(k) => (k == "aws").then(|| "aws".to_owned()),
            BackendSel::Named(n) => c
                .backends
                .get(n)
                .filter(|b| b.kind == "aws")
                .map(|_| n.clone()),
        };
        let Some(backend) = backend else { continue };
        let path = &r.locator.path;
        let (partition, region, account, name) = if let Some(rest) = path.strip_prefix("arn:") {
            let f: Vec<&str> = rest.splitn(6, ':').collect();
            if f.len() < 6 {
                return Err(Error::new(
                    ErrorKind::InvalidRef,
                    format!("`{raw}`: not a secret ARN"),
                )
                .into());
            }
            (
                f[0].to_owned(),
                f[2].to_owned(),
                f[3].to_owned(),
                f[5].to_owned(),
            )
        } else {
            let backend_region = cfg
                .backend_config::<envfile_aws::AwsConfig>(&backend)
                .ok()
                .and_then(|b| b.region);
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
    if resources.is_empty() {
        return Err(Error::config(
            "the config reads no secrets from an `aws` backend: no policy to write",
        )
        .with_hint("add references like `aws:app/db#password` or ECS secret ARNs to an envfile")
        .into());
    }
    let execution = args.role == "execution";
    let mut actions = vec!["secretsmanager:GetSecretValue"];
    if !execution {
        actions.push("secretsmanager:DescribeSecret");
    }
    let mut statements = vec![serde_json::json!({
        "Sid": "ReadSecrets",
        "Effect": "Allow",
        "Action": actions,
        "Resource": resources.iter().collect::<Vec<_>>(),
    })];
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
    if !args.kms_keys.is_empty() {
        let via: Vec<String> = regions
            .iter()
            .map(|r| format!("secretsmanager.{r}.amazonaws.com"))
            .collect();
        statements.push(serde_json::json!({
            "Sid": "DecryptSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": args.kms_keys,
            "Condition": { "StringLike": { "kms:ViaService": via } },
        }));
    }
    let doc = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|_| Error::new(ErrorKind::Other, "JSON encoding failed"))?;
    text.push('\n');
    crate::output::write_stdout(text.as_bytes())?;
    Ok(())
}
