//! The AWS Secrets Manager Agent's routes, answered as the agent answers (its `server.rs`,
//! `parse.rs` and the caching crate's `output.rs` are the reference), so clients written for the
//! agent work unchanged:
//!
//! - `GET /secretsmanager/get?secretId=…[&versionStage=…|&versionId=…][&refreshNow=true]` and the
//!   path form `GET /v1/{secretId}[?versionStage=…]`; an unknown parameter or a bad `refreshNow`
//!   is 400, as the agent says it (plain text);
//! - the body is GetSecretValue's, field for field: `ARN`, `Name`, `VersionId`, `SecretString`
//!   or `SecretBinary` (as AWS returned it: a binary secret stays binary even when its bytes are
//!   UTF-8), `VersionStages`, and `CreatedDate` as a string of seconds, all from what the backend
//!   returned, never invented;
//! - a missing or wrong token is 403 `Bad Token`; errors are `{"__type":CODE, "message":…}`.
//!
//! Grants are compared on the backend's canonical identity ([`Backend::identity`]), so a client
//! granted `aws:app/json` reads it by name, full ARN, partial ARN or `valueFrom`, and after the
//! read the identity of the secret AWS actually answered with is checked again (an ARN ending in
//! `-` and six characters is ambiguous): a refusal is the AccessDeniedException AWS gives a role
//! without permission, whether or not the secret exists.

use crate::auth::{Access, Principal, Verdict};
use crate::routes::{self, audit_secret};
use crate::state::{secret_bytes, State};
use base64::Engine as _;
use bytes::Bytes;
use envfile_core::{Backend, BackendSel, ErrorKind, Locator, RefForm, Reference};
use http::{header, HeaderValue, StatusCode};
use http_body_util::Full;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The route's body type.
pub(crate) const JSON: &str = "application/x-amz-json-1.1";

/// The agent's path form prefix (its default `path_prefix`).
pub const PATH_PREFIX: &str = "/v1/";

/// `refreshNow=true` reaches the backend at most this often per secret.
const REFRESH_MIN_AGE: Duration = Duration::from_secs(1);

/// The agent's body: `GetSecretValueOutputDef` of its caching crate, in its field order. `ARN`,
/// `Name` and `VersionId` are always present (null when unknown), as there.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    #[serde(rename = "ARN")]
    arn: Option<&'a str>,
    name: Option<&'a str>,
    version_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_string: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_binary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_stages: Option<&'a [String]>,
    created_date: Option<String>,
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
struct Query {
    secret_id: String,
    version_id: Option<String>,
    version_stage: Option<String>,
    refresh_now: bool,
}

