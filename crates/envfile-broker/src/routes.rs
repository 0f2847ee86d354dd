//! Request handling: the checks every request passes (GET only, no body, no proxies, who is
//! asking), then the routes. Error bodies are built from error kinds, references and hints —
//! never from values.
//!
//! A request is answered in two stages. [`handle`] does everything that needs no waiting —
//! the checks, authentication, the health routes, and a secret read whose response is
//! memoized — before the first await, and hands hyper a ready future: most requests to a warm
//! broker end there, without an allocation or a large state machine to move. The rest (env
//! files, which may long-poll, and reads that reach the cache proper or a backend) continue as
//! a boxed future.

use crate::audit::{rfc3339, AuditLine};
use crate::auth::{Peer, Principal, Refusal};
use crate::cache::Cached;
use crate::config::parse_duration;
use crate::metrics::Route;
use crate::state::{secret_bytes, Memo, State};
use crate::{aws_compat, vault_compat, Shared};
use base64::Engine as _;
use bytes::Bytes;
use envfile_core::{Error, ErrorKind, Format, Problems, Reference, SecretValue};
use futures::future::Either;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use percent_encoding::percent_decode_str;
use serde::Serialize;
use std::convert::Infallible;
use std::future::{Future, Ready};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The response type.
pub type Resp = Response<Full<Bytes>>;

// Header names in lowercase, as hyper hands them over.
/// The token header for envfile's own routes.
pub const TOKEN_HEADER: &str = "x-envfile-token";
/// The AWS Secrets Manager Agent's token header.
pub const AWS_TOKEN_HEADER: &str = "x-aws-parameters-secrets-token";
/// Vault's token header.
pub const VAULT_TOKEN_HEADER: &str = "x-vault-token";
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The body type of `/v1/secrets/{ref}`.
const SECRET_JSON: &str = "application/json";

/// What hyper awaits for one request: ready at once, or the boxed rest of the work.
pub type Handled = Either<
    Ready<Result<Resp, Infallible>>,
    Pin<Box<dyn Future<Output = Result<Resp, Infallible>> + Send>>,
>;

/// Entry point for every request.
pub fn handle(req: Request<Incoming>, peer: Peer, shared: &Arc<Shared>) -> Handled {
    let started = Instant::now();
    let st = shared.current();
    let (route, principal) = match answer_now(&req, peer, &st, started) {
        Now::Answered(route, resp) => {
            st.metrics.request(route, resp.status().as_u16());
            return Either::Left(std::future::ready(Ok(resp)));
        }
        Now::Later(route, principal) => (route, principal),
    };
    let shared = shared.clone();
    Either::Right(Box::pin(async move {
        let resp = answer_later(&req, route, &principal, &st, &shared, started).await;
        st.metrics.request(route, resp.status().as_u16());
        Ok(resp)
    }))
}

/// How far [`answer_now`] got.
enum Now {
    /// The response.
    Answered(Route, Resp),
    /// An authenticated request that needs the async path.
    Later(Route, Principal),
}

/// The request headers the broker acts on, found in one pass over the map: a lookup per header
/// would hash each name again, and a cached read looks at six.
#[derive(Default)]
struct Head<'a> {
    token: Option<&'a [u8]>,
    aws_token: Option<&'a [u8]>,
    vault_token: Option<&'a [u8]>,
    forwarded: bool,
    body: bool,
}

impl<'a> Head<'a> {
    fn read(headers: &'a HeaderMap) -> Self {
        let mut h = Head::default();
        // Of a repeated token header the first counts, as with `HeaderMap::get`.
        for (name, value) in headers {
            match name.as_str() {
                TOKEN_HEADER => _ = h.token.get_or_insert(value.as_bytes()),
                AWS_TOKEN_HEADER => _ = h.aws_token.get_or_insert(value.as_bytes()),
                VAULT_TOKEN_HEADER => _ = h.vault_token.get_or_insert(value.as_bytes()),
                X_FORWARDED_FOR => h.forwarded = true,
                "transfer-encoding" => h.body = true,
                "content-length" => h.body |= value.as_bytes() != b"0",
                _ => {}
            }
        }
        h
    }
}

