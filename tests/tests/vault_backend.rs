//! The `vault` backend against a real OpenBao dev server (started by `scripts/test`): the
//! conformance suite on KV v2 and KV v1, the runbook's KV layout, token / AppRole / Kubernetes
//! auth, renewal and re-login. Kubernetes auth talks to [`FakeTokenReview`], a fake of the one
//! Kubernetes API call OpenBao makes, because no API server runs here.

use envfile_core::retry::RetryPolicy;
use envfile_core::{Backend, ErrorKind, Locator};
use envfile_tests::bao::{settings, Bao, FakeServiceAccount, FakeTokenReview, KvSeeder, OnMount};
use envfile_tests::conformance;
use envfile_tests::env::unique;
use envfile_vault::{AuthConfig, KvVersion, VaultBackend};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A temp file holding `content` (a token, a secret id, a JWT).
fn credential_file(dir: &tempfile::TempDir, name: &str, content: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, content).expect("write credential file");
    p
}

fn token_backend(dir: &tempfile::TempDir, token: &str) -> VaultBackend {
    let file = credential_file(dir, "token", token);
    VaultBackend::new(settings(AuthConfig::Token {
        token_file: Some(file),
    }))
    .expect("backend")
}

fn root_backend(dir: &tempfile::TempDir) -> VaultBackend {
    token_backend(dir, &envfile_tests::env::vault_root_token())
}

/// The runbook's layout (Path B): a KV v2 mount with `prod/api` holding three keys.
async fn runbook_mount(bao: &Bao) -> String {
    let mount = unique("ml-incident");
    bao.enable_kv(&mount, 2).await;
    bao.kv_put(
        &mount,
        2,
        "prod/api",
        &json!({
            "jwt_secret_key": conformance::secret_text("jwt"),
            "database_url": "postgresql+asyncpg://appuser:PASS@pg-host:5432/incidents",
            "redis_url": "rediss://:PASS@redis-host:6380/0",
        }),
    )
    .await;
    mount
}

fn runbook_policy(mount: &str) -> String {
    format!("path \"{mount}/data/prod/api\" {{ capabilities = [\"read\"] }}\n")
}

async fn get_json(backend: &VaultBackend, path: &str) -> serde_json::Value {
    let f = backend
        .get(&Locator::new(path))
        .await
        .unwrap_or_else(|e| panic!("get {path}: {e}"));
    f.value
        .parse_json()
        .expect("KV data is JSON")
        .expose()
        .clone()
}

#[tokio::test]
async fn vault_conformance_kv_v2() {
    let dir = tempfile::tempdir().unwrap();
    let backend = root_backend(&dir);
    let seeder = KvSeeder::new(2).await;
    conformance::run_all(&backend, &seeder).await;
}

#[tokio::test]
async fn vault_conformance_kv_v1() {
    let dir = tempfile::tempdir().unwrap();
    let backend = OnMount {
        inner: root_backend(&dir),
        version: KvVersion::V1,
    };
    let seeder = KvSeeder::new(1).await;
    conformance::run_all(&backend, &seeder).await;
}

#[tokio::test]
async fn vault_kv_v2_paths_with_and_without_data_segment_versions_and_metadata() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = root_backend(&dir);

    let with = get_json(&backend, &format!("{mount}/data/prod/api")).await;
    let without = get_json(&backend, &format!("{mount}/prod/api")).await;
    assert!(with == without, "the two spellings read different data");
    let mut keys: Vec<_> = with.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["database_url", "jwt_secret_key", "redis_url"]);
    assert_eq!(
        backend
            .kv_version(&format!("{mount}/prod/api"))
            .await
            .unwrap(),
        KvVersion::V2
    );

    bao.kv_put(
        &mount,
        2,
        "prod/api",
        &json!({ "jwt_secret_key": "second" }),
    )
    .await;
    let loc = Locator::new(format!("{mount}/prod/api"));
    let latest = backend.get(&loc).await.unwrap();
    assert_eq!(latest.version.as_deref(), Some("2"));
    assert_eq!(
        backend.current_version(&loc).await.unwrap().as_deref(),
        Some("2")
    );
    let v1 = backend
        .get(&Locator {
            version: Some("1".into()),
            path: format!("{mount}/data/prod/api"),
            ..Locator::default()
        })
        .await
        .unwrap();
    assert_eq!(v1.version.as_deref(), Some("1"));
    let v1 = v1.value.parse_json().unwrap();
    assert!(
        v1.expose()["redis_url"].is_string(),
        "version 1 has all three keys"
    );

    let e = backend
        .get(&Locator {
            version: Some("latest".into()),
            ..loc.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRef, "{e}");
}

