//! `envfile serve` through the real binary: start-up refusals, a stale socket replaced, SIGHUP
//! reloads (a broken config keeps the old one), SIGTERM drains and exits, and a canary secret
//! never shows up in logs (at debug level), audit lines or error bodies across the whole run.

mod broker_support;

use broker_support::{contains, http, Resp, Via};
use envfile_tests::env::envfile_bin;
use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "cli-broker-token-0123456789abcdef";

fn canary() -> &'static str {
    envfile_tests::conformance::canary()
}

fn config(dir: &Path, envfiles: &str) -> String {
    format!(
        r#"[default.backends.file]
kind = "file"
path = "{store}"

{envfiles}

[default.broker]
audit = "{audit}"
ttl = "1s"
"#,
        store = dir.join("store.json").display(),
        audit = dir.join("audit.log").display()
    )
}

#[test]
fn broker_serve_refuses_tcp_without_a_token_and_non_loopback_binds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("store.json"), "{}").unwrap();
    std::fs::write(dir.path().join("envfile.toml"), config(dir.path(), "")).unwrap();
    let out = Command::new(envfile_bin())
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("ENVFILE_BROKER_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no token") && err.contains("ENVFILE_BROKER_TOKEN"),
        "{err}"
    );

    let out = Command::new(envfile_bin())
        .current_dir(dir.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("ENVFILE_BROKER_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("loopback") && err.contains("--allow-remote"),
        "{err}"
    );

    // A path that exists and is not a socket is never replaced.
    let not_a_socket = dir.path().join("precious.txt");
    std::fs::write(&not_a_socket, "keep me").unwrap();
    let out = Command::new(envfile_bin())
        .current_dir(dir.path())
        .args(["serve", "--listen", "off", "--socket"])
        .arg(&not_a_socket)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a socket"));
    assert_eq!(std::fs::read_to_string(&not_a_socket).unwrap(), "keep me");
}

struct Served {
    child: std::process::Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<Vec<u8>>>,
}

