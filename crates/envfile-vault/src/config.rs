//! The `[backends.NAME]` table of a `kind = "vault"` backend: a strict raw shape read from the
//! config, validated once into [`VaultSettings`].

use envfile_core::{Error, LoadedConfig, Result};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where Kubernetes mounts a pod's service-account token.
pub const DEFAULT_JWT_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// The config table as written. Unknown keys are an error (a typo like `adress` must not silently
/// fall back to `VAULT_ADDR`).
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// Always `"vault"`.
    pub kind: String,
    /// `http(s)://host:port`; default: the `VAULT_ADDR` environment variable.
    #[serde(default)]
    pub address: Option<String>,
    /// Vault Enterprise / OpenBao namespace; default: `VAULT_NAMESPACE`.
    #[serde(default)]
    pub namespace: Option<String>,
    /// PEM bundle of CA certificates to trust; default: `VAULT_CACERT`.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// How to obtain a token; default: `{ method = "token" }` (the `VAULT_TOKEN` variable).
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// Per-request timeout in seconds (default 30).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Revoke the leases of dynamic secrets on a clean shutdown. Default: the command's (on for
    /// `run` and `serve`, off for `render` and `exec`, whose output outlives them).
    #[serde(default)]
    pub revoke_leases: Option<bool>,
}

impl fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultConfig")
            .field("address", &self.address)
            .field("namespace", &self.namespace)
            .field("ca_cert", &self.ca_cert)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// How the backend logs in.
#[derive(Deserialize, Clone, PartialEq, Eq)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthConfig {
    /// A token, from `token_file` (re-read on every re-login, so a rotated file is picked up)
    /// or else the `VAULT_TOKEN` environment variable.
    Token {
        /// File holding the token.
        #[serde(default)]
        token_file: Option<PathBuf>,
    },
    /// AppRole: a role id and a secret id read from a file.
    Approle {
        /// The role id (`auth/approle/role/NAME/role-id`).
        role_id: String,
        /// File holding the secret id.
        secret_id_file: PathBuf,
        /// Where the AppRole method is mounted.
        #[serde(default = "default_approle_mount")]
        mount: String,
    },
    /// Kubernetes: the pod's service-account JWT, checked by Vault through the TokenReview API.
    Kubernetes {
        /// The Vault role (`auth/kubernetes/role/NAME`).
        role: String,
        /// The service-account token file (re-read on every login: projected tokens rotate).
        #[serde(default = "default_jwt_file")]
        jwt_file: PathBuf,
        /// Where the Kubernetes method is mounted.
        #[serde(default = "default_kubernetes_mount")]
        mount: String,
    },
}

fn default_approle_mount() -> String {
    "approle".into()
}
fn default_kubernetes_mount() -> String {
    "kubernetes".into()
}
fn default_jwt_file() -> PathBuf {
    DEFAULT_JWT_FILE.into()
}

impl fmt::Debug for AuthConfig {
    // The role id is not a credential on its own, but it is half of one: keep it out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token { token_file } => f
                .debug_struct("Token")
                .field("token_file", token_file)
                .finish(),
            Self::Approle {
                secret_id_file,
                mount,
                ..
            } => f
                .debug_struct("Approle")
                .field("secret_id_file", secret_id_file)
                .field("mount", mount)
                .finish_non_exhaustive(),
            Self::Kubernetes {
                role,
                jwt_file,
                mount,
            } => f
                .debug_struct("Kubernetes")
                .field("role", role)
                .field("jwt_file", jwt_file)
                .field("mount", mount)
                .finish(),
        }
    }
}

impl AuthConfig {
    /// The method name as written in the config.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Token { .. } => "token",
            Self::Approle { .. } => "approle",
            Self::Kubernetes { .. } => "kubernetes",
        }
    }
}

