//! The broker over time: rotation reaches long-polls and sinks within the TTL, a stopped backend
//! is covered by stale values until max_stale and then fails loudly, a restarted backend is
//! picked up without restarting the broker, and reloads swap configs (a broken one is refused).

mod broker_support;

use broker_support::*;
use envfile_tests::env::unique;
use envfile_tests::moto;
use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn canary() -> &'static str {
    envfile_tests::conformance::canary()
}

/// Replace the file store atomically, as an operator's tooling would.
fn write_store(dir: &Path, v: serde_json::Value) {
    let tmp = dir.join(".store.json.tmp");
    std::fs::write(&tmp, v.to_string()).unwrap();
    std::fs::rename(tmp, dir.join("store.json")).unwrap();
}

async fn eventually<F, Fut>(what: &str, limit: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {limit:?} waiting for: {what}");
}

/// After one rotation: the sink holds `expected`, was replaced by a rename (a new inode, not
/// `before`) with its mode kept, the on-change command (which appends a line to `ran`) ran once
/// more — two lines in all — and refreshes that find the same version afterwards rewrite
/// nothing, run nothing and leave no temp files next to the sink.
async fn sink_replaced_once(sink: &Path, before: u64, expected: &str, mode: u32, ran: &Path) {
    eventually(
        "the sink to hold the new value",
        Duration::from_secs(5),
        || async { std::fs::read(sink).is_ok_and(|s| contains(&s, expected)) },
    )
    .await;
    let after = std::fs::metadata(sink).unwrap();
    assert_ne!(
        before,
        after.ino(),
        "the sink was rewritten in place, not renamed"
    );
    assert_eq!(after.permissions().mode() & 0o777, mode);
    eventually("the on-change command", Duration::from_secs(5), || async {
        std::fs::read_to_string(ran).is_ok_and(|s| s.lines().count() == 2)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        std::fs::read_to_string(ran).unwrap().lines().count(),
        2,
        "the command ran again without a change"
    );
    assert_eq!(
        std::fs::metadata(sink).unwrap().ino(),
        after.ino(),
        "unchanged content was rewritten"
    );
    let leftovers = std::fs::read_dir(sink.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1, "temp files left next to the sink");
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_rotation_reaches_the_long_poll_and_the_sink_within_the_ttl() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "app/key": format!("v1-{}", canary()) }));
    let sink = dir.path().join("out").join("app.env");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let ran = dir.path().join("ran");
    let rest = format!(
        r#"
[default.envfiles.app]
vars.KEY = "file:app/key"
[default.broker]
ttl = "1s"
max_stale = "10s"
[[default.sinks]]
envfile = "app"
path = "{sink}"
format = "shell"
mode = "0400"
command = "echo ran >> {ran}"
"#,
        sink = sink.display(),
        ran = ran.display()
    );
    let b = Arc::new(start(setup_from(&file_config(dir.path(), &rest)).await, None).await);
    wait_ready(&b).await;
    let first = b.get("/v1/envfiles/app?format=shell").await;
    assert_eq!(first.status, 200);
    let etag1 = first.header("etag").unwrap().to_owned();
    eventually(
        "the first sink write and its command",
        Duration::from_secs(5),
        || async { std::fs::read_to_string(&ran).is_ok_and(|s| s.lines().count() == 1) },
    )
    .await;
    let meta1 = std::fs::metadata(&sink).unwrap();
    assert_eq!(meta1.permissions().mode() & 0o777, 0o400);
    assert!(
        std::fs::read(&sink).unwrap() == first.body,
        "the sink holds the served bytes"
    );

    // A long-poll with the current ETag blocks…
    let poll = {
        let b = b.clone();
        let etag1 = etag1.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            let r = http(
                Via::Tcp(b.tcp),
                "/v1/envfiles/app?format=shell&wait=30s",
                &[("X-Envfile-Token", TOKEN), ("If-None-Match", &etag1)],
            )
            .await;
            (r, t.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !poll.is_finished(),
        "the long-poll returned before anything changed"
    );
    // …until the secret rotates; then it returns the new content within the TTL.
    let rotated_at = Instant::now();
    write_store(dir.path(), json!({ "app/key": format!("v2-{}", canary()) }));
    let (r, _) = poll.await.unwrap();
    let took = rotated_at.elapsed();
    assert_eq!(r.status, 200, "{r:?}");
    let etag2 = r.header("etag").unwrap().to_owned();
    assert_ne!(etag1, etag2);
    assert!(contains(&r.body, &format!("v2-{}", canary())));
    assert!(
        took < Duration::from_millis(1500),
        "rotation took {took:?} to reach the long-poll (ttl 1s)"
    );

    // The sink was replaced by a rename (new inode), holds the new bytes, and the command ran
    // once more — and only once.
    sink_replaced_once(&sink, meta1.ino(), &format!("v2-{}", canary()), 0o400, &ran).await;

    // A long-poll with the new ETag times out with 304.
    let r = http(
        Via::Tcp(b.tcp),
        "/v1/envfiles/app?format=shell&wait=300ms",
        &[("X-Envfile-Token", TOKEN), ("If-None-Match", &etag2)],
    )
    .await;
    assert_eq!(r.status, 304);
    Arc::try_unwrap(b).ok().expect("sole owner").stop().await;
}

