//! Logs, progress and the generated CLI artifacts, end to end with the real binary:
//! `--log-format json` lines, colour only on a terminal without NO_COLOR, the AWS SDK's
//! credential-chain warnings folded into envfile's one error, `check`'s progress line only on a
//! terminal, `completions` and `man`.
//!
//! A terminal is a real pseudo-terminal from util-linux `script`.

mod cli_support;

use cli_support::{bare_cmd, Fixture, Run};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

fn fixture() -> Fixture {
    Fixture::new(
        &json!({ "app": { "a": "x1", "b": "x2" } }),
        "[default.envfiles.one]\nvars.A = \"file:app#a\"\n\n\
         [default.envfiles.two]\nvars.B = \"file:app#b\"\n\n\
         [default.envfiles.three]\nvars.A = \"file:app#a\"\n",
    )
}

/// Runs `envfile ARGS` under a pseudo-terminal (stdin, stdout and stderr all on it) with `env`;
/// returns what the terminal showed.
fn on_terminal(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let bin = envfile_tests::env::envfile_bin();
    let mut line = shell_quote(&bin.to_string_lossy());
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    let mut c = Command::new("script");
    c.args(["-qefc", &line, "/dev/null"]).current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ENVFILE_") || k == "NO_COLOR" {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run script(1)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn json_log_lines_carry_timestamp_level_target_message_and_fields() {
    let f = fixture();
    let run = Run::of({
        let mut c = f.cmd([
            "--log-level",
            "debug",
            "--log-format",
            "json",
            "run",
            "one",
            "--",
            "/bin/true",
        ]);
        c.env("NO_COLOR", "");
        c
    });
    run.expect_code(0).assert_no_secret(&["x1", "x2"]);
    let lines: Vec<serde_json::Value> = run
        .stderr_str()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let exited = lines
        .iter()
        .find(|l| l["message"] == "child exited")
        .unwrap_or_else(|| panic!("no `child exited` line in {lines:?}"));
    assert_eq!(exited["level"], "DEBUG");
    assert!(
        exited["target"].as_str().unwrap().starts_with("envfile"),
        "{exited}"
    );
    assert_eq!(exited["fields"]["code"], 0, "{exited}");
    let ts = exited["timestamp"].as_str().unwrap();
    assert!(
        ts.len() >= 20 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
        "{ts}"
    );
    // Time first, as people reading raw lines expect.
    assert!(
        run.stderr_str()
            .lines()
            .all(|l| l.starts_with("{\"timestamp\":\"")),
        "{}",
        run.stderr_str()
    );
    for l in &lines {
        let keys: Vec<&String> = l.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["fields", "level", "message", "target", "timestamp"],
            "{l}"
        );
    }

    // The environment variable selects it too.
    let mut c = f.cmd(["--log-level", "debug", "run", "one", "--", "/bin/true"]);
    c.env("ENVFILE_LOG_FORMAT", "json");
    let run = Run::of(c);
    run.expect_code(0);
    assert!(
        run.stderr_str().lines().all(|l| l.starts_with('{')),
        "{}",
        run.stderr_str()
    );
    // An unknown format is a usage error naming the choices.
    let run = f.run(["--log-format", "xml", "check"]);
    run.expect_code(2).assert_mentions("json");
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    let f = fixture();
    let args = ["--log-level", "debug", "run", "one", "--", "/bin/true"];
    // Not a terminal: plain text, even though the level is debug.
    let run = f.run(args);
    run.expect_code(0);
    assert!(run.stderr_str().contains("child exited"));
    assert!(!run.stderr_str().contains('\x1b'), "{:?}", run.stderr_str());

    let config = f.config.to_string_lossy().into_owned();
    let mut full = vec!["--config", config.as_str()];
    full.extend(args);
    let shown = on_terminal(f.dir.path(), &full, &[]);
    assert!(shown.contains("child exited"), "{shown:?}");
    assert!(
        shown.contains("\x1b["),
        "no colour on a terminal: {shown:?}"
    );
    let shown = on_terminal(f.dir.path(), &full, &[("NO_COLOR", "1")]);
    assert!(shown.contains("child exited"), "{shown:?}");
    assert!(
        !shown.contains('\x1b'),
        "colour despite NO_COLOR: {shown:?}"
    );
}

#[test]
fn check_shows_progress_only_on_a_terminal() {
    let f = fixture();
    let run = f.run(["check"]);
    run.expect_code(0);
    assert!(
        !run.stderr_str().contains("checking"),
        "{}",
        run.stderr_str()
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr_str());

    let config = f.config.to_string_lossy().into_owned();
    let shown = on_terminal(f.dir.path(), &["--config", &config, "check"], &[]);
    assert!(
        shown.contains("checking: 0/3 env files") && shown.contains("checking: 3/3 env files"),
        "{shown:?}"
    );
    // The counter is erased before the report, which starts at column 0.
    assert!(shown.contains("\r\x1b[2Kenvfile check: OK"), "{shown:?}");
}

