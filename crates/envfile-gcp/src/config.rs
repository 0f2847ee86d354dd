//! The `gcp` backend's settings: a strict raw table from the config file, validated once into
//! [`GcpConfig`].

use envfile_core::{Error, LoadedConfig, Result};
use serde::Deserialize;
use std::fmt;

/// Environment variables that name the default project, in the order gcloud and the client
/// libraries consult them.
pub const PROJECT_ENV_VARS: [&str; 2] = ["GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"];

/// Where the client gets its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialsMode {
    /// Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's ADC file,
    /// then the metadata server (Cloud Run, GCE, GKE).
    #[default]
    Adc,
    /// No credentials at all: for emulators only.
    Anonymous,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGcpConfig {
    #[allow(dead_code)] // checked by the wiring, kept here so `deny_unknown_fields` accepts it
    kind: String,
    project: Option<String>,
    location: Option<String>,
    endpoint: Option<String>,
    #[serde(default)]
    credentials: CredentialsMode,
}

/// Validated settings of one `gcp` backend instance.
#[derive(Clone, PartialEq, Eq)]
pub struct GcpConfig {
    /// The project bare secret ids live in. `None` when neither the config nor the environment
    /// names one: then only full `projects/…` names resolve.
    pub project: Option<String>,
    /// The location of regional secrets (`projects/P/locations/L/secrets/S`); `None` = global.
    pub location: Option<String>,
    /// API endpoint override (an emulator, a private endpoint, a regional endpoint).
    pub endpoint: Option<String>,
    /// Where credentials come from.
    pub credentials: CredentialsMode,
}

impl fmt::Debug for GcpConfig {
    // Allow-list: none of these are secret today, but new fields must opt in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpConfig")
            .field("project", &self.project)
            .field("location", &self.location)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl GcpConfig {
    /// Read `backends.NAME` from the config; the project falls back to the environment.
    pub fn from_config(name: &str, cfg: &LoadedConfig) -> Result<Self> {
        let raw: RawGcpConfig = cfg.backend_config(name)?;
        Self::validate(name, raw, |v| std::env::var(v).ok())
    }

    /// Settings for tests and embedders, validated like the config file's.
    pub fn new(
        project: Option<String>,
        location: Option<String>,
        endpoint: Option<String>,
        credentials: CredentialsMode,
    ) -> Result<Self> {
        let raw = RawGcpConfig {
            kind: "gcp".into(),
            project,
            location,
            endpoint,
            credentials,
        };
        Self::validate("gcp", raw, |_| None)
    }

    fn validate(
        name: &str,
        raw: RawGcpConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let key = |k: &str| format!("backends.{name}.{k}");
        let project = match raw.project {
            Some(p) => Some(p),
            None => PROJECT_ENV_VARS
                .iter()
                .find_map(|v| env(v).filter(|s| !s.trim().is_empty())),
        };
        if let Some(p) = &project {
            check_segment(p).map_err(|why| {
                Error::config(format!("`{}` = {p:?} is not a project id: {why}", key("project")))
                    .with_hint("use the project id (`my-project`) or number, as `gcloud projects list` shows it")
            })?;
        }
        if let Some(l) = &raw.location {
            check_segment(l).map_err(|why| {
                Error::config(format!(
                    "`{}` = {l:?} is not a location: {why}",
                    key("location")
                ))
                .with_hint(
                    "use a region name such as `europe-west1`, or leave it out for global secrets",
                )
            })?;
        }
        if let Some(e) = &raw.endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(Error::config(format!(
                    "`{}` = {e:?} is not an http(s) URL",
                    key("endpoint")
                ))
                .with_hint("for example `https://secretmanager.europe-west1.rep.googleapis.com` or an emulator's `http://127.0.0.1:PORT`"));
            }
        }
        Ok(Self {
            project,
            location: raw.location,
            endpoint: raw.endpoint,
            credentials: raw.credentials,
        })
    }
}

/// One path segment of a resource name: not empty, no `/`, printable ASCII.
pub(crate) fn check_segment(s: &str) -> std::result::Result<(), &'static str> {
    if s.is_empty() {
        Err("it is empty")
    } else if s.contains('/') {
        Err("it contains `/`")
    } else if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        Err("only letters, digits, `-`, `_`, `.` and `:` are allowed")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(project: Option<&str>) -> RawGcpConfig {
        RawGcpConfig {
            kind: "gcp".into(),
            project: project.map(Into::into),
            location: None,
            endpoint: None,
            credentials: CredentialsMode::Adc,
        }
    }

    #[test]
    fn project_falls_back_to_environment_in_order() {
        let env = |v: &str| match v {
            "GOOGLE_CLOUD_PROJECT" => Some("from-google".to_string()),
            "CLOUDSDK_CORE_PROJECT" => Some("from-gcloud".to_string()),
            _ => None,
        };
        let c = GcpConfig::validate("gcp", raw(None), env).unwrap();
        assert_eq!(c.project.as_deref(), Some("from-google"));
        let only_gcloud =
            |v: &str| (v == "CLOUDSDK_CORE_PROJECT").then(|| "from-gcloud".to_string());
        let c = GcpConfig::validate("gcp", raw(None), only_gcloud).unwrap();
        assert_eq!(c.project.as_deref(), Some("from-gcloud"));
        let c = GcpConfig::validate("gcp", raw(Some("explicit")), env).unwrap();
        assert_eq!(c.project.as_deref(), Some("explicit"));
        let c = GcpConfig::validate("gcp", raw(None), |_| None).unwrap();
        assert_eq!(c.project, None);
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = GcpConfig::validate("prod-gcp", raw(Some("a/b")), |_| None).unwrap_err();
        assert!(e.message().contains("backends.prod-gcp.project"), "{e}");
        let mut r = raw(Some("p"));
        r.endpoint = Some("localhost:8080".into());
        let e = GcpConfig::validate("gcp", r, |_| None).unwrap_err();
        assert!(e.message().contains("backends.gcp.endpoint"), "{e}");
        let mut r = raw(Some("p"));
        r.location = Some("".into());
        let e = GcpConfig::validate("gcp", r, |_| None).unwrap_err();
        assert!(e.message().contains("backends.gcp.location"), "{e}");
    }

    #[test]
    fn unknown_keys_and_modes_are_rejected() {
        let e = toml::from_str::<RawGcpConfig>("kind = \"gcp\"\nprojet = \"x\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("projet"), "{e}");
        let e = toml::from_str::<RawGcpConfig>("kind = \"gcp\"\ncredentials = \"key\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("adc") && e.contains("anonymous"), "{e}");
    }
}
