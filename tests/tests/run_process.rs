//! `envfile run` as a process supervisor, against the file backend: the child gets the
//! resolved values, every listed signal is passed on, exit codes follow the shell, orphans are
//! reaped, failures before the start list every reference, and `--redact-output` masks secrets
//! without delaying or mangling output.

mod run_support;

use run_support::{
    canary, child_cmd, contains, eventually, proc_stat, same, zombie_children, Dir, DEADLINE,
};
use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

fn config(store: &serde_json::Value, dir_envfiles: &str) -> (Dir, String) {
    let text = format!(
        "[default.backends.file]\nkind = \"file\"\npath = \"store.json\"\n\n{dir_envfiles}\n"
    );
    let dir = Dir::new(&text);
    std::fs::write(
        dir.path("store.json"),
        serde_json::to_vec(store).expect("json"),
    )
    .expect("store");
    (dir, text)
}

fn app(secret: &str) -> Dir {
    config(
        &serde_json::json!({ "app/token": secret }),
        "[default.envfiles.app]\nvars.TOKEN = \"file:app/token\"\nvars.LEVEL = { value = \"INFO\" }\n",
    )
    .0
}

fn run_args<'a>(extra: &[&'a str], cmd: &'a [String]) -> Vec<&'a str> {
    let mut v = vec!["run"];
    v.extend_from_slice(extra);
    v.push("app");
    v.push("--");
    v.extend(cmd.iter().map(String::as_str));
    v
}

#[test]
fn run_forwards_every_listed_signal_and_exits_with_the_childs_code() {
    let secret = canary("run-sig");
    let dir = app(&secret);
    let cmd = child_cmd();
    let mut sup = dir.start(dir.cmd(&run_args(&[], &cmd), "TOKEN"));
    let pid = sup.wait_starts(1)[0];
    assert!(
        same(&sup.value_of(pid), secret.as_bytes()),
        "the child did not get the value"
    );

    let mut want = Vec::new();
    for sig in ["INT", "HUP", "QUIT", "USR1", "USR2", "WINCH"] {
        sup.signal(sig);
        want.push(format!("SIG{sig}"));
        let got = eventually(DEADLINE, || sup.signals_of(pid) == want);
        assert!(
            got,
            "after SIG{sig}: child recorded {:?}",
            sup.signals_of(pid)
        );
    }
    assert!(!sup.exited(), "envfile must survive forwarded signals");
    // SIGTERM: the child records it and exits 0, so envfile exits 0.
    sup.signal("TERM");
    assert_eq!(sup.wait_exit(), Some(0));
    want.push("SIGTERM".into());
    assert_eq!(sup.signals_of(pid), want);
    assert_eq!(sup.starts(), vec![pid], "no restarts without --watch");
    assert!(
        !contains(sup.stderr().as_bytes(), secret.as_bytes()),
        "secret in stderr"
    );
}

#[test]
fn run_exit_codes_follow_the_shell() {
    let dir = app(&canary("run-codes"));
    for (script, want) in [
        ("exit 3", 3),
        ("exit 0", 0),
        ("kill -KILL $$", 137),
        ("kill -TERM $$", 143),
    ] {
        let out = dir
            .cmd(&["run", "app", "--", "/bin/sh", "-c", script], "TOKEN")
            .output()
            .expect("run envfile");
        assert_eq!(out.status.code(), Some(want), "`{script}`");
    }
    // The command itself: not found 127, not executable 126.
    let out = dir
        .cmd(&["run", "app", "--", "/nonexistent/envfile-run-cmd"], "")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(127));
    std::fs::write(dir.path("noexec.sh"), "#!/bin/sh\n").expect("write");
    let noexec = dir.path("noexec.sh").display().to_string();
    let out = dir
        .cmd(&["run", "app", "--", &noexec], "")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(126));
}

#[test]
fn run_passes_values_byte_exact_and_keeps_the_parent_env_unless_clean_env() {
    let value = "it's \"quoted\" $HOME `id` \\ \n\ttab\r\n🦀 end\n";
    let dir = app(value);
    let script = "printf '%s|%s' \"${PARENT_ONLY-unset}\" \"$TOKEN\"";
    let mut cmd = dir.cmd(&["run", "app", "--", "/bin/sh", "-c", script], "");
    cmd.env("PARENT_ONLY", "kept");
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        same(&out.stdout, format!("kept|{value}").as_bytes()),
        "stdout differs"
    );

    let mut cmd = dir.cmd(
        &["run", "--clean-env", "app", "--", "/bin/sh", "-c", script],
        "",
    );
    cmd.env("PARENT_ONLY", "kept");
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        same(&out.stdout, format!("unset|{value}").as_bytes()),
        "stdout differs"
    );

    // stdin passes through to the child.
    let mut cmd = dir.cmd(&["run", "app", "--", "/bin/cat"], "");
    let mut proc = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = proc.stdin.take().expect("stdin");
        stdin.write_all(b"through stdin\n").expect("write");
    }
    let out = proc.wait_with_output().expect("wait");
    assert_eq!(out.stdout, b"through stdin\n");
}