fn classify(path: &str, vault_token: bool, aws_token: bool) -> Route {
    if path == "/healthz" || path == "/ping" {
        Route::Health
    } else if path == "/readyz" {
        Route::Ready
    } else if path == "/metrics" {
        Route::Metrics
    } else if path.starts_with("/v1/envfiles/") {
        Route::Envfile
    } else if path == "/secretsmanager/get"
        || path == aws_compat::SSM_PATH
        || (aws_token && !vault_token && path.starts_with(aws_compat::PATH_PREFIX))
    {
        // The agent's path form `/v1/{secretId}` shares `/v1/` with envfile's and Vault's
        // routes: only a client sending the agent's own token header means it.
        Route::AwsCompat
    } else if vault_token && vault_compat::matches(path) {
        Route::VaultCompat
    } else if path.starts_with("/v1/secrets/") {
        Route::Secret
    } else if vault_compat::matches(path) {
        Route::VaultCompat
    } else {
        Route::Other
    }
}

/// The request's method and headers, when they disqualify it.
fn refusal(method: &Method, head: &Head<'_>) -> Option<Resp> {
    if method != Method::GET {
        let mut r = error_json(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "the broker is read-only: only GET is served",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return Some(r);
    }
    if head.forwarded {
        // A proxy in front of a loopback-only secrets endpoint turns it into a remote one.
        return Some(error_json(
            StatusCode::BAD_REQUEST,
            "proxied_request_refused",
            "requests carrying X-Forwarded-For are refused: the broker serves local clients only",
        ));
    }
    if head.body {
        return Some(error_json(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_refused",
            "GET requests to the broker carry no body",
        ));
    }
    None
}

/// The memo key of the secret routes: path and query, as the client sent them.
fn target(req: &Request<Incoming>) -> &str {
    let uri = req.uri();
    uri.path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(uri.path())
}

/// Everything that needs no waiting: checks, authentication, health, metrics, memoized reads.
fn answer_now(req: &Request<Incoming>, peer: Peer, st: &State, started: Instant) -> Now {
    let head = Head::read(req.headers());
    let route = classify(
        req.uri().path(),
        head.vault_token.is_some(),
        head.aws_token.is_some(),
    );
    if let Some(r) = refusal(req.method(), &head) {
        return Now::Answered(route, r);
    }
    match route {
        Route::Health if req.uri().path() == "/ping" => {
            return Now::Answered(route, aws_compat::ping())
        }
        Route::Health => return Now::Answered(route, text(StatusCode::OK, "ok\n")),
        Route::Ready => {
            let (ready, total) = st.readiness();
            let status = if ready == total {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let body = format!("{ready}/{total} env files and template sinks ready\n");
            return Now::Answered(route, text(status, &body));
        }
        _ => {}
    }
    // The broker's own header first; the compatibility routes also take their client's.
    let token = head.token.or(match route {
        // The agent's default `ssrf_headers` are its own and Vault's.
        Route::AwsCompat => head.aws_token.or(head.vault_token),
        Route::VaultCompat => head.vault_token,
        _ => None,
    });
    let principal = match st.auth.authenticate(peer, token) {
        Ok(p) => p,
        // The agent answers a missing or wrong token alike: 403 `Bad Token`.
        Err(_) if route == Route::AwsCompat => {
            return Now::Answered(route, aws_compat::bad_token())
        }
        Err(Refusal::Missing) => {
            let r = error_json(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send the broker token in the X-Envfile-Token header",
            );
            return Now::Answered(route, r);
        }
        Err(Refusal::Denied) => return Now::Answered(route, forbidden()),
    };
    let content_type = match route {
        Route::Metrics => return Now::Answered(route, metrics(st)),
        Route::Envfile => return Now::Later(route, principal.into_owned()),
        Route::Secret => SECRET_JSON,
        Route::AwsCompat if !aws_compat::memoizable(req.uri().query().unwrap_or("")) => {
            return Now::Later(route, principal.into_owned())
        }
        Route::AwsCompat => aws_compat::JSON,
        Route::VaultCompat => vault_compat::JSON,
        _ => {
            let r = error_json(StatusCode::NOT_FOUND, "not_found", "no such route");
            return Now::Answered(route, r);
        }
    };
    match serve_memo(st, &principal, target(req), started, content_type) {
        Some(r) => Now::Answered(route, r),
        None => Now::Later(route, principal.into_owned()),
    }
}

/// The routes that may wait on the cache, a backend or a change.
async fn answer_later(
    req: &Request<Incoming>,
    route: Route,
    principal: &Principal,
    st: &Arc<State>,
    shared: &Shared,
    started: Instant,
) -> Resp {
    let path = req.uri().path();
    let query = req.uri().query().unwrap_or("");
    match route {
        Route::Envfile => {
            let name = decode(&path["/v1/envfiles/".len()..]);
            let inm = req
                .headers()
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok());
            envfile(st, shared, principal, &name, query, inm, started).await
        }
        Route::Secret => {
            let encoded = &path["/v1/secrets/".len()..];
            secret(st, principal, encoded, target(req), started).await
        }
        Route::AwsCompat if path == aws_compat::SSM_PATH => {
            aws_compat::get_parameter(st, principal, query, target(req), started).await
        }
        Route::AwsCompat => {
            let path_id = path.strip_prefix(aws_compat::PATH_PREFIX);
            aws_compat::get(st, principal, path_id, query, target(req), started).await
        }
        Route::VaultCompat => {
            vault_compat::get(st, principal, path, query, target(req), started).await
        }
        _ => error_json(StatusCode::NOT_FOUND, "not_found", "no such route"),
    }
}

fn metrics(st: &State) -> Resp {
    let (ready, total) = st.readiness();
    let body = st.metrics.render(&[
        (
            "envfile_broker_cache_entries",
            "Secrets in the cache.",
            st.cache.len() as f64,
        ),
        (
            "envfile_broker_staleness_seconds",
            "Age of the oldest cached value since its backend last confirmed it.",
            st.cache.max_age().as_secs_f64(),
        ),
        (
            "envfile_broker_envfiles_ready",
            "Env files and template sinks rendered and within max_stale.",
            ready as f64,
        ),
        (
            "envfile_broker_envfiles",
            "Env files and template sinks configured.",
            total as f64,
        ),
    ]);
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Parse `a=b&c=d` (form encoding: `+` is a space).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (decode(k) == name).then(|| decode(&v.replace('+', " ")))
    })
}

