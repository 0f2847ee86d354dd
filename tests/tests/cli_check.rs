//! `envfile check` end to end: the preflight names every problem with its hint, as a list or
//! JSON, exits 1 on problems and 0 with a summary when everything resolves.

mod cli_support;

use cli_support::{canary, Fixture};
use serde_json::json;

/// The runbook case: `afu9/database` has `dbname`, but the app (and the secret's rules) want
/// `database`.
fn afu9(password: &str) -> Fixture {
    Fixture::new(
        &json!({
            "afu9/database": {
                "host": "db.internal",
                "port": 5432,
                "dbname": "afu9",
                "username": "afu9_app",
                "password": password,
            },
            "app/token": "fine",
        }),
        r#"
[default.envfiles.app]
vars.TOKEN = "file:app/token"
vars.DATABASE_NAME = "file:afu9/database#database"
vars.DATABASE_PASSWORD = "file:afu9/database#password"

[default.secrets."file:afu9/database"]
required_keys = ["host", "port", "database", "username", "password"]
"#,
    )
}

#[test]
fn missing_key_names_the_reference_the_key_the_keys_present_and_a_suggestion() {
    let password = canary("afu9");
    let fx = afu9(&password);
    let run = fx.run(["check"]);
    run.assert_no_secret(&[&password]);
    run.expect_code(1)
        .assert_mentions("file:afu9/database")
        .assert_mentions("`database`")
        .assert_mentions("DATABASE_NAME")
        .assert_mentions("hint:")
        .assert_mentions("`dbname`")
        // The suggestion the runbook needs: the secret's key is misnamed.
        .assert_mentions("rename that key to `database`");
    for key in ["dbname", "host", "port", "username", "password"] {
        run.assert_mentions(key);
    }
}

#[test]
fn check_json_is_an_array_of_problems_with_hints() {
    let password = canary("afu9json");
    let fx = afu9(&password);
    let run = fx.run(["check", "--format", "json"]);
    run.assert_no_secret(&[&password]);
    run.expect_code(1);
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&run.stdout).expect("stdout is a JSON array");
    assert!(!rows.is_empty());
    for row in &rows {
        for field in ["envfile", "var", "reference", "kind", "message", "hint"] {
            assert!(row.get(field).is_some(), "row lacks `{field}`: {row}");
        }
        assert_eq!(row["envfile"], "app");
    }
    let missing = rows
        .iter()
        .find(|r| r["var"] == "DATABASE_NAME")
        .expect("a row for DATABASE_NAME");
    assert_eq!(missing["kind"], "missing_key");
    assert!(missing["reference"]
        .as_str()
        .is_some_and(|r| r.contains("afu9/database")));
    let text = format!("{} {}", missing["message"], missing["hint"]);
    assert!(text.contains("dbname"), "keys present are listed: {text}");
}

#[test]
fn check_passes_with_a_summary_when_everything_resolves() {
    let fx = Fixture::new(
        &json!({ "a": "1", "db": { "database": "x", "password": "y" } }),
        r#"
[default.envfiles.one]
vars.A = "file:a"
[default.envfiles.two]
vars.DB = "file:db#database"
vars.PW = "file:db#password"
[default.secrets."file:db"]
required_keys = ["database", "password"]
"#,
    );
    let run = fx.run(["check"]);
    run.expect_code(0)
        .assert_mentions("OK")
        .assert_mentions("2 envfile(s)");
    assert!(!run.all().contains("\"x\"") && !run.stdout_str().contains("=y"));
    let run = fx.run(["check", "one", "--format", "json"]);
    run.expect_code(0);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&run.stdout).expect("JSON");
    assert!(rows.is_empty());
}

#[test]
fn check_limits_itself_to_the_named_envfiles() {
    let fx = Fixture::new(
        &json!({ "a": "1" }),
        "[default.envfiles.good]\nvars.A = \"file:a\"\n[default.envfiles.bad]\nvars.B = \"file:missing\"\n",
    );
    fx.run(["check", "good"]).expect_code(0);
    fx.run(["check", "bad"])
        .expect_code(1)
        .assert_mentions("file:missing");
    fx.run(["check"]).expect_code(1).assert_mentions("bad");
    fx.run(["check", "nope"])
        .expect_code(2)
        .assert_mentions("nope");
}
