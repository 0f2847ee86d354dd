//! `envfile render` with a `vault` backend against the real OpenBao dev server: the runbook's
//! least-privilege policy (only `MOUNT/data/prod/api`), the rendered file `source`d the way the
//! runbook's container command does, and PermissionDenied (exit 4, with the policy hint) for any
//! other path.

use envfile_tests::bao::{envfile_in, Bao};
use envfile_tests::conformance::secret_text;
use envfile_tests::env::{envfile_bin, unique, vault_addr};
use serde_json::json;
use std::path::Path;
use std::process::Command;

#[tokio::test]
async fn vault_cli_policy_allows_only_the_runbook_path() {
    let bao = Bao::root();
    let mount = unique("ml-incident");
    bao.enable_kv(&mount, 2).await;
    let jwt_secret_key = secret_text("jwt");
    let database_url = "postgresql+asyncpg://appuser:PASS@pg-host:5432/incidents";
    bao.kv_put(
        &mount,
        2,
        "prod/api",
        &json!({
            "jwt_secret_key": jwt_secret_key,
            "database_url": database_url,
            "redis_url": "rediss://:PASS@redis-host:6380/0",
        }),
    )
    .await;
    bao.kv_put(
        &mount,
        2,
        "prod/other",
        &json!({ "x": secret_text("other") }),
    )
    .await;
    let policy = unique("ml-incident-api");
    bao.put_policy(
        &policy,
        &format!("path \"{mount}/data/prod/api\" {{ capabilities = [\"read\"] }}\n"),
    )
    .await;
    let token = bao.create_token(&[&policy], json!({ "ttl": "1h" })).await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), &token).unwrap();
    let config = format!(
        r#"[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "token", token_file = "token" }}

[default.envfiles.api]
vars.JWT_SECRET_KEY = "vault:{mount}/data/prod/api#jwt_secret_key"
vars.DATABASE_URL = "vault:{mount}/prod/api#database_url"

[default.envfiles.other]
vars.X = "vault:{mount}/data/prod/other#x"
"#,
        addr = vault_addr()
    );
    std::fs::write(dir.path().join("envfile.toml"), config).unwrap();

    // Render once, as the init container does, then `source … && exec` as the app container does.
    let out = envfile_in(
        dir.path(),
        &[
            "render", "api", "--format", "shell", "--out", "api", "--mode", "0400",
        ],
    );
    assert!(
        out.status.success(),
        "render api failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let app = Command::new("bash")
        .current_dir(dir.path())
        .args([
            "-c",
            "source ./api && exec printenv JWT_SECRET_KEY DATABASE_URL",
        ])
        .env_clear()
        .output()
        .expect("bash");
    assert!(app.status.success(), "sourcing the rendered file failed");
    let want = format!("{jwt_secret_key}\n{database_url}\n");
    assert!(
        app.stdout == want.as_bytes(),
        "the sourced variables differ ({} bytes, want {})",
        app.stdout.len(),
        want.len()
    );

    let out = envfile_in(dir.path(), &["render", "other", "--format", "shell"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "render other: {stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(
        stderr.contains(&format!("`read` on `{mount}/data/prod/other`")),
        "the hint names the path and capability: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing is rendered on failure");
    assert!(
        !stderr.contains(&token),
        "the token leaked into the error output"
    );
}

/// The shipped Kubernetes example, end to end: config/vault-k8s.toml as the init container runs
/// it (kubernetes auth with a service-account JWT, the runbook's `ml-incident` KV v2 layout), the
/// address, JWT file and auth mount pointed at the test server by `ENVFILE_` overrides, OpenBao's
/// TokenReview answered by [`FakeTokenReview`]. Then the app container's command, unchanged.
#[tokio::test]
async fn vault_cli_k8s_example_config_renders_what_the_app_sources() {
    use envfile_tests::bao::{FakeServiceAccount, FakeTokenReview};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shipped = std::fs::read_to_string(root.join("config/vault-k8s.toml")).unwrap();

    // The ConfigMap carries the same file.
    let configmap = std::fs::read_to_string(root.join("deploy/kubernetes/configmap.yaml")).unwrap();
    let embedded: String = configmap
        .split_once("envfile.toml: |\n")
        .expect("configmap has envfile.toml")
        .1
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    assert!(
        embedded == shipped,
        "deploy/kubernetes/configmap.yaml is out of sync with config/vault-k8s.toml"
    );

    let fake = FakeTokenReview::start();
    let jwt = fake.admit(FakeServiceAccount {
        namespace: "production".into(),
        name: "ml-incident-api".into(),
        uid: "7d4b1c52-0000-4000-8000-000000000002".into(),
    });
    let bao = Bao::root();
    // The example names the runbook's mount literally; only this test uses it.
    let (code, _) = bao
        .call(
            "POST",
            "sys/mounts/ml-incident",
            Some(json!({ "type": "kv", "options": { "version": "2" } })),
        )
        .await;
    assert!(code == 204 || code == 400, "mounting ml-incident: {code}");
    let jwt_secret_key = secret_text("jwt");
    let database_url = secret_text("db");
    let redis_url = "rediss://:PASS@redis-host:6380/0";
    bao.kv_put(
        "ml-incident",
        2,
        "prod/api",
        &json!({ "jwt_secret_key": jwt_secret_key, "database_url": database_url, "redis_url": redis_url }),
    )
    .await;
    let policy = unique("ml-incident-api");
    bao.put_policy(
        &policy,
        &std::fs::read_to_string(root.join("deploy/kubernetes/vault-policy-ml-incident.hcl"))
            .unwrap(),
    )
    .await;
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
    std::fs::write(dir.path().join("envfile.toml"), &shipped).unwrap();
    let jwt_file = dir.path().join("sa-token");
    std::fs::write(&jwt_file, jwt).unwrap();
    let secrets = dir.path().join("vault-secrets");
    std::fs::create_dir(&secrets).unwrap();
    let out_file = secrets.join("api");

    // The init container's arguments from deploy/kubernetes/deployment.yaml.
    let mut render = Command::new(envfile_bin());
    render
        .current_dir(dir.path())
        .args([
            "--config",
            "envfile.toml",
            "render",
            "api",
            "--format",
            "shell",
            "--out",
        ])
        .arg(&out_file)
        .args(["--mode", "0400"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("ENVFILE_") {
            render.env_remove(k);
        }
    }
    let out = render
        .env("ENVFILE_BACKENDS__VAULT__ADDRESS", vault_addr())
        .env("ENVFILE_BACKENDS__VAULT__AUTH__JWT_FILE", &jwt_file)
        .env("ENVFILE_BACKENDS__VAULT__AUTH__MOUNT", &auth_mount)
        .output()
        .expect("run envfile");
    assert!(
        out.status.success(),
        "render failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fake.reviews() >= 1,
        "the login went through the TokenReview fake"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o400);

    // The app container's command from the runbook, with `uvicorn` replaced by printenv.
    let app = Command::new("bash")
        .args([
            "-c",
            &format!(
                "source {} && exec printenv JWT_SECRET_KEY DATABASE_URL REDIS_URL",
                out_file.display()
            ),
        ])
        .env_clear()
        .output()
        .expect("bash");
    assert!(app.status.success(), "sourcing the rendered file failed");
    let want = format!("{jwt_secret_key}\n{database_url}\n{redis_url}\n");
    assert!(
        app.stdout == want.as_bytes(),
        "the sourced variables differ ({} bytes, want {})",
        app.stdout.len(),
        want.len()
    );
}
