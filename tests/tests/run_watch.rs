//! `envfile run --watch` against moto (AWS Secrets Manager): a rotated secret the env file uses
//! restarts the child exactly once with the new value; a rotated secret it does not use, a new
//! version with the same value, or a rotated key it does not select changes nothing; changes
//! within the debounce window cause one restart; `--on-change signal:SIGHUP` keeps the child.
//! Values are compared without printing them.

mod run_support;

use envfile_tests::env::unique;
use envfile_tests::moto::{backend_toml, put_secret, sdk_client_at, DUMMY_ENV, REGION};
use run_support::{canary, child_cmd, eventually, same, Dir, Supervised, DEADLINE};
use std::process::Command;

/// Writes to moto through the real API, from a runtime of its own (the tests are blocking).
pub struct Moto {
    rt: tokio::runtime::Runtime,
    endpoint: String,
}

impl Moto {
    pub fn at(endpoint: &str) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Moto {
            rt,
            endpoint: endpoint.to_owned(),
        }
    }

    pub fn put(&self, name: &str, value: &str) {
        let client = sdk_client_at(&self.endpoint, REGION);
        self.rt
            .block_on(put_secret(&client, name, value.as_bytes()));
    }
}

/// `envfile run --watch` over the moto `aws` backend with `envfiles`, fast polling, and debug
/// logs from the watcher (so a test can see that a check happened).
pub fn watch_cmd(dir: &Dir, extra: &[&str]) -> Command {
    let cmd_line = child_cmd();
    let mut args = vec![
        "--log-level",
        "warn,envfile::supervise=debug",
        "run",
        "--watch",
        "--interval",
        "250ms",
    ];
    args.extend_from_slice(extra);
    args.extend(["app", "--"]);
    args.extend(cmd_line.iter().map(String::as_str));
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
    cmd
}

/// Lines of envfile's stderr containing `needle`.
fn count(sup: &Supervised<'_>, needle: &str) -> usize {
    sup.stderr().matches(needle).count()
}

/// Give the watcher time for a few more checks, then confirm nothing else happened.
fn settle(sup: &Supervised<'_>) {
    let before = count(sup, "check");
    let checked = eventually(DEADLINE, || count(sup, "check") >= before + 3);
    assert!(checked, "the watcher stopped checking");
}

#[test]
fn run_watch_restarts_exactly_once_when_a_used_secret_rotates() {
    let moto = Moto::at(&envfile_tests::env::moto_url());
    let used = unique("run-used");
    let (v1, v2) = (canary("v1"), canary("v2"));
    moto.put(&used, &v1);
    let dir = Dir::new(&format!(
        "{}\n[default.envfiles.app]\nvars.VALUE = \"aws:{used}\"\n",
        backend_toml()
    ));
    let mut sup = dir.start(watch_cmd(&dir, &["--debounce", "200ms"]));
    let first = sup.wait_starts(1)[0];
    assert!(
        same(&sup.value_of(first), v1.as_bytes()),
        "first start: wrong value"
    );

    moto.put(&used, &v2);
    let starts = sup.wait_starts(2);
    assert!(
        same(&sup.value_of(starts[1]), v2.as_bytes()),
        "after rotation: wrong value"
    );
    assert_eq!(
        sup.signals_of(first),
        ["SIGTERM"],
        "the old child is asked to stop"
    );
    settle(&sup);
    assert_eq!(sup.starts().len(), 2, "exactly one restart");
    let stderr = sup.stderr();
    assert!(
        !stderr.contains(&v1) && !stderr.contains(&v2),
        "a value leaked into the log"
    );
}

#[test]
fn run_watch_ignores_changes_that_leave_the_environment_unchanged() {
    let moto = Moto::at(&envfile_tests::env::moto_url());
    let (used, json, unused) = (unique("run-same"), unique("run-json"), unique("run-unused"));
    let v1 = canary("same");
    let host = canary("host");
    moto.put(&used, &v1);
    moto.put(
        &json,
        &serde_json::json!({ "host": host, "other": "a" }).to_string(),
    );
    moto.put(&unused, "before");
    let dir = Dir::new(&format!(
        "{}\n[default.envfiles.app]\nvars.VALUE = \"aws:{used}\"\nvars.HOST = \"aws:{json}#host\"\n",
        backend_toml()
    ));
    let mut sup = dir.start(watch_cmd(&dir, &["--debounce", "0s"]));
    let first = sup.wait_starts(1)[0];
    assert!(
        eventually(DEADLINE, || count(&sup, "first check") >= 1),
        "no first check"
    );

    // A new version with the same value; a key the env file does not select; a secret it does
    // not read at all.
    moto.put(&used, &v1);
    moto.put(
        &json,
        &serde_json::json!({ "host": host, "other": "b" }).to_string(),
    );
    moto.put(&unused, "after");
    assert!(
        eventually(DEADLINE, || count(
            &sup,
            "secret versions moved, but the environment is unchanged"
        ) >= 1),
        "the watcher never saw the new versions; stderr:\n{}",
        sup.stderr()
    );
    settle(&sup);
    assert_eq!(sup.starts(), vec![first], "no restart");
    assert!(sup.signals_of(first).is_empty(), "the child was signalled");
}

