//! The `vault` backend's JWT, TLS certificate and AppRole-from-files logins and its
//! `token_sink`, against real OpenBao dev servers (`scripts/test` starts a plain one and, for
//! the cert method, one with `-dev-tls`). The keys, the CA and the certificates are made here
//! with the `openssl` CLI; the JWTs are signed with it (RS256).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use envfile_core::{Backend, ErrorKind, Locator};
use envfile_tests::bao::{envfile_in, settings, Bao};
use envfile_tests::env::{bao_bin, unique, vault_addr, vault_tls_addr, vault_tls_cacert};
use envfile_vault::{AuthConfig, TokenSink, VaultBackend, VaultSettings};
use serde_json::{json, Value};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write test file");
    p
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// An RSA key pair that signs JWTs (RS256), as an OIDC issuer would.
struct Issuer {
    dir: tempfile::TempDir,
}

impl Issuer {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        openssl(
            dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "key.pem",
            ],
        );
        openssl(
            dir.path(),
            &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
        );
        Self { dir }
    }

    fn public_pem(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pub.pem")).unwrap()
    }

    /// A JWT with `sub`, audience `envfile`, expiring `ttl` seconds from now (negative: past).
    fn jwt(&self, sub: &str, ttl: i64) -> String {
        let exp = now() as i64 + ttl;
        let issued = exp.min(now() as i64) - 60;
        let claims = json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": sub,
            "aud": "envfile",
            "iat": issued,
            "nbf": issued,
            "exp": exp,
        });
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let name = unique("input");
        write(self.dir.path(), &name, &input);
        openssl(
            self.dir.path(),
            &["dgst", "-sha256", "-sign", "key.pem", "-out", "sig", &name],
        );
        let sig = std::fs::read(self.dir.path().join("sig")).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// A KV v2 mount holding `app` = {"password": …} and a policy that reads it.
async fn secret_and_policy(bao: &Bao) -> (String, String) {
    let mount = unique("auth-kv");
    bao.enable_kv(&mount, 2).await;
    bao.kv_put(&mount, 2, "app", &json!({ "password": "pw-1" }))
        .await;
    let policy = unique("auth-pol");
    bao.put_policy(
        &policy,
        &format!("path \"{mount}/data/app\" {{ capabilities = [\"read\"] }}\n"),
    )
    .await;
    (mount, policy)
}

async fn read_password(backend: &VaultBackend, mount: &str) -> envfile_core::Result<String> {
    let f = backend.get(&Locator::new(format!("{mount}/app"))).await?;
    let json = f.value.parse_json().expect("KV data is JSON");
    Ok(json.expose()["password"].as_str().unwrap().to_owned())
}

/// A JWT method at a fresh mount trusting `issuer`, with role `role` for subject `sub`.
async fn jwt_auth(bao: &Bao, issuer: &Issuer, role: &str, sub: &str, policy: &str) -> String {
    let mount = unique("jwt");
    bao.enable_auth(&mount, "jwt").await;
    bao.ok(
        "POST",
        &format!("auth/{mount}/config"),
        Some(json!({ "jwt_validation_pubkeys": [issuer.public_pem()] })),
    )
    .await;
    jwt_role(bao, &mount, role, sub, policy).await;
    mount
}

async fn jwt_role(bao: &Bao, mount: &str, role: &str, sub: &str, policy: &str) {
    bao.ok(
        "POST",
        &format!("auth/{mount}/role/{role}"),
        Some(json!({
            "role_type": "jwt",
            "user_claim": "sub",
            "bound_audiences": ["envfile"],
            "bound_subject": sub,
            "token_policies": [policy],
            "token_ttl": "1h",
        })),
    )
    .await;
}

fn jwt_backend(file: PathBuf, role: &str, mount: &str) -> VaultBackend {
    VaultBackend::new(settings(AuthConfig::Jwt {
        role: Some(role.into()),
        jwt_file: Some(file),
        jwt_env: None,
        mount: mount.into(),
    }))
    .expect("backend")
}

