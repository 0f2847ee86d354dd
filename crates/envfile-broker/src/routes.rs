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
use crate::auth::{Peer, Principal, Refusal, Verdict};
use crate::cache::Cached;
use crate::metrics::Route;
use crate::state::{secret_bytes, Memo, State};
use crate::{aws_compat, vault_compat, Shared};
use base64::Engine as _;
use bytes::Bytes;
use envfile_core::duration::{self, Bare};
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
use std::sync::atomic::Ordering;
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
/// Headers a proxy adds: a request carrying one came through a proxy, which turns a
/// loopback-only secrets endpoint into a remote one.
const PROXY_HEADERS: [&str; 4] = ["x-forwarded-for", "forwarded", "x-real-ip", "via"];

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
    // A restricted client holds one of its request slots until the answer is ready, so it
    // cannot take every connection the broker has (and /readyz with them).
    let slot = match principal.limiter.as_ref().map(|l| l.request()) {
        Some(Err(_)) => {
            let r = too_many(
                &st,
                &principal,
                "this client has too many requests in flight; retry when one has finished",
            );
            st.metrics.request(route, r.status().as_u16());
            return Either::Left(std::future::ready(Ok(r)));
        }
        Some(Ok(slot)) => Some(slot),
        None => None,
    };
    let shared = shared.clone();
    Either::Right(Box::pin(async move {
        let resp = answer_later(&req, route, &principal, &st, &shared, started).await;
        drop(slot);
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
    /// `Authorization: Bearer …`, which Vault clients may send instead of `X-Vault-Token`.
    bearer: Option<&'a [u8]>,
    /// `X-Vault-Request`, which every Vault client sends.
    vault_request: bool,
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
                "authorization" => {
                    let v = value.as_bytes();
                    if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") {
                        _ = h.bearer.get_or_insert(&v[7..]);
                    }
                }
                "x-vault-request" => h.vault_request = true,
                n if PROXY_HEADERS.contains(&n) => h.forwarded = true,
                "transfer-encoding" => h.body = true,
                "content-length" => h.body |= value.as_bytes() != b"0",
                _ => {}
            }
        }
        h
    }

    /// Whether a Vault client sent the request (and not an envfile one): such a request goes to
    /// the Vault route under any `/v1/` path, even `/v1/secrets/…` and `/v1/envfiles/…`, which
    /// are then Vault mounts named `secrets` and `envfiles`.
    fn vault_client(&self) -> bool {
        self.token.is_none()
            && (self.vault_token.is_some() || self.bearer.is_some() || self.vault_request)
    }

    /// Whether the AWS agent's client sent the request: its token header and no envfile or
    /// Vault one. Only such a request reaches the agent's path form `/v1/{secretId}`.
    fn aws_client(&self) -> bool {
        self.aws_token.is_some() && self.token.is_none() && !self.vault_client()
    }
}

