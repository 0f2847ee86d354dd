//! The one place AWS SDK errors become [`envfile_core::Error`]s.
//!
//! Classification is by the service's error *code* (`ResourceNotFoundException`, …), never by
//! HTTP status: moto answers a missing secret with 404 where AWS says 400, and AWS uses 400 for
//! most client errors anyway. Status only separates 5xx for codes we do not know.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use envfile_core::{Error, ErrorKind};

/// What a hint may mention about the failed call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The SDK operation (`GetSecretValue`, …), for the message.
    pub op: &'static str,
    /// The secret id as sent (a name, a partial or a full ARN).
    pub secret_id: &'a str,
    /// The region the call went to.
    pub region: &'a str,
}

/// Hint for an `AccessDeniedException`: the two mistakes behind most of them on ECS.
pub const ACCESS_DENIED_HINT: &str =
    "ECS injects task-definition `secrets` with the task *execution* role, not the task role \
     (`envfile exec` inside the container reads with the task role). In IAM, a Resource for a \
     secret name needs the `-??????` suffix (`…:secret:NAME-??????`) or a trailing `*`; \
     `envfile policy --for aws` prints a policy that covers both";

/// Map an SDK error to a kind with a hint. Messages carry the service's message (which names
/// resources, never payloads) and the operation.
pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>, ctx: Context<'_>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Context {
        op,
        secret_id,
        region,
    } = ctx;
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("").to_owned();
            let msg = se.err().message().unwrap_or("").to_owned();
            let status = se.raw().status().as_u16();
            from_code(&code, &msg, status, ctx)
        }
        SdkError::TimeoutError(_) => Error::new(
            ErrorKind::Timeout,
            format!("{op} to Secrets Manager in {region} timed out"),
        ),
        // Where the SDK reports a credentials failure (dispatch or construction) depends on
        // its version: look for the cause, not the variant.
        _ if has_source::<CredentialsError>(&err) => {
            return Error::new(
                ErrorKind::Unauthenticated,
                format!("no usable AWS credentials for {op}: {}", chain(&err)),
            )
            .with_hint(
                "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (or `profile` in the \
                 backend config), or run where a role is attached (ECS task role, instance profile)",
            )
            .with_source(err);
        }
        SdkError::DispatchFailure(df) => {
            let kind = if df.is_timeout() {
                ErrorKind::Timeout
            } else if df.is_user() {
                ErrorKind::Config
            } else {
                ErrorKind::Unavailable
            };
            Error::new(
                kind,
                format!("{op}: cannot reach Secrets Manager in {region}: {}", chain(&err)),
            )
            .with_hint("check network access to the endpoint (VPC endpoint or NAT for ECS tasks in private subnets) and `endpoint_url`")
        }
        SdkError::ResponseError(_) => Error::new(
            ErrorKind::Unavailable,
            format!("{op}: unreadable response from Secrets Manager in {region}: {}", chain(&err)),
        ),
        SdkError::ConstructionFailure(_) => Error::new(
            ErrorKind::Config,
            format!("{op}: the request for `{secret_id}` could not be built: {}", chain(&err)),
        )
        .with_hint("set `region` in the backend config or AWS_REGION in the environment"),
        _ => Error::new(ErrorKind::Other, format!("{op}: {}", chain(&err))),
    }
    .with_source(err)
}

