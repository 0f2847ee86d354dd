//! KV v1 and v2 under `/v1/{mount}/…`: reads through the cache and the grants, KV v2 metadata,
//! and listings filtered to what the client may read. What a read returns besides the value
//! (KV v2's `metadata`, KV v1's `lease_duration`) is the backend's own answer, kept with the
//! cached value ([`envfile_core::Fetched::meta`]), never made up here.

use super::sys::backend;
use super::{json, missing, request_id, Call, JSON};
use crate::auth::{Principal, Verdict};
use crate::routes::{self, audit_secret, Denied};
use crate::state::{secret_bytes, State};
use envfile_core::{Backend, BackendSel, ErrorKind, Locator, Native, RefForm, Reference};
use http::StatusCode;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use std::sync::Arc;

/// Serve a KV path (the part after `/v1/`).
pub(super) async fn serve(st: &State, principal: &Principal, call: &Call<'_>) -> routes::Resp {
    let Some(b) = backend(st) else {
        return missing();
    };
    // A client with no grant on the backend costs it nothing.
    if !st.auth.grants.any_on(principal, b.name()) {
        return missing();
    }
    // With a `/` after it, the mount's own path (`LIST /v1/MOUNT`) is under the mount too.
    let probe = format!("{}/", call.path.trim_end_matches('/'));
    let Ok(info) = b.native(Native::MountOf(&probe)).await else {
        return missing();
    };
    let Some(mount) = info["path"].as_str().map(|m| m.trim_end_matches('/')) else {
        return missing();
    };
    let v2 = info["options"]["version"].as_str() == Some("2");
    let sub = call
        .path
        .strip_prefix(mount)
        .unwrap_or_default()
        .trim_start_matches('/');
    if !v2 {
        return if call.list {
            list(st, principal, &b, &format!("{mount}/{sub}"), call).await
        } else if sub.is_empty() {
            missing()
        } else {
            read(st, principal, &format!("{mount}/{sub}"), false, call).await
        };
    }
    if let Some(name) = sub.strip_prefix("data/") {
        if call.list {
            return super::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "LIST is served on metadata/",
            );
        }
        return read(st, principal, &format!("{mount}/data/{name}"), true, call).await;
    }
    if let Some(name) = sub
        .strip_prefix("metadata/")
        .or((sub == "metadata").then_some(""))
    {
        if call.list {
            return list(st, principal, &b, &format!("{mount}/data/{name}"), call).await;
        }
        if name.is_empty() {
            return missing();
        }
        return metadata(st, principal, &b, mount, name, call).await;
    }
    missing()
}

fn reference(path: &str, version: Option<String>) -> Reference {
    let mut locator = Locator::new(path.to_owned());
    locator.version = version;
    Reference {
        backend: BackendSel::Kind("vault".into()),
        raw: format!("vault:{path}"),
        locator,
        key: None,
        form: RefForm::Canonical,
    }
}

/// A read: `path` is what the client's path reads on the mount (`MOUNT/data/NAME` on KV v2,
/// `MOUNT/NAME` on KV v1), so the grant is checked against that very secret.
async fn read(
    st: &State,
    principal: &Principal,
    path: &str,
    v2: bool,
    call: &Call<'_>,
) -> routes::Resp {
    let generation = st.cache.generation();
    let version = if v2 {
        routes::query_param(call.query, "version").filter(|v| v != "0" && !v.is_empty())
    } else {
        None
    };
    let reference = reference(path, version.clone());
    let found = match routes::find(st, principal, &reference).await {
        Ok(f) => f,
        Err(Denied::Forbidden) => {
            audit(st, principal, &reference.raw, "denied", None, call);
            return missing();
        }
        Err(Denied::Failed(e)) => {
            audit(
                st,
                principal,
                &reference.raw,
                "error",
                Some(e.kind().as_str()),
                call,
            );
            return match e.kind() {
                // A KV v2 version that is deleted or destroyed: Vault answers 404 with its
                // metadata. The client may read the secret, so it may see that.
                ErrorKind::NotFound if v2 => deleted(st, path, version.as_deref()).await,
                ErrorKind::NotFound => missing(),
                ErrorKind::InvalidRef => super::error(StatusCode::BAD_REQUEST, e.message()),
                k => {
                    let status = match routes::status_for(k) {
                        StatusCode::SERVICE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
                        _ => StatusCode::INTERNAL_SERVER_ERROR,
                    };
                    super::error(status, &e.to_string())
                }
            };
        }
    };
    let value = &found.cached.fetched.value;
    let Ok(parsed) = value.parse_json() else {
        return super::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the secret is not a JSON object, so it has no KV shape",
        );
    };
    let body = Body {
        meta: found
            .cached
            .fetched
            .meta
            .as_deref()
            .and_then(|m| m.envelope.as_ref()),
        data: parsed.expose(),
        v2,
    };
    let mut out = Vec::with_capacity(value.len() * 2 + 400);
    if serde_json::to_writer(&mut out, &body).is_err() {
        return super::error(StatusCode::INTERNAL_SERVER_ERROR, "encoding failed");
    }
    let memo_key = super::memo_target(call.target);
    let read = routes::Read {
        principal,
        reference: &reference,
        found: &found,
        target: &memo_key,
        generation,
        started: call.started,
    };
    routes::finish_secret(st, &read, secret_bytes(out), JSON)
}

