//! Plain logical reads: a GET of the path as written, answered in the shape Vault's Go client
//! (and so Vault Agent's templates) gives it. These are the paths that name no secret:
//!
//! - Vault's own endpoints under `sys/` and `auth/` (`auth/token/lookup-self`, `sys/mounts`,
//!   `sys/health`), which are not secrets engines' paths;
//! - KV v2's `MOUNT/metadata/…`, which the agent reads as given (it adds `data/` unless `data/`
//!   or `metadata/` follows the mount; OpenBao 2.7's agent adds it before `subkeys/`, so
//!   `MOUNT/subkeys/x` stays the secret named `subkeys/x`, as there).
//!
//! None of them has an identity ([`crate::VaultBackend`]'s `identity` refuses them): a grant
//! can never name one, so the broker serves them to no restricted client; they are for
//! templates and references in the admin's own configuration.

use crate::error::Failure;
use crate::kv::{KvPath, KvVersion};
use envfile_core::{Error, ErrorKind, Fetched, Result, SecretJson, SecretMeta, SecretValue};
use std::sync::Arc;

/// Whether `path` (checked, without leading `/`) is one of Vault's own endpoints.
pub(crate) fn is_endpoint(path: &str) -> bool {
    path.starts_with("sys/") || path.starts_with("auth/")
}

/// Whether a read of `loc` at `path` is a plain read of an endpoint: any read under `auth/`,
/// and a read without parameters under `sys/` (one with parameters, such as
/// `sys/tools/random/32` with `format=hex`, is a write, made like a dynamic secret's).
pub(crate) fn is_plain_endpoint(path: &str, loc: &envfile_core::Locator) -> bool {
    is_endpoint(path) && (path.starts_with("auth/") || loc.params.is_empty())
}

/// Whether `kv` (a path on a KV mount) is a KV v2 `metadata/` read.
pub(crate) fn is_kv2_api(kv: &KvPath, path: &str) -> bool {
    if kv.mount.version != KvVersion::V2 {
        return false;
    }
    let rest = path
        .strip_prefix(kv.mount.path.as_str())
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or_default();
    rest.starts_with("metadata/")
}

/// The error for what a plain read cannot do: a write (parameters) to an `auth/` endpoint, which
/// would be a login handing out a token, and pins or stages.
pub(crate) fn check_locator(path: &str, loc: &envfile_core::Locator) -> Result<()> {
    if loc.stage.is_some() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("`{path}` is not a secret: it has no staging labels (`stage=`)"),
        ));
    }
    if !loc.params.is_empty() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "`{path}`: envfile reads Vault's own endpoints and KV metadata but does not write \
                 to them (a write to `auth/…` would log in and hand out a token)"
            ),
        )
        .with_hint("remove the `KEY=VALUE` arguments; log in with the backend's `auth` settings"));
    }
    Ok(())
}

/// The fields of Vault's response envelope, as the Go client's `api.Secret` decodes them. An
/// answer with none of them set is not an envelope (`sys/health`, `sys/leader`).
const ENVELOPE: &[&str] = &[
    "request_id",
    "lease_id",
    "lease_duration",
    "renewable",
    "data",
    "warnings",
    "auth",
    "wrap_info",
    "mount_type",
];

/// Whether a JSON value is the zero value of the Go field it decodes into.
fn is_zero(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => s.is_empty(),
        // A JSON `[]` or `{}` decodes into a non-nil (empty) slice or map: not zero.
        _ => false,
    }
}