#[tokio::test]
async fn vault_jwt_login_rereads_the_rotated_token_file() {
    let bao = Bao::root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let issuer = Issuer::new();
    let mount = jwt_auth(&bao, &issuer, "ci", "repo:acme/api:ref:main", &policy).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "token",
        &issuer.jwt("repo:acme/api:ref:main", 600),
    );
    let backend = jwt_backend(file.clone(), "ci", &mount);

    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    assert_eq!(backend.auth_stats().logins, 1);

    // The role now admits another subject only, and the projected token file is rotated to a
    // JWT for it: the re-login after the revocation works only if the file is read again.
    jwt_role(&bao, &mount, "ci", "repo:acme/api:ref:release", &policy).await;
    write(
        dir.path(),
        "token",
        &issuer.jwt("repo:acme/api:ref:release", 600),
    );
    bao.revoke_logins(&mount).await;
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    assert_eq!(backend.auth_stats().logins, 2);
}

#[tokio::test]
async fn vault_jwt_from_an_environment_variable() {
    let bao = Bao::root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let issuer = Issuer::new();
    let mount = jwt_auth(&bao, &issuer, "ci", "gha", &policy).await;
    let var = unique("ENVFILE_TEST_JWT").replace('-', "_").to_uppercase();
    // A fresh variable no other code reads; nextest runs each test in its own process.
    std::env::set_var(&var, issuer.jwt("gha", 600));
    let backend = VaultBackend::new(settings(AuthConfig::Jwt {
        role: Some("ci".into()),
        jwt_file: None,
        jwt_env: Some(var.clone()),
        mount: mount.clone(),
    }))
    .unwrap();
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");

    std::env::remove_var(&var);
    let unset = VaultBackend::new(settings(AuthConfig::Jwt {
        role: Some("ci".into()),
        jwt_file: None,
        jwt_env: Some(var.clone()),
        mount,
    }))
    .unwrap();
    let e = unset.login().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    assert!(e.message().contains(&var), "{e}");
}

/// Every rendering of an error: none may hold `secret`.
fn assert_not_shown(e: &envfile_core::Error, secret: &str) {
    for text in [
        e.to_string(),
        format!("{e:?}"),
        e.hint().unwrap_or_default().to_owned(),
    ] {
        assert!(!text.contains(secret), "the credential leaked into: {text}");
    }
}

/// A refused login: Unauthenticated, naming `auth/MOUNT` and the role, with a hint holding each
/// of `hints`.
fn assert_refused_login(e: &envfile_core::Error, mount: &str, role: &str, hints: &[&str]) {
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(
        e.message()
            .contains(&format!("`auth/{mount}` as role `{role}`")),
        "{e}"
    );
    let hint = e.hint().unwrap_or_default();
    for h in hints {
        assert!(hint.contains(h), "{hint}");
    }
}

#[tokio::test]
async fn vault_jwt_refusals_name_mount_and_role_and_never_show_the_jwt() {
    let bao = Bao::root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let issuer = Issuer::new();
    let mount = jwt_auth(&bao, &issuer, "ci", "gha", &policy).await;
    let dir = tempfile::tempdir().unwrap();
    let good = issuer.jwt("gha", 600);

    // A role that does not exist.
    let file = write(dir.path(), "good", &good);
    let e = jwt_backend(file, "deploy", &mount)
        .login()
        .await
        .unwrap_err();
    assert_refused_login(
        &e,
        &mount,
        "deploy",
        &[&format!("no role `deploy` at `auth/{mount}`")],
    );
    assert_not_shown(&e, &good);

    // A JWT from an issuer the method does not trust, and an expired one.
    let stranger = Issuer::new().jwt("gha", 600);
    let expired = issuer.jwt("gha", -600);
    for (name, jwt, says) in [
        ("stranger", &stranger, "signature"),
        ("expired", &expired, "expired"),
    ] {
        let file = write(dir.path(), name, jwt);
        let backend = jwt_backend(file, "ci", &mount);
        let e = read_password(&backend, &kv).await.unwrap_err();
        assert!(e.message().contains(says), "{name}: {e}");
        assert_refused_login(&e, &mount, "ci", &["jwt_validation_pubkeys"]);
        assert_not_shown(&e, jwt);
        // The signature alone is as secret as the whole token.
        assert_not_shown(&e, jwt.rsplit('.').next().unwrap());
    }
}

