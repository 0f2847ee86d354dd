//! The resolver against an in-memory backend: batching and dedupe, key selection, rules,
//! expansion, `required`, and reporting every problem at once without printing values.
//!
//! `MemoryBackend` is a test double: it exists to count calls and inject throttling, which
//! no real server here lets us observe. Real backends run the conformance suite.

use async_trait::async_trait;
use envfile_core::config::{Config, EnvfileSpec, SecretRule};
use envfile_core::{
    Backend, Backends, Capabilities, ErrorKind, Fetched, Locator, Problems, Reference, Resolver,
    Result, SecretValue,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Every secret in these tests holds this marker, so a leak anywhere is detectable.
const MARK: &str = "s3cr3t-MARK";

#[derive(Default)]
struct Calls {
    /// Every `get_many` call's locator paths.
    batches: Vec<Vec<String>>,
    /// Every `current_version` call.
    probes: usize,
}

/// Test double: secrets in a map, calls recorded, throttling injectable.
struct MemoryBackend {
    name: String,
    kind: &'static str,
    secrets: Mutex<HashMap<String, (SecretValue, Option<String>)>>,
    /// Path → how many more reads fail with `Throttled`.
    throttle: Mutex<HashMap<String, u32>>,
    /// What `current_version` answers (`None`: no cheap probe).
    probe: Option<String>,
    calls: Mutex<Calls>,
}

impl MemoryBackend {
    fn new(name: &str, kind: &'static str) -> Self {
        Self {
            name: name.into(),
            kind,
            secrets: Mutex::default(),
            throttle: Mutex::default(),
            probe: None,
            calls: Mutex::default(),
        }
    }
    fn with(self, path: &str, value: &str) -> Self {
        self.with_version(path, value, Some("v1"))
    }
    fn with_version(self, path: &str, value: &str, version: Option<&str>) -> Self {
        self.set(path, value, version);
        self
    }
    fn set(&self, path: &str, value: &str, version: Option<&str>) {
        self.secrets.lock().unwrap().insert(
            path.into(),
            (
                SecretValue::from_str_copy(value),
                version.map(str::to_owned),
            ),
        );
    }
    fn batches(&self) -> Vec<Vec<String>> {
        self.calls.lock().unwrap().batches.clone()
    }
    fn reads(&self) -> usize {
        self.batches().iter().map(Vec::len).sum()
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        {
            let mut t = self.throttle.lock().unwrap();
            if let Some(n) = t.get_mut(&loc.path).filter(|n| **n > 0) {
                *n -= 1;
                return Err(envfile_core::Error::new(ErrorKind::Throttled, "slow down"));
            }
        }
        match self.secrets.lock().unwrap().get(&loc.path) {
            Some((v, ver)) => Ok(Fetched::new(v.clone(), ver.clone())),
            None => Err(envfile_core::Error::new(
                ErrorKind::NotFound,
                format!("no secret named `{}`", loc.path),
            )),
        }
    }
    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        self.calls
            .lock()
            .unwrap()
            .batches
            .push(locs.iter().map(|l| l.path.clone()).collect());
        let mut out = Vec::new();
        for l in locs {
            out.push(self.get(l).await);
        }
        out
    }
    async fn current_version(&self, _loc: &Locator) -> Result<Option<String>> {
        self.calls.lock().unwrap().probes += 1;
        Ok(self.probe.clone())
    }
}

fn db_json() -> String {
    format!(
        r#"{{"database":"app","host":"db.internal","password":"{MARK}-pw","port":5432,"username":"{MARK}-user","ssl":true}}"#
    )
}

fn nested_json() -> String {
    format!(
        r#"{{"db":{{"password":"{MARK}-nested","port":5432,"opts":{{"a":[1,2]}}}},"list":["x"]}}"#
    )
}

fn resolver(backends: &[Arc<MemoryBackend>], rules: &[(&str, &[&str])]) -> Resolver {
    let mut b = Backends::new();
    for backend in backends {
        b.insert(backend.clone());
    }
    let mut config = Config::default();
    for (r, keys) in rules {
        config.secrets.insert(
            (*r).to_owned(),
            SecretRule {
                required_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            },
        );
    }
    Resolver::new(b, &config)
}

