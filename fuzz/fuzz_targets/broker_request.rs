//! The broker's request parsing, as the pure functions it exposes today: the query string
//! (`query_param`, `decode`), the Vault-compatible route shape (`vault_compat::matches`), and
//! grants (`Principal::may_read_secret` / `may_read_envfile`). Properties:
//! - never panics on any path, query or grant;
//! - a query written with form encoding gives back each parameter's value (the first of a
//!   repeated name), whatever bytes it holds;
//! - a grant allows exactly what its pattern says and never another backend: an exact
//!   `BACKEND:PATH` only that path, `BACKEND:PREFIX*` only paths starting with the prefix,
//!   `*` everything; an env file only by its exact name or `*`.
//!
//! At merge: the broker-harden branch reworks request parsing (target, headers, grants); when
//! it exposes those as functions, call them here in place of the model checks below.
#![no_main]

use arbitrary::Arbitrary;
use envfile_broker::auth::{Access, Principal};
use envfile_broker::config::ClientGrant;
use envfile_broker::routes::{decode, query_param};
use envfile_broker::vault_compat;
use libfuzzer_sys::fuzz_target;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use std::sync::Arc;

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
    let _ = vault_compat::matches(&i.path);

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
    };
    let p = Principal::new("token:fuzz", Access::Client(Arc::new(grant)));
    let allowed = p.may_read_secret(&i.backend, &i.secret_path);
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