fn classify(path: &str, vault_client: bool, aws_client: bool) -> Route {
    if path == "/healthz" || path == "/ping" {
        Route::Health
    } else if path == "/readyz" {
        Route::Ready
    } else if path == "/metrics" {
        Route::Metrics
    } else if path == "/secretsmanager/get" || path == aws_compat::SSM_PATH {
        Route::AwsCompat
    } else if vault_client && path.starts_with("/v1/") {
        // A Vault client's `/v1/` paths are Vault's, even `/v1/secrets/…` and `/v1/envfiles/…`
        // (mounts named so).
        Route::VaultCompat
    } else if aws_client && path.starts_with(aws_compat::PATH_PREFIX) {
        // The agent's path form `/v1/{secretId}` shares `/v1/` with envfile's and Vault's
        // routes: only a client sending the agent's own token header (and no other) means it.
        Route::AwsCompat
    } else if path.starts_with("/v1/envfiles/") {
        Route::Envfile
    } else if path.starts_with("/v1/secrets/") {
        Route::Secret
    } else if path.starts_with("/v1/") {
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
            "requests carrying X-Forwarded-For, Forwarded, X-Real-IP or Via are refused: the \
             broker serves local clients only",
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

/// The longest memo key: a request whose canonical form is longer is answered without the memo.
const MAX_KEY: usize = 512;

/// A memo key being built, on the stack: the cached-read path allocates nothing for it.
pub struct KeyBuf {
    buf: [u8; MAX_KEY],
    len: usize,
}

impl KeyBuf {
    fn new() -> Self {
        Self {
            buf: [0; MAX_KEY],
            len: 0,
        }
    }

    /// Append, or `None` when it does not fit.
    fn push(&mut self, b: u8) -> Option<()> {
        *self.buf.get_mut(self.len)? = b;
        self.len += 1;
        Some(())
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The key as the `&str` the routes pass on (`""`, which memoizes nothing, when it is not
    /// UTF-8).
    fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes()).unwrap_or("")
    }
}

/// Percent-decode `s` into `out` as [`decode`] and [`query_param`] do (`+` is a space where
/// `plus` says so; `%` not followed by two hex digits stays itself). `0x00` is written as
/// `0x00 0x01`, so the `0x00 0x00` between fields cannot be forged.
fn decode_into(s: &[u8], plus: bool, out: &mut KeyBuf) -> Option<()> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < s.len() {
        let mut b = s[i];
        i += 1;
        if b == b'+' && plus {
            b = b' ';
        } else if b == b'%' {
            if let (Some(h), Some(l)) = (
                s.get(i).copied().and_then(hex),
                s.get(i + 1).copied().and_then(hex),
            ) {
                b = h << 4 | l;
                i += 2;
            }
        }
        out.push(b)?;
        if b == 0 {
            out.push(1)?;
        }
    }
    Some(())
}

/// The raw value of the first query parameter whose decoded name is `name` (as [`query_param`]
/// picks it), without allocating.
fn raw_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let mut key = KeyBuf::new();
        decode_into(k.as_bytes(), false, &mut key)?;
        (key.bytes() == name.as_bytes()).then_some(v)
    })
}

/// Whether every parameter of `query` is one of `allowed`, none twice (empty pairs, as in
/// `a=1&&b=2`, are skipped as the routes' parsers skip them).
fn only_params(query: &str, allowed: &[&str]) -> bool {
    let mut seen = 0u32;
    query.split('&').filter(|kv| !kv.is_empty()).all(|kv| {
        let k = kv.split_once('=').map_or(kv, |(k, _)| k);
        let mut name = KeyBuf::new();
        if decode_into(k.as_bytes(), false, &mut name).is_none() {
            return false;
        }
        match allowed.iter().position(|a| a.as_bytes() == name.bytes()) {
            Some(i) if seen & (1 << i) == 0 => {
                seen |= 1 << i;
                true
            }
            _ => false,
        }
    })
}

/// The memo key of a secret read: the route and what decides its answer, decoded — never the
/// bytes the client chose to send it as. Encoding variants (`%2F` or `/`, `%61` or `a`) and
/// query parameters a route ignores map to one key, so a client cannot grow the memo by
/// spelling one secret many ways. `None`: not memoizable.
///
/// Each route's answer is a function of exactly these fields: `/v1/secrets/{ref}` of the
/// decoded reference (it takes no query; one is refused), the AWS agent's route of
/// `secretId`, `versionStage` and `versionId`, the Vault route of the decoded path (its
/// locator is the decoded path whatever `/` was encoded) and `version`. A route that starts
/// reading another parameter must add it here.
fn memo_key(route: Route, uri: &http::Uri, key: &mut KeyBuf) -> Option<()> {
    let query = uri.query();
    let params: &[&str] = match route {
        Route::Secret => {
            if query.is_some() {
                return None;
            }
            key.push(b'S')?;
            decode_into(&uri.path().as_bytes()["/v1/secrets/".len()..], false, key)?;
            &[]
        }
        Route::AwsCompat => {
            let path = uri.path();
            let params: &[&str] = if path == aws_compat::SSM_PATH {
                key.push(b'M')?;
                &["name", "withDecryption", "version", "label"]
            } else if path == "/secretsmanager/get" {
                key.push(b'A')?;
                &["secretId", "versionStage", "versionId"]
            } else {
                // The path form names the secret in the path.
                key.push(b'P')?;
                let id = path.strip_prefix(aws_compat::PATH_PREFIX)?;
                decode_into(id.as_bytes(), false, key)?;
                &["versionStage", "versionId"]
            };
            // The agent answers an unknown or repeated parameter 400, and `refreshNow` asks for
            // the backend: neither may be answered from a memo, so only a query made of the
            // parameters that decide the answer, each once, has a key.
            if !only_params(query.unwrap_or(""), params) {
                return None;
            }
            params
        }
        Route::VaultCompat => {
            key.push(b'V')?;
            decode_into(uri.path().as_bytes(), false, key)?;
            &["version"]
        }
        _ => return None,
    };
    let query = query.unwrap_or("");
    for name in params {
        key.push(0)?;
        key.push(0)?;
        match raw_param(query, name) {
            Some(v) => {
                key.push(b'=')?;
                decode_into(v.as_bytes(), true, key)?;
            }
            None => key.push(b'-')?,
        }
    }
    Some(())
}

