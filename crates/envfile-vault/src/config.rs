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
    /// A file the current Vault token is written to on every login (Vault Agent's file sink).
    #[serde(default)]
    pub token_sink: Option<TokenSinkConfig>,
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
            .field("token_sink", &self.token_sink)
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
    /// AppRole: a role id (inline or from a file) and a secret id read from a file.
    Approle {
        /// The role id (`auth/approle/role/NAME/role-id`); or `role_id_file`.
        #[serde(default)]
        role_id: Option<String>,
        /// File holding the role id (the agent's `role_id_file_path`); re-read on every login.
        #[serde(default)]
        role_id_file: Option<PathBuf>,
        /// File holding the secret id; none for a role with `bind_secret_id = false`.
        #[serde(default)]
        secret_id_file: Option<PathBuf>,
        /// Delete the secret id file once read (the agent's default; here opt-in). The id is
        /// kept in memory for re-logins, and a new file written later replaces it.
        #[serde(default)]
        remove_secret_id_file_after_reading: bool,
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
    /// JWT / OIDC workload identity (GitHub Actions, GKE, EKS and other projected tokens): a
    /// JWT Vault checks against the method's keys (`jwt_validation_pubkeys`, `jwks_url` or
    /// `oidc_discovery_url`).
    Jwt {
        /// The Vault role (`auth/jwt/role/NAME`); none: the method's `default_role`.
        #[serde(default)]
        role: Option<String>,
        /// File holding the JWT, re-read on every login (projected tokens rotate).
        #[serde(default)]
        jwt_file: Option<PathBuf>,
        /// Environment variable holding the JWT (instead of `jwt_file`).
        #[serde(default)]
        jwt_env: Option<String>,
        /// Where the JWT method is mounted.
        #[serde(default = "default_jwt_mount")]
        mount: String,
    },
    /// TLS client certificate: Vault matches the certificate the connection presents against
    /// its trusted certificate roles. The certificate and key are read when the backend starts
    /// and presented on every connection (Vault checks them again when the token is renewed).
    Cert {
        /// The certificate role (`auth/cert/certs/NAME`); none: every role is tried.
        #[serde(default, alias = "role")]
        name: Option<String>,
        /// PEM client certificate (chain); default: `VAULT_CLIENT_CERT`.
        #[serde(default)]
        client_cert: Option<PathBuf>,
        /// PEM private key of `client_cert`; default: `VAULT_CLIENT_KEY`.
        #[serde(default)]
        client_key: Option<PathBuf>,
        /// Where the cert method is mounted.
        #[serde(default = "default_cert_mount")]
        mount: String,
    },
}

fn default_approle_mount() -> String {
    "approle".into()
}
fn default_kubernetes_mount() -> String {
    "kubernetes".into()
}
fn default_jwt_mount() -> String {
    "jwt".into()
}
fn default_cert_mount() -> String {
    "cert".into()
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
                role_id_file,
                secret_id_file,
                remove_secret_id_file_after_reading,
                mount,
                ..
            } => f
                .debug_struct("Approle")
                .field("role_id_file", role_id_file)
                .field("secret_id_file", secret_id_file)
                .field(
                    "remove_secret_id_file_after_reading",
                    remove_secret_id_file_after_reading,
                )
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
            Self::Jwt {
                role,
                jwt_file,
                jwt_env,
                mount,
            } => f
                .debug_struct("Jwt")
                .field("role", role)
                .field("jwt_file", jwt_file)
                .field("jwt_env", jwt_env)
                .field("mount", mount)
                .finish(),
            Self::Cert {
                name,
                client_cert,
                client_key,
                mount,
            } => f
                .debug_struct("Cert")
                .field("name", name)
                .field("client_cert", client_cert)
                .field("client_key", client_key)
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
            Self::Jwt { .. } => "jwt",
            Self::Cert { .. } => "cert",
        }
    }

    /// Where the method is mounted (`auth/MOUNT/login`); `None` for `token`.
    pub fn mount(&self) -> Option<&str> {
        match self {
            Self::Token { .. } => None,
            Self::Approle { mount, .. }
            | Self::Kubernetes { mount, .. }
            | Self::Jwt { mount, .. }
            | Self::Cert { mount, .. } => Some(mount),
        }
    }
}

