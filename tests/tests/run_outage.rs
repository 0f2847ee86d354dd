//! `envfile run --watch` while the backend is down: the child keeps running on its current
//! environment, envfile warns with the error kind, nothing restarts; once the backend is back,
//! the next change is applied. Uses a moto server of its own (started, killed and restarted on
//! the same port here; moto keeps no state across restarts, so the test seeds it again).

mod run_support;

use envfile_tests::moto::{put_secret, sdk_client_at, DUMMY_ENV, REGION};
use run_support::{canary, child_cmd, eventually, same, Dir, DEADLINE};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct MotoServer {
    proc: Child,
    port: u16,
}

impl MotoServer {
    fn start(port: u16) -> Self {
        let venv = std::env::var("ENVFILE_TEST_VENV")
            .expect("ENVFILE_TEST_VENV is not set: run the tests through `scripts/test`");
        let proc = Command::new(format!("{venv}/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let up = run_support::eventually(DEADLINE, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "moto_server did not listen on port {port}");
        MotoServer { proc, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn put(rt: &tokio::runtime::Runtime, url: &str, name: &str, value: &str) {
    let client = sdk_client_at(url, REGION);
    rt.block_on(put_secret(&client, name, value.as_bytes()));
}

#[test]
fn run_watch_survives_a_backend_outage_and_applies_the_next_change() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let port = free_port();
    let mut moto = MotoServer::start(port);
    let name = envfile_tests::env::unique("run-outage");
    let (v1, v2) = (canary("out1"), canary("out2"));
    put(&rt, &moto.url(), &name, &v1);

    let dir = Dir::new(&format!(
        "[default.backends.aws]\nkind = \"aws\"\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n\n\
         [default.envfiles.app]\nvars.VALUE = \"aws:{name}\"\n",
        moto.url()
    ));
    let child = child_cmd();
    let mut args = vec![
        "run",
        "--watch",
        "--interval",
        "250ms",
        "--debounce",
        "0s",
        "app",
        "--",
    ];
    args.extend(child.iter().map(String::as_str));
    let mut cmd = dir.cmd(&args, "VALUE");
    cmd.env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", dir.path("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path("no-aws-credentials"),
        );
    for (k, v) in DUMMY_ENV {
        cmd.env(k, v);
    }
    let mut sup = dir.start(cmd);
    let first = sup.wait_starts(1)[0];
    assert!(
        same(&sup.value_of(first), v1.as_bytes()),
        "wrong first value"
    );

    moto.stop();
    assert!(
        eventually(DEADLINE, || {
            let e = sup.stderr();
            e.contains("WARN") && e.contains("unavailable") && e.contains("current environment")
        }),
        "no warning naming the error kind; stderr:\n{}",
        sup.stderr()
    );
    assert!(!sup.exited(), "envfile must keep running");
    assert_eq!(
        sup.starts(),
        vec![first],
        "no restart while the backend is down"
    );
    assert!(sup.signals_of(first).is_empty(), "the child was signalled");

    // Back, with a new value (moto forgot everything, so this is the secret's only version).
    let mut moto = MotoServer::start(port);
    put(&rt, &moto.url(), &name, &v2);
    let starts = sup.wait_starts(2);
    assert!(
        same(&sup.value_of(starts[1]), v2.as_bytes()),
        "the change after the outage was not applied"
    );
    std::thread::sleep(Duration::from_millis(100));
    let stderr = sup.stderr();
    assert!(
        !stderr.contains(&v1) && !stderr.contains(&v2),
        "a value leaked into the log"
    );
    moto.stop();
}