/// Everything that needs no waiting: checks, authentication, health, metrics, memoized reads.
fn answer_now(req: &Request<Incoming>, peer: Peer, st: &State, started: Instant) -> Now {
    let head = Head::read(req.headers());
    let route = classify(req.uri().path(), head.vault_client(), head.aws_client());
    let refused = if route == Route::VaultCompat {
        // Vault's clients get Vault's shapes, also for what is refused before any path.
        let query = req.uri().query().unwrap_or("");
        vault_compat::refusal(req.method(), head.forwarded, head.body)
            .or_else(|| vault_compat::unauthenticated(req.uri().path(), query))
    } else {
        refusal(req.method(), &head)
    };
    if let Some(r) = refused {
        audit_refusal(st, &peer.label(), &r, started);
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
        Route::VaultCompat => head.vault_token.or(head.bearer),
        _ => None,
    });
    let principal = match st.auth.authenticate(peer, token) {
        Ok(p) => p,
        Err(_) if matches!(route, Route::VaultCompat | Route::AwsCompat) => {
            // Each client gets its incumbent's refusal: Vault's 403, the agent's `Bad Token`
            // (the agent answers a missing or wrong token alike).
            let r = if route == Route::VaultCompat {
                vault_compat::denied()
            } else {
                aws_compat::bad_token()
            };
            let who = match token {
                Some(_) => format!("{} token:unknown", peer.label()),
                None => peer.label(),
            };
            audit_refusal(st, &who, &r, started);
            return Now::Answered(route, r);
        }
        Err(Refusal::Missing) => {
            let r = error_json(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send the broker token in the X-Envfile-Token header",
            );
            audit_refusal(st, &peer.label(), &r, started);
            return Now::Answered(route, r);
        }
        Err(Refusal::Denied) => {
            let r = forbidden();
            // Token guessing leaves a trail: who knocked, never what they sent.
            let who = match token {
                Some(_) => format!("{} token:unknown", peer.label()),
                None => peer.label(),
            };
            audit_refusal(st, &who, &r, started);
            return Now::Answered(route, r);
        }
    };
    let content_type = match route {
        Route::Metrics if principal.may_read_metrics() => return Now::Answered(route, metrics(st)),
        Route::Metrics => {
            let r = forbidden();
            audit_refusal(st, &principal.label, &r, started);
            return Now::Answered(route, r);
        }
        Route::Secret if req.uri().query().is_some() => {
            // An unencoded `?` in a reference (`aws:app?stage=X`) would otherwise be dropped
            // without a word, and the client served a version it did not ask for.
            let r = error_json(
                StatusCode::BAD_REQUEST,
                "unexpected_query",
                "/v1/secrets/{ref} takes no query parameters: percent-encode the whole \
                 reference, including `?` (%3F), `&` (%26) and `#` (%23)",
            );
            audit_refusal(st, &principal.label, &r, started);
            return Now::Answered(route, r);
        }
        Route::Envfile => return Now::Later(route, principal.into_owned()),
        Route::Secret => SECRET_JSON,
        Route::AwsCompat if !aws_compat::memoizable(req.uri().query().unwrap_or("")) => {
            return Now::Later(route, principal.into_owned())
        }
        Route::AwsCompat => aws_compat::JSON,
        Route::VaultCompat
            if vault_compat::memoizable(
                req.method(),
                req.uri().path(),
                req.uri().query().unwrap_or(""),
            ) =>
        {
            vault_compat::JSON
        }
        Route::VaultCompat => return Now::Later(route, principal.into_owned()),
        _ => {
            let r = error_json(StatusCode::NOT_FOUND, "not_found", "no such route");
            return Now::Answered(route, r);
        }
    };
    let mut key = KeyBuf::new();
    if memo_key(route, req.uri(), &mut key).is_some() {
        if let Some(r) = serve_memo(st, &principal, key.bytes(), started, content_type) {
            return Now::Answered(route, r);
        }
    }
    Now::Later(route, principal.into_owned())
}

