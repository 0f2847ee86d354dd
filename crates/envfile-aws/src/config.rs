//! The `aws` backend's settings: `[default.backends.NAME]` with `kind = "aws"`.

use envfile_core::{Error, LoadedConfig, Result};
use serde::Deserialize;
use std::fmt;

/// A duration written as seconds (`900`) or with a unit (`900s`, `15m`, `1h`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum DurationSetting {
    /// Seconds.
    Seconds(u64),
    /// Text with a unit.
    Text(String),
}

impl DurationSetting {
    /// The duration, or `None` when the text is not one.
    pub fn get(&self) -> Option<std::time::Duration> {
        let secs = match self {
            Self::Seconds(s) => *s,
            Self::Text(t) => {
                let t = t.trim();
                let (num, mult) = match t.char_indices().last()? {
                    (i, 's') => (&t[..i], 1),
                    (i, 'm') => (&t[..i], 60),
                    (i, 'h') => (&t[..i], 3600),
                    _ => (t, 1),
                };
                num.trim().parse::<u64>().ok()?.checked_mul(mult)?
            }
        };
        Some(std::time::Duration::from_secs(secs))
    }
}

/// Settings of one `aws` backend instance. Every field but `kind` is optional: with none set,
/// the SDK's default chain picks the region and credentials (env, profile, ECS/IMDS roles).
#[derive(Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Always `"aws"`.
    pub kind: String,
    /// The region for secret names (an ARN's own region wins over it).
    #[serde(default)]
    pub region: Option<String>,
    /// Another endpoint (moto, LocalStack, a VPC endpoint).
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// A profile from `~/.aws/config` / `~/.aws/credentials`.
    #[serde(default)]
    pub profile: Option<String>,
    /// A role to assume (through STS) on top of the default credentials.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires (`sts:ExternalId`).
    #[serde(default)]
    pub external_id: Option<String>,
    /// The role session name (CloudTrail shows it); default `envfile`.
    #[serde(default)]
    pub session_name: Option<String>,
    /// How long assumed credentials last (`15m`, `1h`, or seconds): 900 s to 12 h, as STS allows.
    /// They are refreshed before they expire.
    #[serde(default)]
    pub duration: Option<DurationSetting>,
    /// `false` reads every secret with its own GetSecretValue call instead of
    /// BatchGetSecretValue (for roles without the batch permission, and for benchmarks).
    #[serde(default)]
    pub batch: Option<bool>,
    /// How a refresh round asks whether secrets changed (unset: `batch` where the backend has
    /// it, falling back to `each` if the role may not batch).
    #[serde(default)]
    pub version_probe: Option<VersionProbeMode>,
}

/// `version_probe`: how a refresh round detects changed secrets.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VersionProbeMode {
    /// Secrets Manager BatchGetSecretValue, 20 secrets a call (SSM GetParameters, 10 a call):
    /// version ids compared.
    Batch,
    /// Secrets Manager ListSecrets pages (100 secrets each, `SecretVersionsToStages`): fewest
    /// calls, but the role needs `secretsmanager:ListSecrets` and every secret of the account
    /// and region is listed. SSM: DescribeParameters, 50 names a call (`ssm:DescribeParameters`).
    List,
    /// One DescribeSecret (SSM GetParameter) per secret.
    Each,
}

impl fmt::Debug for AwsConfig {
    // Allow-list: none of these is secret today, but a field added later might be.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsConfig")
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .field("external_id", &self.external_id.as_ref().map(|_| "[set]"))
            .field("session_name", &self.session_name)
            .field("duration", &self.duration)
            .field("batch", &self.batch)
            .field("version_probe", &self.version_probe)
            .finish_non_exhaustive()
    }
}

impl AwsConfig {
    /// Read `backends.NAME` from the config and validate it.
    pub fn from_config(name: &str, cfg: &LoadedConfig) -> Result<Self> {
        Self::from_config_kind(name, cfg, "aws")
    }

    /// The same settings for another backend of the AWS crate (`kind = "ssm"`).
    pub fn from_config_kind(name: &str, cfg: &LoadedConfig, kind: &str) -> Result<Self> {
        let c: Self = cfg.backend_config(name)?;
        c.validate_kind(name, kind)?;
        Ok(c)
    }

    /// Check the values once, so a typo fails at start-up with the key path, not at the first read.
    pub fn validate(&self, name: &str) -> Result<()> {
        self.validate_kind(name, "aws")
    }