/// A client CA and certificates made with the openssl CLI.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pki = Self { dir };
        pki.self_signed("ca", "envfile test client CA");
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn pem(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{name}.pem"))).unwrap()
    }

    fn self_signed(&self, name: &str, cn: &str) {
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
                "-days",
                "1",
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
    }

    /// A client certificate `name.pem` / `name.key` for `cn`, issued by the CA.
    fn client(&self, name: &str, cn: &str) {
        write(
            self.dir.path(),
            "client.ext",
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
        );
        openssl(
            self.dir.path(),
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        openssl(
            self.dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "1",
                "-extfile",
                "client.ext",
            ],
        );
    }
}

/// A cert method at a fresh mount on the TLS server trusting the CA of `pki` as role `web`.
async fn cert_auth(bao: &Bao, pki: &Pki, policy: &str, ttl: &str) -> String {
    let mount = unique("cert");
    bao.enable_auth(&mount, "cert").await;
    bao.ok(
        "POST",
        &format!("auth/{mount}/certs/web"),
        Some(json!({
            "certificate": pki.pem("ca"),
            "token_policies": [policy],
            "token_ttl": ttl,
            "token_max_ttl": "1h",
        })),
    )
    .await;
    mount
}

fn tls_settings(auth: AuthConfig) -> VaultSettings {
    VaultSettings {
        address: vault_tls_addr(),
        ca_cert: Some(vault_tls_cacert()),
        ..settings(auth)
    }
}

fn cert_backend(
    pki: &Pki,
    name: &str,
    role: &str,
    mount: &str,
) -> envfile_core::Result<VaultBackend> {
    VaultBackend::new(tls_settings(AuthConfig::Cert {
        name: Some(role.into()),
        client_cert: Some(pki.path(&format!("{name}.pem"))),
        client_key: Some(pki.path(&format!("{name}.key"))),
        mount: mount.into(),
    }))
}

#[tokio::test]
async fn vault_cert_login_over_tls_and_renewals_present_the_certificate() {
    let bao = Bao::tls_root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let pki = Pki::new();
    pki.client("client", "api.internal");
    // A 3 s token: renewed at 2 s. The cert method checks the certificate again on renewal,
    // so a renewal that did not present it would fail and show up as a second login.
    let mount = cert_auth(&bao, &pki, &policy, "3s").await;
    let backend = cert_backend(&pki, "client", "web", &mount).unwrap();
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    let stats = backend.auth_stats();
    assert_eq!(stats.logins, 1, "{stats:?}");
    assert!(stats.renewals >= 1, "{stats:?}");
}

#[tokio::test]
async fn vault_cert_untrusted_certificate_unknown_role_and_wrong_key_are_clear_errors() {
    let bao = Bao::tls_root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let pki = Pki::new();
    pki.client("client", "api.internal");
    pki.self_signed("stranger", "api.internal");
    let mount = cert_auth(&bao, &pki, &policy, "1h").await;

    // A certificate no CA of the role signed.
    let e = read_password(&cert_backend(&pki, "stranger", "web", &mount).unwrap(), &kv)
        .await
        .unwrap_err();
    assert_refused_login(
        &e,
        &mount,
        "web",
        &[&format!("auth/{mount}/certs/web"), "client_cert"],
    );

    // A trusted certificate, a role that does not exist.
    let e = cert_backend(&pki, "client", "nope", &mount)
        .unwrap()
        .login()
        .await
        .unwrap_err();
    assert_refused_login(&e, &mount, "nope", &[]);

    // The key of another certificate: refused before any call, naming the files.
    let mismatched = VaultBackend::new(tls_settings(AuthConfig::Cert {
        name: None,
        client_cert: Some(pki.path("client.pem")),
        client_key: Some(pki.path("stranger.key")),
        mount: mount.clone(),
    }));
    match mismatched {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Config, "{e}"),
        // rustls may only notice in the handshake: then the login fails.
        Ok(b) => {
            let e = b.login().await.unwrap_err();
            assert!(!e.is_retryable(), "{e}");
        }
    }

    // A missing key file is a config error naming it.
    let e = VaultBackend::new(tls_settings(AuthConfig::Cert {
        name: None,
        client_cert: Some(pki.path("client.pem")),
        client_key: Some(pki.path("absent.key")),
        mount,
    }))
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.message().contains("absent.key"), "{e}");
}