/// A read's response: the backend's envelope with the value put back where Vault has it
/// (`data` on KV v1, `data.data` on KV v2) and a fresh request id. Written straight to the
/// output, so no copy of the value is made.
struct Body<'a> {
    meta: Option<&'a Value>,
    data: &'a Value,
    v2: bool,
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct V2<'a>(&'a Value, &'a Value);
        impl Serialize for V2<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("data", self.0)?;
                m.serialize_entry("metadata", self.1)?;
                m.end()
            }
        }
        let defaults = [
            ("lease_id", Value::from("")),
            ("renewable", Value::from(false)),
            ("lease_duration", Value::from(0)),
            ("wrap_info", Value::Null),
            ("warnings", Value::Null),
            ("auth", Value::Null),
        ];
        let meta = self.meta.and_then(Value::as_object);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("request_id", &request_id())?;
        for (k, default) in &defaults {
            m.serialize_entry(k, meta.and_then(|o| o.get(*k)).unwrap_or(default))?;
        }
        if self.v2 {
            let metadata = self
                .meta
                .map(|v| &v["data"]["metadata"])
                .unwrap_or(&Value::Null);
            m.serialize_entry("data", &V2(self.data, metadata))?;
        } else {
            m.serialize_entry("data", self.data)?;
        }
        m.end()
    }
}

/// Vault's 404 for a deleted or destroyed KV v2 version, from the secret's metadata: the
/// version's times and flags as the metadata reports them; a plain 404 when the version does not
/// exist at all.
async fn deleted(st: &State, path: &str, version: Option<&str>) -> routes::Resp {
    let Some(b) = backend(st) else {
        return missing();
    };
    let Ok(meta) = b.native(Native::Metadata(path)).await else {
        return missing();
    };
    let data = &meta["data"];
    let v = match version {
        Some(v) => v.to_owned(),
        None => data["current_version"].to_string(),
    };
    let ver = &data["versions"][v.as_str()];
    let gone = ver["deletion_time"].as_str().is_some_and(|t| !t.is_empty())
        || ver["destroyed"].as_bool() == Some(true);
    if !gone {
        return missing();
    }
    let body = serde_json::json!({
        "request_id": request_id(),
        "lease_id": "",
        "renewable": false,
        "lease_duration": 0,
        "data": {
            "data": null,
            "metadata": {
                "created_time": ver["created_time"],
                "custom_metadata": data["custom_metadata"],
                "deletion_time": ver["deletion_time"],
                "destroyed": ver["destroyed"],
                "version": v.parse::<u64>().map(Value::from).unwrap_or(Value::Null),
            },
        },
        "wrap_info": null,
        "warnings": null,
        "auth": null,
    });
    json(StatusCode::NOT_FOUND, &body)
}

/// `GET MOUNT/metadata/NAME`: the backend's metadata answer, for a client that may read the
/// secret.
async fn metadata(
    st: &State,
    principal: &Principal,
    b: &Arc<dyn Backend>,
    mount: &str,
    name: &str,
    call: &Call<'_>,
) -> routes::Resp {
    let path = format!("{mount}/data/{name}");
    let raw = format!("vault:{mount}/metadata/{name}");
    if st.auth.grants.check(principal, b, &path).await == Verdict::Denied {
        audit(st, principal, &raw, "denied", None, call);
        return missing();
    }
    match b.native(Native::Metadata(&path)).await {
        Ok(mut body) => {
            audit(st, principal, &raw, "ok", None, call);
            body["request_id"] = request_id().into();
            json(StatusCode::OK, &body)
        }
        Err(e) => {
            audit(st, principal, &raw, "error", Some(e.kind().as_str()), call);
            missing()
        }
    }
}

/// LIST of a folder: `folder` is `MOUNT/data/PATH` on KV v2 and `MOUNT/PATH` on KV v1 (as a
/// read would name a secret in it), so its identity is the one the secrets in it start with.
/// Only names the client may read, and folders that lead to some, are listed; a client that
/// may read nothing under the folder gets Vault's 404 without the backend being asked.
async fn list(
    st: &State,
    principal: &Principal,
    b: &Arc<dyn Backend>,
    folder: &str,
    call: &Call<'_>,
) -> routes::Resp {
    let folder = format!("{}/", folder.trim_end_matches('/'));
    let raw = format!("vault:{folder}");
    let Ok(fid) = b.identity(&format!("{folder}*")).await else {
        return missing();
    };
    let fid = fid.trim_end_matches('*').to_owned();
    if !st.auth.grants.sees(principal, b, &fid, false).await {
        audit(st, principal, &raw, "denied", None, call);
        return missing();
    }
    // The backend names the folder by its identity, without KV v2's `data/`.
    let mut body = match b.native(Native::List(&fid)).await {
        Ok(body) => body,
        Err(e) => {
            audit(st, principal, &raw, "error", Some(e.kind().as_str()), call);
            return missing();
        }
    };
    let keys: Vec<String> = body["data"]["keys"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut shown = Vec::with_capacity(keys.len());
    for k in keys {
        let id = format!("{fid}{k}");
        let folder = k.ends_with('/');
        if st.auth.grants.sees(principal, b, &id, !folder).await {
            shown.push(Value::from(k));
        }
    }
    if shown.is_empty() {
        audit(st, principal, &raw, "not_found", None, call);
        return missing();
    }
    audit(st, principal, &raw, "ok", None, call);
    body["request_id"] = request_id().into();
    body["data"]["keys"] = Value::Array(shown);
    json(StatusCode::OK, &body)
}

fn audit(
    st: &State,
    principal: &Principal,
    raw: &str,
    outcome: &str,
    kind: Option<&str>,
    call: &Call<'_>,
) {
    audit_secret(
        st,
        principal,
        raw,
        "vault",
        None,
        outcome,
        kind,
        call.started,
    );
}
