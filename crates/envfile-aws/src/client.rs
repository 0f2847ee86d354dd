//! SDK clients: one shared credentials setup, one Secrets Manager client per region.
//!
//! A secret ARN names its region, and that region wins over the configured one (ECS resolves a
//! `valueFrom` ARN in the ARN's region), so a backend may talk to several regions: clients are
//! made lazily and kept. Names use the configured region (or the SDK default chain's).

use crate::config::AwsConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::Client;
use envfile_core::{Error, Locator, Result};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The shared SDK setup and the per-region clients.
pub struct Clients {
    base: SdkConfig,
    default_region: Option<String>,
    by_region: Mutex<HashMap<String, Client>>,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("default_region", &self.default_region)
            .finish_non_exhaustive()
    }
}

/// Load the SDK config the backend's settings describe: the default credentials chain (or a
/// profile), a role assumed on top when `role_arn` is set, and an endpoint override.
///
/// The SDK's own retries are disabled: retries live in one place,
/// [`envfile_core::retry::RetryPolicy`], so backoff and the total deadline are the same for every
/// backend and a throttled call is not retried twice over (SDK attempts × our attempts).
pub async fn load_sdk_config(cfg: &AwsConfig) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(10))
                .build(),
        );
    if let Some(r) = &cfg.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &cfg.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    let base = loader.load().await;
    match &cfg.role_arn {
        None => base,
        Some(role) => {
            // aws-config always carries STS (web identity needs it), so assuming a role costs
            // no extra dependency. The assumed credentials are cached and refreshed by the SDK.
            // STS's credentials carry their expiry; the SDK's identity cache refreshes them
            // ahead of it, so a long-running broker never reads with expired credentials.
            let mut b = aws_config::sts::AssumeRoleProvider::builder(role.clone())
                .session_name(cfg.session_name.as_deref().unwrap_or("envfile"))
                .configure(&base);
            if let Some(x) = &cfg.external_id {
                b = b.external_id(x);
            }
            if let Some(d) = cfg.duration.as_ref().and_then(|d| d.get()) {
                b = b.session_length(d);
            }
            let provider = b.build().await;
            base.into_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build()
        }
    }
}

impl Clients {
    /// Clients over a loaded SDK config.
    pub fn new(base: SdkConfig) -> Self {
        let default_region = base.region().map(|r| r.to_string());
        Self {
            base,
            default_region,
            by_region: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `region`, made on first use.
    pub fn for_region(&self, region: &str) -> Client {
        let mut map = self.by_region.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_secretsmanager::config::Builder::from(&self.base)
                    .region(Region::new(region.to_owned()))
                    .build();
                Client::from_conf(conf)
            })
            .clone()
    }

    /// Which region a locator goes to: an ARN's region, else a `region` parameter (vals refs),
    /// else the configured or default-chain region.
    pub fn region_of(&self, loc: &Locator) -> Result<String> {
        if let Some(r) = arn_region(&loc.path) {
            return Ok(r.to_owned());
        }
        if let Some(r) = loc.params.get("region") {
            return Ok(r.clone());
        }
        self.default_region.clone().ok_or_else(|| {
            Error::config(format!("no AWS region for secret `{}`", loc.path)).with_hint(
                "set `region` in the aws backend config, AWS_REGION in the environment, or use the \
                 secret's full ARN (which names its region)",
            )
        })
    }

    /// The configured or default-chain region, if any.
    pub fn default_region(&self) -> Option<&str> {
        self.default_region.as_deref()
    }
}

/// The region field of a Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:…`).
pub fn arn_region(id: &str) -> Option<&str> {
    let mut f = id.strip_prefix("arn:")?.split(':');
    let _partition = f.next()?;
    (f.next()? == "secretsmanager").then_some(())?;
    f.next().filter(|r| !r.is_empty())
}

/// Whether a batch result (its `ARN` and `Name`) answers the secret id we sent: a name, a full
/// ARN, or a partial ARN (the full ARN less its `-XXXXXX` suffix).
pub fn id_matches(id: &str, arn: Option<&str>, name: Option<&str>) -> bool {
    if let Some(arn) = arn {
        if arn == id {
            return true;
        }
        if id.starts_with("arn:") {
            return arn.len() == id.len() + 7
                && arn.starts_with(id)
                && arn.as_bytes()[id.len()] == b'-';
        }
    }
    !id.starts_with("arn:") && name == Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mcp-gateway/session-secret-WoJjev";
    const PARTIAL: &str =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:mcp-gateway/session-secret";

    #[test]
    fn arn_region_is_read_from_arns_only() {
        assert_eq!(arn_region(FULL), Some("us-east-1"));
        assert_eq!(arn_region("mcp-gateway/session-secret"), None);
        assert_eq!(arn_region("arn:aws:ssm:us-east-1:1:parameter/x"), None);
    }

    #[test]
    fn batch_results_map_back_to_names_partial_and_full_arns() {
        let name = Some("mcp-gateway/session-secret");
        assert!(id_matches(FULL, Some(FULL), name));
        assert!(id_matches(PARTIAL, Some(FULL), name));
        assert!(id_matches("mcp-gateway/session-secret", Some(FULL), name));
        // A secret whose name extends another's is not the other's partial ARN match.
        let other = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mcp-gateway/session-secret-2-AbCdEf";
        assert!(!id_matches(
            PARTIAL,
            Some(other),
            Some("mcp-gateway/session-secret-2")
        ));
        // Another region's ARN with the same name is not this one.
        let eu = FULL.replace("us-east-1", "eu-west-1");
        assert!(!id_matches(&eu, Some(FULL), name));
    }
}