/// Percent-decode (lossy for invalid UTF-8, which no valid name contains).
pub fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[allow(clippy::too_many_arguments)]
async fn envfile(
    st: &Arc<State>,
    shared: &Shared,
    principal: &Principal,
    name: &str,
    query: &str,
    inm: Option<&str>,
    started: Instant,
) -> Resp {
    let audit = |outcome: &str, kind: Option<&str>| {
        st.audit.write(&AuditLine {
            event: "access",
            principal: &principal.label,
            envfile: Some(name),
            reference: None,
            backend: None,
            version: None,
            outcome,
            error_kind: kind,
            latency: started.elapsed(),
        })
    };
    if !principal.may_read_envfile(name) {
        audit("denied", None);
        return forbidden();
    }
    let Some(slot) = st.envfiles.get(name) else {
        audit("not_found", None);
        return error_json(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no envfile named `{name}` is served"),
        );
    };
    let format = match query_param(query, "format") {
        None => Format::Dotenv,
        Some(f) => match f.parse::<Format>() {
            Ok(f) => f,
            Err(e) => return error_response(StatusCode::BAD_REQUEST, &e),
        },
    };
    let wait = match query_param(query, "wait") {
        None => Duration::ZERO,
        Some(w) => match parse_duration(&w) {
            Ok(d) => d.min(st.settings.max_wait),
            Err(e) => return error_json(StatusCode::BAD_REQUEST, "bad_wait", &e),
        },
    };
    let deadline = tokio::time::Instant::now() + wait;
    let mut rx = slot.tx.subscribe();
    let mut stop = shared.stop.clone();
    loop {
        let snap = rx.borrow_and_update().clone();
        let waiting_for_change = match &snap {
            None => true,
            Some(snap) => {
                if let Err(problems) = &snap.result {
                    audit("error", problems.0.first().map(|p| p.error.kind().as_str()));
                    return problems_response(name, problems);
                }
                if !st.slot_servable(slot) {
                    audit("error", Some("unavailable"));
                    return error_json(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "stale",
                        &format!(
                            "envfile `{name}`: its secrets are older than max_stale and cannot be refreshed"
                        ),
                    );
                }
                let rendered = match snap.render(name, format) {
                    Ok(Some(r)) => r,
                    Ok(None) => unreachable_none(),
                    Err(e) => {
                        audit("error", Some(e.kind().as_str()));
                        return error_response(StatusCode::UNPROCESSABLE_ENTITY, &e);
                    }
                };
                if !etag_matches(inm, &rendered.etag) {
                    audit("ok", None);
                    let mut r = Response::new(Full::new(rendered.body.clone()));
                    let h = r.headers_mut();
                    h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(format.content_type()),
                    );
                    if let Ok(v) = HeaderValue::from_str(&rendered.etag) {
                        h.insert(header::ETAG, v);
                    }
                    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    return r;
                }
                if wait.is_zero() || tokio::time::Instant::now() >= deadline {
                    audit("not_modified", None);
                    let mut r = Response::new(Full::new(Bytes::new()));
                    *r.status_mut() = StatusCode::NOT_MODIFIED;
                    if let Ok(v) = HeaderValue::from_str(&rendered.etag) {
                        r.headers_mut().insert(header::ETAG, v);
                    }
                    return r;
                }
                false
            }
        };
        if waiting_for_change && (wait.is_zero() || tokio::time::Instant::now() >= deadline) {
            audit("error", Some("unavailable"));
            return error_json(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                &format!("envfile `{name}` has not been resolved yet"),
            );
        }
        tokio::select! {
            r = rx.changed() => if r.is_err() { return error_json(StatusCode::SERVICE_UNAVAILABLE, "reloaded", "the configuration was reloaded; retry"); },
            _ = tokio::time::sleep_until(deadline) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return error_json(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the broker is shutting down",
            );
        }
    }
}