#[tokio::test]
async fn vault_kv_v1_reads_data_and_refuses_version_pins() {
    let bao = Bao::root();
    let mount = unique("kv1");
    bao.enable_kv(&mount, 1).await;
    bao.kv_put(&mount, 1, "prod/api", &json!({ "k": "v" }))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let backend = root_backend(&dir);
    let loc = Locator::new(format!("{mount}/prod/api"));
    assert!(get_json(&backend, &loc.path).await == json!({ "k": "v" }));
    assert_eq!(backend.current_version(&loc).await.unwrap(), None);
    let e = backend
        .get(&Locator {
            version: Some("1".into()),
            ..loc
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("KV v1"), "{e}");
}

#[tokio::test]
async fn vault_not_found_hint_and_unknown_mount() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = root_backend(&dir);
    let e = backend
        .get(&Locator::new(format!("{mount}/data/prod/nope")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let hint = e.hint().expect("a hint");
    assert!(
        hint.contains(&format!("{mount}/")) && hint.contains("data/"),
        "{hint}"
    );

    let e = backend
        .get(&Locator::new(format!("{}/x", unique("no-such-mount"))))
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied),
        "{e}"
    );
    assert!(!e.is_retryable(), "{e}");
}

#[tokio::test]
async fn vault_unreachable_server_is_retryable_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(AuthConfig::Token {
        token_file: Some(credential_file(&dir, "t", "whatever")),
    });
    s.address = format!("http://127.0.0.1:{port}");
    let backend = VaultBackend::new(s)
        .unwrap()
        .with_retry(RetryPolicy::none());
    let e = backend.get(&Locator::new("kv/x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.is_retryable());
}

#[tokio::test]
async fn vault_token_file_is_reread_after_revocation_and_a_dead_token_is_unauthenticated() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let policy = unique("pol");
    bao.put_policy(&policy, &runbook_policy(&mount)).await;
    let first = bao.create_token(&[&policy], json!({ "ttl": "1h" })).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = token_backend(&dir, &first);
    let path = format!("{mount}/data/prod/api");
    get_json(&backend, &path).await;

    bao.ok("POST", "auth/token/revoke", Some(json!({ "token": first })))
        .await;
    let second = bao.create_token(&[&policy], json!({ "ttl": "1h" })).await;
    credential_file(&dir, "token", &second);
    get_json(&backend, &path).await;
    assert_eq!(
        backend.auth_stats().logins,
        2,
        "the token file was re-read once"
    );

    bao.ok(
        "POST",
        "auth/token/revoke",
        Some(json!({ "token": second })),
    )
    .await;
    let e = backend.get(&Locator::new(&path)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    for text in [e.to_string(), format!("{e:?}"), format!("{backend:?}")] {
        assert!(
            !text.contains(&first) && !text.contains(&second),
            "a token leaked into an error or Debug"
        );
    }
}

#[tokio::test]
async fn vault_periodic_token_is_renewed_past_its_ttl() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let policy = unique("pol");
    bao.put_policy(&policy, &runbook_policy(&mount)).await;
    let token = bao
        .create_token(&[&policy], json!({ "period": "3s" }))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let backend = token_backend(&dir, &token);
    reads_renewing_one_login(&backend, &mount).await;
}

/// Reads the runbook secret every 300ms for 8s, every read succeeding, with a token that lives
/// 3s: the one login's token must have been renewed (at least twice), never replaced.
async fn reads_renewing_one_login(backend: &VaultBackend, mount: &str) {
    let path = format!("{mount}/prod/api");
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(8) {
        get_json(backend, &path).await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(n > 10);
    let stats = backend.auth_stats();
    assert_eq!(
        stats.logins, 1,
        "the token was renewed, not replaced by a new login: {stats:?}"
    );
    assert!(
        stats.renewals >= 2,
        "expected renewals across 8s of a 3s token: {stats:?}"
    );
}

async fn approle_setup(
    bao: &Bao,
    mount: &str,
    role_settings: serde_json::Value,
) -> (String, String) {
    let auth_mount = unique("approle");
    bao.enable_auth(&auth_mount, "approle").await;
    let policy = unique("pol");
    bao.put_policy(&policy, &runbook_policy(mount)).await;
    let mut role = json!({ "token_policies": [policy] });
    role.as_object_mut()
        .unwrap()
        .extend(role_settings.as_object().unwrap().clone());
    let (role_id, secret_id) = bao.approle(&auth_mount, "ml-incident-api", role).await;
    (auth_mount, format!("{role_id}\n{secret_id}"))
}

fn approle_backend(dir: &tempfile::TempDir, auth_mount: &str, ids: &str) -> VaultBackend {
    let (role_id, secret_id) = ids.split_once('\n').unwrap();
    VaultBackend::new(settings(AuthConfig::Approle {
        role_id: Some(role_id.into()),
        role_id_file: None,
        secret_id_file: Some(credential_file(dir, "secret-id", secret_id)),
        remove_secret_id_file_after_reading: false,
        mount: auth_mount.into(),
    }))
    .unwrap()
}

#[tokio::test]
async fn vault_approle_login_and_relogin_after_the_token_is_revoked() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let (auth_mount, ids) = approle_setup(&bao, &mount, json!({ "token_ttl": "1h" })).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = approle_backend(&dir, &auth_mount, &ids);
    let path = format!("{mount}/data/prod/api");
    get_json(&backend, &path).await;
    assert_eq!(backend.auth_stats().logins, 1);

    bao.revoke_logins(&auth_mount).await;
    get_json(&backend, &path).await;
    assert_eq!(
        backend.auth_stats().logins,
        2,
        "one re-login after the revocation"
    );

    let secret_id = ids.split_once('\n').unwrap().1;
    let text = format!("{backend:?}");
    assert!(!text.contains(secret_id), "the secret id leaked into Debug");
}