fn spec(toml_text: &str) -> EnvfileSpec {
    toml::from_str(toml_text).unwrap()
}

fn text(v: &SecretValue) -> &str {
    v.expose_str().unwrap()
}

/// Format problems both ways and make sure no secret reached them.
fn shown(p: &Problems) -> String {
    let s = format!("{p}\n{p:?}");
    assert!(!s.contains(MARK), "a secret value reached the problem text");
    s
}

fn kinds(p: &Problems) -> Vec<(Option<String>, ErrorKind)> {
    p.0.iter()
        .map(|p| (p.var.clone(), p.error.kind()))
        .collect()
}

#[tokio::test]
async fn ten_vars_from_two_secrets_read_each_secret_once() {
    let aws = Arc::new(
        MemoryBackend::new("aws", "aws")
            .with("app/db", &db_json())
            .with("app/other", "{\"a\":\"1\",\"b\":\"2\"}"),
    );
    let vault = Arc::new(MemoryBackend::new("vault", "vault").with("kv/api", &nested_json()));
    let r = resolver(&[aws.clone(), vault.clone()], &[]);
    let env = r
        .resolve_envfile(&spec(
            r#"
            vars.DB_NAME = "aws:app/db#database"
            vars.DB_HOST = "aws:app/db#host"
            vars.DB_PASSWORD = "aws:app/db#password"
            vars.DB_PORT = "aws:app/db#port"
            vars.DB_USER = "aws:app/db#username"
            vars.DB_SSL = "aws:app/db#ssl"
            vars.DB_ALL = "aws:app/db"
            vars.API_PW = "vault:kv/api#/db/password"
            vars.API_PORT = "vault:kv/api#/db/port"
            vars.API_OPTS = "vault:kv/api#/db/opts"
            "#,
        ))
        .await
        .map_err(|p| shown(&p))
        .unwrap();

    assert_eq!(
        aws.batches(),
        vec![vec!["app/db".to_owned()]],
        "one batch, one read"
    );
    assert_eq!(vault.batches(), vec![vec!["kv/api".to_owned()]]);

    let names: Vec<&str> = env.vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "API_OPTS",
            "API_PORT",
            "API_PW",
            "DB_ALL",
            "DB_HOST",
            "DB_NAME",
            "DB_PASSWORD",
            "DB_PORT",
            "DB_SSL",
            "DB_USER"
        ],
        "sorted by name"
    );
    assert_eq!(text(env.get("DB_NAME").unwrap()), "app");
    assert!(text(env.get("DB_PASSWORD").unwrap()) == format!("{MARK}-pw"));
    assert_eq!(
        text(env.get("DB_PORT").unwrap()),
        "5432",
        "numbers as JSON text"
    );
    assert_eq!(text(env.get("DB_SSL").unwrap()), "true");
    assert!(
        env.get("DB_ALL").unwrap().expose_bytes() == db_json().as_bytes(),
        "whole value"
    );
    assert!(
        text(env.get("API_PW").unwrap()) == format!("{MARK}-nested"),
        "pointer"
    );
    assert_eq!(text(env.get("API_PORT").unwrap()), "5432");
    assert_eq!(
        text(env.get("API_OPTS").unwrap()),
        r#"{"a":[1,2]}"#,
        "compact JSON"
    );
    assert_eq!(env.versions.len(), 10);
    assert_eq!(env.versions["aws:app/db#host"].as_deref(), Some("v1"));
    assert!(!format!("{env:?}").contains(MARK));
}

#[tokio::test]
async fn two_secrets_on_one_backend_go_in_one_batch() {
    let aws = Arc::new(
        MemoryBackend::new("aws", "aws")
            .with("a", "{\"k\":\"1\"}")
            .with("b", "{\"k\":\"2\"}"),
    );
    let r = resolver(std::slice::from_ref(&aws), &[]);
    let refs: Vec<Reference> = ["aws:a#k", "aws:b#k", "aws:a", "aws:b?version=v1"]
        .iter()
        .map(|s| Reference::parse(s).unwrap())
        .collect();
    let out = r.fetch_many(&refs).await;
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|r| r.is_ok()));
    // `b` and `b?version=v1` are different locators: both read, still in one call.
    assert_eq!(aws.batches().len(), 1);
    assert_eq!(aws.reads(), 3);
}