    /// [`Self::validate`] for a backend of kind `kind`.
    pub fn validate_kind(&self, name: &str, kind: &str) -> Result<()> {
        let at = |key: &str| format!("backends.{name}.{key}");
        if self.kind != kind {
            return Err(Error::config(format!(
                "{}: expected {kind:?}, found {:?}",
                at("kind"),
                self.kind
            )));
        }
        if kind == "ssm" && self.batch.is_some() {
            return Err(
                Error::config(format!("{}: only applies to kind = \"aws\"", at("batch")))
                    .with_hint("remove the key: Parameter Store reads are always batched"),
            );
        }
        if let Some(r) = &self.region {
            if r.is_empty()
                || !r
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(
                    Error::config(format!("{}: {r:?} is not an AWS region", at("region")))
                        .with_hint("write a region code like \"eu-central-1\""),
                );
            }
        }
        if let Some(u) = &self.endpoint_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(Error::config(format!(
                    "{}: {u:?} is not an http(s) URL",
                    at("endpoint_url")
                ))
                .with_hint(
                    "write a URL like \"http://127.0.0.1:5000\", or remove the key to use AWS",
                ));
            }
        }
        if let Some(r) = &self.role_arn {
            if !(r.starts_with("arn:") && r.contains(":iam::") && r.contains(":role/")) {
                return Err(Error::config(format!(
                    "{}: {r:?} is not an IAM role ARN",
                    at("role_arn")
                ))
                .with_hint("write \"arn:aws:iam::ACCOUNT:role/NAME\""));
            }
        }
        if self.role_arn.is_none() {
            for (key, set) in [
                ("external_id", self.external_id.is_some()),
                ("session_name", self.session_name.is_some()),
                ("duration", self.duration.is_some()),
            ] {
                if set {
                    return Err(Error::config(format!(
                        "{}: only applies to an assumed role",
                        at(key)
                    ))
                    .with_hint("set `role_arn` too, or remove the key"));
                }
            }
        }
        if let Some(d) = &self.duration {
            match d.get() {
                Some(d) if (900..=43200).contains(&d.as_secs()) => {}
                _ => {
                    return Err(Error::config(format!(
                        "{}: {d:?} is not a duration between 15m and 12h",
                        at("duration")
                    ))
                    .with_hint("write `duration = \"1h\"` (STS allows 900 seconds to 12 hours)"))
                }
            }
        }
        if let Some(n) = &self.session_name {
            // STS: 2-64 characters of [\w+=,.@-].
            let ok = (2..=64).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
            if !ok {
                return Err(Error::config(format!(
                    "{}: {n:?} is not a valid role session name",
                    at("session_name")
                ))
                .with_hint("use 2 to 64 letters, digits or `_+=,.@-`"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> std::result::Result<AwsConfig, String> {
        toml::from_str::<AwsConfig>(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_the_documented_keys() {
        let c = parse(
            r#"kind = "aws"
region = "eu-central-1"
endpoint_url = "http://127.0.0.1:5000"
profile = "dev"
role_arn = "arn:aws:iam::123456789012:role/reader""#,
        )
        .unwrap();
        c.validate("aws").unwrap();
        assert_eq!(c.region.as_deref(), Some("eu-central-1"));
    }

    #[test]
    fn rejects_unknown_keys() {
        let err = parse("kind = \"aws\"\nregoin = \"eu-central-1\"").unwrap_err();
        assert!(err.contains("regoin"), "{err}");
    }

    #[test]
    fn rejects_bad_values_naming_the_key() {
        let c = parse("kind = \"aws\"\nendpoint_url = \"127.0.0.1:5000\"").unwrap();
        let e = c.validate("aws-eu").unwrap_err();
        assert!(e.message().contains("backends.aws-eu.endpoint_url"), "{e}");
        let c = parse("kind = \"aws\"\nrole_arn = \"reader\"").unwrap();
        assert!(c
            .validate("aws")
            .unwrap_err()
            .message()
            .contains("role_arn"));
        let c = parse("kind = \"aws\"\nexternal_id = \"x\"").unwrap();
        assert!(c
            .validate("aws")
            .unwrap_err()
            .message()
            .contains("external_id"));
        let role = "role_arn = \"arn:aws:iam::1:role/r\"";
        let c = parse(&format!("kind = \"aws\"\n{role}\nduration = \"5m\"")).unwrap();
        assert!(c
            .validate("aws")
            .unwrap_err()
            .message()
            .contains("duration"));
        let c = parse(&format!(
            "kind = \"aws\"\n{role}\nduration = \"1h\"\nexternal_id = \"e\"\nsession_name = \"s1\""
        ))
        .unwrap();
        c.validate("aws").unwrap();
        assert_eq!(
            c.duration.unwrap().get(),
            Some(std::time::Duration::from_secs(3600))
        );
        let c = parse("kind = \"aws\"\nregion = \"EU Central\"").unwrap();
        assert!(c.validate("aws").unwrap_err().message().contains("region"));
    }

    #[test]
    fn debug_is_an_allow_list() {
        let c = AwsConfig {
            kind: "aws".into(),
            profile: Some("dev".into()),
            ..AwsConfig::default()
        };
        let s = format!("{c:?}");
        assert!(s.contains("dev") && s.ends_with(".. }"), "{s}");
    }
}