#[tokio::test]
async fn vault_approle_token_is_renewed_before_its_short_ttl_runs_out() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let (auth_mount, ids) = approle_setup(
        &bao,
        &mount,
        json!({ "token_ttl": "3s", "token_max_ttl": "10m" }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let backend = approle_backend(&dir, &auth_mount, &ids);
    reads_renewing_one_login(&backend, &mount).await;
}

#[tokio::test]
async fn vault_wrong_secret_id_is_unauthenticated_with_a_hint() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let (auth_mount, ids) = approle_setup(&bao, &mount, json!({})).await;
    let role_id = ids.split_once('\n').unwrap().0;
    let dir = tempfile::tempdir().unwrap();
    let backend = approle_backend(&dir, &auth_mount, &format!("{role_id}\nnot-the-secret-id"));
    let e = backend
        .get(&Locator::new(format!("{mount}/prod/api")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(e.hint().unwrap().contains("secret_id_file"), "{e}");
}

#[tokio::test]
async fn vault_kubernetes_auth_against_the_fake_tokenreview() {
    let fake = FakeTokenReview::start();
    let account = FakeServiceAccount {
        namespace: "production".into(),
        name: "ml-incident-api".into(),
        uid: "3c8a3c0e-0000-4000-8000-000000000001".into(),
    };
    let jwt = fake.admit(account.clone());

    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    let policy = unique("pol");
    bao.put_policy(&policy, &runbook_policy(&mount)).await;
    let auth_mount = bao
        .kubernetes_auth(
            &fake,
            "ml-incident-api",
            "production",
            "ml-incident-api",
            &policy,
        )
        .await;

    let dir = tempfile::tempdir().unwrap();
    // Both log in as the one role; `file` only keeps their token files apart.
    let k8s = |jwt: &str, file: &str| {
        VaultBackend::new(settings(AuthConfig::Kubernetes {
            role: "ml-incident-api".into(),
            jwt_file: credential_file(&dir, &format!("jwt-{file}"), jwt),
            mount: auth_mount.clone(),
        }))
        .unwrap()
    };
    let backend = k8s(&jwt, "pod");
    let data = get_json(&backend, &format!("{mount}/data/prod/api")).await;
    assert!(data["database_url"].is_string());
    assert!(fake.reviews() >= 1, "OpenBao asked the fake TokenReview");

    // A service account the fake does not vouch for is refused.
    let stranger = FakeServiceAccount {
        name: "someone-else".into(),
        ..account
    };
    let backend = k8s(&stranger.jwt(), "stranger");
    let e = backend
        .get(&Locator::new(format!("{mount}/prod/api")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(
        e.hint().unwrap().contains("bound_service_account_names"),
        "{e}"
    );
}

#[tokio::test]
async fn vault_policy_allows_only_the_runbook_path() {
    let bao = Bao::root();
    let mount = runbook_mount(&bao).await;
    bao.kv_put(&mount, 2, "prod/other", &json!({ "x": "y" }))
        .await;
    let policy = unique("pol");
    bao.put_policy(&policy, &runbook_policy(&mount)).await;
    let token = bao.create_token(&[&policy], json!({ "ttl": "1h" })).await;
    let dir = tempfile::tempdir().unwrap();
    let backend = token_backend(&dir, &token);
    get_json(&backend, &format!("{mount}/prod/api")).await;
    let e = backend
        .get(&Locator::new(format!("{mount}/prod/other")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    let hint = e.hint().unwrap();
    assert!(
        hint.contains(&format!("`read` on `{mount}/data/prod/other`")),
        "{hint}"
    );
    assert_eq!(
        backend.auth_stats().logins,
        1,
        "a policy denial is not a reason to log in again"
    );
    // Metadata is not in the policy: version probes fall back to full reads.
    assert_eq!(
        backend
            .current_version(&Locator::new(format!("{mount}/prod/api")))
            .await
            .unwrap(),
        None
    );
}