#[tokio::test]
async fn every_problem_is_reported_at_once() {
    let aws = Arc::new(
        MemoryBackend::new("aws", "aws")
            .with("app/db", &db_json())
            .with("plain", &format!("{MARK}-not-json"))
            .with("empty", ""),
    );
    let r = resolver(std::slice::from_ref(&aws), &[]);
    let err = r
        .resolve_envfile(&spec(
            r#"
            required = ["EMPTY", "NOT_THERE", "GONE"]
            vars.GOOD = "aws:app/db#host"
            vars.GONE = "aws:does/not/exist"
            vars.TYPO = "aws:app/db#dbname"
            vars.PLAIN_KEY = "aws:plain#password"
            vars.EMPTY = "aws:empty"
            vars.EMPTY_OK = "aws:empty"
            vars.NO_BACKEND = "gcp-eu:x"
            vars.BAD_REF = "aws:"
            vars.1BAD = { value = "x" }
            "#,
        ))
        .await
        .unwrap_err();
    let text = shown(&err);
    let mut got = kinds(&err);
    got.sort();
    let v = |s: &str| Some(s.to_owned());
    let mut want = vec![
        (v("1BAD"), ErrorKind::InvalidName),
        (v("BAD_REF"), ErrorKind::InvalidRef),
        (v("EMPTY"), ErrorKind::Empty),
        (v("GONE"), ErrorKind::NotFound),
        (v("NOT_THERE"), ErrorKind::Empty),
        (v("NO_BACKEND"), ErrorKind::Config),
        (v("PLAIN_KEY"), ErrorKind::NotJson),
        (v("TYPO"), ErrorKind::MissingKey),
    ];
    want.sort();
    assert_eq!(got, want, "{text}");
    // One backend call for everything that could be fetched.
    assert_eq!(aws.batches().len(), 1);
    assert!(text.starts_with("8 problem(s):"), "{text}");
    assert!(
        text.contains("GONE: aws:does/not/exist: no secret named"),
        "{text}"
    );
    assert!(text.contains("backend `aws`"), "{text}");
    // `GONE` is required but its failure is already reported: no second problem for it.
    assert_eq!(
        err.0
            .iter()
            .filter(|p| p.var.as_deref() == Some("GONE"))
            .count(),
        1
    );
}

#[tokio::test]
async fn missing_key_lists_keys_and_suggests_near_misses() {
    let aws = Arc::new(MemoryBackend::new("aws", "aws").with("app/db", &db_json()));
    let r = resolver(&[aws], &[]);
    let err = r
        .get(&Reference::parse("aws:app/db#dbname").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingKey);
    assert!(err.message().contains("`dbname`"), "{err}");
    assert_eq!(err.reference(), Some("aws:app/db#dbname"));
    assert_eq!(err.backend(), Some("aws"));
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("found keys: database, host, password, port, ssl, username"),
        "{hint}"
    );
    assert!(hint.contains("did you mean `database`?"), "{hint}");
    assert!(!format!("{err} {err:?}").contains(MARK));

    let err = r
        .get(&Reference::parse("aws:app/db#pasword").unwrap())
        .await
        .unwrap_err();
    assert!(
        err.hint().unwrap().contains("did you mean `password`?"),
        "{err}"
    );
}

#[tokio::test]
async fn pointer_misses_describe_the_spot() {
    let vault = Arc::new(MemoryBackend::new("vault", "vault").with("kv/api", &nested_json()));
    let r = resolver(&[vault], &[]);
    let get = |s: &'static str| {
        let r = r.clone();
        async move { r.get(&Reference::parse(s).unwrap()).await }
    };
    let err = get("vault:kv/api#/db/pasword").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingKey);
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("keys at `/db`: opts, password, port"),
        "{hint}"
    );
    assert!(hint.contains("did you mean `password`?"), "{hint}");

    let err = get("vault:kv/api#/list/3").await.unwrap_err();
    assert!(err.hint().unwrap().contains("array of 1 items"), "{err}");
    assert_eq!(text(&get("vault:kv/api#/list/0").await.unwrap()), "x");
    assert!(!format!("{err:?}").contains(MARK));
}