#[test]
fn run_watch_debounces_changes_into_one_restart() {
    let moto = Moto::at(&envfile_tests::env::moto_url());
    let (a, b) = (unique("run-deb-a"), unique("run-deb-b"));
    let (a1, a2, b1, b2) = (canary("a1"), canary("a2"), canary("b1"), canary("b2"));
    moto.put(&a, &a1);
    moto.put(&b, &b1);
    let dir = Dir::new(&format!(
        "{}\n[default.envfiles.app]\nvars.VALUE = \"aws:{a}\"\nvars.OTHER = \"aws:{b}\"\n",
        backend_toml()
    ));
    let mut sup = dir.start(watch_cmd(&dir, &["--debounce", "3s"]));
    let first = sup.wait_starts(1)[0];

    // Two rotations well within the window (the second lands after the first was seen).
    moto.put(&a, &a2);
    assert!(
        eventually(DEADLINE, || count(&sup, "waiting for more changes") >= 1),
        "the first change was not seen"
    );
    moto.put(&b, &b2);
    let starts = sup.wait_starts(2);
    assert!(
        same(&sup.value_of(starts[1]), a2.as_bytes()),
        "restart missed the first change"
    );
    settle(&sup);
    assert_eq!(
        sup.starts().len(),
        2,
        "two changes in the window cause one restart"
    );
    assert_eq!(sup.signals_of(first), ["SIGTERM"]);
}

#[test]
fn run_watch_on_change_signal_keeps_the_child() {
    let moto = Moto::at(&envfile_tests::env::moto_url());
    let used = unique("run-hup");
    moto.put(&used, &canary("hup1"));
    let dir = Dir::new(&format!(
        "{}\n[default.envfiles.app]\nvars.VALUE = \"aws:{used}\"\n",
        backend_toml()
    ));
    let mut sup = dir.start(watch_cmd(
        &dir,
        &["--debounce", "0s", "--on-change", "signal:SIGHUP"],
    ));
    let first = sup.wait_starts(1)[0];
    moto.put(&used, &canary("hup2"));
    assert!(
        eventually(DEADLINE, || sup.signals_of(first) == ["SIGHUP"]),
        "no SIGHUP; events: {:?}",
        sup.events()
    );
    settle(&sup);
    assert_eq!(sup.starts(), vec![first], "the child keeps its pid");
    assert!(!sup.exited());
    sup.signal("TERM");
    assert_eq!(sup.wait_exit(), Some(0));
}

/// A rotation among several secrets costs the batch probe and nothing more: BatchGetSecretValue
/// answers with the values, and the new environment is made of them, the debounce's second look
/// included (a probe again, which costs what a read would). Counted at the wire through the
/// fake proxy, against the watcher's own count of its probes: every BatchGetSecretValue but
/// the start-up read is a probe, and nothing reads a secret on its own.
#[test]
fn run_watch_resolves_a_rotation_from_the_batch_probe() {
    use envfile_tests::moto::{FakeAwsProxy, REGION};
    let moto = Moto::at(&envfile_tests::env::moto_url());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let proxy = rt.block_on(FakeAwsProxy::start());
    let names: Vec<String> = (0..3).map(|i| unique(&format!("run-batch{i}"))).collect();
    for (i, name) in names.iter().enumerate() {
        moto.put(name, &canary(&format!("batch{i}")));
    }
    let (v1, v2) = (canary("batch-v1"), canary("batch-v2"));
    moto.put(&names[1], &v1);
    let dir = Dir::new(&format!(
        "[default.backends.aws]\nkind = \"aws\"\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n\
         [default.envfiles.app]\nvars.A = \"aws:{}\"\nvars.VALUE = \"aws:{}\"\nvars.C = \"aws:{}\"\n",
        proxy.url(),
        names[0],
        names[1],
        names[2]
    ));
    let mut sup = dir.start(watch_cmd(&dir, &["--debounce", "200ms"]));
    let first = sup.wait_starts(1)[0];
    assert!(same(&sup.value_of(first), v1.as_bytes()));
    assert!(
        eventually(DEADLINE, || count(&sup, "first check") >= 1),
        "no first check"
    );

    moto.put(&names[1], &v2);
    let starts = sup.wait_starts(2);
    assert!(
        same(&sup.value_of(starts[1]), v2.as_bytes()),
        "after rotation: wrong value"
    );
    settle(&sup);
    sup.signal("TERM");
    sup.wait_exit();

    let probes = count(&sup, "probing versions") as u32;
    let batches = proxy.calls("BatchGetSecretValue");
    // The start-up read, and one call a probe (the last may have been cut short by the TERM).
    assert!(
        (probes..=probes + 1).contains(&batches),
        "{batches} BatchGetSecretValue calls for {probes} probes and one start-up read"
    );
    assert_eq!(proxy.calls("GetSecretValue"), 0, "no read of its own");
    assert_eq!(proxy.calls("DescribeSecret"), 0, "no per-secret probe");
    let stderr = sup.stderr();
    assert!(
        !stderr.contains(&v1) && !stderr.contains(&v2),
        "a value leaked into the log"
    );
}