/// A plain-text answer, as the agent gives its own errors (`HttpError(status, text)`).
fn plain(status: StatusCode, text: &str) -> routes::Resp {
    let mut r = http::Response::new(Full::new(Bytes::from(text.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The agent's refusal of a request without its token (or with a wrong one).
pub fn bad_token() -> routes::Resp {
    plain(StatusCode::FORBIDDEN, "Bad Token")
}

/// The agent's health check.
pub fn ping() -> routes::Resp {
    plain(StatusCode::OK, "healthy")
}

/// A service error in the agent's shape (its `err_response`, spacing included).
pub fn aws_error(status: StatusCode, kind: &str, message: &str) -> routes::Resp {
    let body = if message.is_empty() {
        format!("{{\"__type\":{}}}", json_str(kind))
    } else {
        format!(
            "{{\"__type\":{}, \"message\":{}}}",
            json_str(kind),
            json_str(message)
        )
    };
    let mut r = routes::body_response(Bytes::from(body), JSON);
    *r.status_mut() = status;
    r
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The AccessDeniedException AWS gives a role that may not read the secret; also the answer
/// for a secret that does not exist but would not be granted, so refusals tell nothing.
pub fn access_denied(action: &str, resource: &str) -> routes::Resp {
    aws_error(
        StatusCode::BAD_REQUEST,
        "AccessDeniedException",
        &format!("User is not authorized to perform: {action} on resource: {resource}"),
    )
}

/// The agent's boolean parameter values; `None` for anything else.
fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Parse the query as the agent does: every parameter known, the last of a repeated one wins.
/// The error is the agent's 400 text.
fn parse_query(query: &str, secret_id: Option<String>) -> Result<Query, &'static str> {
    let path_form = secret_id.is_some();
    let mut q = Query {
        secret_id: secret_id.unwrap_or_default(),
        version_id: None,
        version_stage: None,
        refresh_now: false,
    };
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let (k, v) = (routes::decode(k), routes::decode(&v.replace('+', " ")));
        match k.as_str() {
            "secretId" if !path_form => q.secret_id = v,
            "versionId" => q.version_id = Some(v),
            "versionStage" => q.version_stage = Some(v),
            "refreshNow" => {
                q.refresh_now = parse_bool(&v).ok_or("invalid refreshNow value")?;
            }
            _ => return Err("unknown parameter"),
        }
    }
    if q.secret_id.is_empty() {
        return Err(if path_form {
            "missing secret ID"
        } else {
            "missing parameter secretId"
        });
    }
    Ok(q)
}

/// The first parameter of the agent's query that it does not know (for its 400 text).
fn unknown_param(query: &str) -> String {
    query
        .split('&')
        .map(|kv| routes::decode(kv.split_once('=').map_or(kv, |(k, _)| k)))
        .find(|k| {
            !k.is_empty()
                && !matches!(
                    k.as_str(),
                    "secretId" | "versionId" | "versionStage" | "refreshNow"
                )
        })
        .unwrap_or_default()
}

/// Whether a Secrets Manager ARN ends in `-` and six letters or digits (the random suffix of a
/// full ARN, or a name that happens to end so).
fn looks_like_full_arn(id: &str) -> bool {
    let Some((_, tail)) = id.split_once(":secret:") else {
        return false;
    };
    let tail = tail.split(':').next().unwrap_or(tail);
    tail.rsplit_once('-').is_some_and(|(name, suffix)| {
        !name.is_empty() && suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Whether a memoized answer may be replayed for this query: not for `refreshNow`, which asks
/// the backend again.
pub fn memoizable(query: &str) -> bool {
    !query.contains("refreshNow")
}

/// One read on an AWS route: who asks for what, so both routes refuse, audit, check grants and
/// answer through the same steps.
struct Ask<'a> {
    st: &'a State,
    principal: &'a Principal,
    reference: Reference,
    /// The backend kind, as the audit line names it (`aws`, `ssm`).
    kind: &'static str,
    /// The IAM action an AccessDenied names.
    action: &'static str,
    /// The secret or parameter as the client named it.
    id: String,
    started: Instant,
}

impl Ask<'_> {
    fn restricted(&self) -> bool {
        !matches!(self.principal.access, Access::All)
    }

    /// AccessDenied, audited: the answer for an ungranted secret, whether or not it exists.
    fn denied(&self) -> routes::Resp {
        self.audit("denied", None);
        access_denied(self.action, &self.id)
    }

    fn audit(&self, outcome: &str, error: Option<&str>) {
        audit_secret(
            self.st,
            self.principal,
            &self.reference.raw,
            self.kind,
            None,
            outcome,
            error,
            self.started,
        );
    }

    /// The backend the reference names and the identity the client's grant allows, or the
    /// answer to give instead (`invalid` is the service's code for a bad name, shown only to
    /// an unrestricted client: to others it is a denial like any other).
    async fn granted_backend(
        &self,
        invalid: &str,
    ) -> Result<(Arc<dyn Backend>, Option<String>), routes::Resp> {
        let backend = match self.st.raw.select(&self.reference.backend) {
            Ok(b) => b,
            Err(e) if !self.restricted() => {
                return Err(aws_error(StatusCode::BAD_REQUEST, invalid, e.message()))
            }
            Err(_) => return Err(self.denied()),
        };
        // Grants on identities, before any backend read of an ungranted secret.
        match self
            .st
            .auth
            .grants
            .check(self.principal, &backend, &self.id)
            .await
        {
            Verdict::Allowed(id) => Ok((backend, id)),
            Verdict::Denied => Err(self.denied()),
        }
    }

    /// What was read, once the secret AWS answered with (an ambiguous ARN may resolve to another
    /// secret than the one whose identity was checked) is granted too; `None` when it is not.
    fn found(
        &self,
        backend: &Arc<dyn Backend>,
        asked: Option<String>,
        cached: Arc<crate::cache::Cached>,
    ) -> Option<routes::Found> {
        let meta = cached.fetched.meta.clone();
        let answered = meta.as_deref().and_then(|m| m.identity.as_deref());
        if let (Some(asked), Some(answered)) = (asked.as_deref(), answered) {
            if asked != answered
                && !self
                    .st
                    .auth
                    .grants
                    .allows_known(self.principal, backend.name(), answered)
            {
                return None;
            }
        }
        Some(routes::Found {
            backend: backend.name().to_owned(),
            // The secret answered (checked above), which is what the memo stores this body under.
            identity: answered.map(str::to_owned).or(asked),
            cached,
            selected: None,
        })
    }

    /// The answer: `body` as the agent's JSON, through the memo, audit and metrics of
    /// [`routes::finish_secret`].
    fn answer(
        &self,
        found: &routes::Found,
        body: &impl Serialize,
        target: &str,
        generation: u64,
    ) -> routes::Resp {
        let mut out = Vec::with_capacity(found.cached.fetched.value.len() * 2 + 256);
        if serde_json::to_writer(&mut out, body).is_err() {
            return aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "");
        }
        let read = routes::Read {
            principal: self.principal,
            reference: &self.reference,
            found,
            target,
            generation,
            started: self.started,
        };
        routes::finish_secret(self.st, &read, secret_bytes(out), JSON)
    }
}

/// Serve `/secretsmanager/get` (`path_id` is `None`) or the path form `/v1/{id}`.
pub async fn get(
    st: &State,
    principal: &Principal,
    path_id: Option<&str>,
    query: &str,
    target: &str,
    started: Instant,
) -> routes::Resp {
    let generation = st.cache.generation();
    let q = match parse_query(query, path_id.map(str::to_owned)) {
        Ok(q) => q,
        Err("unknown parameter") => {
            return plain(
                StatusCode::BAD_REQUEST,
                &format!("unknown parameter: {}", unknown_param(query)),
            )
        }
        Err(text) => return plain(StatusCode::BAD_REQUEST, text),
    };
    let is_arn = q.secret_id.starts_with("arn:");
    let mut locator = Locator::new(q.secret_id.clone());
    locator.version = q.version_id.clone();
    locator.stage = q.version_stage.clone();
    let reference = Reference {
        backend: BackendSel::Kind("aws".into()),
        locator,
        key: None,
        form: if is_arn {
            RefForm::EcsArn
        } else {
            RefForm::Canonical
        },
        raw: format!("aws:{}", q.secret_id),
    };
    let ask = Ask {
        st,
        principal,
        reference,
        kind: "aws",
        action: "secretsmanager:GetSecretValue",
        id: q.secret_id.clone(),
        started,
    };
    let (backend, asked) = match ask.granted_backend("InvalidParameterException").await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let budget = principal.limiter.as_deref();
    let locator = &ask.reference.locator;
    let read = if q.refresh_now {
        st.cache
            .get_refreshed(&backend, locator, REFRESH_MIN_AGE, budget)
            .await
    } else {
        st.cache.get_for(&backend, locator, budget).await
    };
    let cached = match read {
        Ok(c) => c,
        // An ARN ending in `-` and six characters was granted as the full ARN of a granted
        // secret; that it is not found may only mean another secret of that longer name does not
        // exist (moto resolves it as a partial ARN), which is not this client's to learn. AWS
        // itself answers a wrong suffix with AccessDenied or NotFound depending on permissions.
        Err(e)
            if ask.restricted()
                && e.kind() == ErrorKind::NotFound
                && looks_like_full_arn(&q.secret_id) =>
        {
            return ask.denied()
        }
        Err(e) => {
            ask.audit("error", Some(e.kind().as_str()));
            let (status, kind) = aws_code(e.kind());
            let e = routes::redact(principal, &ask.reference.raw, e);
            return aws_error(status, kind, e.message());
        }
    };
    let Some(found) = ask.found(&backend, asked, cached) else {
        return ask.denied();
    };
    let meta = found.cached.fetched.meta.clone();
    let value = &found.cached.fetched.value;
    let binary = meta.as_ref().is_some_and(|m| m.binary);
    let text = if binary { None } else { value.expose_str() };
    let created = meta.as_ref().and_then(|m| m.created).map(seconds_text);
    let body = Body {
        arn: meta.as_ref().and_then(|m| m.arn.as_deref()),
        name: meta.as_ref().and_then(|m| m.name.as_deref()),
        version_id: found.cached.fetched.version.as_deref(),
        secret_string: text,
        secret_binary: text
            .is_none()
            .then(|| base64::engine::general_purpose::STANDARD.encode(value.expose_bytes())),
        version_stages: meta.as_ref().and_then(|m| m.stages.as_deref()),
        created_date: created,
    };
    ask.answer(&found, &body, target, generation)
}

/// The Lambda extension's Parameter Store route.
pub const SSM_PATH: &str = "/systemsmanager/parameters/get";

/// GetParameter's output as the extension encodes it (Go's `encoding/json` of the SDK's
/// `GetParameterOutput`: every field present, `null` when unset, times in RFC 3339).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ParamBody<'a> {
    parameter: ParamFields<'a>,
    result_metadata: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ParamFields<'a> {
    #[serde(rename = "ARN")]
    arn: Option<&'a str>,
    data_type: Option<&'a str>,
    last_modified_date: Option<String>,
    name: Option<&'a str>,
    selector: Option<&'a str>,
    source_result: Option<&'a str>,
    #[serde(rename = "Type")]
    type_name: Option<&'a str>,
    value: &'a str,
    version: i64,
}

/// Serve `GET /systemsmanager/parameters/get?name=…[&withDecryption=true][&version=N|&label=L]`.
pub async fn get_parameter(
    st: &State,
    principal: &Principal,
    query: &str,
    target: &str,
    started: Instant,
) -> routes::Resp {
    let generation = st.cache.generation();
    let (mut name, mut version, mut label, mut decrypt) = (None, None, None, false);
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let (k, v) = (routes::decode(k), routes::decode(&v.replace('+', " ")));
        match k.as_str() {
            "name" => name = Some(v),
            "version" => version = Some(v),
            "label" => label = Some(v),
            "withDecryption" => match parse_bool(&v) {
                Some(b) => decrypt = b,
                None => return plain(StatusCode::BAD_REQUEST, "invalid withDecryption value"),
            },
            other => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    &format!("unknown parameter: {other}"),
                )
            }
        }
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return plain(StatusCode::BAD_REQUEST, "missing parameter name");
    };
    if version.is_some() && label.is_some() {
        return plain(
            StatusCode::BAD_REQUEST,
            "version and label cannot be used together",
        );
    }
    if version
        .as_deref()
        .is_some_and(|v| v.parse::<u64>().is_err())
    {
        return plain(StatusCode::BAD_REQUEST, "invalid version value");
    }
    let mut locator = Locator::new(name.clone());
    locator.version = version;
    locator.stage = label;
    let reference = Reference {
        backend: BackendSel::Kind("ssm".into()),
        locator,
        key: None,
        form: RefForm::Canonical,
        raw: format!("ssm:{name}"),
    };
    let ask = Ask {
        st,
        principal,
        reference,
        kind: "ssm",
        action: "ssm:GetParameter",
        id: name,
        started,
    };
    let (backend, asked) = match ask.granted_backend("ValidationException").await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let budget = principal.limiter.as_deref();
    let cached = match st
        .cache
        .get_for(&backend, &ask.reference.locator, budget)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            ask.audit("error", Some(e.kind().as_str()));
            let (status, code) = match e.kind() {
                ErrorKind::NotFound => (StatusCode::BAD_REQUEST, "ParameterNotFound"),
                k => aws_code(k),
            };
            let e = routes::redact(principal, &ask.reference.raw, e);
            return aws_error(status, code, e.message());
        }
    };
    let Some(found) = ask.found(&backend, asked, cached) else {
        return ask.denied();
    };
    let meta = found.cached.fetched.meta.clone();
    let secure = meta
        .as_ref()
        .and_then(|m| m.type_name.as_deref())
        .is_some_and(|t| t == "SecureString");
    if secure && !decrypt {
        // The extension would hand out the ciphertext; the broker holds only the decrypted
        // value, and never serves it to a client that did not ask for it.
        return aws_error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "this is a SecureString parameter: ask with withDecryption=true",
        );
    }
    let Some(value) = found.cached.fetched.value.expose_str() else {
        return aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "");
    };
    let m = meta.as_deref();
    let body = ParamBody {
        parameter: ParamFields {
            arn: m.and_then(|m| m.arn.as_deref()),
            data_type: m.and_then(|m| m.data_type.as_deref()),
            last_modified_date: m.and_then(|m| m.created).map(|s| {
                crate::audit::rfc3339(std::time::UNIX_EPOCH + Duration::from_secs_f64(s.max(0.0)))
            }),
            name: m.and_then(|m| m.name.as_deref()),
            selector: m.and_then(|m| m.selector.as_deref()),
            source_result: m.and_then(|m| m.source_result.as_deref()),
            type_name: m.and_then(|m| m.type_name.as_deref()),
            value,
            version: found
                .cached
                .fetched
                .version
                .as_deref()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        },
        result_metadata: serde_json::Map::new(),
    };
    ask.answer(&found, &body, target, generation)
}