#[tokio::test]
async fn key_on_a_non_object_is_not_json() {
    let aws = Arc::new(
        MemoryBackend::new("aws", "aws")
            .with("plain", &format!("{MARK} plain text"))
            .with("array", &format!("[\"{MARK}\"]"))
            .with("nullkey", "{\"k\":null}"),
    );
    let r = resolver(&[aws], &[]);
    for (reference, kind) in [
        ("aws:plain#k", ErrorKind::NotJson),
        ("aws:array#k", ErrorKind::NotJson),
        ("aws:nullkey#k", ErrorKind::Empty),
    ] {
        let err = r
            .get(&Reference::parse(reference).unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{reference}: {err}");
        assert!(
            !format!("{err} {err:?}").contains(MARK),
            "{reference} leaked"
        );
    }
    let err = r
        .get(&Reference::parse("aws:plain#k").unwrap())
        .await
        .unwrap_err();
    assert!(err.hint().unwrap().contains("drop `#k`"), "{err}");
}

#[tokio::test]
async fn expand_applies_case_and_prefix() {
    let aws = Arc::new(MemoryBackend::new("aws", "aws").with(
        "hook/config",
        &format!(r#"{{"db-host":"h","apiKey":"{MARK}","port":8080,"nested":{{"a":1}}}}"#),
    ));
    let r = resolver(std::slice::from_ref(&aws), &[]);
    let env = r
        .resolve_envfile(&spec(
            r#"
            vars.LOG_LEVEL = { value = "INFO" }
            expand = [
              { ref = "aws:hook/config", case = "upper", prefix = "HOOK_" },
              { ref = "aws:hook/config", case = "lower" },
            ]
            "#,
        ))
        .await
        .map_err(|p| shown(&p))
        .unwrap();
    let names: Vec<&str> = env.vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "HOOK_APIKEY",
            "HOOK_DB_HOST",
            "HOOK_NESTED",
            "HOOK_PORT",
            "LOG_LEVEL",
            "apikey",
            "db_host",
            "nested",
            "port"
        ]
    );
    assert!(text(env.get("HOOK_APIKEY").unwrap()) == MARK);
    assert_eq!(text(env.get("HOOK_PORT").unwrap()), "8080");
    assert_eq!(text(env.get("nested").unwrap()), r#"{"a":1}"#);
    assert_eq!(text(env.get("LOG_LEVEL").unwrap()), "INFO");
    assert_eq!(aws.reads(), 1, "both expands share one read");

    // A key selection narrows what is expanded.
    let aws = Arc::new(MemoryBackend::new("aws", "aws").with("n", &nested_json()));
    let env = resolver(&[aws], &[])
        .resolve_envfile(&spec(
            r#"expand = [ { ref = "aws:n#db", prefix = "DB_" } ]"#,
        ))
        .await
        .map_err(|p| shown(&p))
        .unwrap();
    let names: Vec<&str> = env.vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["DB_OPTS", "DB_PASSWORD", "DB_PORT"]);
}

