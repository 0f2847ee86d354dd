//! Secrets never reach `Debug` or `Display`: every public type that can hold a value is formatted
//! with a known canary inside it, and the canary must not appear. A new type that holds values
//! belongs in this list.

use envfile_core::config::{self, VarSource};
use envfile_core::file_backend::FileBackend;
use envfile_core::render::{render, Format, RenderOptions};
use envfile_core::{
    Backend, Backends, Error, ErrorKind, Fetched, Locator, Problem, Problems, Reference,
    ResolvedEnv, Resolver, SecretJson, SecretString, SecretValue, Var,
};
use std::sync::Arc;

const CANARY: &str = "CANARY-7f3a9c1e-do-not-print";

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(CANARY),
        "{what}: formatted output contains the canary ({} bytes of output)",
        text.len()
    );
}

fn both<T: std::fmt::Debug + std::fmt::Display>(what: &str, v: &T) {
    assert_clean(&format!("{what} Debug"), &format!("{v:?}"));
    assert_clean(&format!("{what} Debug alt"), &format!("{v:#?}"));
    assert_clean(&format!("{what} Display"), &format!("{v}"));
}

#[test]
fn value_types_redact() {
    let v = SecretValue::from_str_copy(CANARY);
    both("SecretValue", &v);
    let s = SecretString::new(CANARY.to_owned());
    both("SecretString", &s);
    let j = SecretValue::from_string(format!(r#"{{"k":"{CANARY}"}}"#))
        .parse_json()
        .expect("test JSON parses");
    assert_clean("SecretJson Debug", &format!("{j:?}"));
    let _: &SecretJson = &j;
    let f = Fetched::new(v.clone(), Some("v1".into()));
    assert_clean("Fetched Debug", &format!("{f:?}"));
    let var = Var {
        name: "X".into(),
        value: v.clone(),
    };
    assert_clean("Var Debug", &format!("{var:?}"));
    let env = ResolvedEnv {
        vars: vec![var],
        versions: Default::default(),
    };
    assert_clean("ResolvedEnv Debug", &format!("{env:?}"));
    let (rendered, warnings) = render(
        Format::Dotenv,
        &env.vars,
        &RenderOptions {
            name: Some("x".into()),
            namespace: None,
        },
    )
    .expect("renders");
    both("rendered SecretString", &rendered);
    assert_clean("render warnings", &format!("{warnings:?}"));
}

#[test]
fn json_parse_errors_do_not_quote_the_input() {
    let bad = SecretValue::from_string(format!("{{\"k\": {CANARY}"));
    let err = bad.parse_json().expect_err("not JSON");
    assert_clean("JsonSyntax", &format!("{err:?}"));
}

#[test]
fn config_types_redact_literals() {
    let toml = format!(
        r#"
[default.backends.file]
kind = "file"
path = "/nonexistent-store.toml"

[default.envfiles.app]
vars.TOKEN = {{ value = "{CANARY}" }}
vars.DB = "file:db#password"
"#
    );
    let loaded = config::load_str(&toml, None).expect("config loads");
    assert_clean("LoadedConfig Debug", &format!("{loaded:?}"));
    assert_clean("Config Debug", &format!("{:?}", loaded.config));
    let spec = loaded.envfile("app").expect("envfile exists");
    assert_clean("EnvfileSpec Debug", &format!("{spec:?}"));
    let lit = VarSource::Literal {
        value: CANARY.into(),
    };
    assert_clean("VarSource Debug", &format!("{lit:?}"));
}

#[test]
fn config_errors_do_not_echo_values() {
    // A value pasted where a reference belongs must not be echoed back in the error.
    let toml = format!(
        r#"
[default.backends.file]
kind = "file"
path = "/nonexistent-store.toml"

[default.envfiles.app]
vars.DB = "postgres://user:{CANARY}@host/db"
"#
    );
    let err = config::load_str(&toml, None).expect_err("a URL is not a reference");
    both("config Error", &err);
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains("DB"),
        "the error names the variable"
    );
}

#[tokio::test]
async fn resolver_problems_do_not_leak_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store.toml");
    std::fs::write(
        &store,
        format!("\"app/db\" = {{ dbname = \"{CANARY}\", host = \"{CANARY}\" }}\n\"plain\" = \"{CANARY}\"\n"),
    )
    .expect("write store");
    let backend: Arc<dyn Backend> = Arc::new(FileBackend::open("file", &store).expect("opens"));
    let mut backends = Backends::new();
    backends.insert(backend.clone());
    let toml = r##"
[default.backends.file]
kind = "file"
path = "/unused"

[default.envfiles.app]
vars.A = "file:app/db#database"
vars.B = "file:plain#key"
vars.C = "file:missing"
"##;
    let loaded = config::load_str(toml, None).expect("config loads");
    let resolver = Resolver::new(backends, &loaded.config);
    assert_clean("Resolver Debug", &format!("{resolver:?}"));
    let problems: Problems = resolver
        .resolve_envfile(loaded.envfile("app").expect("envfile"))
        .await
        .expect_err("three problems");
    assert_eq!(problems.0.len(), 3, "every problem is reported");
    both("Problems", &problems);
    for p in &problems.0 {
        let p: &Problem = p;
        both("Problem", p);
        both("Problem error", &p.error);
    }
    // Errors straight from the backend too.
    let err: Error = backend
        .get(&Locator::new("app/missing"))
        .await
        .expect_err("missing");
    both("backend Error", &err);
    let reference = Reference::parse("file:app/db#nope").expect("parses");
    let err = resolver.get(&reference).await.expect_err("missing key");
    assert_eq!(err.kind(), ErrorKind::MissingKey);
    both("MissingKey Error", &err);
}
