//! HTTP → Secret Manager methods. URL templates from the REST reference
//! (<https://cloud.google.com/secret-manager/docs/reference/rest>), e.g.
//! `GET /v1/{name=projects/*/secrets/*/versions/*}:access`, and the same under
//! `projects/*/locations/*` for regional secrets.

use super::store::{ApiError, ApiResult, EnumEncoding, Paging, VersionSel, VersionState};
use super::{json_response, Shared};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

pub(crate) async fn handle(
    req: Request<hyper::body::Incoming>,
    shared: &Shared,
) -> Response<Full<Bytes>> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let latency = *shared.latency.lock().expect("emulator lock");
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let out = respond(req, shared).await;
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    match out {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e),
    }
}

/// Google's error body (<https://cloud.google.com/apis/design/errors#http_mapping>):
/// `{"error": {"code": HTTP status, "message": …, "status": canonical code name}}`.
pub(crate) fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    let code = e.http_code();
    json_response(
        code,
        &json!({"error": {"code": code, "message": e.message, "status": e.status}}),
    )
}

async fn respond(req: Request<hyper::body::Incoming>, shared: &Shared) -> ApiResult<Value> {
    if let Some(status) = shared.fail_next.lock().expect("emulator lock").pop_front() {
        return Err(ApiError::new(
            status,
            format!("injected {status} (emulator test switch)"),
        ));
    }
    let method = req.method().clone();
    let path = percent_decode(req.uri().path());
    let query = parse_query(req.uri().query().unwrap_or(""));
    // `$alt=json;enum-encoding=int` asks for enums as numbers (system parameter `$alt`,
    // <https://cloud.google.com/apis/docs/system-parameters>); `alt` is the same parameter.
    let enc = match query.get("$alt").or_else(|| query.get("alt")) {
        Some(a) if a.contains("enum-encoding=int") => EnumEncoding::Int,
        _ => EnumEncoding::Name,
    };
    let body = req
        .into_body()
        .collect()
        .await
        .map_err(|e| {
            ApiError::new(
                "INVALID_ARGUMENT",
                format!("cannot read the request body: {e}"),
            )
        })?
        .to_bytes();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| ApiError::new("INVALID_ARGUMENT", "Invalid JSON payload received."))?
    };

    let Some(rest) = path.strip_prefix("/v1/") else {
        return Err(no_route(&method, &path));
    };
    let (resource, verb) = match rest.rsplit_once(':') {
        // A custom method is `:verb` after the last segment (AIP-136).
        Some((r, v)) if !v.contains('/') => (r, Some(v)),
        _ => (rest, None),
    };
    let segs: Vec<&str> = resource.split('/').collect();
    let (parent, tail) = match segs.as_slice() {
        ["projects", p, "locations", l, tail @ ..] if !p.is_empty() && !l.is_empty() => {
            (format!("projects/{p}/locations/{l}"), tail)
        }
        ["projects", p, tail @ ..] if !p.is_empty() => (format!("projects/{p}"), tail),
        _ => return Err(no_route(&method, &path)),
    };
    let mut store = shared.store.lock().expect("emulator lock");
    match (tail, verb, &method) {
        // projects.secrets.list: GET /v1/{parent}/secrets
        (["secrets"], None, &Method::GET) => {
            if query.get("filter").is_some_and(|f| !f.is_empty()) {
                return Err(ApiError::new(
                    "UNIMPLEMENTED",
                    "filter is not supported by this emulator.",
                ));
            }
            let page = Paging::parse(
                query.get("pageSize").map(String::as_str),
                query.get("pageToken").map(String::as_str),
            )?;
            store.list_secrets(&parent, &page)
        }
        // projects.secrets.create: POST /v1/{parent}/secrets?secretId=ID, body: Secret
        (["secrets"], None, &Method::POST) => {
            let id = query.get("secretId").map(String::as_str).unwrap_or("");
            store.create_secret(&parent, id, &body)
        }
        // projects.secrets.get / delete: /v1/{name=projects/*/secrets/*}
        (["secrets", s], None, &Method::GET) => store.get_secret(&format!("{parent}/secrets/{s}")),
        (["secrets", s], None, &Method::DELETE) => {
            store.delete_secret(&format!("{parent}/secrets/{s}"))
        }
        // projects.secrets.addVersion: POST /v1/{parent=projects/*/secrets/*}:addVersion,
        // body {"payload": SecretPayload}; `data` is base64 (bytes in proto3 JSON), `dataCrc32c`
        // an int64 (a string or a number in proto3 JSON).
        (["secrets", s], Some("addVersion"), &Method::POST) => {
            let payload = body.get("payload").cloned().unwrap_or(Value::Null);
            let data = match payload.get("data") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(b64)) => decode_bytes(b64)?,
                Some(_) => {
                    return Err(ApiError::new(
                        "INVALID_ARGUMENT",
                        "payload.data must be a base64 string.",
                    ))
                }
            };
            let crc = match payload
                .get("dataCrc32c")
                .or_else(|| payload.get("data_crc32c"))
            {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.parse::<i64>().map_err(|_| {
                    ApiError::new("INVALID_ARGUMENT", "payload.dataCrc32c must be an int64.")
                })?),
                Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
                    ApiError::new("INVALID_ARGUMENT", "payload.dataCrc32c must be an int64.")
                })?),
                Some(_) => {
                    return Err(ApiError::new(
                        "INVALID_ARGUMENT",
                        "payload.dataCrc32c must be an int64.",
                    ))
                }
            };
            store.add_version(&format!("{parent}/secrets/{s}"), data, crc)
        }
        // projects.secrets.versions.list: GET /v1/{parent=projects/*/secrets/*}/versions
        (["secrets", s, "versions"], None, &Method::GET) => {
            if query.get("filter").is_some_and(|f| !f.is_empty()) {
                return Err(ApiError::new(
                    "UNIMPLEMENTED",
                    "filter is not supported by this emulator.",
                ));
            }
            let page = Paging::parse(
                query.get("pageSize").map(String::as_str),
                query.get("pageToken").map(String::as_str),
            )?;
            store.list_versions(&format!("{parent}/secrets/{s}"), &page, enc)
        }
        (["secrets", s, "versions", v], verb, m) => {
            let secret = format!("{parent}/secrets/{s}");
            let full = format!("{secret}/versions/{v}");
            let sel = version_sel(v, &full)?;
            match (verb, m) {
                // projects.secrets.versions.get: GET /v1/{name=…/versions/*}
                (None, &Method::GET) => store.get_version(&secret, &sel, &full, enc),
                // projects.secrets.versions.access: GET /v1/{name=…/versions/*}:access
                (Some("access"), &Method::GET) => {
                    let (name, data, crc) = store.access(&secret, &sel, &full)?;
                    let crc = if shared.corrupt_crc32c.load(Ordering::SeqCst) {
                        crc ^ 1
                    } else {
                        crc
                    };
                    Ok(json!({
                        "name": name,
                        "payload": {
                            "data": base64::engine::general_purpose::STANDARD.encode(&data),
                            // int64 fields are JSON strings in the proto3 JSON mapping.
                            "dataCrc32c": crc.to_string(),
                        }
                    }))
                }
                // projects.secrets.versions.{disable,enable,destroy}: POST /v1/{name=…}:VERB
                (Some(op @ ("disable" | "enable" | "destroy")), &Method::POST) => {
                    let VersionSel::Number(n) = sel else {
                        // The `latest` alias is documented for get and access only.
                        return Err(ApiError::new(
                            "INVALID_ARGUMENT",
                            format!("{op} needs a version number, got [{full}]."),
                        ));
                    };
                    let to = match op {
                        "disable" => VersionState::Disabled,
                        "enable" => VersionState::Enabled,
                        _ => VersionState::Destroyed,
                    };
                    store.set_state(&secret, n, &full, to, enc)
                }
                _ => Err(no_route(&method, &path)),
            }
        }
        (["secrets", _], None, &Method::PATCH) => Err(ApiError::new(
            "UNIMPLEMENTED",
            "projects.secrets.patch is not implemented by this emulator.",
        )),
        _ => Err(no_route(&method, &path)),
    }
}

fn version_sel(v: &str, full: &str) -> ApiResult<VersionSel> {
    if v == "latest" {
        Ok(VersionSel::Latest)
    } else if let Ok(n) = v.parse::<u64>() {
        Ok(VersionSel::Number(n))
    } else {
        // Version aliases (Secret.versionAliases) are not emulated: an unknown alias is not found.
        Err(ApiError::new(
            "NOT_FOUND",
            format!("Secret Version [{full}] not found."),
        ))
    }
}

fn no_route(method: &Method, path: &str) -> ApiError {
    ApiError::new("NOT_FOUND", format!("Method not found: {method} {path}"))
}

/// `bytes` fields in proto3 JSON are base64, standard or URL-safe, padded or not.
fn decode_bytes(s: &str) -> ApiResult<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
        .ok_or_else(|| ApiError::new("INVALID_ARGUMENT", "payload.data is not valid base64."))
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("%24alt"), "$alt");
        assert_eq!(
            percent_decode("json%3Benum-encoding%3Dint"),
            "json;enum-encoding=int"
        );
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
