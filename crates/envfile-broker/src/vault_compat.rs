//! A read-only Vault KV v2 route, `GET /v1/{mount}/data/{path}[?version=N]`, answering in
//! Vault's response shape and accepting `X-Vault-Token` as the client token, so an app using a
//! Vault SDK can point `VAULT_ADDR` at the broker.

use crate::audit::rfc3339;
use crate::auth::Principal;
use crate::routes::{self, audit_secret, body_response, Denied};
use crate::state::{hex, secret_bytes, State};
use envfile_core::{BackendSel, ErrorKind, Locator, RefForm, Reference};
use http::StatusCode;
use std::time::Instant;

/// The route's body type.
pub(crate) const JSON: &str = "application/json";

/// Whether `path` has the `/v1/{mount}/data/{path}` shape.
pub fn matches(path: &str) -> bool {
    split(path).is_some()
}

fn split(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v1/")?;
    let i = rest.find("/data/")?;
    let (mount, p) = (&rest[..i], &rest[i + "/data/".len()..]);
    (!mount.is_empty() && !p.is_empty()).then_some((mount, p))
}

fn vault_error(status: StatusCode, message: &str) -> routes::Resp {
    let body = serde_json::to_vec(&serde_json::json!({ "errors": [message] })).unwrap_or_default();
    let mut r = body_response(bytes::Bytes::from(body), JSON);
    *r.status_mut() = status;
    r
}

/// Vault's answer for a secret that is not there: 404 with an empty `errors` list.
fn missing() -> routes::Resp {
    let mut r = body_response(bytes::Bytes::from_static(br#"{"errors":[]}"#), JSON);
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

/// Serve the route.
pub async fn get(
    st: &State,
    principal: &Principal,
    path: &str,
    query: &str,
    target: &str,
    started: Instant,
) -> routes::Resp {
    let generation = st.cache.generation();
    let Some((mount, p)) = split(path) else {
        return vault_error(StatusCode::NOT_FOUND, "no handler for route");
    };
    let (mount, p) = (routes::decode(mount), routes::decode(p));
    let mut locator = Locator::new(format!("{mount}/data/{p}"));
    locator.version = routes::query_param(query, "version").filter(|v| v != "0");
    let reference = Reference {
        backend: BackendSel::Kind("vault".into()),
        raw: format!("vault:{}", locator.path),
        locator,
        key: None,
        form: RefForm::Canonical,
    };
    // The grant is checked against the identity of the secret this path reads on its mount (a
    // grant written with or without KV v2's `data/` names the same one).
    let found = match routes::find(st, principal, &reference).await {
        Ok(f) => f,
        Err(Denied::Forbidden) => {
            audit_secret(
                st,
                principal,
                &reference.raw,
                "vault",
                None,
                "denied",
                None,
                started,
            );
            // As a missing secret: a restricted client learns nothing about what exists.
            return missing();
        }
        Err(Denied::Failed(e)) => {
            audit_secret(
                st,
                principal,
                &reference.raw,
                "vault",
                None,
                "error",
                Some(e.kind().as_str()),
                started,
            );
            let status = match e.kind() {
                // Vault answers a missing secret with an empty 404.
                ErrorKind::NotFound => return missing(),
                ErrorKind::PermissionDenied | ErrorKind::Unauthenticated => StatusCode::FORBIDDEN,
                k => routes::status_for(k),
            };
            return vault_error(status, &e.to_string());
        }
    };
    let value = &found.cached.fetched.value;
    let parsed = match value.parse_json() {
        Ok(j) if j.is_object() => j,
        _ => {
            return vault_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the secret is not a JSON object, so it has no KV shape",
            )
        }
    };
    let version: serde_json::Value = match found.cached.fetched.version.as_deref() {
        Some(v) => v
            .parse::<u64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| serde_json::Value::from(v)),
        None => serde_json::Value::Null,
    };
    #[derive(serde::Serialize)]
    struct Meta<'a> {
        created_time: String,
        custom_metadata: Option<()>,
        deletion_time: &'a str,
        destroyed: bool,
        version: serde_json::Value,
    }
    #[derive(serde::Serialize)]
    struct Data<'a> {
        data: &'a serde_json::Value,
        metadata: Meta<'a>,
    }
    #[derive(serde::Serialize)]
    struct Body<'a> {
        request_id: String,
        lease_id: &'a str,
        renewable: bool,
        lease_duration: u64,
        data: Data<'a>,
        wrap_info: Option<()>,
        warnings: Option<()>,
        auth: Option<()>,
    }
    let id: [u8; 16] = rand::random();
    let body = Body {
        request_id: format!(
            "{}-{}-{}-{}-{}",
            hex(&id[0..4]),
            hex(&id[4..6]),
            hex(&id[6..8]),
            hex(&id[8..10]),
            hex(&id[10..16])
        ),
        lease_id: "",
        renewable: false,
        lease_duration: 0,
        data: Data {
            data: parsed.expose(),
            metadata: Meta {
                created_time: rfc3339(found.cached.fetched_at),
                custom_metadata: None,
                deletion_time: "",
                destroyed: false,
                version,
            },
        },
        wrap_info: None,
        warnings: None,
        auth: None,
    };
    let mut out = Vec::with_capacity(value.len() * 2 + 400);
    if serde_json::to_writer(&mut out, &body).is_err() {
        return vault_error(StatusCode::INTERNAL_SERVER_ERROR, "encoding failed");
    }
    let read = routes::Read {
        principal,
        reference: &reference,
        found: &found,
        target,
        generation,
        started,
    };
    routes::finish_secret(st, &read, secret_bytes(out), JSON)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_paths_split_into_mount_and_path() {
        assert_eq!(split("/v1/secret/data/app/db"), Some(("secret", "app/db")));
        assert_eq!(split("/v1/kv/team/data/x"), Some(("kv/team", "x")));
        assert_eq!(split("/v1/secret/metadata/x"), None);
        assert_eq!(split("/v1/envfiles/api"), None);
    }
}