/// A moto server of our own, so this test can stop and restart it.
struct OwnMoto {
    child: tokio::process::Child,
    port: u16,
}

impl OwnMoto {
    async fn start(port: u16) -> Self {
        let venv = std::env::var("ENVFILE_TEST_VENV")
            .expect("ENVFILE_TEST_VENV (run through scripts/test)");
        let child = tokio::process::Command::new(Path::new(&venv).join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start moto_server");
        let m = Self { child, port };
        eventually("moto to listen", Duration::from_secs(30), || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        m
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_a_stopped_backend_is_covered_until_max_stale_then_fails_loudly_and_recovers() {
    moto::dummy_credentials_in_env();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let m = OwnMoto::start(port).await;
    let name = unique("broker/stale");
    let value = format!("stale-{}", canary());
    moto::put_secret(
        &moto::sdk_client_at(&m.url(), moto::REGION),
        &name,
        value.as_bytes(),
    )
    .await;
    let toml = format!(
        r#"
[default.backends.aws]
kind = "aws"
region = "{region}"
endpoint_url = "{url}"
[default.envfiles.app]
vars.K = "aws:{name}"
[default.broker]
ttl = "1s"
max_stale = "4s"
"#,
        region = moto::REGION,
        url = m.url()
    );
    let b = start(setup_from(&toml).await, None).await;
    wait_ready(&b).await;
    let good = b.get("/v1/envfiles/app").await;
    assert_eq!(good.status, 200);

    m.stop().await;
    let stopped = Instant::now();
    // Past the TTL the values are stale, but still served and the broker still ready.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let r = b.get("/v1/envfiles/app").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body == good.body);
    assert_eq!(b.get("/readyz").await.status, 200);
    let s = b
        .get(&format!("/v1/secrets/aws:{}", name.replace('/', "%2F")))
        .await;
    assert_eq!(s.status, 200);
    // Past max_stale: loud failures, not ancient values.
    eventually("503 after max_stale", Duration::from_secs(10), || async {
        b.get("/v1/envfiles/app").await.status == 503
    })
    .await;
    assert!(
        stopped.elapsed() >= Duration::from_millis(3500),
        "failed before max_stale"
    );
    assert_eq!(b.get("/readyz").await.status, 503);
    let failed = b
        .get(&format!("/v1/secrets/aws:{}", name.replace('/', "%2F")))
        .await;
    assert_eq!(failed.status, 503, "{failed:?}");
    assert!(
        !contains(&failed.body, canary()),
        "an error body holds the value"
    );
    let metrics = b.get("/metrics").await.text();
    assert!(
        metrics.contains("envfile_broker_backend_errors_total{backend=\"aws\""),
        "{metrics}"
    );

    // The backend comes back (moto starts empty: seed it again); the broker recovers by itself.
    let m = OwnMoto::start(port).await;
    moto::put_secret(
        &moto::sdk_client_at(&m.url(), moto::REGION),
        &name,
        value.as_bytes(),
    )
    .await;
    eventually("recovery", Duration::from_secs(15), || async {
        b.get("/v1/envfiles/app").await.status == 200
    })
    .await;
    assert!(b.get("/v1/envfiles/app").await.body == good.body);
    assert_eq!(b.get("/readyz").await.status, 200);
    b.stop().await;
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_reload_swaps_the_config_and_a_broken_one_keeps_the_old() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "a": "va", "b": "vb" }));
    let cfg = dir.path().join("envfile.toml");
    std::fs::write(
        &cfg,
        file_config(dir.path(), "[default.envfiles.a]\nvars.A = \"file:a\"\n"),
    )
    .unwrap();
    let setup = {
        let loaded = envfile_core::config::load(Some(&cfg), None).unwrap();
        let backends = build_backends(&loaded).await.unwrap();
        envfile_broker::Setup { loaded, backends }
    };
    let b = start(setup, Some(Arc::new(FileReload(cfg.clone())))).await;
    wait_ready(&b).await;
    assert_eq!(b.get("/v1/envfiles/b").await.status, 404);

    std::fs::write(
        &cfg,
        file_config(
            dir.path(),
            "[default.envfiles.a]\nvars.A = \"file:a\"\n[default.envfiles.b]\nvars.B = \"file:b\"\n",
        ),
    )
    .unwrap();
    b.reload.notify_one();
    eventually("envfile b after reload", Duration::from_secs(5), || async {
        b.get("/v1/envfiles/b").await.status == 200
    })
    .await;

    std::fs::write(
        &cfg,
        "[default.envfiles.a]\nvars.A = \"file:a\"\nnot_a_key = 1\n",
    )
    .unwrap();
    b.reload.notify_one();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(b.get("/v1/envfiles/a").await.status, 200);
    assert_eq!(
        b.get("/v1/envfiles/b").await.status,
        200,
        "a broken config replaced the good one"
    );
    b.stop().await;
}

const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/templates");

#[tokio::test(flavor = "multi_thread")]
async fn broker_template_sink_renders_like_the_agent_and_follows_rotation() {
    use envfile_tests::bao::Bao;
    use envfile_tests::env::{vault_addr, vault_root_token};

    // The fixture's KV v2 secret in a mount of this run's own.
    let bao = Bao::root();
    let mount = unique("ml-incident");
    bao.enable_kv(&mount, 2).await;
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(TEMPLATES).join("secrets.json")).unwrap(),
    )
    .unwrap();
    let api = fixture["ml-incident"]["prod/api"].clone();
    bao.kv_put(&mount, 2, "prod/api", &api).await;

    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("runbook.tmpl");
    let src = std::fs::read_to_string(Path::new(TEMPLATES).join("runbook.tmpl")).unwrap();
    std::fs::write(
        &template,
        src.replace("\"ml-incident/", &format!("\"{mount}/")),
    )
    .unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, vault_root_token()).unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let sink = dir.path().join("out").join("runbook.sh");
    let ran = dir.path().join("ran");
    let toml = format!(
        r#"
[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "token", token_file = "{token}" }}
[default.broker]
ttl = "1s"
max_stale = "10s"
[[default.sinks]]
template = "{template}"
path = "{sink}"
mode = "0440"
command = ["sh", "-c", "echo ran >> {ran}"]
"#,
        addr = vault_addr(),
        token = token.display(),
        template = template.display(),
        sink = sink.display(),
        ran = ran.display()
    );
    let b = start(setup_from(&toml).await, None).await;
    wait_ready(&b).await;

    // The first render is byte for byte what `bao agent` rendered from the same secret.
    let golden = std::fs::read(Path::new(TEMPLATES).join("runbook.golden")).unwrap();
    eventually(
        "the first template render",
        Duration::from_secs(5),
        || async { std::fs::read_to_string(&ran).is_ok_and(|s| s.lines().count() == 1) },
    )
    .await;
    let first = std::fs::read(&sink).unwrap();
    assert!(
        first == golden,
        "the sink differs from the agent's golden output: lengths {} vs {}",
        first.len(),
        golden.len()
    );
    let meta1 = std::fs::metadata(&sink).unwrap();
    assert_eq!(meta1.permissions().mode() & 0o777, 0o440);

    // Rotate the secret: the file is replaced (a rename: new inode) and the command runs once.
    let rotated = format!("rotated-{}", canary());
    let mut api2 = api.clone();
    api2["jwt_secret_key"] = serde_json::Value::String(rotated.clone());
    bao.kv_put(&mount, 2, "prod/api", &api2).await;
    sink_replaced_once(&sink, meta1.ino(), &rotated, 0o440, &ran).await;
    b.stop().await;
}