/// An AppRole at a fresh mount for `policy`; the role id and a secret id.
async fn approle(bao: &Bao, policy: &str) -> (String, String, String) {
    let mount = unique("approle");
    bao.enable_auth(&mount, "approle").await;
    let (role_id, secret_id) = bao
        .approle(
            &mount,
            "api",
            json!({ "token_policies": [policy], "token_ttl": "1h" }),
        )
        .await;
    (mount, role_id, secret_id)
}

#[tokio::test]
async fn vault_approle_role_id_file_and_secret_id_file_removed_after_reading() {
    let bao = Bao::root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let (mount, role_id, secret_id) = approle(&bao, &policy).await;
    let dir = tempfile::tempdir().unwrap();
    let role_id_file = write(dir.path(), "role-id", &format!("{role_id}\n"));
    let secret_id_file = write(dir.path(), "secret-id", &secret_id);
    let backend = VaultBackend::new(settings(AuthConfig::Approle {
        role_id: None,
        role_id_file: Some(role_id_file.clone()),
        secret_id_file: Some(secret_id_file.clone()),
        remove_secret_id_file_after_reading: true,
        mount: mount.clone(),
    }))
    .unwrap();

    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    assert!(
        !secret_id_file.exists(),
        "the secret id file was not removed"
    );
    assert!(role_id_file.exists(), "the role id file must stay");

    // The re-login after a revocation uses the secret id kept in memory.
    bao.revoke_logins(&mount).await;
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    assert_eq!(backend.auth_stats().logins, 2);

    // A new secret id written to the file replaces it (the old one is destroyed first, so
    // only the new one can log in).
    let fresh = bao
        .ok(
            "POST",
            &format!("auth/{mount}/role/api/secret-id"),
            Some(json!({})),
        )
        .await["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_owned();
    bao.ok(
        "POST",
        &format!("auth/{mount}/role/api/secret-id/destroy"),
        Some(json!({ "secret_id": secret_id })),
    )
    .await;
    write(dir.path(), "secret-id", &fresh);
    bao.revoke_logins(&mount).await;
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    assert_eq!(backend.auth_stats().logins, 3);
    assert!(!secret_id_file.exists());
}

/// What `bao token lookup` says about `token` on the plain dev server: `Ok(policies)` or the
/// CLI's error output.
fn bao_lookup(token: &str) -> Result<Vec<String>, String> {
    let out = Command::new(bao_bin())
        .args(["token", "lookup", "-format=json"])
        .env("VAULT_ADDR", vault_addr())
        .env("VAULT_TOKEN", token)
        .env_remove("VAULT_CACERT")
        .output()
        .expect("run bao token lookup");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("bao prints JSON");
    Ok(v["data"]["policies"]
        .as_array()
        .expect("data.policies")
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect())
}

fn sink_state(path: &Path) -> (String, u32, u64) {
    let meta = std::fs::metadata(path).expect("the token sink exists");
    (
        std::fs::read_to_string(path).unwrap(),
        meta.permissions().mode() & 0o777,
        meta.ino(),
    )
}

#[tokio::test]
async fn vault_token_sink_holds_the_current_token_and_is_replaced_on_relogin() {
    let bao = Bao::root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let (mount, role_id, secret_id) = approle(&bao, &policy).await;
    let dir = tempfile::tempdir().unwrap();
    let sink_dir = dir.path().join("sink");
    std::fs::create_dir(&sink_dir).unwrap();
    let sink = sink_dir.join("vault-token");
    let backend = VaultBackend::new(VaultSettings {
        token_sink: Some(TokenSink {
            path: sink.clone(),
            mode: 0o400,
        }),
        ..settings(AuthConfig::Approle {
            role_id: Some(role_id),
            role_id_file: None,
            secret_id_file: Some(write(dir.path(), "secret-id", &secret_id)),
            remove_secret_id_file_after_reading: false,
            mount: mount.clone(),
        })
    })
    .unwrap();

    // The backend logs in for the sink by itself, before anything is read.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !sink.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the token sink was not written without a read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(backend.auth_stats().logins, 1);
    let (first, mode, first_ino) = sink_state(&sink);
    assert_eq!(mode, 0o400);
    assert!(
        !first.ends_with('\n'),
        "the agent's sink holds the bare token"
    );
    let policies = bao_lookup(&first).expect("bao accepts the sink's token");
    assert!(policies.contains(&policy), "{policies:?}");

    // Reads and renewals keep the token: the file is not rewritten.
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    assert_eq!(sink_state(&sink).2, first_ino);

    // A re-login replaces the file (a new inode: renamed over, never rewritten in place).
    bao.revoke_logins(&mount).await;
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
    let (second, mode, second_ino) = sink_state(&sink);
    assert_ne!(second, first);
    assert_eq!(mode, 0o400);
    assert_ne!(second_ino, first_ino);
    assert!(bao_lookup(&second).is_ok(), "bao accepts the new token");
    assert!(bao_lookup(&first).is_err(), "the revoked token is dead");
    let names: Vec<_> = std::fs::read_dir(&sink_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["vault-token"], "no temporary file is left behind");
}

#[tokio::test]
async fn vault_cli_jwt_auth_and_token_sink_from_the_config_file() {
    let bao = Bao::root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let issuer = Issuer::new();
    let mount = jwt_auth(&bao, &issuer, "ci", "gha", &policy).await;
    let dir = tempfile::tempdir().unwrap();
    let jwt = issuer.jwt("gha", 600);
    write(dir.path(), "jwt", &jwt);
    let config = format!(
        r#"[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "jwt", role = "ci", jwt_file = "jwt", mount = "{mount}" }}
token_sink = {{ path = "vault-token", mode = "0440" }}

[default.envfiles.api]
vars.PASSWORD = "vault:{kv}/app#password"
"#,
        addr = vault_addr()
    );
    write(dir.path(), "envfile.toml", &config);
    let out = envfile_in(dir.path(), &["render", "api", "--format", "shell"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "render failed: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("pw-1"));
    assert!(!stderr.contains(&jwt));
    let (token, mode, _) = sink_state(&dir.path().join("vault-token"));
    assert_eq!(mode, 0o440);
    assert!(bao_lookup(&token).unwrap().contains(&policy));

    // The same config with a role that does not exist: exit 4 (authentication), a message
    // naming mount and role, and neither the JWT nor a token on the terminal.
    write(
        dir.path(),
        "envfile.toml",
        &config.replace("role = \"ci\"", "role = \"deploy\""),
    );
    let out = envfile_in(dir.path(), &["render", "api", "--format", "shell"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!("no role `deploy` at `auth/{mount}`")),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&jwt) && !stderr.contains(&token),
        "{stderr}"
    );
}

/// `bao token lookup -format=json` of `token`: the `data` object.
fn bao_lookup_data(token: &str) -> Value {
    let out = Command::new(bao_bin())
        .args(["token", "lookup", "-format=json"])
        .env("VAULT_ADDR", vault_addr())
        .env("VAULT_TOKEN", token)
        .env_remove("VAULT_CACERT")
        .output()
        .expect("run bao token lookup");
    assert!(
        out.status.success(),
        "bao token lookup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("bao prints JSON");
    v["data"].clone()
}

/// Run `bao agent` once (`exit_after_auth`) with a JWT auto-auth method and a file sink, the
/// way a user's agent config reads; its sink file and envfile's `token_sink` for the same JWT
/// login must look the same: a bare token with the mode asked for, whose `bao token lookup`
/// agrees on every field that describes the login.
#[tokio::test]
async fn vault_token_sink_matches_bao_agent_file_sink_for_a_jwt_login() {
    let bao = Bao::root();
    let (_kv, policy) = secret_and_policy(&bao).await;
    let issuer = Issuer::new();
    let mount = jwt_auth(&bao, &issuer, "ci", "gha", &policy).await;
    let dir = tempfile::tempdir().unwrap();
    let jwt_file = write(dir.path(), "jwt", &issuer.jwt("gha", 600));
    let agent_sink = dir.path().join("agent-token");
    let hcl = format!(
        "vault {{\n  address = \"{addr}\"\n}}\n\
         auto_auth {{\n  method \"jwt\" {{\n    mount_path = \"auth/{mount}\"\n    \
         config = {{\n      path = \"{jwt}\"\n      role = \"ci\"\n      \
         remove_jwt_after_reading = false\n    }}\n  }}\n  \
         sink \"file\" {{\n    config = {{\n      path = \"{sink}\"\n      mode = 256\n    }}\n  }}\n}}\n\
         exit_after_auth = true\n",
        addr = vault_addr(),
        jwt = jwt_file.display(),
        sink = agent_sink.display(),
    );
    let config = write(dir.path(), "agent.hcl", &hcl);
    let mut agent = Command::new(bao_bin());
    agent
        .arg("agent")
        .arg(format!("-config={}", config.display()))
        .stdin(std::process::Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("BAO_") {
            agent.env_remove(k);
        }
    }
    // `exit_after_auth`: the agent logs in, writes the sink and exits.
    let out = tokio::task::spawn_blocking(move || agent.output())
        .await
        .unwrap()
        .expect("run bao agent");
    assert!(
        out.status.success(),
        "bao agent: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let ours = dir.path().join("envfile-token");
    let backend = VaultBackend::new(VaultSettings {
        token_sink: Some(TokenSink {
            path: ours.clone(),
            mode: 0o400,
        }),
        ..settings(AuthConfig::Jwt {
            role: Some("ci".into()),
            jwt_file: Some(jwt_file),
            jwt_env: None,
            mount: mount.clone(),
        })
    })
    .unwrap();
    backend.login().await.unwrap();

    let (agent_token, agent_mode, _) = sink_state(&agent_sink);
    let (our_token, our_mode, _) = sink_state(&ours);
    assert_eq!(our_mode, agent_mode, "the same mode for the same setting");
    assert_ne!(our_token, agent_token, "two logins, two tokens");
    for (who, t) in [("agent", &agent_token), ("envfile", &our_token)] {
        assert_eq!(t.trim(), t.as_str(), "{who}: a bare token, no whitespace");
    }
    let (a, e) = (bao_lookup_data(&agent_token), bao_lookup_data(&our_token));
    for field in [
        "path",
        "policies",
        "meta",
        "display_name",
        "entity_id",
        "renewable",
        "type",
        "creation_ttl",
        "num_uses",
    ] {
        assert_eq!(e[field], a[field], "token lookup field `{field}` differs");
    }
    assert_eq!(e["path"], json!(format!("auth/{mount}/login")));
}

#[tokio::test]
async fn vault_token_sink_that_cannot_be_written_fails_the_first_login_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let root = envfile_tests::env::vault_root_token();
    let backend = VaultBackend::new(VaultSettings {
        token_sink: Some(TokenSink {
            path: dir.path().join("missing-dir/vault-token"),
            mode: 0o400,
        }),
        ..settings(AuthConfig::Token {
            token_file: Some(write(dir.path(), "token", &root)),
        })
    })
    .unwrap();
    let e = backend.login().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("missing-dir/vault-token"), "{e}");
    assert!(e.hint().unwrap().contains("token_sink"), "{e}");
    assert_not_shown(&e, &root);
}

#[tokio::test]
async fn vault_approle_without_a_secret_id_for_a_role_that_binds_none() {
    let bao = Bao::root();
    let (kv, policy) = secret_and_policy(&bao).await;
    let mount = unique("approle");
    bao.enable_auth(&mount, "approle").await;
    // Vault wants some other constraint on a role without a secret id: the loopback CIDR.
    bao.ok(
        "POST",
        &format!("auth/{mount}/role/batch"),
        Some(json!({
            "bind_secret_id": false,
            "secret_id_bound_cidrs": ["127.0.0.1/32"],
            "token_policies": [policy],
        })),
    )
    .await;
    let role_id = bao
        .ok("GET", &format!("auth/{mount}/role/batch/role-id"), None)
        .await["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let backend = VaultBackend::new(settings(AuthConfig::Approle {
        role_id: None,
        role_id_file: Some(write(dir.path(), "role-id", &role_id)),
        secret_id_file: None,
        remove_secret_id_file_after_reading: false,
        mount,
    }))
    .unwrap();
    assert_eq!(read_password(&backend, &kv).await.unwrap(), "pw-1");
}
