//! Failures through the real binary: each exits non-zero with the documented code, names the
//! culprit (reference, variable, file, key) and never prints a secret value, even when other
//! secrets in the same env file resolved fine.

mod cli_support;

use cli_support::{canary, Fixture, Run};
use serde_json::json;

#[test]
fn a_bad_reference_exits_2_and_names_it() {
    let secret = canary("badref");
    let fx = Fixture::new(
        &json!({ "app/token": secret }),
        "[default.envfiles.app]\nvars.TOKEN = \"file:app/token\"\nvars.BROKEN = \"file:app/token#\"\nvars.ALSO = \"no-colon-here\"\n",
    );
    for args in [vec!["render", "app"], vec!["check"]] {
        let run = fx.run(&args);
        run.assert_no_secret(&[&secret]);
        assert!(run.code != Some(0), "{args:?} must fail");
        // The culprits are named by variable and key path; the text of a string that is not a
        // reference is not echoed (it may be a secret pasted where a reference belongs).
        run.assert_mentions("BROKEN")
            .assert_mentions("ALSO")
            .assert_mentions("invalid reference")
            .assert_mentions("envfile.toml");
    }
    // Invalid references are a config problem: exit 2 from render.
    fx.run(["render", "app"]).expect_code(2);
}

#[test]
fn get_with_an_unparsable_reference_is_a_usage_error() {
    let fx = Fixture::new(&json!({}), "");
    fx.run(["get", "::nonsense"])
        .expect_code(2)
        .assert_mentions("::nonsense");
}

#[test]
fn a_missing_secret_exits_1_names_it_and_leaks_nothing() {
    let present = canary("present");
    let fx = Fixture::new(
        &json!({ "app/present": present }),
        "[default.envfiles.app]\nvars.PRESENT = \"file:app/present\"\nvars.ABSENT = \"file:app/absent\"\n",
    );
    for format in ["dotenv", "shell", "json"] {
        let run = fx.run(["render", "app", "--format", format]);
        run.assert_no_secret(&[&present]);
        run.expect_code(1)
            .assert_mentions("file:app/absent")
            .assert_mentions("ABSENT")
            .assert_mentions("envfile: error:");
        assert!(run.stdout.is_empty(), "nothing rendered on failure");
    }
    let run = fx.run(["get", "file:app/absent"]);
    run.assert_no_secret(&[&present]);
    run.expect_code(1).assert_mentions("file:app/absent");
}

#[test]
fn every_failed_reference_is_reported_at_once() {
    let fx = Fixture::new(
        &json!({ "ok": "fine" }),
        "[default.envfiles.app]\nvars.OK = \"file:ok\"\nvars.ONE = \"file:first/missing\"\nvars.TWO = \"file:second/missing\"\n",
    );
    fx.run(["render", "app"])
        .expect_code(1)
        .assert_mentions("file:first/missing")
        .assert_mentions("file:second/missing")
        .assert_mentions("2 problem(s)");
}

#[test]
fn a_bad_config_exits_2_and_names_the_file_and_key() {
    let fx = Fixture::raw(
        "[default.backends.file]\nkind = \"file\"\npath = \"store.json\"\n\n[default.envfiles.app]\nvars.A = \"file:a\"\nbogus_setting = true\n",
    );
    fx.run(["render", "app"])
        .expect_code(2)
        .assert_mentions("envfile.toml")
        .assert_mentions("bogus_setting");

    let fx = Fixture::raw("this is = = not toml\n");
    fx.run(["render"])
        .expect_code(2)
        .assert_mentions("envfile.toml");

    let fx = Fixture::raw("[default.backends.x]\nkind = \"carrier-pigeon\"\n");
    fx.run(["check"])
        .expect_code(2)
        .assert_mentions("carrier-pigeon");
}

#[test]
fn a_missing_config_file_exits_2_and_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = cli_support::bare_cmd(dir.path());
    cmd.args(["--config", "nowhere.toml", "render"]);
    Run::of(cmd).expect_code(2).assert_mentions("nowhere.toml");
}