/// A stand-in for the EC2 instance metadata service (the real one exists only on EC2) that
/// refuses every request the way a locked-down IMDS does: 403 to the session-token PUT.
fn fake_imds_forbidden() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(64) {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = "IMDS disabled";
            let _ = write!(
                conn,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

fn no_credentials(dir: &Path, imds: &str, args: &[&str]) -> Run {
    let mut c = bare_cmd(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds)
        .env_remove("NO_COLOR")
        .args(args);
    Run::of(c)
}

#[test]
fn missing_aws_credentials_give_one_error_and_debug_keeps_the_detail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("envfile.toml"),
        // Nothing listens on port 9: no request may get that far without credentials.
        "[default.backends.aws]\nkind = \"aws\"\nregion = \"eu-central-1\"\n\
         endpoint_url = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let imds = fake_imds_forbidden();
    let run = no_credentials(dir.path(), &imds, &["get", "aws:app/db"]);
    run.expect_code(4);
    let err = run.stderr_str();
    assert_eq!(
        err.matches("envfile: error:").count(),
        1,
        "expected envfile's one error:\n{err}"
    );
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(!err.contains("WARN"), "SDK warnings leaked:\n{err}");
    assert!(!err.contains("aws_config"), "SDK warnings leaked:\n{err}");
    assert!(!err.contains("Response {"), "a debug dump leaked:\n{err}");
    // Everything else on stderr is the hint.
    assert!(
        err.lines().all(|l| l.starts_with("envfile: error:")
            || l.starts_with("hint:")
            || l.starts_with("  ")),
        "{err}"
    );

    let run = no_credentials(
        dir.path(),
        &imds,
        &["--log-level", "debug", "get", "aws:app/db"],
    );
    run.expect_code(4);
    assert!(
        run.stderr_str().contains("aws_config"),
        "debug lost the SDK's detail:\n{}",
        run.stderr_str()
    );
}

#[test]
fn completions_and_man_page_come_from_the_clap_definitions() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::of({
        let mut c = bare_cmd(dir.path());
        c.args(["completions", "bash"]);
        c
    });
    run.expect_code(0);
    let bash = run.stdout_str();
    assert!(
        bash.contains("complete -F") && bash.contains("envfile"),
        "{bash}"
    );
    // Every subcommand and a few options are offered.
    for word in [
        "render",
        "check",
        "import",
        "serve",
        "ready",
        "--log-format",
        "--profile",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    // The script is valid bash.
    let path = dir.path().join("envfile.bash");
    std::fs::write(&path, &bash).unwrap();
    let st = Command::new("bash").arg("-n").arg(&path).status().unwrap();
    assert!(st.success());

    for (shell, marker) in [("zsh", "#compdef envfile"), ("fish", "complete -c envfile")] {
        let run = Run::of({
            let mut c = bare_cmd(dir.path());
            c.args(["completions", shell]);
            c
        });
        run.expect_code(0);
        assert!(
            run.stdout_str().contains(marker),
            "{shell}: {}",
            run.stdout_str()
        );
    }
    let run = Run::of({
        let mut c = bare_cmd(dir.path());
        c.args(["completions", "powershell"]);
        c
    });
    run.expect_code(2);

    let run = Run::of({
        let mut c = bare_cmd(dir.path());
        c.arg("man");
        c
    });
    run.expect_code(0);
    let man = run.stdout_str();
    assert!(
        man.starts_with(".ie") || man.contains(".TH envfile"),
        "{man}"
    );
    for needle in [
        ".SH NAME",
        "ENVFILE RENDER",
        "ENVFILE SERVE",
        "\\-\\-log\\-format",
        "Exit codes",
    ] {
        assert!(man.contains(needle), "man page lacks {needle}");
    }
}

#[test]
fn import_shows_progress_only_on_a_terminal() {
    use envfile_tests::moto::{backend_toml, DUMMY_ENV};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("envfile.toml"), backend_toml()).unwrap();
    std::fs::write(d.join("aws-config"), "").unwrap();
    std::fs::write(d.join("app.env"), "A=1\nB=2\nC=3\n").unwrap();
    let to = format!("aws:{}/", envfile_tests::env::unique("progress"));
    let mut env: Vec<(&str, &str)> = DUMMY_ENV.to_vec();
    let cfg = d.join("aws-config").to_string_lossy().into_owned();
    env.push(("AWS_CONFIG_FILE", &cfg));
    env.push(("AWS_SHARED_CREDENTIALS_FILE", &cfg));
    let args = [
        "--config",
        "envfile.toml",
        "import",
        "app.env",
        "--to",
        &to,
        "--apply",
    ];

    let shown = on_terminal(d, &args, &env);
    assert!(shown.contains("comparing: 3/3 secrets"), "{shown:?}");
    assert!(shown.contains("writing: 3/3 secrets"), "{shown:?}");
    // Each report line starts at column 0: the counter is erased before it.
    assert!(shown.contains("\r\x1b[2K  created"), "{shown:?}");

    // Piped: the same import (now all unchanged) writes no progress at all.
    let mut c = bare_cmd(d);
    c.args(args).envs(env.iter().copied());
    let run = Run::of(c);
    run.expect_code(0);
    assert!(run.stderr.is_empty(), "{}", run.stderr_str());
    assert!(!run.stdout_str().contains('\x1b'), "{}", run.stdout_str());
    assert!(
        run.stdout_str().contains("3 unchanged"),
        "{}",
        run.stdout_str()
    );
}