/// Seconds since the epoch as the agent writes `CreatedDate` (serde_with's
/// `TimestampSecondsWithFrac<String>`): whole seconds without a fraction, else the fraction
/// without trailing zeros.
pub fn seconds_text(secs: f64) -> String {
    if secs.fract() == 0.0 {
        format!("{}", secs as i64)
    } else {
        let s = format!("{secs:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The service error code and status AWS answers with for an error kind (the agent passes the
/// service's status through; timeouts and unreachable backends are its own 504 and 502).
pub fn aws_code(kind: ErrorKind) -> (StatusCode, &'static str) {
    match kind {
        ErrorKind::NotFound => (StatusCode::BAD_REQUEST, "ResourceNotFoundException"),
        ErrorKind::PermissionDenied | ErrorKind::Unauthenticated => {
            (StatusCode::BAD_REQUEST, "AccessDeniedException")
        }
        ErrorKind::InvalidRef | ErrorKind::Config | ErrorKind::InvalidName => {
            (StatusCode::BAD_REQUEST, "InvalidParameterException")
        }
        ErrorKind::Throttled => (StatusCode::BAD_REQUEST, "ThrottlingException"),
        ErrorKind::Timeout => (StatusCode::GATEWAY_TIMEOUT, "TimeoutError"),
        ErrorKind::Unavailable => (StatusCode::BAD_GATEWAY, "ConnectionError"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_as_the_agent_parses_them() {
        let q = parse_query(
            "secretId=app%2Fdb&versionStage=AWSPREVIOUS&refreshNow=TRUE",
            None,
        )
        .ok()
        .unwrap();
        assert_eq!(q.secret_id, "app/db");
        assert_eq!(q.version_stage.as_deref(), Some("AWSPREVIOUS"));
        assert!(q.refresh_now);
        for (query, text) in [
            ("secretId=x&foo=1", "unknown parameter"),
            ("secretId=x&refreshNow=yes", "invalid refreshNow value"),
            ("versionStage=AWSCURRENT", "missing parameter secretId"),
            ("secretId=", "missing parameter secretId"),
        ] {
            assert_eq!(parse_query(query, None).err(), Some(text), "{query}");
        }
        assert_eq!(unknown_param("secretId=x&foo=1"), "foo");
        // The path form takes no secretId parameter.
        assert!(parse_query("secretId=y", Some("x".into())).is_err());
        let q = parse_query("refreshNow=0", Some("x".into())).ok().unwrap();
        assert_eq!(q.secret_id, "x");
        assert!(!q.refresh_now);
    }

    #[test]
    fn full_arn_shapes_are_recognised() {
        let arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:app/db";
        assert!(looks_like_full_arn(&format!("{arn}-AbC123")));
        assert!(looks_like_full_arn(&format!("{arn}-master")));
        assert!(!looks_like_full_arn(arn));
        assert!(!looks_like_full_arn("app/db-AbC123"));
    }

    #[test]
    fn created_dates_are_written_as_the_agent_writes_them() {
        assert_eq!(seconds_text(1523477145.0), "1523477145");
        assert_eq!(seconds_text(1523477145.713), "1523477145.713");
    }

    #[test]
    fn error_bodies_have_the_agent_shape() {
        let r = aws_error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            "gone \"x\"",
        );
        assert_eq!(r.status(), 400);
        let r = aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "");
        assert_eq!(r.status(), 500);
    }
}