#[test]
fn an_unknown_envfile_lists_the_configured_ones() {
    let fx = Fixture::new(
        &json!({ "a": "1" }),
        "[default.envfiles.web]\nvars.A = \"file:a\"\n[default.envfiles.worker]\nvars.A = \"file:a\"\n",
    );
    fx.run(["render", "nope"])
        .expect_code(2)
        .assert_mentions("nope")
        .assert_mentions("web")
        .assert_mentions("worker");
}

#[test]
fn a_value_the_format_cannot_carry_is_an_error_naming_the_var() {
    let secret = format!("{}\nsecond line", canary("docker"));
    let fx = Fixture::new(
        &json!({ "multi": secret }),
        "[default.envfiles.app]\nvars.MULTI = \"file:multi\"\n",
    );
    let run = fx.run(["render", "app", "--format", "docker"]);
    run.assert_no_secret(&[&secret, secret.lines().next().unwrap_or_default()]);
    assert!(run.code != Some(0));
    run.assert_mentions("MULTI");
    assert!(run.stdout.is_empty());
}

#[test]
fn get_prints_the_value_byte_exact_without_a_newline_when_piped() {
    let value = "line one\nline two\n\n";
    let fx = Fixture::new(&json!({ "v": value, "j": { "pw": "p@ss" } }), "");
    let run = fx.run(["get", "file:v"]);
    run.expect_code(0);
    cli_support::assert_bytes_eq("get", &run.stdout, value.as_bytes());
    let run = fx.run(["get", "file:j#pw"]);
    run.expect_code(0);
    cli_support::assert_bytes_eq("get #key", &run.stdout, b"p@ss");
}

#[test]
fn help_works_for_every_subcommand_and_lists_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let top = Run::of({
        let mut c = cli_support::bare_cmd(dir.path());
        c.arg("--help");
        c
    });
    top.expect_code(0)
        .assert_mentions("Exit codes:")
        .assert_mentions("127");
    // Every command listed in the top-level help, so commands added later are covered too.
    let help = top.stdout_str();
    let listed: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|&c| c != "help")
        .collect();
    for sub in ["render", "get", "exec", "check"] {
        assert!(
            listed.contains(&sub),
            "top-level help lists `{sub}`: {listed:?}"
        );
    }
    for sub in listed {
        let mut c = cli_support::bare_cmd(dir.path());
        c.args([sub, "--help"]);
        Run::of(c).expect_code(0).assert_mentions("Usage: envfile ");
    }
    let mut c = cli_support::bare_cmd(dir.path());
    c.arg("no-such-command");
    Run::of(c).expect_code(2);
}

#[test]
fn trace_logging_prints_no_secret_value() {
    let secret = canary("trace");
    let fx = Fixture::new(
        &json!({ "s": secret, "j": { "k": secret } }),
        "[default.envfiles.app]\nvars.S = \"file:s\"\nvars.K = \"file:j#k\"\nvars.M = \"file:missing\"\n",
    );
    for args in [
        vec!["--log-level", "trace", "render", "app", "--out", "x.env"],
        vec!["--log-level", "trace", "check"],
        vec!["--log-level", "trace", "get", "file:j#nope"],
    ] {
        let run = fx.run(&args);
        run.assert_no_secret(&[&secret]);
        assert!(run.code != Some(0), "{args:?} fails on the missing secret");
    }
    let mut cmd = fx.cmd(["render", "app"]);
    cmd.env("ENVFILE_LOG", "trace");
    Run::of(cmd).assert_no_secret(&[&secret]);
}

#[test]
fn the_config_can_come_from_envfile_config() {
    let fx = Fixture::new(&json!({ "v": "from-env-config" }), "");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let mut cmd = cli_support::bare_cmd(elsewhere.path());
    cmd.env("ENVFILE_CONFIG", &fx.config)
        .args(["get", "file:v"]);
    let run = Run::of(cmd);
    run.expect_code(0);
    assert_eq!(run.stdout_str(), "from-env-config");
}
