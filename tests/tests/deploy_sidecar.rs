//! The Kubernetes sidecar of deploy/kubernetes/deployment-sidecar.yaml, run as the pod runs it:
//! `envfile serve` with the shipped config/vault-k8s.toml (socket-only broker, the `api` sink),
//! logging in to the real OpenBao with the Kubernetes auth method (TokenReview answered by
//! [`FakeTokenReview`], as in vault_cli.rs), probed by `envfile ready` over the socket the way
//! the pod's exec probes do, and the sink sourced by the app's command under dash.
//!
//! Only paths and the Vault mount are rewritten (the pod's /vault/secrets and /run/envfile become
//! temp dirs; a unique KV mount keeps parallel tests apart); address, JWT file and auth mount
//! come in through `ENVFILE_` overrides as in vault_cli.rs.

use envfile_tests::bao::{Bao, FakeServiceAccount, FakeTokenReview};
use envfile_tests::conformance::secret_text;
use envfile_tests::env::{envfile_bin, unique, vault_addr};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn envfile(dir: &Path) -> Command {
    let mut c = Command::new(envfile_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("ENVFILE_") {
            c.env_remove(k);
        }
    }
    c.current_dir(dir).stdin(Stdio::null());
    c
}

fn ready(dir: &Path, args: &[&str]) -> Output {
    envfile(dir).arg("ready").args(args).output().unwrap()
}

/// Stops the broker if the test fails half-way.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sidecar_starts_becomes_ready_and_writes_the_sink() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let shipped = std::fs::read_to_string(root.join("config/vault-k8s.toml")).unwrap();
    let manifest =
        std::fs::read_to_string(root.join("deploy/kubernetes/deployment-sidecar.yaml")).unwrap();
    // The probe and the app command this test runs are the manifest's.
    let probe =
        "[\"/usr/local/bin/envfile\", \"ready\", \"--socket\", \"/run/envfile/broker.sock\"]";
    assert!(manifest.contains(probe), "the sidecar's probe changed");
    let app_cmd = ". /vault/secrets/api && exec uvicorn";
    assert!(manifest.contains(app_cmd), "the app command changed");

    let mount = unique("ml-incident");
    let bao = Bao::root();
    bao.enable_kv(&mount, 2).await;
    let jwt_secret_key = secret_text("jwt");
    let database_url = secret_text("db");
    bao.kv_put(
        &mount,
        2,
        "prod/api",
        &json!({ "jwt_secret_key": jwt_secret_key, "database_url": database_url, "redis_url": "rediss://r:6380/0" }),
    )
    .await;
    let policy = unique("ml-incident-api");
    let hcl = std::fs::read_to_string(root.join("deploy/kubernetes/vault-policy-ml-incident.hcl"))
        .unwrap()
        .replace("\"ml-incident/", &format!("\"{mount}/"));
    bao.put_policy(&policy, &hcl).await;
    let fake = FakeTokenReview::start();
    let jwt = fake.admit(FakeServiceAccount {
        namespace: "production".into(),
        name: "ml-incident-api".into(),
        uid: "7d4b1c52-0000-4000-8000-000000000003".into(),
    });
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
    let d = dir.path();
    for sub in ["vault-secrets", "run-envfile"] {
        std::fs::create_dir(d.join(sub)).unwrap();
    }
    let sink = d.join("vault-secrets/api");
    let socket = d.join("run-envfile/broker.sock");
    let config = shipped
        .replace("/vault/secrets/api", &sink.to_string_lossy())
        .replace("/run/envfile/broker.sock", &socket.to_string_lossy())
        .replace("\"vault:ml-incident/", &format!("\"vault:{mount}/"));
    assert_ne!(config, shipped);
    std::fs::write(d.join("envfile.toml"), &config).unwrap();
    std::fs::write(d.join("sa-token"), jwt).unwrap();
    let sock = socket.to_string_lossy().into_owned();

    // No broker yet: the probe fails (exit 3, retryable) and says where it looked.
    let out = ready(d, &["--socket", &sock]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&sock));

    let mut child = envfile(d)
        .args(["--config", "envfile.toml", "serve"])
        .env("ENVFILE_BACKENDS__VAULT__ADDRESS", vault_addr())
        .env(
            "ENVFILE_BACKENDS__VAULT__AUTH__JWT_FILE",
            d.join("sa-token"),
        )
        .env("ENVFILE_BACKENDS__VAULT__AUTH__MOUNT", &auth_mount)
        .env("ENVFILE_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let serve = Serve(child);
    // The broker prints where it serves; it must be the socket only (no TCP, so no token).
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().expect("serve exited").unwrap();
    assert_eq!(first, format!("envfile: serving on unix:{sock}"));
    let log = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = ready(d, &["--socket", &sock]);
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never ready: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The other probes: liveness, and the socket taken from the config's [broker].
    assert!(ready(d, &["--live", "--socket", &sock]).status.success());
    let out = envfile(d)
        .args(["--config", "envfile.toml", "ready"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // The sink: written before readiness, 0400, and the app's command (under dash) sees it.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sink).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o400);
    let script = app_cmd
        .replace("/vault/secrets/api", &sink.to_string_lossy())
        .replace("exec uvicorn", "exec printenv JWT_SECRET_KEY DATABASE_URL");
    let app = Command::new("dash")
        .args(["-c", &script])
        .env_clear()
        .output()
        .unwrap();
    assert!(app.status.success(), "dash could not source the sink");
    let want = format!("{jwt_secret_key}\n{database_url}\n");
    assert!(
        app.stdout == want.as_bytes(),
        "the sourced variables differ ({} bytes, want {})",
        app.stdout.len(),
        want.len()
    );

    // SIGTERM: the broker drains and exits 0, the socket is gone, and the probe fails again.
    let mut serve = serve;
    nix_kill(serve.0.id());
    let status = serve.0.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!socket.exists());
    assert_eq!(ready(d, &["--socket", &sock]).status.code(), Some(3));
    let log = log.join().unwrap();
    for line in &log {
        assert!(
            !line.contains(jwt_secret_key.as_str()) && !line.contains(database_url.as_str()),
            "a secret value reached the log"
        );
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["message"].is_string(), "{line}");
    }
}

fn nix_kill(pid: u32) {
    let st = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}
