//! Config loading: profiles, strictness, provenance in errors, and the bad-config fixtures.
//!
//! Environment overrides live in `config_env.rs`: they touch process-global state.

use envfile_core::config::{self, Case, VarSource};
use envfile_core::ErrorKind;
use serde::Deserialize;
use std::path::Path;

const GOOD: &str = r#"
[default.backends.aws]
kind = "aws"
[default.backends.vault]
kind = "vault"
address = "http://127.0.0.1:8200"
auth = { method = "kubernetes", role = "api" }
[default.envfiles.api]
required = ["JWT_SECRET_KEY", "DATABASE_URL"]
vars.JWT_SECRET_KEY = "aws:ml-incident/prod/jwt-secret-key"
vars.DATABASE_URL   = "vault:ml-incident/prod/api#database_url"
vars.LOG_LEVEL      = { value = "INFO" }
expand = [ { ref = "aws:benchling-webhook/config", case = "upper", prefix = "" } ]
[default.secrets."aws:afu9/database"]
required_keys = ["host", "port", "database", "username", "password"]
[prod.backends.aws]
region = "eu-central-1"
[prod.envfiles.api]
vars.LOG_LEVEL = { value = "WARN" }
"#;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct AwsSettings {
    kind: String,
    region: Option<String>,
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn good_config_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "envfile.toml", GOOD);
    let loaded = config::load(Some(&path), Some("default")).unwrap();
    assert_eq!(loaded.profile, "default");
    assert_eq!(loaded.path.as_deref(), Some(path.as_path()));
    let cfg = &loaded.config;
    assert_eq!(
        cfg.backends.keys().collect::<Vec<_>>(),
        ["aws", "vault"],
        "backends"
    );
    assert_eq!(cfg.backends["vault"].kind, "vault");
    let api = loaded.envfile("api").unwrap();
    assert_eq!(api.required, ["JWT_SECRET_KEY", "DATABASE_URL"]);
    assert_eq!(
        api.vars["DATABASE_URL"],
        VarSource::Ref("vault:ml-incident/prod/api#database_url".into())
    );
    assert!(matches!(&api.vars["LOG_LEVEL"], VarSource::Literal { value } if value == "INFO"));
    assert_eq!(api.expand.len(), 1);
    assert_eq!(api.expand[0].case, Case::Upper);
    assert_eq!(
        cfg.secrets["aws:afu9/database"].required_keys,
        ["host", "port", "database", "username", "password"]
    );
    let aws: AwsSettings = loaded.backend_config("aws").unwrap();
    assert_eq!(aws.region, None);

    let err = loaded.envfile("nope").unwrap_err();
    assert!(err.hint().unwrap().contains("api"), "{err}");
}

#[test]
fn prod_profile_overrides_default() {
    let loaded = config::load_str(GOOD, Some("prod")).unwrap();
    assert_eq!(loaded.profile, "prod");
    let aws: AwsSettings = loaded.backend_config("aws").unwrap();
    assert_eq!(aws.kind, "aws", "kind comes from default");
    assert_eq!(
        aws.region.as_deref(),
        Some("eu-central-1"),
        "region from prod"
    );
    let api = loaded.envfile("api").unwrap();
    assert!(matches!(&api.vars["LOG_LEVEL"], VarSource::Literal { value } if value == "WARN"));
    // Keys prod does not set are inherited from default.
    assert!(api.vars.contains_key("JWT_SECRET_KEY"));
    assert_eq!(api.required.len(), 2);

    let default = config::load_str(GOOD, None).unwrap();
    assert_eq!(default.profile, "default");
    let aws: AwsSettings = default.backend_config("aws").unwrap();
    assert_eq!(aws.region, None);
}

#[test]
fn unknown_profile_lists_the_ones_that_exist() {
    let err = config::load_str(GOOD, Some("staging")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.message().contains("staging"), "{err}");
    let hint = err.hint().unwrap();
    assert!(hint.contains("default") && hint.contains("prod"), "{err}");
}

#[test]
fn unknown_key_names_file_and_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "my.toml",
        "[default.envfiles.api]\nvars.A = \"aws:x\"\nrequird = [\"A\"]\n[default.backends.aws]\nkind = \"aws\"\n",
    );
    let err = config::load(Some(&path), None).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(text.contains("my.toml"), "{text}");
    assert!(text.contains("default.envfiles.api.requird"), "{text}");
    assert!(text.contains("unknown key"), "{text}");
    assert!(text.contains("required"), "lists expected keys: {text}");
}

#[test]
fn missing_explicit_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let err = config::load(Some(&path), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("nope.toml"), "{err}");
    assert!(err.to_string().contains("--config"), "{err}");
}

#[test]
fn extract_reports_provenance_without_values() {
    let loaded = config::load_str(
        "[default.backends.vault]\nkind = \"vault\"\ntoken = 12345678\n",
        None,
    )
    .unwrap();
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Vault {
        kind: String,
        token: String,
    }
    let err = loaded.backend_config::<Vault>("vault").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("default.backends.vault.token"), "{text}");
    assert!(text.contains("expected a string"), "{text}");
    assert!(!text.contains("12345678"), "value leaked: {text}");

    let err = loaded.backend_config::<Vault>("gcp").unwrap_err();
    assert!(err.to_string().contains("backends.gcp"), "{err}");
}

#[test]
fn literal_values_never_appear_in_errors() {
    let secret = "hunter2-very-secret";
    let cases = [
        // A literal with an extra key.
        format!(
            "[default.envfiles.a]\nvars.X = {{ value = \"{secret}\", vlaue = \"{secret}\" }}\n"
        ),
        // A value typed where a reference belongs.
        format!("[default.envfiles.a]\nvars.X = \"{secret}\"\n"),
        // A literal of the wrong type next to a good one.
        format!(
            "[default.envfiles.a]\nvars.X = {{ value = 5 }}\nvars.Y = {{ value = \"{secret}\" }}\n"
        ),
        // A TOML syntax error on the line holding the secret.
        format!("[default.envfiles.a]\nvars.X = {{ value = \"{secret}\" \n"),
    ];
    for toml in cases {
        let err = config::load_str(&toml, None).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "leaked a value: {shown}");
        assert!(
            shown.contains("vars.X") || shown.contains("line 2"),
            "{shown}"
        );
    }
}

/// Every `NAME.toml` in fixtures/bad-configs must fail with a Config error containing the
/// text of `NAME.expected`.
#[test]
fn bad_config_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad-configs");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "only {} fixtures", cases.len());
    let mut failures = Vec::new();
    for toml in &cases {
        let expected_path = toml.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected", toml.display()));
        let expected = expected.trim_end_matches('\n');
        match config::load(Some(toml), Some("default")) {
            Ok(_) => failures.push(format!("{}: loaded without error", toml.display())),
            Err(e) => {
                let text = e.to_string();
                if e.kind() != ErrorKind::Config || !text.contains(expected) {
                    failures.push(format!(
                        "{}: expected a config error containing {expected:?}, got:\n{text}",
                        toml.display()
                    ));
                }
                if !text.contains(&*toml.file_name().unwrap().to_string_lossy()) {
                    failures.push(format!(
                        "{}: error does not name the file:\n{text}",
                        toml.display()
                    ));
                }
                if text.contains("SECRET-VALUE") {
                    failures.push(format!("{}: error shows a value:\n{text}", toml.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
