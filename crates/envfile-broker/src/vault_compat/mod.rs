//! The broker as a Vault server to Vault's own clients (`vault`/`bao` CLI, hvac, node-vault…):
//! everything under `/v1/` that is not one of envfile's own routes answers in Vault's shape.
//!
//! - KV reads, through the cache and the grants: `GET /v1/{mount}/{path}` (KV v1),
//!   `/v1/{mount}/data/{path}[?version=N]` and `/v1/{mount}/metadata/{path}` (KV v2), and LIST
//!   (`?list=true` or the `LIST` method) on metadata and KV v1 folders, listing only what the
//!   client may read ([`kv`]).
//! - What clients call around a read: `sys/internal/ui/mounts[/path]`, `sys/mounts`,
//!   `auth/token/lookup-self`, `sys/health`, `sys/init`, `sys/seal-status` ([`sys`]).
//! - The token comes in `X-Vault-Token` or `Authorization: Bearer`; `X-Vault-Namespace` is
//!   accepted and ignored (the backend's own namespace applies).
//! - Errors are `{"errors":[…]}` with Vault's statuses; writes answer 405 (the broker is
//!   read-only); a refusal answers exactly like a missing secret.

mod kv;
mod sys;

use crate::auth::Principal;
use crate::routes::{self, body_response};
use crate::state::{hex, State};
use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use std::time::Instant;

/// The route's body type.
pub(crate) const JSON: &str = "application/json";

/// A request a Vault client sends, routed here from any `/v1/` path.
pub struct Call<'a> {
    /// `GET` or `LIST` (`?list=true` makes a GET a LIST).
    pub list: bool,
    /// The path after `/v1/`, percent-decoded.
    pub path: String,
    /// The raw query.
    pub query: &'a str,
    /// The memo key (path and query as sent).
    pub target: &'a str,
    /// When the request started.
    pub started: Instant,
}

/// The answer to a request Vault would refuse before looking at its path (a write, a proxy, a
/// body), in Vault's shape; `None` to go on.
pub fn refusal(method: &Method, forwarded: bool, body: bool) -> Option<routes::Resp> {
    if method != Method::GET && method.as_str() != "LIST" {
        let mut r = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "the envfile broker is read-only: it serves GET and LIST, not writes",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, LIST"));
        return Some(r);
    }
    if forwarded {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "requests carrying X-Forwarded-For are refused: the broker serves local clients only",
        ));
    }
    if body {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "reads from the envfile broker carry no body",
        ));
    }
    None
}

/// The endpoints Vault answers without a token (`sys/health`, `sys/init`, `sys/seal-status`).
pub fn unauthenticated(path: &str, query: &str) -> Option<routes::Resp> {
    sys::unauthenticated(path.strip_prefix("/v1/")?, query)
}

/// Vault's answer to a request without a token or with one it does not know.
pub fn denied() -> routes::Resp {
    error(StatusCode::FORBIDDEN, "permission denied")
}

/// Whether a GET to this path may be answered from the memo of an earlier read (reads only:
/// a listing of the same target is another answer). Memos are keyed by request target, and
/// under envfile's own prefixes the same target means another thing to envfile's clients, so
/// those are neither served from nor stored under it ([`memo_target`]).
pub fn memoizable(method: &Method, path: &str, query: &str) -> bool {
    method == Method::GET
        && !shared_prefix(path)
        && routes::query_param(query, "list").as_deref() != Some("true")
}

fn shared_prefix(path: &str) -> bool {
    path.starts_with("/v1/secrets/") || path.starts_with("/v1/envfiles/")
}

/// The key a read's response is memoized under: the target, except under envfile's own prefixes
/// (a Vault mount named `secrets`), where a key no request target can equal keeps the two apart.
pub(crate) fn memo_target(target: &str) -> std::borrow::Cow<'_, str> {
    if shared_prefix(target) {
        format!("vault {target}").into()
    } else {
        target.into()
    }
}

/// Serve an authenticated request.
pub async fn serve(
    st: &State,
    principal: &Principal,
    method: &Method,
    path: &str,
    query: &str,
    target: &str,
    started: Instant,
) -> routes::Resp {
    let rest = path.strip_prefix("/v1/").unwrap_or_default();
    let call = Call {
        list: method.as_str() == "LIST"
            || routes::query_param(query, "list").as_deref() == Some("true"),
        path: routes::decode(rest).trim_start_matches('/').to_owned(),
        query,
        target,
        started,
    };
    match call.path.as_str() {
        "sys/internal/ui/mounts" => sys::ui_mounts(st, principal).await,
        p if p.starts_with("sys/internal/ui/mounts/") => {
            sys::ui_mount(st, principal, &p["sys/internal/ui/mounts/".len()..]).await
        }
        "sys/mounts" => sys::mounts(st, principal).await,
        "auth/token/lookup-self" => sys::lookup_self(principal),
        p if p.starts_with("sys/") || p.starts_with("auth/") || p.is_empty() => error(
            StatusCode::NOT_FOUND,
            &format!(
                "the envfile broker does not serve `{p}`: it serves KV reads, LIST, \
                 auth/token/lookup-self and a few sys/ endpoints"
            ),
        ),
        _ => kv::serve(st, principal, &call).await,
    }
}

/// `{"errors":[message]}` with `status`.
pub fn error(status: StatusCode, message: &str) -> routes::Resp {
    let body = serde_json::to_vec(&serde_json::json!({ "errors": [message] })).unwrap_or_default();
    let mut r = body_response(Bytes::from(body), JSON);
    *r.status_mut() = status;
    r
}

/// Vault's answer for what is not there: 404 with an empty `errors` list. Refusals answer the
/// same, so a restricted client cannot tell what exists.
pub fn missing() -> routes::Resp {
    let mut r = body_response(Bytes::from_static(br#"{"errors":[]}"#), JSON);
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

/// A fresh request id in Vault's UUID form.
pub fn request_id() -> String {
    let id: [u8; 16] = rand::random();
    format!(
        "{}-{}-{}-{}-{}",
        hex(&id[0..4]),
        hex(&id[4..6]),
        hex(&id[6..8]),
        hex(&id[8..10]),
        hex(&id[10..16])
    )
}

/// Vault's response envelope around `data` (a non-secret answer), as JSON.
pub fn envelope(data: serde_json::Value) -> routes::Resp {
    let body = serde_json::json!({
        "request_id": request_id(),
        "lease_id": "",
        "renewable": false,
        "lease_duration": 0,
        "data": data,
        "wrap_info": null,
        "warnings": null,
        "auth": null,
    });
    json(StatusCode::OK, &body)
}

/// `body` as JSON with `status`.
pub fn json(status: StatusCode, body: &serde_json::Value) -> routes::Resp {
    let mut r = body_response(
        Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
        JSON,
    );
    *r.status_mut() = status;
    r
}