/// What a plain read answered, as a [`Fetched`]: the value is `.Data` as compact JSON, the
/// envelope (without `data` and `auth`) is in the meta. As the Go client does, an answer that
/// sets no envelope field is `.Data` whole, with an empty request id; an envelope whose `data`
/// is null gives an empty `.Data` (Go prints the nil map as `map[]` too).
pub(crate) fn parse(body: &SecretJson) -> std::result::Result<Fetched, Failure> {
    let root = body.expose();
    let Some(obj) = root.as_object() else {
        return Err(Failure::Decode("the answer is not a JSON object".into()));
    };
    let bare = ENVELOPE.iter().all(|k| obj.get(*k).is_none_or(is_zero));
    let empty = serde_json::Value::Object(serde_json::Map::new());
    let (data, envelope) = if bare {
        (root, serde_json::json!({ "request_id": "", "data": null }))
    } else {
        let data = match &obj.get("data") {
            Some(d @ serde_json::Value::Object(_)) => d,
            None | Some(serde_json::Value::Null) => &empty,
            Some(_) => {
                return Err(Failure::Decode(
                    "the answer's `data` is not an object".into(),
                ))
            }
        };
        let mut env = serde_json::Map::new();
        for (k, v) in obj {
            // `auth` would hold a token (a login's answer): never kept.
            if k != "data" && k != "auth" {
                env.insert(k.clone(), v.clone());
            }
        }
        env.insert("data".into(), serde_json::Value::Null);
        (data, serde_json::Value::Object(env))
    };
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(512));
    serde_json::to_writer(&mut *buf, data)
        .map_err(|_| Failure::Decode("the answer could not be re-encoded".into()))?;
    let mut fetched = Fetched::new(SecretValue::new(std::mem::take(&mut *buf)), None);
    fetched.meta = Some(Arc::new(SecretMeta {
        envelope: Some(envelope),
        ..SecretMeta::default()
    }));
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(v: serde_json::Value) -> (String, serde_json::Value) {
        let f = parse(&SecretJson::from_value(v)).unwrap();
        let env = f.meta.as_ref().unwrap().envelope.clone().unwrap();
        (f.value.expose_str().unwrap().to_owned(), env)
    }

    #[test]
    fn an_envelope_gives_its_data_and_keeps_the_rest_but_auth() {
        let (data, env) = parsed(serde_json::json!({
            "request_id": "r", "lease_id": "", "lease_duration": 0, "renewable": false,
            "data": { "policies": ["root"], "ttl": 0 }, "warnings": null,
            "auth": { "client_token": "t" }
        }));
        assert_eq!(data, r#"{"policies":["root"],"ttl":0}"#);
        assert_eq!(env["request_id"], "r");
        assert!(env.get("auth").is_none() && env["data"].is_null());
    }

    #[test]
    fn an_answer_without_envelope_is_the_data_whole_like_the_go_client() {
        let (data, env) = parsed(serde_json::json!({ "initialized": true, "version": "2.7.2" }));
        assert_eq!(data, r#"{"initialized":true,"version":"2.7.2"}"#);
        assert_eq!(env["request_id"], "");
        // `sys/leader` on a dev server: a field named like none of the envelope's.
        let (data, _) = parsed(serde_json::json!({ "ha_enabled": false }));
        assert_eq!(data, r#"{"ha_enabled":false}"#);
    }

    #[test]
    fn a_null_data_is_an_empty_map_and_a_scalar_is_refused() {
        let (data, _) = parsed(serde_json::json!({ "request_id": "r", "data": null }));
        assert_eq!(data, "{}");
        let bad = serde_json::json!({ "request_id": "r", "data": 3 });
        assert!(parse(&SecretJson::from_value(bad)).is_err());
        assert!(parse(&SecretJson::from_value(serde_json::json!([1]))).is_err());
    }

    #[test]
    fn only_kv2_metadata_paths_are_read_as_written() {
        let at = |version, path: &str| {
            let mount = Arc::new(crate::kv::Mount {
                path: "kv".into(),
                version,
                engine: "kv".into(),
                info: Arc::default(),
            });
            is_kv2_api(&KvPath::new(mount, path).unwrap(), path)
        };
        assert!(at(KvVersion::V2, "kv/metadata/app"));
        // The secret named `metadata/app`, on KV v1 and through `data/` on KV v2.
        assert!(!at(KvVersion::V1, "kv/metadata/app"));
        assert!(!at(KvVersion::V2, "kv/data/metadata/app"));
        // OpenBao's agent adds `data/` before `subkeys/`: the secret named `subkeys/app`.
        assert!(!at(KvVersion::V2, "kv/subkeys/app"));
        assert!(!at(KvVersion::V2, "kv/app"));
    }

    #[test]
    fn endpoints_and_params() {
        assert!(is_endpoint("auth/token/lookup-self") && is_endpoint("sys/mounts"));
        assert!(!is_endpoint("system/x") && !is_endpoint("kv/auth/x"));
        let mut loc = envfile_core::Locator::new("auth/token/lookup-self");
        assert!(check_locator("auth/token/lookup-self", &loc).is_ok());
        loc.params.insert("token".into(), "x".into());
        let e = check_locator("auth/token/lookup-self", &loc).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }
}
