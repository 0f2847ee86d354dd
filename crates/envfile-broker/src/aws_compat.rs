//! `GET /secretsmanager/get?secretId=…[&versionStage=…|&versionId=…]`: the AWS Secrets Manager
//! Agent's route, answering in its JSON shape (GetSecretValue's fields) and accepting its
//! `X-Aws-Parameters-Secrets-Token` header, so clients written for the agent work unchanged.
//!
//! What the backend interface does not carry is filled honestly: `ARN` is present when the
//! request named the secret by ARN; `CreatedDate` is when the broker read the value;
//! `VersionStages` is the stage asked for (`AWSCURRENT` when none was pinned).

use crate::auth::Principal;
use crate::routes::{self, audit_secret, Denied};
use crate::state::{secret_bytes, State};
use base64::Engine as _;
use envfile_core::{BackendSel, ErrorKind, Locator, RefForm, Reference};
use http::StatusCode;
use serde::Serialize;
use std::time::{Instant, UNIX_EPOCH};

/// The route's body type.
pub(crate) const JSON: &str = "application/x-amz-json-1.1";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    #[serde(rename = "ARN", skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_string: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_binary: Option<String>,
    version_stages: Vec<&'a str>,
    created_date: f64,
}

/// The secret name inside an ARN, without the random `-XXXXXX` suffix AWS appends.
fn name_of(secret_id: &str) -> &str {
    let Some(i) = secret_id.find(":secret:") else {
        return secret_id;
    };
    let full = &secret_id[i + ":secret:".len()..];
    let full = full.split(':').next().unwrap_or(full);
    match full.rsplit_once('-') {
        Some((n, suffix))
            if suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            n
        }
        _ => full,
    }
}

fn aws_error(status: StatusCode, kind: &str, message: &str) -> routes::Resp {
    let body = serde_json::to_vec(&serde_json::json!({ "__type": kind, "message": message }))
        .unwrap_or_default();
    let mut r = routes::body_response(bytes::Bytes::from(body), JSON);
    *r.status_mut() = status;
    r
}

/// Serve the route.
pub async fn get(
    st: &State,
    principal: &Principal,
    query: &str,
    target: &str,
    started: Instant,
) -> routes::Resp {
    let generation = st.cache.generation();
    let Some(secret_id) = routes::query_param(query, "secretId").filter(|s| !s.is_empty()) else {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            "secretId is required",
        );
    };
    let stage = routes::query_param(query, "versionStage");
    let version = routes::query_param(query, "versionId");
    let is_arn = secret_id.starts_with("arn:");
    let mut locator = Locator::new(secret_id.clone());
    locator.version = version.clone();
    locator.stage = stage.clone();
    let reference = Reference {
        backend: BackendSel::Kind("aws".into()),
        locator,
        key: None,
        form: if is_arn {
            RefForm::EcsArn
        } else {
            RefForm::Canonical
        },
        raw: format!("aws:{secret_id}"),
    };
    let found = match routes::find(st, principal, &reference).await {
        Ok(f) => f,
        Err(Denied::Forbidden) => {
            audit_secret(
                st,
                principal,
                &reference.raw,
                "aws",
                None,
                "denied",
                None,
                started,
            );
            return routes::forbidden();
        }
        Err(Denied::Failed(e)) => {
            audit_secret(
                st,
                principal,
                &reference.raw,
                "aws",
                None,
                "error",
                Some(e.kind().as_str()),
                started,
            );
            let (status, kind) = match e.kind() {
                ErrorKind::NotFound => (StatusCode::BAD_REQUEST, "ResourceNotFoundException"),
                ErrorKind::PermissionDenied | ErrorKind::Unauthenticated => {
                    (StatusCode::BAD_REQUEST, "AccessDeniedException")
                }
                ErrorKind::InvalidRef | ErrorKind::Config => {
                    (StatusCode::BAD_REQUEST, "InvalidParameterException")
                }
                ErrorKind::Throttled => (StatusCode::TOO_MANY_REQUESTS, "ThrottlingException"),
                ErrorKind::Unavailable | ErrorKind::Timeout => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailableException",
                ),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServiceError"),
            };
            return aws_error(status, kind, &e.to_string());
        }
    };
    let value = &found.cached.fetched.value;
    let text = value.expose_str();
    let created = found
        .cached
        .fetched_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as f64
        / 1e3;
    let stages: Vec<&str> = match (&stage, &version) {
        (Some(s), _) => vec![s.as_str()],
        (None, None) => vec!["AWSCURRENT"],
        (None, Some(_)) => vec![],
    };
    let body = Body {
        arn: is_arn.then_some(secret_id.as_str()),
        name: name_of(&secret_id),
        version_id: found.cached.fetched.version.as_deref(),
        secret_string: text,
        secret_binary: text
            .is_none()
            .then(|| base64::engine::general_purpose::STANDARD.encode(value.expose_bytes())),
        version_stages: stages,
        created_date: created,
    };
    let mut out = Vec::with_capacity(value.len() + 256);
    if serde_json::to_writer(&mut out, &body).is_err() {
        return aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServiceError",
            "encoding failed",
        );
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
    fn names_come_out_of_arns_without_the_suffix() {
        assert_eq!(name_of("app/db"), "app/db");
        assert_eq!(
            name_of("arn:aws:secretsmanager:eu-central-1:123456789012:secret:app/db-AbC123"),
            "app/db"
        );
        assert_eq!(
            name_of("arn:aws:secretsmanager:eu-central-1:123456789012:secret:app/db"),
            "app/db"
        );
    }
}