fn unreachable_none() -> ! {
    // `render` returns None only for an error snapshot, handled before.
    panic!("a good snapshot rendered to nothing")
}

fn etag_matches(inm: Option<&str>, etag: &str) -> bool {
    let Some(inm) = inm else { return false };
    inm.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// A secret resolved for a compatibility or secrets route.
pub struct Found {
    /// The backend instance.
    pub backend: String,
    /// The cached whole secret.
    pub cached: Arc<Cached>,
    /// The selected value when the reference has a key.
    pub selected: Option<SecretValue>,
}

/// Why a secret could not be served.
pub enum Denied {
    /// Grants do not allow it (403 with no detail).
    Forbidden,
    /// The read failed.
    Failed(Error),
}

/// Authorize and read one reference through the cache.
pub async fn find(
    st: &State,
    principal: &Principal,
    reference: &Reference,
) -> Result<Found, Denied> {
    let backend = match st.raw.select(&reference.backend) {
        Ok(b) => b,
        // Unknown backend: a restricted client learns nothing from the difference.
        Err(e) => {
            return Err(match principal.access {
                crate::auth::Access::All => Denied::Failed(e.or_reference(&reference.raw)),
                crate::auth::Access::Client(_) => Denied::Forbidden,
            })
        }
    };
    if !principal.may_read_secret(backend.name(), &reference.locator.path) {
        return Err(Denied::Forbidden);
    }
    let cached = st
        .cache
        .get(&backend, &reference.locator)
        .await
        .map_err(|e| Denied::Failed(e.or_reference(&reference.raw).or_backend(backend.name())))?;
    let selected = match &reference.key {
        None => None,
        Some(_) => Some(st.resolver.get(reference).await.map_err(Denied::Failed)?),
    };
    Ok(Found {
        backend: backend.name().to_owned(),
        cached,
        selected,
    })
}

/// A memoized response for `target`, if still valid at `at`.
pub fn memo_get(st: &State, target: &str, at: Instant) -> Option<Arc<Memo>> {
    let m = st
        .memo
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(target)
        .cloned()?;
    (m.generation == st.cache.generation() && at < m.valid_until).then_some(m)
}

/// Remember a response for `target`.
pub fn memo_put(st: &State, target: &str, memo: Memo) -> Arc<Memo> {
    let memo = Arc::new(memo);
    let mut m = st.memo.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= st.settings.max_entries.saturating_mul(2) {
        m.clear();
    }
    m.insert(target.to_owned(), memo.clone());
    memo
}

/// Serve a memo if valid and allowed; `None` means build the response.
pub fn serve_memo(
    st: &State,
    principal: &Principal,
    target: &str,
    started: Instant,
    content_type: &'static str,
) -> Option<Resp> {
    let m = memo_get(st, target, started)?;
    if !principal.may_read_secret(&m.backend, &m.path) {
        return None;
    }
    st.cache.note_hit();
    st.audit
        .write_repeat(&principal.audit, &m.audit_tail, started, Instant::now());
    Some(body_response(m.body.clone(), content_type))
}

#[allow(clippy::too_many_arguments)]
/// One access line for a secret read.
pub fn audit_secret(
    st: &State,
    principal: &Principal,
    reference: &str,
    backend: &str,
    version: Option<&str>,
    outcome: &str,
    kind: Option<&str>,
    started: Instant,
) {
    st.audit.write(&AuditLine {
        event: "access",
        principal: &principal.label,
        envfile: None,
        reference: Some(reference),
        backend: Some(backend),
        version,
        outcome,
        error_kind: kind,
        latency: started.elapsed(),
    });
}

/// A successful secret read, as the routes that answer one need it for the audit line and memo.
pub struct Read<'a> {
    /// Who asked.
    pub principal: &'a Principal,
    /// What they asked for.
    pub reference: &'a Reference,
    /// What the cache gave.
    pub found: &'a Found,
    /// The request target, the memo's key.
    pub target: &'a str,
    /// The cache generation the response was built at.
    pub generation: u64,
    /// When the request started.
    pub started: Instant,
}