/// Map a service error code (also used for the per-secret `Errors` of a batch response,
/// which carry a code and a message but no HTTP response).
pub(crate) fn from_code(code: &str, msg: &str, status: u16, ctx: Context<'_>) -> Error {
    let Context {
        op,
        secret_id,
        region,
    } = ctx;
    let base = |kind, text: String| Error::new(kind, text);
    let said = if msg.is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {msg}")
    };
    match code {
        "ResourceNotFoundException" => base(
            ErrorKind::NotFound,
            format!("secret `{secret_id}` not found in {region} ({op})"),
        )
        .with_hint(
            "check the exact name (case matters, `afu9/github` is not `afu9-github`), the region \
             (an ARN's region is used; a name uses the backend's region), and for an ARN either the \
             full ARN with its 6-character suffix or the partial ARN without any suffix",
        ),
        "ParameterNotFound" | "ParameterVersionNotFound" => base(
            ErrorKind::NotFound,
            format!("parameter `{secret_id}` not found in {region} ({op})"),
        ),
        "InvalidKeyId" => base(
            ErrorKind::PermissionDenied,
            format!("`{secret_id}` cannot be decrypted ({said})"),
        )
        .with_hint("the parameter's KMS key id is not valid or not usable by this role (kms:Decrypt)"),
        "AccessDeniedException" => base(
            ErrorKind::PermissionDenied,
            format!("access denied to `{secret_id}` in {region} ({op}): {msg}"),
        )
        .with_hint(ACCESS_DENIED_HINT),
        "DecryptionFailure" | "KMSAccessDeniedException" | "KMSDisabledException"
        | "KMSInvalidStateException" | "KMSNotFoundException" | "KMSInvalidSignatureException" => base(
            ErrorKind::PermissionDenied,
            format!("`{secret_id}` cannot be decrypted ({said})"),
        )
        .with_hint(
            "the reading role needs kms:Decrypt on the secret's customer-managed KMS key (key \
             policy or IAM), and the key must be enabled",
        ),
        "InvalidRequestException" if is_pending_deletion(msg) => base(
            ErrorKind::NotFound,
            format!("secret `{secret_id}` is scheduled for deletion ({region})"),
        )
        .with_hint(
            "restore it with `aws secretsmanager restore-secret --secret-id …` within its recovery \
             window, or point the reference at its replacement",
        ),
        "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException"
        | "InvalidClientTokenId" | "IncompleteSignature" | "MissingAuthenticationToken" => base(
            ErrorKind::Unauthenticated,
            format!("AWS rejected the credentials ({said})"),
        )
        .with_hint("refresh the credentials (expired session or SSO login?) or check the profile"),
        c if c.starts_with("Throttl") || c == "TooManyRequestsException" || c == "RequestLimitExceeded" => {
            base(ErrorKind::Throttled, format!("{op} throttled by Secrets Manager ({said})"))
        }
        "InternalServiceError" | "InternalServerError" | "InternalFailure" | "ServiceUnavailable" | "ServiceUnavailableException" => {
            base(ErrorKind::Unavailable, format!("Secrets Manager failed ({said})"))
        }
        "RequestTimeout" | "RequestTimeoutException" => {
            base(ErrorKind::Timeout, format!("{op} timed out ({said})"))
        }
        "InvalidParameterException" | "InvalidRequestException" | "ValidationException"
        | "InvalidParameterValue" => base(
            ErrorKind::InvalidRef,
            format!("Secrets Manager rejected the request for `{secret_id}` ({said})"),
        ),
        _ if status >= 500 => base(ErrorKind::Unavailable, format!("Secrets Manager failed ({said})")),
        _ => base(ErrorKind::Other, format!("{op} on `{secret_id}` failed ({said})")),
    }
}

/// AWS says "…because it was marked for deletion"; moto says "…currently marked deleted".
fn is_pending_deletion(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("marked for deletion")
        || m.contains("marked deleted")
        || m.contains("scheduled for deletion")
}

fn has_source<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<T>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The error and its causes on one line (SDK errors say little at the top level).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: Context<'static> = Context {
        op: "GetSecretValue",
        secret_id: "afu9/github",
        region: "eu-central-1",
    };

    #[test]
    fn classifies_by_code_not_status() {
        // moto: 404; AWS: 400 — same kind either way.
        for status in [400, 404] {
            let e = from_code(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
                status,
                CTX,
            );
            assert_eq!(e.kind(), ErrorKind::NotFound);
            assert!(e.hint().unwrap().contains("partial ARN"));
        }
        let e = from_code("AccessDeniedException", "not authorized", 400, CTX);
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.hint().unwrap().contains("execution"));
        assert!(e.hint().unwrap().contains("-??????"));
        assert_eq!(
            from_code("DecryptionFailure", "", 400, CTX).kind(),
            ErrorKind::PermissionDenied
        );
        assert!(from_code("KMSAccessDeniedException", "", 400, CTX)
            .hint()
            .unwrap()
            .contains("kms:Decrypt"));
        assert_eq!(
            from_code("ThrottlingException", "Rate exceeded", 400, CTX).kind(),
            ErrorKind::Throttled
        );
        assert!(from_code("InternalServiceError", "", 500, CTX).is_retryable());
        assert!(from_code("SomethingNew", "", 503, CTX).is_retryable());
        assert!(!from_code("SomethingNew", "", 400, CTX).is_retryable());
    }

    #[test]
    fn pending_deletion_is_not_found_with_its_own_message() {
        for msg in [
            "You can't perform this operation on the secret because it was marked for deletion.",
            "You tried to perform the operation on a secret that's currently marked deleted.",
        ] {
            let e = from_code("InvalidRequestException", msg, 400, CTX);
            assert_eq!(e.kind(), ErrorKind::NotFound);
            assert!(e.message().contains("scheduled for deletion"), "{e}");
        }
        assert_eq!(
            from_code("InvalidRequestException", "other", 400, CTX).kind(),
            ErrorKind::InvalidRef
        );
    }
}