/// Validated settings: an address that parses, files resolved against the config's directory.
#[derive(Clone)]
pub struct VaultSettings {
    /// Backend instance name.
    pub name: String,
    /// Base address, without a trailing `/`.
    pub address: String,
    /// Namespace header value.
    pub namespace: Option<String>,
    /// CA bundle to trust (HTTPS only).
    pub ca_cert: Option<PathBuf>,
    /// Login method.
    pub auth: AuthConfig,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Revoke dynamic secrets' leases on a clean shutdown; `None`: the command decides.
    pub revoke_leases: Option<bool>,
}

impl fmt::Debug for VaultSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultSettings")
            .field("name", &self.name)
            .field("address", &self.address)
            .field("namespace", &self.namespace)
            .field("ca_cert", &self.ca_cert)
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Reads the process environment; a trait so tests can validate without touching it.
pub trait Env {
    /// The variable's value, if set and non-empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl VaultConfig {
    /// Read `backends.NAME` from a loaded config and validate it.
    pub fn load(name: &str, cfg: &LoadedConfig) -> Result<VaultSettings> {
        let raw: VaultConfig = cfg.backend_config(name)?;
        let base = cfg.path.as_deref().and_then(Path::parent);
        raw.validate(name, base, &ProcessEnv)
    }

    /// Validate: fill defaults from the environment, check the address, resolve relative paths
    /// against `base` (the config file's directory).
    pub fn validate(self, name: &str, base: Option<&Path>, env: &dyn Env) -> Result<VaultSettings> {
        let at = |key: &str| format!("backends.{name}.{key}");
        if self.kind != "vault" {
            return Err(Error::config(format!(
                "{}: expected \"vault\", found \"{}\"",
                at("kind"),
                self.kind
            )));
        }
        let address = self
            .address
            .or_else(|| env.var("VAULT_ADDR"))
            .ok_or_else(|| {
                Error::config(format!("backend `{name}`: no Vault address"))
                    .with_backend(name)
                    .with_hint(format!(
                        "set `address = \"https://vault.example:8200\"` in [backends.{name}] or export VAULT_ADDR"
                    ))
            })?;
        let address = check_address(&address).map_err(|why| {
            Error::config(format!(
                "{}: `{address}` is not a Vault address: {why}",
                at("address")
            ))
            .with_backend(name)
            .with_hint("write it as http(s)://HOST:PORT, for example https://vault.internal:8200")
        })?;
        let resolve = |p: PathBuf| match base {
            Some(b) if p.is_relative() => b.join(p),
            _ => p,
        };
        let ca_cert = self
            .ca_cert
            .or_else(|| env.var("VAULT_CACERT").map(PathBuf::from))
            .map(resolve);
        let auth = match self.auth.unwrap_or(AuthConfig::Token { token_file: None }) {
            AuthConfig::Token { token_file } => AuthConfig::Token {
                token_file: token_file.map(resolve),
            },
            AuthConfig::Approle {
                role_id,
                secret_id_file,
                mount,
            } => {
                if role_id.trim().is_empty() {
                    return Err(Error::config(format!(
                        "{}: must not be empty",
                        at("auth.role_id")
                    ))
                    .with_backend(name)
                    .with_hint("read it with `bao read auth/approle/role/ROLE/role-id`"));
                }
                AuthConfig::Approle {
                    role_id,
                    secret_id_file: resolve(secret_id_file),
                    mount: clean_mount(&mount),
                }
            }
            AuthConfig::Kubernetes {
                role,
                jwt_file,
                mount,
            } => {
                if role.trim().is_empty() {
                    return Err(
                        Error::config(format!("{}: must not be empty", at("auth.role")))
                            .with_backend(name)
                            .with_hint("name the Vault role bound to this service account"),
                    );
                }
                AuthConfig::Kubernetes {
                    role,
                    jwt_file: resolve(jwt_file),
                    mount: clean_mount(&mount),
                }
            }
        };
        Ok(VaultSettings {
            name: name.to_owned(),
            address,
            namespace: self.namespace.or_else(|| env.var("VAULT_NAMESPACE")),
            ca_cert,
            auth,
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(30).max(1)),
            revoke_leases: self.revoke_leases,
        })
    }
}

fn clean_mount(m: &str) -> String {
    m.trim_matches('/').to_owned()
}