/// Audit a successful read, memoize its encoded body for repeats while the cached value is
/// fresh, and answer 200. Shared by every route that serves one secret, so the three answer
/// shapes (envfile's, the AWS agent's, Vault's) cannot drift in what they log or cache.
pub fn finish_secret(st: &State, read: &Read<'_>, body: Bytes, content_type: &'static str) -> Resp {
    let found = read.found;
    let line = AuditLine {
        event: "access",
        principal: &read.principal.label,
        envfile: None,
        reference: Some(&read.reference.raw),
        backend: Some(&found.backend),
        version: found.cached.fetched.version.as_deref(),
        outcome: "ok",
        error_kind: None,
        latency: read.started.elapsed(),
    };
    st.audit.write(&line);
    if let Some(valid_until) = st
        .cache
        .valid_until(&found.backend, &read.reference.locator)
    {
        memo_put(
            st,
            read.target,
            Memo {
                generation: read.generation,
                valid_until,
                backend: found.backend.clone(),
                path: read.reference.locator.path.clone(),
                audit_tail: line.tail(),
                body: body.clone(),
            },
        );
    }
    body_response(body, content_type)
}

/// A 200 with a secret-holding body.
pub fn body_response(body: Bytes, content_type: &'static str) -> Resp {
    let mut r = Response::new(Full::new(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Serialize)]
struct SecretBody<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
    backend: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<&'a serde_json::Value>,
    version: Option<&'a str>,
    fetched_at: String,
}