/// `token_sink` as written: a path, or a table with the file mode.
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum TokenSinkConfig {
    /// `token_sink = "/run/envfile/vault-token"` (mode 0400).
    Path(PathBuf),
    /// `token_sink = { path = "…", mode = "0440" }`.
    Table(TokenSinkTable),
}

/// The table form of `token_sink`.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct TokenSinkTable {
    /// Where the token is written.
    pub path: PathBuf,
    /// Octal permission bits as a string (the agent's `mode`); default `"0400"`.
    #[serde(default)]
    pub mode: Option<String>,
}

/// Where the backend writes its current Vault token (as Vault Agent's `file` sink does): on
/// every login, atomically, with `mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSink {
    /// The file.
    pub path: PathBuf,
    /// Its permission bits.
    pub mode: u32,
}

/// The mode a token sink is written with unless `mode` says otherwise: owner read only.
pub const DEFAULT_TOKEN_SINK_MODE: u32 = 0o400;

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
    /// Where the current token is written, if anywhere.
    pub token_sink: Option<TokenSink>,
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
            .field("token_sink", &self.token_sink)
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
        let auth = validate_auth(
            self.auth.unwrap_or(AuthConfig::Token { token_file: None }),
            name,
            &address,
            &resolve,
            env,
        )?;
        let token_sink = self
            .token_sink
            .map(|t| validate_token_sink(t, name, &resolve))
            .transpose()?;
        Ok(VaultSettings {
            name: name.to_owned(),
            address,
            namespace: self.namespace.or_else(|| env.var("VAULT_NAMESPACE")),
            ca_cert,
            auth,
            token_sink,
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(30).max(1)),
            revoke_leases: self.revoke_leases,
        })
    }
}

/// Checks one auth method's settings: required fields, one source per credential, paths
/// resolved against the config's directory.
fn validate_auth(
    auth: AuthConfig,
    name: &str,
    address: &str,
    resolve: &dyn Fn(PathBuf) -> PathBuf,
    env: &dyn Env,
) -> Result<AuthConfig> {
    let at = |key: &str| format!("backends.{name}.auth.{key}");
    let empty = |key: &str, hint: &str| {
        Error::config(format!("{}: must not be empty", at(key)))
            .with_backend(name)
            .with_hint(hint.to_owned())
    };
    Ok(match auth {
        AuthConfig::Token { token_file } => AuthConfig::Token {
            token_file: token_file.map(resolve),
        },
        AuthConfig::Approle {
            role_id,
            role_id_file,
            secret_id_file,
            remove_secret_id_file_after_reading,
            mount,
        } => {
            let role_id_hint = "read it with `bao read auth/approle/role/ROLE/role-id`";
            match (&role_id, &role_id_file) {
                (Some(_), Some(_)) => {
                    return Err(Error::config(format!(
                        "{}: set `role_id` or `role_id_file`, not both",
                        at("role_id")
                    ))
                    .with_backend(name))
                }
                (None, None) => {
                    return Err(Error::config(format!(
                        "{}: the AppRole method needs `role_id` or `role_id_file`",
                        at("role_id")
                    ))
                    .with_backend(name)
                    .with_hint(role_id_hint))
                }
                (Some(r), None) if r.trim().is_empty() => {
                    return Err(empty("role_id", role_id_hint))
                }
                _ => {}
            }
            AuthConfig::Approle {
                role_id,
                role_id_file: role_id_file.map(resolve),
                secret_id_file: secret_id_file.map(resolve),
                remove_secret_id_file_after_reading,
                mount: clean_mount(&mount),
            }
        }
        AuthConfig::Kubernetes {
            role,
            jwt_file,
            mount,
        } => {
            if role.trim().is_empty() {
                return Err(empty(
                    "role",
                    "name the Vault role bound to this service account",
                ));
            }
            AuthConfig::Kubernetes {
                role,
                jwt_file: resolve(jwt_file),
                mount: clean_mount(&mount),
            }
        }
        AuthConfig::Jwt {
            role,
            jwt_file,
            jwt_env,
            mount,
        } => {
            if role.as_deref().is_some_and(|r| r.trim().is_empty()) {
                return Err(empty(
                    "role",
                    "name the role of the JWT method (`bao list auth/jwt/role`), or leave \
                     `role` out to use the method's `default_role`",
                ));
            }
            match (&jwt_file, &jwt_env) {
                (Some(_), Some(_)) => {
                    return Err(Error::config(format!(
                        "{}: set `jwt_file` or `jwt_env`, not both",
                        at("jwt_file")
                    ))
                    .with_backend(name))
                }
                (None, None) => {
                    return Err(Error::config(format!(
                        "{}: the JWT method needs `jwt_file` (a file holding the token) or \
                         `jwt_env` (a variable holding it)",
                        at("jwt_file")
                    ))
                    .with_backend(name)
                    .with_hint(
                        "Kubernetes projected tokens (GKE, EKS) are files: set `jwt_file` to the \
                         volume's path; in CI, export the OIDC token and set `jwt_env`",
                    ))
                }
                (None, Some(v)) if v.trim().is_empty() => {
                    return Err(empty("jwt_env", "name the variable holding the JWT"))
                }
                _ => {}
            }
            AuthConfig::Jwt {
                role,
                jwt_file: jwt_file.map(resolve),
                jwt_env,
                mount: clean_mount(&mount),
            }
        }
        AuthConfig::Cert {
            name: role,
            client_cert,
            client_key,
            mount,
        } => {
            if !address.starts_with("https://") {
                return Err(Error::config(format!(
                    "backends.{name}.address: the cert auth method needs an https:// address \
                     (a client certificate is presented in the TLS handshake), not `{address}`"
                ))
                .with_backend(name));
            }
            if role.as_deref().is_some_and(|r| r.trim().is_empty()) {
                return Err(empty(
                    "name",
                    "name the certificate role (`bao list auth/cert/certs`), or leave it out",
                ));
            }
            let pick = |given: Option<PathBuf>, var: &str, key: &str| {
                given
                    .or_else(|| env.var(var).map(PathBuf::from))
                    .map(resolve)
                    .ok_or_else(|| {
                        Error::config(format!(
                            "{}: the cert auth method needs a PEM file here (or {var})",
                            at(key)
                        ))
                        .with_backend(name)
                    })
            };
            AuthConfig::Cert {
                name: role,
                client_cert: Some(pick(client_cert, "VAULT_CLIENT_CERT", "client_cert")?),
                client_key: Some(pick(client_key, "VAULT_CLIENT_KEY", "client_key")?),
                mount: clean_mount(&mount),
            }
        }
    })
}

