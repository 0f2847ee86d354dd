//! The one place Secret Manager errors become envfile errors.
//!
//! Status codes and their meaning for this API:
//! <https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access>
//! and the general model <https://cloud.google.com/apis/design/errors>.

use crate::names::SecretName;
use envfile_core::{Error, ErrorKind};
use google_cloud_gax::error::rpc::Code;

/// What a call was about, for messages and hints.
pub(crate) struct CallCtx<'a> {
    /// The backend instance name.
    pub backend: &'a str,
    /// The reference as the backend saw it (the locator path, plus `@version` when pinned).
    pub reference: String,
    /// The secret.
    pub secret: &'a SecretName,
    /// The version asked for (`latest`, a number, an alias).
    pub version: &'a str,
}

/// Map a client error. Messages come from the service or the transport and never hold payloads;
/// deserialization errors are reduced to a fixed message because serde's can quote the input.
pub(crate) fn map_error(err: &google_cloud_gax::error::Error, ctx: &CallCtx<'_>) -> Error {
    let e = classify(err, ctx);
    e.with_reference(ctx.reference.clone())
        .with_backend(ctx.backend)
}

fn classify(err: &google_cloud_gax::error::Error, ctx: &CallCtx<'_>) -> Error {
    let secret = ctx.secret;
    if let Some(status) = err.status() {
        let msg = status.message.as_str();
        return match status.code {
            Code::NotFound => not_found(msg, ctx),
            Code::PermissionDenied => Error::new(
                ErrorKind::PermissionDenied,
                format!("permission denied on secret `{}`: {msg}", secret.name()),
            )
            .with_hint(format!(
                "grant the service account `roles/secretmanager.secretAccessor` on that secret: \
                 gcloud secrets add-iam-policy-binding {} {} \
                 --member=serviceAccount:SA_EMAIL --role=roles/secretmanager.secretAccessor \
                 (on Cloud Run, SA_EMAIL is the service's runtime service account)",
                secret.secret,
                secret.gcloud_flags()
            )),
            Code::Unauthenticated => unauthenticated(msg),
            Code::FailedPrecondition => failed_precondition(msg, ctx),
            Code::InvalidArgument | Code::OutOfRange => Error::new(
                ErrorKind::InvalidRef,
                format!("Secret Manager rejected the request: {msg}"),
            ),
            Code::ResourceExhausted => Error::new(
                ErrorKind::Throttled,
                format!("Secret Manager quota exceeded: {msg}"),
            )
            .with_hint("access requests are rate-limited per project; fewer refreshes or a broker cache help"),
            Code::Unavailable | Code::Aborted | Code::Internal | Code::Unknown => Error::new(
                ErrorKind::Unavailable,
                format!("Secret Manager is unavailable ({}): {msg}", status.code.name()),
            ),
            Code::DeadlineExceeded => Error::new(
                ErrorKind::Timeout,
                format!("Secret Manager did not answer in time: {msg}"),
            ),
            Code::AlreadyExists => Error::new(ErrorKind::Other, format!("already exists: {msg}")),
            other => Error::new(
                ErrorKind::Other,
                format!("Secret Manager error {}: {msg}", other.name()),
            ),
        };
    }
    if err.is_timeout() {
        return Error::new(ErrorKind::Timeout, "Secret Manager did not answer in time");
    }
    if err.is_authentication() {
        return unauthenticated(&err.to_string());
    }
    if err.is_connect() || err.is_io() || err.is_transport() {
        return Error::new(
            ErrorKind::Unavailable,
            format!("cannot reach Secret Manager: {err}"),
        )
        .with_hint(
            "check the network path to the endpoint (and `endpoint` in the backend config, if set)",
        );
    }
    if err.is_deserialization() {
        return Error::new(
            ErrorKind::Other,
            "Secret Manager's response could not be parsed (is `endpoint` a Secret Manager API?)",
        );
    }
    match err.http_status_code() {
        Some(429) => Error::new(ErrorKind::Throttled, "Secret Manager answered HTTP 429"),
        Some(c) if c >= 500 => Error::new(
            ErrorKind::Unavailable,
            format!("Secret Manager answered HTTP {c}"),
        ),
        Some(404) => Error::new(
            ErrorKind::NotFound,
            "HTTP 404 without a Google error body (is `endpoint` a Secret Manager API?)",
        ),
        Some(c) => Error::new(
            ErrorKind::Other,
            format!("Secret Manager answered HTTP {c}"),
        ),
        None => Error::new(
            ErrorKind::Other,
            format!("Secret Manager call failed: {err}"),
        ),
    }
}

fn unauthenticated(msg: &str) -> Error {
    Error::new(
        ErrorKind::Unauthenticated,
        format!("no valid Google credentials: {msg}"),
    )
    .with_hint(
        "locally run `gcloud auth application-default login`; on Cloud Run the service's \
         service account is used automatically; for an emulator set `credentials = \"anonymous\"`",
    )
}

/// NOT_FOUND is either the secret or the version. The service says which in its message
/// (`Secret [projects/…/secrets/S] not found or has no versions.` vs
/// `Secret Version [projects/…/versions/V] not found.`).
fn not_found(msg: &str, ctx: &CallCtx<'_>) -> Error {
    let s = ctx.secret;
    if msg.contains("Secret Version")
        || (msg.contains("/versions/") && !msg.contains("has no versions"))
    {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "version `{}` of secret `{}` does not exist",
                ctx.version,
                s.name()
            ),
        )
        .with_hint(format!(
            "list its versions: gcloud secrets versions list {} {}",
            s.secret,
            s.gcloud_flags()
        ))
    } else if msg.contains("has no versions") {
        Error::new(
            ErrorKind::NotFound,
            format!("secret `{}` does not exist or has no versions", s.name()),
        )
        .with_hint(format!(
            "check the id and project (gcloud secrets list {}), or add a version: \
             gcloud secrets versions add {} {} --data-file=-",
            s.gcloud_flags(),
            s.secret,
            s.gcloud_flags()
        ))
    } else {
        Error::new(
            ErrorKind::NotFound,
            format!("secret `{}` does not exist", s.name()),
        )
        .with_hint(format!(
            "check the id and project: gcloud secrets list {}",
            s.gcloud_flags()
        ))
    }
}