async fn secret(
    st: &State,
    principal: &Principal,
    encoded: &str,
    target: &str,
    started: Instant,
) -> Resp {
    let generation = st.cache.generation();
    let raw = decode(encoded);
    let reference = match Reference::parse(&raw) {
        Ok(r) => r,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e),
    };
    let found = match find(st, principal, &reference).await {
        Ok(f) => f,
        Err(Denied::Forbidden) => {
            audit_secret(
                st,
                principal,
                &raw,
                reference.backend.as_str(),
                None,
                "denied",
                None,
                started,
            );
            return forbidden();
        }
        Err(Denied::Failed(e)) => {
            audit_secret(
                st,
                principal,
                &raw,
                reference.backend.as_str(),
                None,
                "error",
                Some(e.kind().as_str()),
                started,
            );
            return error_response(status_for(e.kind()), &e);
        }
    };
    let whole = &found.cached.fetched.value;
    let value = found.selected.as_ref().unwrap_or(whole);
    let parsed = if found.selected.is_none() {
        value.parse_json().ok().filter(|j| j.is_object())
    } else {
        None
    };
    let text = value.expose_str();
    let body = SecretBody {
        reference: &raw,
        backend: &found.backend,
        value: if parsed.is_some() { None } else { text },
        value_base64: if text.is_none() {
            Some(base64::engine::general_purpose::STANDARD.encode(value.expose_bytes()))
        } else {
            None
        },
        keys: parsed.as_ref().map(|j| j.expose()),
        version: found.cached.fetched.version.as_deref(),
        fetched_at: rfc3339(found.cached.fetched_at),
    };
    let mut out = Vec::with_capacity(value.len() * 2 + 256);
    if serde_json::to_writer(&mut out, &body).is_err() {
        return error_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "could not encode the response",
        );
    }
    let read = Read {
        principal,
        reference: &reference,
        found: &found,
        target,
        generation,
        started,
    };
    finish_secret(st, &read, secret_bytes(out), SECRET_JSON)
}

/// HTTP status for an error kind.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound | ErrorKind::MissingKey => StatusCode::NOT_FOUND,
        ErrorKind::InvalidRef | ErrorKind::InvalidName | ErrorKind::Config => {
            StatusCode::BAD_REQUEST
        }
        ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::Timeout => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorKind::PermissionDenied | ErrorKind::Unauthenticated => StatusCode::BAD_GATEWAY,
        ErrorKind::NotJson | ErrorKind::NotUtf8 | ErrorKind::Empty | ErrorKind::Unrepresentable => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