fn validate_token_sink(
    t: TokenSinkConfig,
    name: &str,
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<TokenSink> {
    let (path, mode) = match t {
        TokenSinkConfig::Path(p) => (p, None),
        TokenSinkConfig::Table(TokenSinkTable { path, mode }) => (path, mode),
    };
    let key = format!("backends.{name}.token_sink");
    if path.as_os_str().is_empty() || path.file_name().is_none() {
        return Err(
            Error::config(format!("{key}: `{}` does not name a file", path.display()))
                .with_backend(name),
        );
    }
    let mode = match mode {
        None => DEFAULT_TOKEN_SINK_MODE,
        Some(m) => u32::from_str_radix(m.trim(), 8)
            .ok()
            .filter(|m| *m <= 0o777)
            .ok_or_else(|| {
                Error::config(format!(
                    "{key}.mode: `{m}` is not an octal file mode such as \"0400\" or \"0640\""
                ))
                .with_backend(name)
            })?,
    };
    Ok(TokenSink {
        path: resolve(path),
        mode,
    })
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
                assert_eq!(
                    secret_id_file.as_deref(),
                    Some(Path::new("/etc/envfile/sid"))
                );
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

    fn auth_error(auth: serde_json::Value, address: &str, env: &FakeEnv) -> envfile_core::Error {
        let c = parse(serde_json::json!({ "kind": "vault", "address": address, "auth": auth }))
            .unwrap();
        c.validate("v", None, env).unwrap_err()
    }

    #[test]
    fn jwt_takes_a_file_or_a_variable_and_resolves_the_file() {
        let c = parse(serde_json::json!({
            "kind": "vault", "address": "http://x:1",
            "auth": { "method": "jwt", "role": "ci", "jwt_file": "tok" }
        }))
        .unwrap();
        let s = c
            .validate("v", Some(Path::new("/etc/envfile")), &no_env())
            .unwrap();
        assert_eq!(
            s.auth,
            AuthConfig::Jwt {
                role: Some("ci".into()),
                jwt_file: Some("/etc/envfile/tok".into()),
                jwt_env: None,
                mount: "jwt".into()
            }
        );
        for (auth, says) in [
            (
                serde_json::json!({ "method": "jwt", "role": "ci" }),
                "jwt_env",
            ),
            (
                serde_json::json!({ "method": "jwt", "jwt_file": "a", "jwt_env": "B" }),
                "not both",
            ),
            (
                serde_json::json!({ "method": "jwt", "role": " ", "jwt_env": "B" }),
                "auth.role: must not be empty",
            ),
        ] {
            let e = auth_error(auth, "http://x:1", &no_env());
            assert_eq!(e.kind(), envfile_core::ErrorKind::Config);
            assert!(e.message().contains(says), "{e}");
        }
    }

    #[test]
    fn cert_needs_https_and_files_which_default_from_the_environment() {
        let e = auth_error(
            serde_json::json!({ "method": "cert", "client_cert": "c", "client_key": "k" }),
            "http://x:1",
            &no_env(),
        );
        assert!(e.message().contains("https://"), "{e}");
        let e = auth_error(
            serde_json::json!({ "method": "cert", "client_cert": "c" }),
            "https://x:1",
            &no_env(),
        );
        assert!(e.message().contains("auth.client_key"), "{e}");
        assert!(e.message().contains("VAULT_CLIENT_KEY"), "{e}");

        let c = parse(serde_json::json!({
            "kind": "vault", "address": "https://x:1",
            "auth": { "method": "cert", "role": "web", "mount": "/tls/" }
        }))
        .unwrap();
        let env = FakeEnv(HashMap::from([
            ("VAULT_CLIENT_CERT", "/pki/c.pem"),
            ("VAULT_CLIENT_KEY", "k.pem"),
        ]));
        let s = c.validate("v", Some(Path::new("/etc/e")), &env).unwrap();
        assert_eq!(
            s.auth,
            AuthConfig::Cert {
                name: Some("web".into()),
                client_cert: Some("/pki/c.pem".into()),
                client_key: Some("/etc/e/k.pem".into()),
                mount: "tls".into()
            }
        );
    }

    #[test]
    fn approle_takes_exactly_one_role_id_source() {
        let c = parse(serde_json::json!({
            "kind": "vault", "address": "http://x:1",
            "auth": { "method": "approle", "role_id_file": "rid", "secret_id_file": "sid",
                      "remove_secret_id_file_after_reading": true }
        }))
        .unwrap();
        let s = c.validate("v", Some(Path::new("/e")), &no_env()).unwrap();
        assert_eq!(
            s.auth,
            AuthConfig::Approle {
                role_id: None,
                role_id_file: Some("/e/rid".into()),
                secret_id_file: Some("/e/sid".into()),
                remove_secret_id_file_after_reading: true,
                mount: "approle".into()
            }
        );
        let e = auth_error(
            serde_json::json!({ "method": "approle", "secret_id_file": "s" }),
            "http://x:1",
            &no_env(),
        );
        assert!(e.message().contains("`role_id` or `role_id_file`"), "{e}");
        let e = auth_error(
            serde_json::json!({ "method": "approle", "role_id": "r", "role_id_file": "f" }),
            "http://x:1",
            &no_env(),
        );
        assert!(e.message().contains("not both"), "{e}");
    }

    #[test]
    fn token_sink_is_a_path_or_a_table_with_an_octal_mode() {
        let sink = |v: serde_json::Value| {
            parse(serde_json::json!({ "kind": "vault", "address": "http://x:1", "token_sink": v }))
                .unwrap()
                .validate("v", Some(Path::new("/run/e")), &no_env())
        };
        assert_eq!(
            sink(serde_json::json!("tok")).unwrap().token_sink,
            Some(TokenSink {
                path: "/run/e/tok".into(),
                mode: 0o400
            })
        );
        assert_eq!(
            sink(serde_json::json!({ "path": "/t", "mode": "0640" }))
                .unwrap()
                .token_sink,
            Some(TokenSink {
                path: "/t".into(),
                mode: 0o640
            })
        );
        for bad in ["0999", "rw", "01777"] {
            let e = sink(serde_json::json!({ "path": "/t", "mode": bad })).unwrap_err();
            assert!(e.message().contains("token_sink.mode"), "{e}");
        }
        assert!(parse(serde_json::json!({
            "kind": "vault", "token_sink": { "path": "/t", "mod": "0640" }
        }))
        .is_err());
        let e = sink(serde_json::json!("/")).unwrap_err();
        assert!(e.message().contains("does not name a file"), "{e}");
    }
}
