//! OpenBao test support: seeding through OpenBao's own HTTP API (KV v1/v2 mounts, policies,
//! tokens, AppRole, Kubernetes auth), a conformance [`Seeder`], and the [`FakeTokenReview`]
//! responder Kubernetes auth needs.
//!
//! Every test makes its own mounts and roles ([`crate::env::unique`]), so tests share the one
//! dev server `scripts/test` starts without interfering.

mod fake_tokenreview;

pub use fake_tokenreview::{FakeServiceAccount, FakeTokenReview};

use crate::conformance::Seeder;
use async_trait::async_trait;
use envfile_vault::{AuthConfig, VaultSettings};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output};
use std::time::{Duration, Instant};

/// An OpenBao client for seeding, with one token (root by default).
#[derive(Clone)]
pub struct Bao {
    addr: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Bao {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bao")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Bao {
    /// The dev server with its root token.
    pub fn root() -> Self {
        Self {
            addr: crate::env::vault_addr(),
            token: crate::env::vault_root_token(),
            http: reqwest::Client::new(),
        }
    }

    /// The TLS dev server (cert auth) with its root token.
    pub fn tls_root() -> Self {
        let ca = std::fs::read(crate::env::vault_tls_cacert()).expect("read the TLS dev CA");
        let certs = reqwest::Certificate::from_pem_bundle(&ca).expect("the TLS dev CA is PEM");
        Self {
            addr: crate::env::vault_tls_addr(),
            token: crate::env::vault_root_token(),
            http: reqwest::Client::builder()
                .tls_certs_only(certs)
                .build()
                .expect("an HTTPS client"),
        }
    }

    /// The same server, another token.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: token.to_owned(),
            ..self.clone()
        }
    }

    /// The server address.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// One call; returns the status and the JSON body (`Null` when empty).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self
            .http
            .request(method, format!("{}/v1/{}", self.addr, path))
            .header("X-Vault-Token", &self.token);
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("OpenBao call {path} failed: {e}"));
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("OpenBao response body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, json)
    }

    /// A call that must succeed. The panic names the path, the status and OpenBao's `errors`
    /// (which never hold secret values), not the request body.
    pub async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, json) = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "OpenBao {method} {path}: status {status}, errors {}",
            json["errors"]
        );
        json
    }

    /// Mount a KV engine (`version` 1 or 2) at `mount`.
    pub async fn enable_kv(&self, mount: &str, version: u8) {
        self.ok(
            "POST",
            &format!("sys/mounts/{mount}"),
            Some(json!({ "type": "kv", "options": { "version": version.to_string() } })),
        )
        .await;
    }

    /// Write KV data (an object) at `mount/name`; on KV v2 this adds a version.
    pub async fn kv_put(&self, mount: &str, version: u8, name: &str, data: &Value) {
        assert!(data.is_object(), "KV data must be a JSON object");
        match version {
            2 => {
                self.ok(
                    "POST",
                    &format!("{mount}/data/{name}"),
                    Some(json!({ "data": data })),
                )
                .await
            }
            _ => {
                self.ok("POST", &format!("{mount}/{name}"), Some(data.clone()))
                    .await
            }
        };
    }

    /// Write a policy.
    pub async fn put_policy(&self, name: &str, hcl: &str) {
        self.ok(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            Some(json!({ "policy": hcl })),
        )
        .await;
    }

    /// Enable an auth method of `kind` at `mount`.
    pub async fn enable_auth(&self, mount: &str, kind: &str) {
        self.ok(
            "POST",
            &format!("sys/auth/{mount}"),
            Some(json!({ "type": kind })),
        )
        .await;
    }

    /// A Kubernetes auth method at a fresh mount (returned) that asks `review` about tokens,
    /// with one role `role` granting `policy` (1h tokens) to the service account
    /// `namespace/account`.
    pub async fn kubernetes_auth(
        &self,
        review: &FakeTokenReview,
        role: &str,
        namespace: &str,
        account: &str,
        policy: &str,
    ) -> String {
        let mount = crate::env::unique("kubernetes");
        self.enable_auth(&mount, "kubernetes").await;
        self.ok(
            "POST",
            &format!("auth/{mount}/config"),
            Some(review.auth_config()),
        )
        .await;
        self.ok(
            "POST",
            &format!("auth/{mount}/role/{role}"),
            Some(json!({
                "bound_service_account_names": [account],
                "bound_service_account_namespaces": [namespace],
                "token_policies": [policy],
                "token_ttl": "1h",
            })),
        )
        .await;
        mount
    }

    /// A child token with `policies` (and the default policy); `extra` adds fields such as
    /// `ttl`, `period`, `renewable`.
    pub async fn create_token(&self, policies: &[&str], extra: Value) -> String {
        let mut body = json!({ "policies": policies });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let out = self.ok("POST", "auth/token/create", Some(body)).await;
        out["auth"]["client_token"]
            .as_str()
            .expect("auth.client_token")
            .to_owned()
    }

    /// An AppRole at `auth/MOUNT/role/ROLE` with `role_settings` (policies, TTLs); returns the
    /// role id and a fresh secret id.
    pub async fn approle(&self, mount: &str, role: &str, role_settings: Value) -> (String, String) {
        self.ok(
            "POST",
            &format!("auth/{mount}/role/{role}"),
            Some(role_settings),
        )
        .await;
        let rid = self
            .ok("GET", &format!("auth/{mount}/role/{role}/role-id"), None)
            .await;
        let sid = self
            .ok(
                "POST",
                &format!("auth/{mount}/role/{role}/secret-id"),
                Some(json!({})),
            )
            .await;
        (
            rid["data"]["role_id"].as_str().expect("role_id").to_owned(),
            sid["data"]["secret_id"]
                .as_str()
                .expect("secret_id")
                .to_owned(),
        )
    }

    /// Revoke every token issued by logins at `auth/MOUNT` (what an operator does after a leak).
    pub async fn revoke_logins(&self, mount: &str) {
        self.ok(
            "PUT",
            &format!("sys/leases/revoke-prefix/auth/{mount}/login"),
            Some(json!({})),
        )
        .await;
    }
}

