//! The broker's request parsing and grants, as the functions it exposes: the query string
//! (`query_param`, `decode`), the Vault-compatible route's pure checks
//! (`vault_compat::unauthenticated`, `memoizable`), and grants (`GrantIdentities::check` and
//! `any_on`, `Principal::may_read_envfile`). Properties:
//! - never panics on any path, query or grant;
//! - a query written with form encoding gives back each parameter's value (the first of a
//!   repeated name), whatever bytes it holds;
//! - a grant allows exactly what its pattern says and never another backend: an exact
//!   `BACKEND:PATH` only that path, `BACKEND:PREFIX*` only paths starting with the prefix,
//!   `*` everything; an env file only by its exact name or `*`.
//!
//! Grants compare canonical identities (`Backend::identity`); the backend here is a fake that
//! answers nothing and keeps the trait's default identity (the path as written), so the model
//! is the pattern rule on raw paths. The spellings real backends fold into one identity are
//! tested against OpenBao and moto in tests/. The memo key (`routes::memo_key`) is private
//! and takes private types, so it is not reached here.
#![no_main]

use arbitrary::Arbitrary;
use async_trait::async_trait;
use envfile_broker::auth::{Access, GrantIdentities, Principal, Verdict};
use envfile_broker::config::ClientGrant;
use envfile_broker::routes::{decode, query_param};
use envfile_broker::vault_compat;
use envfile_core::{Backend, Capabilities, Fetched, Locator};
use libfuzzer_sys::fuzz_target;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::sync::Arc;

/// A fake backend: a name, the default identity, and no secrets.
struct FakeBackend(String);

#[async_trait]
impl Backend for FakeBackend {
    fn name(&self) -> &str {
        &self.0
    }
    fn kind(&self) -> &'static str {
        "fake"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    async fn get(&self, _loc: &Locator) -> envfile_core::Result<Fetched> {
        Err(envfile_core::Error::new(
            envfile_core::ErrorKind::NotFound,
            "the fuzz backend has no secrets",
        ))
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    raw_query: String,
    raw_name: String,
    path: String,
    pairs: Vec<(String, String)>,
    patterns: Vec<String>,
    envfiles: Vec<String>,
    backend: String,
    secret_path: String,
    envfile: String,
}

fuzz_target!(|i: Input| {
    // Anything at all: no panic.
    let _ = query_param(&i.raw_query, &i.raw_name);
    let _ = decode(&i.raw_query);
    let _ = vault_compat::unauthenticated(&i.path, &i.raw_query);
    for method in [http::Method::GET, http::Method::POST, http::Method::OPTIONS] {
        let _ = vault_compat::memoizable(&method, &i.path, &i.raw_query);
    }

    // Form-encoded pairs read back.
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let query: Vec<String> = i
        .pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let query = query.join("&");
    for (k, _) in &i.pairs {
        let first = i
            .pairs
            .iter()
            .find(|(k2, _)| k2 == k)
            .map(|(_, v)| v.clone());
        assert_eq!(query_param(&query, k), first, "query {query:?}, name {k:?}");
    }

    // Grants.
    let grant = ClientGrant {
        name: "fuzz".into(),
        token: None,
        uid: None,
        gid: None,
        envfiles: i.envfiles.clone(),
        refs: i.patterns.clone(),
        metrics: false,
    };
    let p = Principal::new("token:fuzz", Access::Client(Arc::new(grant)));
    let backend: Arc<dyn Backend> = Arc::new(FakeBackend(i.backend.clone()));
    let grants = GrantIdentities::default();
    let verdict = futures::executor::block_on(grants.check(&p, &backend, &i.secret_path));
    let allowed = match &verdict {
        Verdict::Denied => false,
        Verdict::Allowed(id) => {
            assert_eq!(id.as_deref(), Some(i.secret_path.as_str()), "the identity");
            true
        }
    };
    let on_backend = i
        .patterns
        .iter()
        .any(|pat| pat == "*" || pat.split_once(':').is_some_and(|(b, _)| b == i.backend));
    assert_eq!(
        grants.any_on(&p, &i.backend),
        on_backend,
        "{:?}",
        i.patterns
    );
    assert!(
        !p.may_read_metrics(),
        "a grant without `metrics` reads /metrics"
    );
    let model = i.patterns.iter().any(|pat| {
        pat == "*"
            || pat.split_once(':').is_some_and(|(b, rest)| {
                b == i.backend
                    && match rest.strip_suffix('*') {
                        Some(prefix) => i.secret_path.starts_with(prefix),
                        None => rest == i.secret_path,
                    }
            })
    });
    assert_eq!(
        allowed, model,
        "patterns {:?} on {}:{}",
        i.patterns, i.backend, i.secret_path
    );
    if allowed && !i.patterns.iter().any(|p| p == "*") {
        assert!(
            i.patterns
                .iter()
                .any(|p| p.starts_with(&format!("{}:", i.backend))),
            "a grant allowed another backend"
        );
    }
    let env_allowed = p.may_read_envfile(&i.envfile);
    assert_eq!(
        env_allowed,
        i.envfiles.iter().any(|e| e == "*" || *e == i.envfile)
    );
});
