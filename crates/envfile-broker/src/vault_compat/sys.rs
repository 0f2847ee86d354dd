//! The calls Vault clients make around a read: mount lookups (the CLI's KV preflight), the
//! token lookup (`is_authenticated`), and the unauthenticated health endpoints. Mounts are the
//! backend's own description of them, filtered to those the client may read something under.

use super::{envelope, error, json};
use crate::auth::{Access, Principal};
use crate::routes;
use crate::state::State;
use envfile_core::{Backend, BackendSel, Native};
use http::StatusCode;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The one Vault backend the route reads through (the only one, or the one named `vault`).
pub(super) fn backend(st: &State) -> Option<Arc<dyn Backend>> {
    st.raw.select(&BackendSel::Kind("vault".into())).ok()
}

/// `sys/health`, `sys/init` and `sys/seal-status`, answered for the broker itself: it is
/// initialized and unsealed whenever it answers, with the fields Vault's clients read.
pub(super) fn unauthenticated(path: &str, _query: &str) -> Option<routes::Resp> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let version = concat!("envfile-broker-", env!("CARGO_PKG_VERSION"));
    let body = match path.trim_end_matches('/') {
        "sys/health" => json!({
            "initialized": true,
            "sealed": false,
            "standby": false,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": now,
            "version": version,
            "cluster_name": "envfile-broker",
            "cluster_id": "",
        }),
        "sys/init" => json!({ "initialized": true }),
        "sys/seal-status" => json!({
            "type": "shamir",
            "initialized": true,
            "sealed": false,
            "t": 1,
            "n": 1,
            "progress": 0,
            "nonce": "",
            "recovery_seal": false,
            "version": version,
            "migration": false,
            "cluster_name": "envfile-broker",
            "cluster_id": "",
            "storage_type": "envfile-broker",
        }),
        _ => return None,
    };
    Some(json(StatusCode::OK, &body))
}

/// The mounts (`PATH/` → description) the client may read something under.
async fn visible_mounts(st: &State, principal: &Principal) -> Map<String, Value> {
    let Some(b) = backend(st) else {
        return Map::new();
    };
    if !st.auth.grants.any_on(principal, b.name()) {
        return Map::new();
    }
    let Ok(Value::Object(all)) = b.native(Native::Mounts).await else {
        return Map::new();
    };
    let mut out = Map::new();
    for (path, info) in all {
        if st.auth.grants.sees(principal, &b, &path, false).await {
            out.insert(path, info);
        }
    }
    out
}

/// `sys/internal/ui/mounts`: the secret mounts the client may read under.
pub(super) async fn ui_mounts(st: &State, principal: &Principal) -> routes::Resp {
    let secret = visible_mounts(st, principal).await;
    envelope(json!({ "auth": {}, "secret": secret }))
}

/// `sys/internal/ui/mounts/PATH`: the mount holding `path`, if the client may read under it;
/// else Vault's answer for a path under no mount the token can use (the same either way).
pub(super) async fn ui_mount(st: &State, principal: &Principal, path: &str) -> routes::Resp {
    let refused = || {
        error(
            StatusCode::FORBIDDEN,
            &format!(
                "preflight capability check returned 403, please ensure client's policies grant \
                 access to path \"{}/\"",
                path.trim_end_matches('/')
            ),
        )
    };
    let Some(b) = backend(st) else {
        return refused();
    };
    if path.is_empty() || !st.auth.grants.any_on(principal, b.name()) {
        return refused();
    }
    let probe = format!("{}/", path.trim_end_matches('/'));
    let Ok(info) = b.native(Native::MountOf(&probe)).await else {
        return refused();
    };
    let Some(mount) = info["path"].as_str() else {
        return refused();
    };
    if !st.auth.grants.sees(principal, &b, mount, false).await {
        return refused();
    }
    envelope(info)
}

/// `sys/mounts`: as Vault lists them for a root token (each mount at the top level and under
/// `data`), filtered to the mounts the client may read under.
pub(super) async fn mounts(st: &State, principal: &Principal) -> routes::Resp {
    let secret = visible_mounts(st, principal).await;
    let mut body = Map::new();
    body.insert("request_id".into(), super::request_id().into());
    body.insert("lease_id".into(), "".into());
    body.insert("renewable".into(), false.into());
    body.insert("lease_duration".into(), 0.into());
    for (k, v) in &secret {
        body.insert(k.clone(), v.clone());
    }
    body.insert("data".into(), Value::Object(secret));
    body.insert("wrap_info".into(), Value::Null);
    body.insert("warnings".into(), Value::Null);
    body.insert("auth".into(), Value::Null);
    json(StatusCode::OK, &Value::Object(body))
}

/// `auth/token/lookup-self`: the caller as a token. The display name is the client's name, the
/// policies are its grants (`root` for the admin token); it never expires. The token itself is
/// not echoed (`id` is empty): the caller has it, and response bodies end up in logs.
pub(super) fn lookup_self(principal: &Principal) -> routes::Resp {
    let (name, policies): (&str, Vec<String>) = match &principal.access {
        Access::All => ("admin", vec!["root".into()]),
        Access::Client(c) => (&c.name, c.refs.clone()),
    };
    envelope(json!({
        "accessor": "",
        "creation_time": 0,
        "creation_ttl": 0,
        "display_name": name,
        "entity_id": "",
        "expire_time": null,
        "explicit_max_ttl": 0,
        "id": "",
        "issue_time": "",
        "meta": null,
        "num_uses": 0,
        "orphan": true,
        "path": "auth/token/create",
        "policies": policies,
        "renewable": false,
        "ttl": 0,
        "type": "service",
    }))
}