fn serve(dir: &Path, socket: &Path) -> Served {
    let mut child = Command::new(envfile_bin())
        .current_dir(dir)
        .args([
            "serve",
            "--log-level",
            "debug",
            "--listen",
            "127.0.0.1:0",
            "--socket",
        ])
        .arg(socket)
        .env("ENVFILE_BROKER_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut line = Vec::new();
        while reader
            .read_until(b'\n', &mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            if let Some(rest) = String::from_utf8_lossy(&line)
                .trim()
                .strip_prefix("envfile: serving on http://")
            {
                let _ = tx.send(rest.to_owned());
            }
            sink.lock().unwrap().extend_from_slice(&line);
            line.clear();
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the broker did not print its address")
        .parse()
        .unwrap();
    Served {
        child,
        addr,
        stderr,
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

async fn get(addr: SocketAddr, target: &str) -> Resp {
    http(Via::Tcp(addr), target, &[("X-Envfile-Token", TOKEN)]).await
}

async fn eventually_status(addr: SocketAddr, target: &str, want: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if get(addr, target).await.status == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{target} never answered {want}");
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_binary_reloads_on_sighup_drains_on_sigterm_and_never_leaks_the_canary() {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("s3cr3t-{}", canary());
    std::fs::write(
        dir.path().join("store.json"),
        json!({ "app/db": { "password": secret, "host": "h" }, "app/plain": secret }).to_string(),
    )
    .unwrap();
    let cfg = dir.path().join("envfile.toml");
    std::fs::write(
        &cfg,
        config(
            dir.path(),
            "[default.envfiles.app]\nvars.PW = \"file:app/db#password\"\n",
        ),
    )
    .unwrap();
    // A stale socket from a crashed broker: a socket file nobody listens on.
    let socket = dir.path().join("broker.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());

    let mut s = serve(dir.path(), &socket);
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    eventually_status(s.addr, "/readyz", 200).await;
    let ok = get(s.addr, "/v1/envfiles/app").await;
    assert_eq!(ok.status, 200);
    assert!(contains(&ok.body, &secret));
    let via_socket = http(Via::Unix(socket.clone()), "/v1/envfiles/app", &[]).await;
    assert_eq!(via_socket.status, 200, "the stale socket was not replaced");

    // Error bodies of every flavour: none may carry the value.
    for target in [
        "/v1/secrets/file:app%2Fdb%23passwrd", // missing key: the hint lists key names
        "/v1/secrets/file:app%2Fplain%23key",  // not JSON
        "/v1/secrets/file:app%2Fnope",         // not found
        "/v1/secrets/bogus:%%%",               // invalid reference
        "/v1/envfiles/ghost",
        "/v1/envfiles/app?format=bogus",
        "/secretsmanager/get?secretId=x", // no aws backend
    ] {
        let r = get(s.addr, target).await;
        assert!(r.status >= 400, "{target}: {r:?}");
        bodies.push(r.body);
    }
    bodies.push(
        http(
            Via::Tcp(s.addr),
            "/v1/envfiles/app",
            &[("X-Envfile-Token", "wrong-token-0123456789")],
        )
        .await
        .body,
    );
    bodies.push(http(Via::Tcp(s.addr), "/v1/envfiles/app", &[]).await.body);

    // SIGHUP with a new envfile: picked up. SIGHUP with a broken config: the old one stays.
    assert_eq!(get(s.addr, "/v1/envfiles/more").await.status, 404);
    std::fs::write(
        &cfg,
        config(
            dir.path(),
            "[default.envfiles.app]\nvars.PW = \"file:app/db#password\"\n\
             [default.envfiles.more]\nvars.HOST = \"file:app/db#host\"\n",
        ),
    )
    .unwrap();
    signal(s.child.id(), "HUP");
    eventually_status(s.addr, "/v1/envfiles/more", 200).await;
    std::fs::write(&cfg, "[default.envfiles.app]\nvars.PW = 3\nbogus = true\n").unwrap();
    signal(s.child.id(), "HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get(s.addr, "/v1/envfiles/more").await.status, 200);
    assert_eq!(get(s.addr, "/v1/envfiles/app").await.status, 200);

    // SIGTERM: exits cleanly and removes its socket.
    signal(s.child.id(), "TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the broker did not exit on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    assert!(!socket.exists(), "the socket file was left behind");
    let mut stdout = Vec::new();
    s.child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let stderr = s.stderr.lock().unwrap().clone();
    let audit = std::fs::read(dir.path().join("audit.log")).unwrap();

    assert!(
        contains(&stderr, "reload failed"),
        "the broken reload was not logged"
    );
    assert!(
        contains(&audit, "\"event\":\"access\""),
        "no access lines in the audit log"
    );
    assert!(!contains(&stderr, canary()), "the canary reached the logs");
    assert!(!contains(&stdout, canary()), "the canary reached stdout");
    assert!(
        !contains(&audit, canary()),
        "the canary reached the audit log"
    );
    for (i, b) in bodies.iter().enumerate() {
        assert!(!contains(b, canary()), "error body {i} holds the canary");
    }
}

#[test]
fn broker_serve_exits_2_naming_an_overflowing_duration() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("store.json"), "{}").unwrap();
    let cfg = config(dir.path(), "").replace(
        "ttl = \"1s\"",
        "ttl = \"1s\"\nmax_wait = \"99999999999999999999\"",
    );
    std::fs::write(dir.path().join("envfile.toml"), cfg).unwrap();
    let out = Command::new(envfile_bin())
        .current_dir(dir.path())
        .args(["serve", "--listen", "off", "--socket", "b.sock"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("broker.max_wait") && err.contains("100 years"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn broker_an_unwritable_stderr_changes_no_exit_code() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    // A usage error: clap's own message cannot be printed either.
    let out = Command::new(envfile_bin())
        .args(["--no-such-flag"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // The broker announces where it listens and logs at info: it serves and exits 0 on SIGTERM.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("store.json"), json!({"a": "1"}).to_string()).unwrap();
    std::fs::write(
        dir.path().join("envfile.toml"),
        config(dir.path(), "[default.envfiles.a]\nvars.A = \"file:a\"\n"),
    )
    .unwrap();
    let socket = dir.path().join("b.sock");
    let mut child = Command::new(envfile_bin())
        .current_dir(dir.path())
        .args([
            "serve",
            "--log-level",
            "info",
            "--listen",
            "off",
            "--socket",
        ])
        .arg(&socket)
        .stdout(Stdio::null())
        .stderr(full())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let rt = tokio::runtime::Runtime::new().unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the broker exited early: {status}");
        }
        let ready = socket.exists()
            && rt
                .block_on(http(Via::Unix(socket.clone()), "/readyz", &[]))
                .status
                == 200;
        if ready {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "never ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(child.id(), "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