/// A JSON error.
pub fn error_json(status: StatusCode, error: &str, message: &str) -> Resp {
    let body = serde_json::to_vec(&ErrorBody {
        error,
        message,
        hint: None,
    })
    .unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A JSON error from an [`Error`] (its Display never holds a value).
pub fn error_response(status: StatusCode, e: &Error) -> Resp {
    let message = match (e.reference(), e.backend()) {
        (Some(r), Some(b)) => format!("{r}: {} (backend `{b}`)", e.message()),
        (Some(r), None) => format!("{r}: {}", e.message()),
        _ => e.message().to_owned(),
    };
    let body = serde_json::to_vec(&ErrorBody {
        error: e.kind().as_str(),
        message: &message,
        hint: e.hint(),
    })
    .unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn problems_response(name: &str, problems: &Problems) -> Resp {
    #[derive(Serialize)]
    struct P<'a> {
        var: Option<&'a str>,
        #[serde(rename = "ref")]
        reference: Option<&'a str>,
        kind: &'a str,
        message: String,
        hint: Option<&'a str>,
    }
    let list: Vec<P> = problems
        .0
        .iter()
        .map(|p| P {
            var: p.var.as_deref(),
            reference: p.reference.as_deref(),
            kind: p.error.kind().as_str(),
            message: p.error.message().to_owned(),
            hint: p.error.hint(),
        })
        .collect();
    let retryable = problems.0.iter().all(|p| p.error.is_retryable());
    let body = serde_json::to_vec(&serde_json::json!({
        "error": "unresolved",
        "message": format!("envfile `{name}` could not be resolved"),
        "problems": list,
    }))
    .unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = if retryable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// 403 that says nothing about whether the thing exists.
pub fn forbidden() -> Resp {
    error_json(
        StatusCode::FORBIDDEN,
        "forbidden",
        "this client may not read that (or it does not exist)",
    )
}

fn text(status: StatusCode, body: &str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderName;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn one_pass_finds_what_lookups_would() {
        let h = headers(&[
            ("Host", "x"),
            ("X-Envfile-Token", "first"),
            ("x-envfile-token", "second"),
            ("X-Aws-Parameters-Secrets-Token", "aws"),
            ("X-Vault-Token", "vault"),
            ("Content-Length", "0"),
        ]);
        let head = Head::read(&h);
        // The same as HeaderMap::get for each name: the first value of a repeated header.
        assert_eq!(head.token, h.get(TOKEN_HEADER).map(|v| v.as_bytes()));
        assert_eq!(head.token, Some(&b"first"[..]));
        assert_eq!(head.aws_token, Some(&b"aws"[..]));
        assert_eq!(head.vault_token, Some(&b"vault"[..]));
        assert!(
            !head.forwarded && !head.body,
            "Content-Length: 0 is no body"
        );

        let h = headers(&[("X-Forwarded-For", "10.0.0.1"), ("Content-Length", "5")]);
        let head = Head::read(&h);
        assert!(head.forwarded && head.body && head.token.is_none());
        assert!(Head::read(&headers(&[("Transfer-Encoding", "chunked")])).body);
    }

    #[test]
    fn refusals_come_before_anything_else() {
        let with = |forwarded, body| Head {
            forwarded,
            body,
            ..Head::default()
        };
        let cases = [
            (Method::GET, with(false, false), None),
            (
                Method::POST,
                with(false, false),
                Some(StatusCode::METHOD_NOT_ALLOWED),
            ),
            (
                Method::GET,
                with(true, false),
                Some(StatusCode::BAD_REQUEST),
            ),
            (
                Method::GET,
                with(false, true),
                Some(StatusCode::PAYLOAD_TOO_LARGE),
            ),
        ];
        for (method, head, want) in cases {
            let got = refusal(&method, &head).map(|r| r.status());
            assert_eq!(
                got, want,
                "{method} forwarded={} body={}",
                head.forwarded, head.body
            );
        }
    }

    #[test]
    fn routes_by_path_and_the_vault_header() {
        assert_eq!(classify("/healthz", false, false), Route::Health);
        assert_eq!(classify("/ping", false, false), Route::Health);
        assert_eq!(classify("/v1/envfiles/api", false, false), Route::Envfile);
        assert_eq!(
            classify("/secretsmanager/get", false, false),
            Route::AwsCompat
        );
        assert_eq!(classify("/v1/secrets/aws:x", false, false), Route::Secret);
        assert_eq!(
            classify("/v1/secret/data/app", false, false),
            Route::VaultCompat
        );
        // A secrets path that also has Vault's shape goes to Vault when the client is one.
        assert_eq!(
            classify("/v1/secrets/data/app", true, false),
            Route::VaultCompat
        );
        assert_eq!(
            classify("/v1/secrets/data/app", false, false),
            Route::Secret
        );
        // The agent's path form, only with the agent's header.
        assert_eq!(classify("/v1/app/json", false, true), Route::AwsCompat);
        assert_eq!(classify("/nope", false, false), Route::Other);
    }
}
