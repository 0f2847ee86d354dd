//! Configuration: a TOML file with profiles, `ENVFILE_` environment overrides, strict schema.
//!
//! OWNER: config helper. The public API below is fixed (other crates code against it);
//! the bodies are to be written.
//!
//! File lookup: `--config`, else `ENVFILE_CONFIG`, else `./envfile.toml`. Profiles are top-level
//! tables (`[default.…]`, `[prod.…]`); `--profile` / `ENVFILE_PROFILE` selects one, `default` is the
//! base every profile extends. Environment overrides: `ENVFILE_BACKENDS__AWS__REGION=eu-west-1`
//! (double underscore nests). Unknown keys are an error naming the file and key path.
//!
//! Environment overrides in detail:
//! - They name a key path *without* a profile and apply over whichever profile is selected
//!   (`ENVFILE_BACKENDS__AWS__REGION` beats both `[default.backends.aws]` and
//!   `[prod.backends.aws]`).
//! - Path segments are lowercased, except a variable name after `vars`:
//!   `ENVFILE_ENVFILES__API__VARS__DB_URL=aws:app/db#url` sets `envfiles.api.vars.DB_URL`.
//! - Only names holding `__` are overrides (every setting is nested), and `ENVFILE_CONFIG`,
//!   `ENVFILE_PROFILE`, `ENVFILE_BROKER_TOKEN`, `ENVFILE_LOG`, `ENVFILE_TEST_*` and `ENVFILE_BIN*`
//!   never are. Names that cannot be spelled in a variable (a backend called `aws-eu`, a
//!   `[secrets."aws:…"]` key) cannot be overridden.
//! - Values are parsed like figment's `Env` provider: `true`, numbers, `[a, b]` arrays and
//!   `{k = v}` tables are typed; anything else is a string.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The whole config, validated.
#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Backend instances by name. Only `kind` is read here; each backend crate reads its own
    /// typed settings with [`LoadedConfig::backend_config`].
    #[serde(default)]
    pub backends: BTreeMap<String, BackendEntry>,
    /// Env files by name.
    #[serde(default)]
    pub envfiles: BTreeMap<String, EnvfileSpec>,
    /// Per-secret rules, keyed by reference (`"aws:afu9/database"`).
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretRule>,
    /// `[broker]`, read by the broker crate with [`LoadedConfig::extract`].
    #[serde(default)]
    pub broker: Option<figment::value::Value>,
    /// `[[sinks]]`, read by the broker crate with [`LoadedConfig::extract`].
    #[serde(default)]
    pub sinks: Option<figment::value::Value>,
}

impl fmt::Debug for Config {
    // Allow-list: names and structure only. Literal values may be sensitive.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("backends", &self.backends)
            .field("envfiles", &self.envfiles.keys().collect::<Vec<_>>())
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("broker", &self.broker.is_some())
            .field("sinks", &self.sinks.is_some())
            .finish_non_exhaustive()
    }
}

/// A backend instance: its kind, the rest is the backend crate's business.
#[derive(Debug, Clone, Deserialize)]
pub struct BackendEntry {
    /// `file`, `aws`, `vault`, `gcp`.
    pub kind: String,
}

/// One env file: variables from references or literals, JSON expansions, required names.
#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EnvfileSpec {
    /// Variable name → where its value comes from.
    #[serde(default)]
    pub vars: BTreeMap<String, VarSource>,
    /// JSON secrets whose every key becomes a variable.
    #[serde(default)]
    pub expand: Vec<ExpandSpec>,
    /// Variables that must be present and non-empty after resolution.
    #[serde(default)]
    pub required: Vec<String>,
}

impl fmt::Debug for EnvfileSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvfileSpec")
            .field("vars", &self.vars)
            .field("expand", &self.expand)
            .field("required", &self.required)
            .finish()
    }
}

/// Where a variable's value comes from.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum VarSource {
    /// A reference string (`"aws:app/db#password"`).
    Ref(String),
    /// A literal: `{ value = "INFO" }`.
    Literal {
        /// The value, used as is.
        value: String,
    },
}

impl fmt::Debug for VarSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ref(r) => write!(f, "Ref({r:?})"),
            // Literals are usually harmless (LOG_LEVEL) but can be anything: do not print.
            Self::Literal { .. } => f.write_str("Literal([redacted])"),
        }
    }
}

/// Expand every key of a JSON secret into a variable.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpandSpec {
    /// The JSON secret.
    #[serde(rename = "ref")]
    pub reference: String,
    /// How key names become variable names.
    #[serde(default)]
    pub case: Case,
    /// Prepended to every variable name (after case conversion).
    #[serde(default)]
    pub prefix: String,
}

/// Case conversion for expanded keys.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    /// `db_host` → `DB_HOST`; non-alphanumerics become `_`.
    #[default]
    Upper,
    /// `DB_HOST` → `db_host`.
    Lower,
    /// Names kept as they are (still validated).
    Keep,
}

/// Rules for one secret.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SecretRule {
    /// Keys the JSON secret must have (checked by `render`, `exec`, `check`).
    #[serde(default)]
    pub required_keys: Vec<String>,
}

/// A loaded config with the figment it came from (for provenance in errors and for backend
/// crates to extract their typed settings).
#[derive(Clone)]
pub struct LoadedConfig {
    /// The merged, profile-selected figment.
    pub figment: figment::Figment,
    /// The validated config.
    pub config: Config,
    /// The config file, if one was read.
    pub path: Option<PathBuf>,
    /// The selected profile.
    pub profile: String,
}

impl fmt::Debug for LoadedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedConfig")
            .field("config", &self.config)
            .field("path", &self.path)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// Load the config: `path` (from `--config`), else `ENVFILE_CONFIG`, else `./envfile.toml`;
/// `profile` (from `--profile`), else `ENVFILE_PROFILE`, else `default`.
pub fn load(path: Option<&Path>, profile: Option<&str>) -> Result<LoadedConfig> {
    crate::config_load::load(path, profile)
}

/// Load from TOML text (tests, and `SIGHUP` reload from a known file use [`load`]).
pub fn load_str(toml: &str, profile: Option<&str>) -> Result<LoadedConfig> {
    crate::config_load::load_str(toml, profile)
}

impl LoadedConfig {
    /// Extract a backend's typed settings from `backends.NAME`. `T` should be
    /// `deny_unknown_fields` and have a `kind` field; errors name the file and key path.
    pub fn backend_config<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        self.extract(&format!("backends.{name}"))
    }

    /// Extract any sub-tree (`broker`, `sinks`) as `T`, with provenance in errors.
    pub fn extract<T: DeserializeOwned>(&self, key_path: &str) -> Result<T> {
        crate::config_load::extract(self, key_path)
    }

    /// The spec of one env file, or a `Config` error listing the ones that exist.
    pub fn envfile(&self, name: &str) -> Result<&EnvfileSpec> {
        self.config.envfiles.get(name).ok_or_else(|| {
            let known: Vec<_> = self.config.envfiles.keys().cloned().collect();
            Error::config(format!("no envfile named `{name}` in the config"))
                .with_hint(format!("configured envfiles: {}", known.join(", ")))
        })
    }
}