/// Checks the scheme and host; returns the address without a trailing `/`.
fn check_address(a: &str) -> std::result::Result<String, String> {
    let url = reqwest::Url::parse(a).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not `{}`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("it must not have a query or fragment".into());
    }
    Ok(a.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>);
    impl Env for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
    }

    fn parse(json: serde_json::Value) -> std::result::Result<VaultConfig, String> {
        serde_json::from_value(json).map_err(|e| e.to_string())
    }

    fn no_env() -> FakeEnv {
        FakeEnv(HashMap::new())
    }

    #[test]
    fn kubernetes_defaults() {
        let c = parse(serde_json::json!({
            "kind": "vault", "address": "https://vault:8200/",
            "auth": { "method": "kubernetes", "role": "api" }
        }))
        .unwrap();
        let s = c.validate("vault", None, &no_env()).unwrap();
        assert_eq!(s.address, "https://vault:8200");
        assert_eq!(
            s.auth,
            AuthConfig::Kubernetes {
                role: "api".into(),
                jwt_file: DEFAULT_JWT_FILE.into(),
                mount: "kubernetes".into()
            }
        );
    }

    #[test]
    fn address_and_cacert_default_from_env_and_paths_resolve_against_config_dir() {
        let c = parse(serde_json::json!({
            "kind": "vault",
            "auth": { "method": "approle", "role_id": "r", "secret_id_file": "sid", "mount": "/ar/" }
        }))
        .unwrap();
        let env = FakeEnv(HashMap::from([
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_CACERT", "ca.pem"),
        ]));
        let s = c
            .validate("v", Some(Path::new("/etc/envfile")), &env)
            .unwrap();
        assert_eq!(s.address, "http://127.0.0.1:8200");
        assert_eq!(s.ca_cert.as_deref(), Some(Path::new("/etc/envfile/ca.pem")));
        match s.auth {
            AuthConfig::Approle {
                secret_id_file,
                mount,
                ..
            } => {
                assert_eq!(secret_id_file, Path::new("/etc/envfile/sid"));
                assert_eq!(mount, "ar");
            }
            other => panic!("unexpected auth {other:?}"),
        }
    }

    #[test]
    fn missing_address_is_a_config_error_with_a_hint() {
        let c = parse(serde_json::json!({ "kind": "vault" })).unwrap();
        let e = c.validate("vault", None, &no_env()).unwrap_err();
        assert_eq!(e.kind(), envfile_core::ErrorKind::Config);
        assert!(e.hint().unwrap().contains("VAULT_ADDR"), "{e}");
    }

    #[test]
    fn bad_address_names_the_key() {
        let c = parse(serde_json::json!({ "kind": "vault", "address": "vault:8200" })).unwrap();
        let e = c.validate("vault", None, &no_env()).unwrap_err();
        assert!(e.message().contains("backends.vault.address"), "{e}");
    }

    #[test]
    fn unknown_keys_are_rejected_at_both_levels() {
        let e = parse(serde_json::json!({ "kind": "vault", "adress": "x" })).unwrap_err();
        assert!(e.contains("adress"), "{e}");
        let e = parse(serde_json::json!({
            "kind": "vault", "auth": { "method": "token", "token": "literal" }
        }))
        .unwrap_err();
        assert!(e.contains("token"), "{e}");
        let e = parse(serde_json::json!({ "kind": "vault", "auth": { "method": "ldap" } }))
            .unwrap_err();
        assert!(e.contains("ldap"), "{e}");
    }

    #[test]
    fn debug_leaves_out_the_role_id() {
        let c = parse(serde_json::json!({
            "kind": "vault", "address": "http://x:1",
            "auth": { "method": "approle", "role_id": "role-id-4711", "secret_id_file": "/s" }
        }))
        .unwrap();
        let s = c.clone().validate("v", None, &no_env()).unwrap();
        for text in [format!("{c:?}"), format!("{s:?}"), format!("{:?}", s.auth)] {
            assert!(!text.contains("role-id-4711"), "role id leaked into Debug");
            assert!(text.contains("approle") || text.contains("Approle"));
        }
    }
}