#[tokio::test]
async fn expand_reports_invalid_names_and_conflicts() {
    let aws = Arc::new(MemoryBackend::new("aws", "aws").with(
        "cfg",
        &format!(r#"{{"db-host":"{MARK}","PORT":"1","9lives":"x"}}"#),
    ));
    let r = resolver(&[aws], &[]);
    let err = r
        .resolve_envfile(&spec(
            r#"
            vars.PORT = { value = "2" }
            expand = [ { ref = "aws:cfg", case = "keep" } ]
            "#,
        ))
        .await
        .unwrap_err();
    let text = shown(&err);
    let mut got = kinds(&err);
    got.sort();
    assert_eq!(
        got,
        vec![
            (Some("9lives".into()), ErrorKind::InvalidName),
            (Some("PORT".into()), ErrorKind::Config),
            (Some("db-host".into()), ErrorKind::InvalidName),
        ],
        "{text}"
    );
    assert!(
        text.contains(
            "variable `PORT` is set by both vars.PORT (literal) and expand `aws:cfg` (key `PORT`)"
        ),
        "{text}"
    );
    assert!(
        text.contains("key `db-host` gives the variable name `db-host`"),
        "{text}"
    );
}

#[tokio::test]
async fn required_must_be_present_and_non_empty() {
    let aws = Arc::new(
        MemoryBackend::new("aws", "aws")
            .with("empty", "")
            .with("j", "{\"blank\":\"\",\"DATABASE_URL\":\"u\"}"),
    );
    let r = resolver(&[aws], &[]);
    // Empty values are fine where nothing requires them.
    let env = r
        .resolve_envfile(&spec(
            r#"
            required = ["DATABASE_URL"]
            vars.OPTIONAL = "aws:empty"
            expand = [ { ref = "aws:j", case = "keep" } ]
            "#,
        ))
        .await
        .map_err(|p| shown(&p))
        .unwrap();
    assert!(env.get("OPTIONAL").unwrap().is_empty());
    assert!(env.get("blank").unwrap().is_empty());

    let err = r
        .resolve_envfile(&spec(
            r#"
            required = ["OPTIONAL", "blank", "DATABASE_UR"]
            vars.OPTIONAL = "aws:empty"
            expand = [ { ref = "aws:j", case = "keep" } ]
            "#,
        ))
        .await
        .unwrap_err();
    let text = shown(&err);
    assert_eq!(err.0.len(), 3, "{text}");
    assert!(
        err.0.iter().all(|p| p.error.kind() == ErrorKind::Empty),
        "{text}"
    );
    assert!(
        text.contains("required variable `OPTIONAL` is empty"),
        "{text}"
    );
    assert!(
        text.contains("required variable `blank` is empty (from expand `aws:j` (key `blank`))"),
        "{text}"
    );
    assert!(text.contains("did you mean `DATABASE_URL`?"), "{text}");
}

#[tokio::test]
async fn secret_rules_check_required_keys() {
    let aws = Arc::new(MemoryBackend::new("aws", "aws").with(
        "afu9/database",
        &format!(r#"{{"dbname":"x","host":"h","password":"{MARK}","user":"u"}}"#),
    ));
    let rules: &[(&str, &[&str])] = &[(
        "aws:afu9/database",
        &["host", "port", "database", "username", "password"],
    )];
    let r = resolver(&[aws], rules);

    // `get` with any key of the secret checks the whole secret's rules.
    let err = r
        .get(&Reference::parse("aws:afu9/database#host").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingKey);
    assert!(
        err.message().contains("`database`, `port`, `username`"),
        "{err}"
    );
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("found keys: dbname, host, password, user"),
        "{hint}"
    );
    assert!(
        hint.contains(
            "the secret has `dbname` where `database` is required: rename that key to `database`"
        ),
        "{hint}"
    );
    assert!(
        hint.contains(
            "the secret has `user` where `username` is required: rename that key to `username`"
        ),
        "{hint}"
    );
    assert!(!format!("{err:?}").contains(MARK));

    // In an env file: one problem for the secret, however many variables use it.
    let err = r
        .resolve_envfile(&spec(
            r#"
            vars.A = "aws:afu9/database#host"
            vars.B = "aws:afu9/database#password"
            "#,
        ))
        .await
        .unwrap_err();
    let text = shown(&err);
    assert_eq!(kinds(&err), vec![(None, ErrorKind::MissingKey)], "{text}");
    assert!(
        err.0[0].reference.as_deref() == Some("aws:afu9/database"),
        "a rule problem names the secret, not a variable: {text}"
    );

    // A pinned read of the same secret is held to the same rule.
    let err = r
        .get(&Reference::parse("aws:afu9/database?version=v1").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingKey);
}

#[tokio::test(start_paused = true)]
async fn retries_only_the_items_that_were_throttled() {
    let aws = Arc::new(
        MemoryBackend::new("aws", "aws")
            .with("a", "1")
            .with("b", "2")
            .with("c", "3"),
    );
    aws.throttle.lock().unwrap().insert("b".into(), 2);
    let r = resolver(std::slice::from_ref(&aws), &[]);
    let refs: Vec<Reference> = ["aws:a", "aws:b", "aws:c", "aws:missing"]
        .iter()
        .map(|s| Reference::parse(s).unwrap())
        .collect();
    let out = r.fetch_many(&refs).await;
    assert!(out[0].is_ok() && out[1].is_ok() && out[2].is_ok());
    assert_eq!(
        out[3].as_ref().unwrap_err().kind(),
        ErrorKind::NotFound,
        "not retried"
    );
    assert_eq!(
        aws.batches(),
        vec![
            vec!["a".to_owned(), "b".into(), "c".into(), "missing".into()],
            vec!["b".to_owned()],
            vec!["b".to_owned()],
        ]
    );

    // Throttled for longer than the policy allows: the error says it gave up.
    aws.throttle.lock().unwrap().insert("a".into(), 100);
    let out = r.fetch_many(&refs[..1]).await;
    let err = out[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert!(err.message().contains("gave up after 5 attempts"), "{err}");
    assert_eq!(err.reference(), Some("aws:a"));
}

#[tokio::test]
async fn foreign_refs_select_by_kind_and_errors_name_backend() {
    let aws = Arc::new(MemoryBackend::new("aws-eu", "aws").with(
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db",
        "{\"k\":\"v\"}",
    ));
    let r = resolver(std::slice::from_ref(&aws), &[]);
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db";
    let reference = Reference::parse(arn).unwrap();
    let missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/gone";
    let refs = [reference, Reference::parse(missing).unwrap()];
    let out = r.fetch_many(&refs).await;
    assert!(out[0].as_ref().unwrap().value.expose_bytes() == b"{\"k\":\"v\"}");
    let err = out[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.backend(), Some("aws-eu"), "{err}");
    assert_eq!(err.reference(), Some(missing));
    assert_eq!(aws.batches().len(), 1);

    let r = resolver(&[], &[]);
    let out = r
        .fetch_many(&[Reference::parse("vault:kv/x").unwrap()])
        .await;
    let err = out[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.reference(), Some("vault:kv/x"));
}

#[tokio::test]
async fn versions_probe_then_fall_back_to_reads() {
    let mut probing = MemoryBackend::new("aws", "aws").with("a", "1");
    probing.probe = Some("probe-v9".into());
    let probing = Arc::new(probing);
    let reading = Arc::new(
        MemoryBackend::new("vault", "vault")
            .with_version("x", "1", Some("7"))
            .with_version("unversioned", "first", None),
    );
    let r = resolver(&[probing.clone(), reading.clone()], &[]);
    let refs: Vec<Reference> = [
        "aws:a",
        "aws:a#k",
        "vault:x",
        "vault:unversioned",
        "vault:gone",
    ]
    .iter()
    .map(|s| Reference::parse(s).unwrap())
    .collect();
    let v = r.versions(&refs).await;
    assert_eq!(v[0].as_ref().unwrap().as_deref(), Some("probe-v9"));
    assert_eq!(v[1].as_ref().unwrap().as_deref(), Some("probe-v9"));
    assert_eq!(probing.calls.lock().unwrap().probes, 1, "deduped");
    assert_eq!(probing.reads(), 0, "a cheap probe needs no read");
    assert_eq!(v[2].as_ref().unwrap().as_deref(), Some("7"));
    let first = v[3].as_ref().unwrap().clone().unwrap();
    assert_eq!(v[4].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(reading.batches().len(), 1, "fallback reads are batched");

    // A backend without versions still gets change detection from the content.
    reading.set("unversioned", "second", None);
    let again = r.versions(&refs[3..4]).await;
    let second = again[0].as_ref().unwrap().clone().unwrap();
    assert_ne!(first, second);
    reading.set("unversioned", "first", None);
    let back = r.versions(&refs[3..4]).await;
    assert_eq!(back[0].as_ref().unwrap().as_deref(), Some(first.as_str()));
}