#[test]
fn run_lists_every_failing_reference_and_starts_nothing() {
    let secret = canary("run-fail");
    let (dir, _) = config(
        &serde_json::json!({ "ok": secret }),
        "[default.envfiles.app]\nvars.OK = \"file:ok\"\nvars.M1 = \"file:missing/one\"\nvars.M2 = \"file:missing/two\"\n",
    );
    let out = dir
        .cmd(
            &["run", "--watch", "app", "--", "/bin/sh", "-c", "echo RAN"],
            "",
        )
        .output()
        .expect("run");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(&secret), "secret printed");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("file:missing/one") && all.contains("file:missing/two"),
        "{all}"
    );
    assert!(!all.contains("RAN"), "the command must not start");
}

#[test]
fn run_reaps_orphaned_grandchildren() {
    let dir = app(&canary("run-reap"));
    // The child starts a shell that backgrounds a `sleep` and exits at once: the sleep is
    // orphaned and re-parented to envfile (a subreaper), which must reap it when it exits.
    let script = "sh -c 'sleep 1 & echo $! > gc.pid'; exec sleep 60";
    let mut sup = dir.start(dir.cmd(&["run", "app", "--", "/bin/sh", "-c", script], ""));
    let envfile = sup.pid();
    let gc_file = dir.path("gc.pid");
    assert!(
        eventually(DEADLINE, || std::fs::read_to_string(&gc_file)
            .is_ok_and(|s| s.ends_with('\n'))),
        "the grandchild never started"
    );
    let gc: u32 = std::fs::read_to_string(&gc_file)
        .expect("gc.pid")
        .trim()
        .parse()
        .expect("pid");
    // While it runs, the orphan belongs to envfile (this is what makes the test meaningful).
    match proc_stat(gc) {
        Some((state, ppid)) => {
            assert_eq!(
                ppid, envfile,
                "the orphan was not re-parented to envfile (state {state})"
            )
        }
        None => panic!("the grandchild exited before it could be observed"),
    }
    // Once it exits it must be reaped: gone from /proc, not left `<defunct>`.
    assert!(
        eventually(DEADLINE, || proc_stat(gc).is_none()),
        "the orphan was not reaped: {:?}",
        proc_stat(gc)
    );
    assert!(
        zombie_children(envfile).is_empty(),
        "zombies left: {:?}",
        zombie_children(envfile)
    );
    assert!(
        !sup.exited(),
        "envfile must keep running while its child does"
    );
    sup.signal("TERM");
    assert_eq!(
        sup.wait_exit(),
        Some(143),
        "sleep killed by the forwarded SIGTERM"
    );
}

#[test]
fn run_redact_output_masks_secrets_and_their_base64_without_delay() {
    let secret = canary("run-redact");
    let b64 = {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg("printf %s \"$V\" | base64 -w0")
            .env("V", &secret)
            .output()
            .expect("base64");
        String::from_utf8(out.stdout).expect("ascii")
    };
    let dir = app(&secret);
    // A line with the secret, one with its base64 form, binary bytes, the short-lived literal,
    // then a pause: the lines must arrive before the child exits (no buffering by envfile).
    let script = "printf 'token=%s level=%s\\n' \"$TOKEN\" \"$LEVEL\"; \
                  printf '%s' \"$TOKEN\" | base64 -w0; printf '\\n'; \
                  printf '\\377\\000\\001bin\\n'; printf 'err=%s\\n' \"$TOKEN\" >&2; \
                  printf 'ready\\n'; sleep 30";
    let mut proc = dir
        .cmd(
            &[
                "run",
                "--redact-output",
                "app",
                "--",
                "/bin/sh",
                "-c",
                script,
            ],
            "",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let envfile = proc.id();
    let mut stdout = proc.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if got.ends_with(b"ready\n") {
                let _ = tx.send(got.clone());
            }
        }
    });
    // The child sleeps 30s after `ready`: seeing it well before proves nothing was held back.
    let seen = rx.recv_timeout(Duration::from_secs(20));
    run_support::send_signal(envfile, "TERM");
    let out = proc.wait_with_output().expect("wait");
    let stdout = seen.expect("the child's output did not arrive while it was running");
    assert!(
        !contains(&stdout, secret.as_bytes()),
        "secret leaked into stdout"
    );
    assert!(
        !contains(&stdout, b64.as_bytes()),
        "base64 of the secret leaked into stdout"
    );
    assert!(
        !contains(&out.stderr, secret.as_bytes()),
        "secret leaked into stderr"
    );
    let want: Vec<u8> = [
        b"token=[redacted] level=INFO\n".as_slice(),
        b"[redacted]\n",
        b"\xff\x00\x01bin\n",
        b"ready\n",
    ]
    .concat();
    assert!(
        same(&stdout, &want),
        "stdout: got {} bytes, want {}: {:?}",
        stdout.len(),
        want.len(),
        String::from_utf8_lossy(&stdout)
    );
    assert!(
        contains(&out.stderr, b"err=[redacted]\n"),
        "stderr not masked"
    );
    assert_eq!(out.status.code(), Some(143));
}