/// FAILED_PRECONDITION on access means the version is not ENABLED
/// (`Secret Version [projects/…/versions/3] is in DISABLED state.`). It maps to NotFound: the
/// value cannot be read, a retry will not change that, and `check` reports it with the missing
/// ones — but with its own message naming the state and the fix.
fn failed_precondition(msg: &str, ctx: &CallCtx<'_>) -> Error {
    let s = ctx.secret;
    // The service names the numbered version even when `latest` was asked for.
    let n = msg
        .split("/versions/")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| ctx.version.to_owned());
    let via_latest = if ctx.version == "latest" && n != "latest" {
        ", its latest version"
    } else {
        ""
    };
    if msg.contains("DISABLED") {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "version {n} is DISABLED: enable it or pin another version (secret `{}`{via_latest})",
                s.name()
            ),
        )
        .with_hint(format!(
            "gcloud secrets versions enable {n} --secret {} {}, or pin an enabled version with `?version=N`",
            s.secret,
            s.gcloud_flags()
        ))
    } else if msg.contains("DESTROYED") {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "version {n} is DESTROYED: its data is gone; pin another version (secret `{}`{via_latest})",
                s.name()
            ),
        )
        .with_hint(format!(
            "add a new version (gcloud secrets versions add {} {} --data-file=-) or pin an enabled one with `?version=N`",
            s.secret,
            s.gcloud_flags()
        ))
    } else {
        Error::new(
            ErrorKind::Other,
            format!("Secret Manager refused the call (FAILED_PRECONDITION): {msg}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::rpc::Status;

    fn ctx<'a>(s: &'a SecretName, version: &'a str) -> CallCtx<'a> {
        CallCtx {
            backend: "gcp",
            reference: "ref".into(),
            secret: s,
            version,
        }
    }

    fn secret() -> SecretName {
        SecretName {
            project: "p".into(),
            location: None,
            secret: "s".into(),
        }
    }

    fn status(code: Code, msg: &str) -> google_cloud_gax::error::Error {
        google_cloud_gax::error::Error::service(Status::default().set_code(code).set_message(msg))
    }

    #[test]
    fn statuses_map_to_kinds_and_retryability() {
        let s = secret();
        for (code, kind) in [
            (Code::NotFound, ErrorKind::NotFound),
            (Code::PermissionDenied, ErrorKind::PermissionDenied),
            (Code::Unauthenticated, ErrorKind::Unauthenticated),
            (Code::InvalidArgument, ErrorKind::InvalidRef),
            (Code::ResourceExhausted, ErrorKind::Throttled),
            (Code::Unavailable, ErrorKind::Unavailable),
            (Code::DeadlineExceeded, ErrorKind::Timeout),
        ] {
            let e = map_error(&status(code, "x"), &ctx(&s, "latest"));
            assert_eq!(e.kind(), kind, "{code:?}");
            assert_eq!(e.backend(), Some("gcp"));
            assert_eq!(e.reference(), Some("ref"));
        }
        assert!(map_error(&status(Code::Unavailable, "x"), &ctx(&s, "1")).is_retryable());
        assert!(!map_error(&status(Code::NotFound, "x"), &ctx(&s, "1")).is_retryable());
    }

    #[test]
    fn not_found_tells_secret_from_version() {
        let s = secret();
        let e = map_error(
            &status(
                Code::NotFound,
                "Secret Version [projects/p/secrets/s/versions/9] not found.",
            ),
            &ctx(&s, "9"),
        );
        assert!(e.message().contains("version `9`"), "{e}");
        let e = map_error(
            &status(
                Code::NotFound,
                "Secret [projects/p/secrets/s] not found or has no versions.",
            ),
            &ctx(&s, "latest"),
        );
        assert!(
            e.message().contains("does not exist or has no versions"),
            "{e}"
        );
        let e = map_error(
            &status(Code::NotFound, "Secret [projects/p/secrets/s] not found."),
            &ctx(&s, "latest"),
        );
        assert!(
            e.message()
                .contains("secret `projects/p/secrets/s` does not exist"),
            "{e}"
        );
    }

    #[test]
    fn disabled_and_destroyed_versions_say_so() {
        let s = secret();
        let e = map_error(
            &status(
                Code::FailedPrecondition,
                "Secret Version [projects/p/secrets/s/versions/3] is in DISABLED state.",
            ),
            &ctx(&s, "latest"),
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(
            e.message()
                .contains("version 3 is DISABLED: enable it or pin another version"),
            "{e}"
        );
        assert!(
            e.hint()
                .unwrap_or_default()
                .contains("gcloud secrets versions enable 3"),
            "{e}"
        );
        let e = map_error(
            &status(
                Code::FailedPrecondition,
                "Secret Version [projects/p/secrets/s/versions/2] is in DESTROYED state.",
            ),
            &ctx(&s, "2"),
        );
        assert!(e.message().contains("version 2 is DESTROYED"), "{e}");
    }

    #[test]
    fn permission_denied_hints_the_accessor_role() {
        let s = secret();
        let e = map_error(
            &status(Code::PermissionDenied, "denied"),
            &ctx(&s, "latest"),
        );
        assert!(e
            .hint()
            .unwrap_or_default()
            .contains("roles/secretmanager.secretAccessor"));
    }
}