/// Run the `envfile` binary in `dir` with `--config DIR/envfile.toml`, without the `VAULT_*`
/// and `ENVFILE_*` variables of the test's own environment (so only the config decides).
pub fn envfile_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(crate::env::envfile_bin());
    c.current_dir(dir)
        .arg("--config")
        .arg(dir.join("envfile.toml"))
        .args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("ENVFILE_") {
            c.env_remove(k);
        }
    }
    c.output().expect("run envfile")
}

/// A vault backend seen through one mount's KV version: `capabilities()` is per backend, but
/// what Vault can do depends on the mount (KV v1 has no versions). Delegates everything else.
pub struct OnMount {
    /// The backend.
    pub inner: envfile_vault::VaultBackend,
    /// The mount's KV version.
    pub version: envfile_vault::KvVersion,
}

#[async_trait]
impl envfile_core::Backend for OnMount {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    fn capabilities(&self) -> envfile_core::Capabilities {
        envfile_vault::VaultBackend::capabilities_for(self.version)
    }
    async fn get(
        &self,
        loc: &envfile_core::Locator,
    ) -> envfile_core::Result<envfile_core::Fetched> {
        self.inner.get(loc).await
    }
    async fn get_many(
        &self,
        locs: &[envfile_core::Locator],
    ) -> Vec<envfile_core::Result<envfile_core::Fetched>> {
        self.inner.get_many(locs).await
    }
    async fn current_version(
        &self,
        loc: &envfile_core::Locator,
    ) -> envfile_core::Result<Option<String>> {
        self.inner.current_version(loc).await
    }
}

/// Settings for a backend named `vault` against the dev server.
pub fn settings(auth: AuthConfig) -> VaultSettings {
    VaultSettings {
        name: "vault".into(),
        address: crate::env::vault_addr(),
        namespace: None,
        ca_cert: None,
        token_sink: None,
        auth,
        timeout: Duration::from_secs(10),
        revoke_leases: None,
    }
}

/// Seeds KV secrets for the conformance suite. KV holds JSON objects only: a `json_only`
/// backend's suite seeds object text, which is stored as the secret's data.
pub struct KvSeeder {
    /// The seeding client.
    pub bao: Bao,
    /// The mount (made unique per test).
    pub mount: String,
    /// 1 or 2.
    pub version: u8,
}

impl KvSeeder {
    /// Mount a fresh KV engine of `version` and seed into it.
    pub async fn new(version: u8) -> Self {
        let bao = Bao::root();
        let mount = crate::env::unique(&format!("conf-kv{version}"));
        bao.enable_kv(&mount, version).await;
        Self {
            bao,
            mount,
            version,
        }
    }
}

#[async_trait]
impl Seeder for KvSeeder {
    async fn put(&self, name: &str, value: &[u8]) -> String {
        let data: Value = serde_json::from_slice(value)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| {
                panic!(
                    "KvSeeder: a KV secret is a JSON object; got {} bytes that are not one \
                     (the suite seeds objects for `json_only` backends)",
                    value.len()
                )
            });
        self.bao
            .kv_put(&self.mount, self.version, name, &data)
            .await;
        format!("{}/{name}", self.mount)
    }

    async fn delete(&self, path: &str) {
        let name = path
            .strip_prefix(&format!("{}/", self.mount))
            .expect("a path this seeder returned");
        let api = match self.version {
            2 => format!("{}/metadata/{name}", self.mount),
            _ => format!("{}/{name}", self.mount),
        };
        self.bao.ok("DELETE", &api, None).await;
    }
}

/// Wait for a `bao agent` run that renders once and exits (`exit_after_auth`); kill it and fail
/// with its log (`log`) after `limit`.
pub fn wait_agent(mut child: Child, log: &Path, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "bao agent did not exit within {}s; log: {}",
                limit.as_secs(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
