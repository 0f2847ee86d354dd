//! `envfile exec` end to end: values reach the command byte-exact, `--clean-env` hides the
//! parent's environment, nothing runs when a reference fails, and exec failures use the shell's
//! exit codes.

mod cli_support;

use cli_support::{assert_bytes_eq, canary, Fixture};
use serde_json::json;

const VALUE: &str = "it's \"quoted\" $HOME `id` \\ \n\ttab\r\n🦀 trailing newline\n";

fn fixture() -> Fixture {
    Fixture::new(
        &json!({ "app/var": VALUE, "app/token": "tok" }),
        "[default.envfiles.app]\nvars.VAR = \"file:app/var\"\nvars.TOKEN = \"file:app/token\"\n",
    )
}

#[test]
fn exec_passes_the_value_byte_exact() {
    let fx = fixture();
    let run = fx.run(["exec", "app", "--", "/bin/sh", "-c", "printf %s \"$VAR\""]);
    run.expect_code(0);
    assert_bytes_eq("VAR", &run.stdout, VALUE.as_bytes());
}

#[test]
fn exec_keeps_the_parent_env_unless_clean_env() {
    let fx = fixture();
    let script = "printf '%s|%s' \"${PARENT_ONLY-unset}\" \"$TOKEN\"";
    let mut cmd = fx.cmd(["exec", "app", "--", "/bin/sh", "-c", script]);
    cmd.env("PARENT_ONLY", "from-parent");
    let run = cli_support::Run::of(cmd);
    run.expect_code(0);
    assert_eq!(run.stdout_str(), "from-parent|tok");

    let mut cmd = fx.cmd(["exec", "--clean-env", "app", "--", "/bin/sh", "-c", script]);
    cmd.env("PARENT_ONLY", "from-parent");
    let run = cli_support::Run::of(cmd);
    run.expect_code(0);
    assert_eq!(run.stdout_str(), "unset|tok");

    // Only the rendered variables: `env` prints exactly them (sh may add PWD and friends,
    // so ask `env` directly, looked up on envfile's own PATH).
    let run = fx.run(["exec", "--clean-env", "app", "--", "env", "-0"]);
    run.expect_code(0);
    let mut names: Vec<String> = run
        .stdout
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| String::from_utf8_lossy(e.split(|&b| b == b'=').next().unwrap_or(e)).into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["TOKEN", "VAR"]);
}

#[test]
fn exec_resolved_vars_win_over_the_parent_env() {
    let fx = fixture();
    let mut cmd = fx.cmd(["exec", "app", "--", "/bin/sh", "-c", "printf %s \"$TOKEN\""]);
    cmd.env("TOKEN", "stale");
    let run = cli_support::Run::of(cmd);
    run.expect_code(0);
    assert_eq!(run.stdout_str(), "tok");
}

#[test]
fn exec_runs_nothing_when_a_reference_fails_and_reports_all() {
    let secret = canary("exec");
    let fx = Fixture::new(
        &json!({ "ok": secret }),
        "[default.envfiles.app]\nvars.OK = \"file:ok\"\nvars.M1 = \"file:missing/one\"\nvars.M2 = \"file:missing/two\"\n",
    );
    let run = fx.run([
        "exec",
        "app",
        "--",
        "/bin/sh",
        "-c",
        "echo RAN; printf %s \"$OK\"",
    ]);
    run.assert_no_secret(&[&secret]);
    run.expect_code(1)
        .assert_mentions("file:missing/one")
        .assert_mentions("file:missing/two");
    assert!(
        !run.stdout_str().contains("RAN"),
        "the command must not run"
    );
}

#[test]
fn exec_of_a_missing_command_exits_127_and_a_non_executable_126() {
    let fx = fixture();
    fx.run(["exec", "app", "--", "/nonexistent/envfile-test-cmd"])
        .expect_code(127)
        .assert_mentions("/nonexistent/envfile-test-cmd")
        .assert_no_secret(&[VALUE]);
    fx.run(["exec", "app", "--", "envfile-test-no-such-command"])
        .expect_code(127)
        .assert_mentions("envfile-test-no-such-command");

    let not_exec = fx.path("not-executable.sh");
    std::fs::write(&not_exec, "#!/bin/sh\necho hi\n").expect("write");
    let mut cmd = fx.cmd(["exec", "app", "--"]);
    cmd.arg(&not_exec);
    cli_support::Run::of(cmd).expect_code(126);
}

#[test]
fn exec_requires_a_command_after_double_dash() {
    let fx = fixture();
    fx.run(["exec", "app"]).expect_code(2);
}