/// An access line for a request refused before it read anything (bad request, no or wrong
/// token, a proxy's headers), so probing leaves a trail. `who` never holds what the client sent.
fn audit_refusal(st: &State, who: &str, r: &Resp, started: Instant) {
    st.metrics.refusals.fetch_add(1, Ordering::Relaxed);
    let kind = match r.status() {
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_refused",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        _ => "bad_request",
    };
    st.audit.write(&AuditLine {
        event: "access",
        principal: who,
        envfile: None,
        reference: None,
        backend: None,
        version: None,
        outcome: "refused",
        error_kind: Some(kind),
        latency: started.elapsed(),
    });
}

/// 429 for a client over one of its limits; the connection is closed with it, so a client
/// that keeps knocking does not keep a connection either.
fn too_many(st: &State, principal: &Principal, message: &str) -> Resp {
    st.metrics.client_limited.fetch_add(1, Ordering::Relaxed);
    let mut r = error_json(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message);
    let h = r.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    audit_refusal(st, &principal.label, &r, Instant::now());
    r
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
    let mut key = KeyBuf::new();
    let target = match memo_key(route, req.uri(), &mut key) {
        Some(()) => key.as_str(),
        None => "",
    };
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
            secret(st, principal, encoded, target, started).await
        }
        Route::AwsCompat if path == aws_compat::SSM_PATH => {
            aws_compat::get_parameter(st, principal, query, target, started).await
        }
        Route::AwsCompat => {
            let path_id = path.strip_prefix(aws_compat::PATH_PREFIX);
            aws_compat::get(st, principal, path_id, query, target, started).await
        }
        Route::VaultCompat => {
            let method = req.method();
            vault_compat::serve(st, principal, method, path, query, target, started).await
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
            "envfile_broker_memo_entries",
            "Encoded responses memoized (one per canonical request).",
            st.memo.lock().unwrap_or_else(|p| p.into_inner()).len() as f64,
        ),
        (
            "envfile_broker_negative_entries",
            "Names remembered as missing.",
            st.cache.negative_len() as f64,
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

/// Refuse a query with a parameter the route does not take, or one given twice (which of the
/// two would count is a guess the client should not have to make).
fn check_params(query: &str, known: &[&str]) -> Option<Resp> {
    let mut seen = [false; 8];
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let k = decode(kv.split_once('=').map_or(kv, |(k, _)| k));
        let Some(i) = known.iter().position(|n| *n == k) else {
            let shown: String = k.chars().take(40).collect();
            return Some(error_json(
                StatusCode::BAD_REQUEST,
                "unknown_parameter",
                &format!(
                    "unknown query parameter `{shown}` (this route takes: {})",
                    known.join(", ")
                ),
            ));
        };
        // `known` lists at most a handful of names; past eight, repeats go unnoticed.
        if seen.get_mut(i).is_some_and(|s| std::mem::replace(s, true)) {
            return Some(error_json(
                StatusCode::BAD_REQUEST,
                "repeated_parameter",
                &format!("query parameter `{k}` is given more than once"),
            ));
        }
    }
    None
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
    if let Some(r) = check_params(query, &["format", "wait"]) {
        audit("refused", Some("bad_request"));
        return r;
    }
    let format = match query_param(query, "format") {
        None => Format::Dotenv,
        Some(f) => match f.parse::<Format>() {
            Ok(f) => f,
            Err(e) => return error_response(StatusCode::BAD_REQUEST, &e),
        },
    };
    let wait = match query_param(query, "wait") {
        None => Duration::ZERO,
        Some(w) => match duration::parse(&w, Bare::Seconds) {
            Ok(d) => d.min(st.settings.max_wait),
            Err(e) => {
                return error_json(StatusCode::BAD_REQUEST, "bad_wait", &format!("wait: {e}"))
            }
        },
    };
    // A long-poll holds its connection up to max_wait: a restricted client may hold only so
    // many, so the others (and the probes) keep theirs.
    let _wait_slot = match principal.limiter.as_ref().filter(|_| !wait.is_zero()) {
        Some(l) => match l.wait() {
            Ok(slot) => Some(slot),
            Err(_) => {
                return too_many(
                    st,
                    principal,
                    "this client holds too many ?wait= long-polls; retry when one has ended",
                )
            }
        },
        None => None,
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
                    return problems_response(name, problems, principal.is_restricted());
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
    /// The secret's canonical identity (what grants are checked against), when known.
    pub identity: Option<String>,
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
    // Checked against the identity of exactly the secret read below, whatever the spelling.
    let identity = match st
        .auth
        .grants
        .check(principal, &backend, &reference.locator.path)
        .await
    {
        Verdict::Allowed(id) => id,
        Verdict::Denied => return Err(Denied::Forbidden),
    };
    let cached = st
        .cache
        .get_for(&backend, &reference.locator, principal.limiter.as_deref())
        .await
        .map_err(|e| {
            Denied::Failed(redact(
                principal,
                &reference.raw,
                e.or_reference(&reference.raw).or_backend(backend.name()),
            ))
        })?;
    // What was asked and what the backend answered with can differ (an AWS ARN ending in `-`
    // and six characters is the full ARN of one secret or the partial ARN of another): the
    // secret answered must be granted too, and it is the identity memos are stored under.
    let identity = match cached
        .fetched
        .meta
        .as_ref()
        .and_then(|m| m.identity.as_ref())
    {
        Some(answered) if identity.as_deref() != Some(answered.as_str()) => {
            if !st
                .auth
                .grants
                .allows_known(principal, backend.name(), answered)
            {
                return Err(Denied::Forbidden);
            }
            Some(answered.clone())
        }
        _ => identity,
    };
    let selected = match &reference.key {
        None => None,
        Some(_) => Some(
            st.resolver
                .get(reference)
                .await
                .map_err(|e| Denied::Failed(redact(principal, &reference.raw, e)))?,
        ),
    };
    Ok(Found {
        backend: backend.name().to_owned(),
        identity,
        cached,
        selected,
    })
}

/// What a restricted client is told about a failed read: the kind and the reference it asked
/// for, never the backend's message or hint. Those can name other secrets ("did you mean
/// `admin/root`?"), count them, or give the store's path; the admin still gets them, and the
/// log always does.
pub(crate) fn redact(principal: &Principal, asked: &str, e: Error) -> Error {
    if !principal.is_restricted() {
        return e;
    }
    // Debug, not info: a client repeating a miss would otherwise write a line per request. The
    // backend call behind it was logged in full (at warn) by the cache.
    tracing::debug!(principal = %principal.label, kind = %e.kind(), error = %e, "read failed (the client is told the kind only)");
    let message = match e.kind() {
        ErrorKind::NotFound => "not found",
        ErrorKind::MissingKey => "the secret has no such key",
        ErrorKind::Throttled => e.message(),
        ErrorKind::Unavailable | ErrorKind::Timeout => "the backend is unavailable; retry later",
        _ => "the backend could not serve it",
    };
    // The reference as the client wrote it: a backend's own spelling could differ.
    let mut out = Error::new(e.kind(), message).with_reference(asked);
    if e.kind() == ErrorKind::Throttled {
        if let Some(h) = e.hint() {
            out = out.with_hint(h);
        }
    }
    out
}

/// A memoized response for `key`, if still valid at `at`.
pub fn memo_get(st: &State, key: &[u8], at: Instant) -> Option<Arc<Memo>> {
    let m = st
        .memo
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .cloned()?;
    (m.generation == st.cache.generation() && at < m.valid_until).then_some(m)
}

/// Remember a response under its canonical key (see [`memo_key`]; `""` remembers nothing).
pub fn memo_put(st: &State, key: &str, memo: Memo) -> Arc<Memo> {
    let memo = Arc::new(memo);
    if key.is_empty() {
        return memo;
    }
    let mut m = st.memo.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= st.settings.max_entries.saturating_mul(2) {
        m.clear();
    }
    m.insert(key.as_bytes().into(), memo.clone());
    memo
}

/// Serve a memo if valid and allowed; `None` means build the response.
pub fn serve_memo(
    st: &State,
    principal: &Principal,
    target: &[u8],
    started: Instant,
    content_type: &'static str,
) -> Option<Resp> {
    let m = memo_get(st, target, started)?;
    // `m.path` holds the identity of the secret the memo was built from.
    if !st.auth.grants.allows_known(principal, &m.backend, &m.path) {
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
    /// The request's memo key (see [`memo_key`]; `""` when it is not memoized).
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
    // Without an identity a repeat could not be checked against grants, so it is not memoized.
    let valid = st
        .cache
        .valid_until(&found.backend, &read.reference.locator);
    if let (Some(valid_until), Some(identity)) = (valid, &found.identity) {
        memo_put(
            st,
            read.target,
            Memo {
                generation: read.generation,
                valid_until,
                backend: found.backend.clone(),
                path: identity.clone(),
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
        Err(e) => {
            st.metrics.refusals.fetch_add(1, Ordering::Relaxed);
            st.audit.write(&AuditLine {
                event: "access",
                principal: &principal.label,
                envfile: None,
                reference: Some(&raw),
                backend: None,
                version: None,
                outcome: "refused",
                error_kind: Some(e.kind().as_str()),
                latency: started.elapsed(),
            });
            return error_response(StatusCode::BAD_REQUEST, &e);
        }
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
        // A backend's throttling and a client's own miss rate alike: slow down and retry.
        ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable | ErrorKind::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        // The request asks for something the backend cannot do (a version of a store without
        // versions): the client's to change, not a broker fault.
        ErrorKind::Unsupported => StatusCode::BAD_REQUEST,
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

/// 503/500 listing what failed in an env file. A restricted client gets each variable, reference
/// and kind, but not the backends' messages and hints (they can name other secrets, count them or
/// give a store's path); the admin gets everything.
fn problems_response(name: &str, problems: &Problems, restricted: bool) -> Resp {
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
            message: if restricted {
                format!("could not be read ({})", p.error.kind())
            } else {
                p.error.message().to_owned()
            },
            hint: if restricted { None } else { p.error.hint() },
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
        for h in ["Forwarded", "X-Real-IP", "Via", "x-forwarded-for"] {
            assert!(Head::read(&headers(&[(h, "x")])).forwarded, "{h}");
        }
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

    fn key(route: Route, target: &str) -> Option<Vec<u8>> {
        let uri: http::Uri = target.parse().unwrap();
        let mut k = KeyBuf::new();
        memo_key(route, &uri, &mut k).map(|()| k.bytes().to_vec())
    }

    #[test]
    fn memo_keys_are_canonical() {
        let s = |t| key(Route::Secret, t);
        // Encoding variants of one reference: one key.
        let plain = s("/v1/secrets/aws:app/db").unwrap();
        assert_eq!(s("/v1/secrets/aws%3Aapp%2Fdb").unwrap(), plain);
        assert_eq!(s("/v1/secrets/%61ws:app%2fdb").unwrap(), plain);
        assert_ne!(s("/v1/secrets/aws:app/dc").unwrap(), plain);
        // No query on this route: nothing to memoize (the request is refused).
        assert_eq!(s("/v1/secrets/aws:app/db?x=1"), None);
        // The AWS route: only the parameters that decide the answer, in a fixed order.
        let a = |t| key(Route::AwsCompat, t).unwrap();
        let base = a("/secretsmanager/get?secretId=app%2Fdb");
        assert_eq!(a("/secretsmanager/get?secretId=app/db&"), base);
        assert_eq!(a("/secretsmanager/get?secretId=app%2fdb"), base);
        // What the agent answers 400 (an unknown or repeated parameter) and `refreshNow`, which
        // asks the backend, never come from a memo.
        let none = |t| key(Route::AwsCompat, t);
        assert_eq!(none("/secretsmanager/get?secretId=app/db&junk=1"), None);
        assert_eq!(none("/secretsmanager/get?secretId=a&secretId=b"), None);
        assert_eq!(none("/secretsmanager/get?secretId=a&refreshNow=true"), None);
        // The path form and the SSM route have keys of their own: the path form names the
        // secret in the path, the SSM route in `name`; neither collides with the query form.
        assert_ne!(a("/v1/app%2Fdb"), a("/v1/other"));
        assert_eq!(a("/v1/app%2Fdb"), a("/v1/app/db"));
        assert_ne!(a("/v1/app/db"), base);
        let ssm =
            |t: &str| key(Route::AwsCompat, &format!("{}?{t}", aws_compat::SSM_PATH)).unwrap();
        assert_ne!(ssm("name=/a"), ssm("name=/b"));
        assert_ne!(ssm("name=/a"), ssm("name=/a&withDecryption=true"));
        assert_ne!(ssm("name=/a&version=2"), ssm("name=/a&label=2"));
        assert_eq!(none(&format!("{}?name=/a&x=1", aws_compat::SSM_PATH)), None);
        assert_ne!(
            a("/secretsmanager/get?secretId=app/db&versionStage=AWSPREVIOUS"),
            base
        );
        assert_eq!(
            a("/secretsmanager/get?versionStage=A&secretId=s"),
            a("/secretsmanager/get?secretId=s&versionStage=A")
        );
        // A value cannot forge a field boundary.
        assert_ne!(
            a("/secretsmanager/get?secretId=s%00%00=A"),
            a("/secretsmanager/get?secretId=s&versionStage=A")
        );
        // `+` is a space in a query value, as query_param reads it.
        assert_eq!(
            a("/secretsmanager/get?secretId=a+b"),
            a("/secretsmanager/get?secretId=a%20b")
        );
        let v = |t| key(Route::VaultCompat, t).unwrap();
        assert_eq!(v("/v1/kv/data/app?junk=1"), v("/v1/kv/data/%61pp"));
        assert_ne!(v("/v1/kv/data/app?version=2"), v("/v1/kv/data/app"));
        // Too long for the stack buffer: not memoized.
        assert_eq!(s(&format!("/v1/secrets/aws:{}", "x".repeat(600))), None);
        assert_eq!(key(Route::Envfile, "/v1/envfiles/a"), None);
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused() {
        assert!(check_params("format=json&wait=5s", &["format", "wait"]).is_none());
        assert!(check_params("", &["format"]).is_none());
        assert!(check_params("fromat=json", &["format"]).is_some());
        assert!(check_params("format=json&format=shell", &["format"]).is_some());
        assert!(check_params("%66ormat=a&format=b", &["format"]).is_some());
    }

    #[test]
    fn unsupported_is_the_clients_to_change() {
        assert!(status_for(ErrorKind::Unsupported).is_client_error());
        assert_eq!(
            status_for(ErrorKind::Throttled),
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[test]
    fn routes_by_path_and_the_vault_header() {
        assert_eq!(classify("/healthz", false, false), Route::Health);
        assert_eq!(classify("/ping", false, false), Route::Health);
        assert_eq!(classify("/v1/envfiles/api", false, false), Route::Envfile);
        let aws = Route::AwsCompat;
        assert_eq!(classify("/secretsmanager/get", false, false), aws);
        assert_eq!(classify("/secretsmanager/get", true, false), aws);
        assert_eq!(classify(aws_compat::SSM_PATH, false, false), aws);
        assert_eq!(classify("/v1/secrets/aws:x", false, false), Route::Secret);
        let vault = Route::VaultCompat;
        assert_eq!(classify("/v1/secret/data/app", false, false), vault);
        assert_eq!(classify("/v1/sys/health", false, false), vault);
        // envfile's own paths go to Vault when the client is one (mounts named so).
        assert_eq!(classify("/v1/secrets/data/app", true, false), vault);
        assert_eq!(classify("/v1/envfiles/data/app", true, false), vault);
        assert_eq!(
            classify("/v1/secrets/data/app", false, false),
            Route::Secret
        );
        assert_eq!(classify("/v1/envfiles/app", false, false), Route::Envfile);
        // The agent's path form, only with the agent's header.
        assert_eq!(classify("/v1/app/json", false, true), aws);
        assert_eq!(classify("/nope", false, false), Route::Other);
    }
}
