//! Every way a Vault call fails, mapped to an envfile error in one function ([`map`]).

use crate::kv::KvVersion;
use envfile_core::{Error, ErrorKind};
use std::fmt;

/// A failed call, before it is given context.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// Vault answered with an error status. `errors` are Vault's own messages (never payloads).
    Status { code: u16, errors: Vec<String> },
    /// No answer: connection refused, TLS failure, timeout.
    Transport { timeout: bool, message: String },
    /// An answer we could not understand (not JSON, missing fields). The text names the field,
    /// never the content.
    Decode(String),
    /// A local problem before the call (a credential file that cannot be read, …).
    Local(Error),
}

impl Failure {
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Self::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        // reqwest's Display names the URL (a path, not a secret) and the cause.
        let mut message = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            message.push_str(": ");
            message.push_str(&s.to_string());
            src = s.source();
        }
        Self::Transport {
            timeout: e.is_timeout(),
            message,
        }
    }
}

/// What the failed call was doing, for the message and the hint.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Reading the KV secret the user named `path` at `api_path` (what the policy must allow).
    Read {
        path: String,
        api_path: String,
        mount: String,
        version: KvVersion,
    },
    /// Writing the KV secret the user named `path` at `api_path` (`envfile import`).
    Write {
        path: String,
        api_path: String,
        mount: String,
        version: KvVersion,
    },
    /// Reading KV v2 metadata.
    Metadata { api_path: String },
    /// A plain GET of a path that names no secret: one of Vault's own endpoints (`sys/…`,
    /// `auth/…`) or a KV v2 `metadata/` path, as a template wrote it.
    Endpoint { path: String },
    /// Finding which mount a path is in and its KV version.
    DetectMount { path: String },
    /// Logging in with a method (as `role`, when the method names one).
    Login {
        method: &'static str,
        mount: String,
        role: Option<String>,
    },
    /// Renewing or looking up the token.
    Token,
    /// Reading a dynamic secret (a credential a non-KV engine creates): a GET, or with
    /// parameters a write (`pki/issue/ROLE` with `common_name=…`).
    Dynamic {
        path: String,
        mount: String,
        engine: String,
        write: bool,
    },
    /// Renewing or revoking a dynamic secret's lease (the id names the lease, it holds no value).
    Lease { op: &'static str, lease_id: String },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, api_path, .. } if path == api_path => write!(f, "reading `{path}`"),
            Self::Read { path, api_path, .. } => {
                write!(f, "reading `{path}` (API path `{api_path}`)")
            }
            Self::Write { path, api_path, .. } if path == api_path => {
                write!(f, "writing `{path}`")
            }
            Self::Write { path, api_path, .. } => {
                write!(f, "writing `{path}` (API path `{api_path}`)")
            }
            Self::Metadata { api_path } => write!(f, "reading metadata `{api_path}`"),
            Self::Endpoint { path } => write!(f, "reading `{path}`"),
            Self::DetectMount { path } => write!(f, "finding the mount of `{path}`"),
            Self::Login {
                method,
                mount,
                role: None,
            } => write!(f, "logging in with {method} at `auth/{mount}`"),
            Self::Login {
                method,
                mount,
                role: Some(role),
            } => write!(
                f,
                "logging in with {method} at `auth/{mount}` as role `{role}`"
            ),
            Self::Token => f.write_str("renewing the Vault token"),
            Self::Dynamic {
                path,
                engine,
                write: false,
                ..
            } => write!(f, "reading `{path}` ({engine} secrets engine)"),
            Self::Dynamic {
                path,
                engine,
                write: true,
                ..
            } => write!(
                f,
                "writing to `{path}` with parameters ({engine} secrets engine)"
            ),
            Self::Lease { op, lease_id } => write!(f, "{op} lease `{lease_id}`"),
        }
    }
}

fn is_multierror_header(line: &str) -> bool {
    line.ends_with("occurred:") && line.contains("error")
}

/// Vault's `errors`, on one line. Go's multierror wraps them as "1 error occurred:\n\t* …":
/// keep the items only.
fn vault_says(errors: &[String]) -> String {
    let errs: Vec<&str> = errors
        .iter()
        .flat_map(|e| e.lines())
        .map(|l| l.trim().trim_start_matches("* ").trim())
        .filter(|l| !l.is_empty() && !is_multierror_header(l))
        .collect();
    if errs.is_empty() {
        String::new()
    } else {
        format!(": {}", errs.join("; "))
    }
}

/// The one mapping from a failed call to an envfile error: kind, message, hint.
pub(crate) fn map(f: Failure, action: &Action, backend: &str) -> Error {
    let err = match f {
        Failure::Local(e) => return e.or_backend(backend),
        Failure::Decode(what) => Error::new(
            ErrorKind::Other,
            format!("unexpected answer from Vault while {action}: {what}"),
        ),
        Failure::Transport { timeout, message } => Error::new(
            if timeout {
                ErrorKind::Timeout
            } else {
                ErrorKind::Unavailable
            },
            format!("Vault did not answer while {action}: {message}"),
        )
        .with_hint("check the backend's `address` (or VAULT_ADDR), the network path, and `ca_cert` for HTTPS"),
        Failure::Status { code, errors } => status_error(code, &errors, action),
    };
    err.with_backend(backend)
}

fn status_error(code: u16, errors: &[String], action: &Action) -> Error {
    let says = vault_says(errors);
    let sealed = errors.iter().any(|e| e.contains("sealed"));
    match code {
        403 => permission_denied(action, &says),
        401 => Error::new(
            ErrorKind::Unauthenticated,
            format!("Vault rejected the token while {action}{says}"),
        )
        .with_hint("the token is missing, expired or revoked: check the backend's `auth` settings"),
        404 => not_found(action, &says),
        429 => Error::new(
            ErrorKind::Throttled,
            format!("Vault rate-limited the request while {action}{says}"),
        ),
        503 if sealed => Error::new(
            ErrorKind::Unavailable,
            format!("Vault is sealed ({action}){says}"),
        )
        .with_hint("unseal Vault (`bao operator unseal`), or wait for a standby to take over"),
        400 | 500..=599 if matches!(action, Action::Dynamic { .. }) => {
            dynamic_refused(code, action, &says)
        }
        500..=599 => Error::new(
            ErrorKind::Unavailable,
            format!("Vault answered {code} while {action}{says}"),
        ),
        400 if matches!(action, Action::Lease { .. }) => Error::new(
            ErrorKind::Unsupported,
            format!("Vault refused {action}{says}"),
        )
        .with_hint(
            "the lease is not renewable, expired, or was revoked; envfile fetches a new \
             credential before the current one expires",
        ),
        400 if matches!(action, Action::Login { .. }) => Error::new(
            ErrorKind::Unauthenticated,
            format!("Vault refused the login while {action}{says}"),
        )
        .with_hint(login_hint(action, &says)),
        _ => Error::new(
            ErrorKind::Other,
            format!("Vault answered {code} while {action}{says}"),
        ),
    }
}

fn permission_denied(action: &Action, says: &str) -> Error {
    let e = Error::new(
        ErrorKind::PermissionDenied,
        format!("permission denied {action}{says}"),
    );
    match action {
        Action::Read {
            api_path, version, ..
        } => e.with_hint(format!(
            "the token's policy needs `read` on `{api_path}` ({version}): \
             path \"{api_path}\" {{ capabilities = [\"read\"] }}"
        )),
        Action::Write {
            api_path, version, ..
        } => e.with_hint(format!(
            "writing needs `create` and `update` (and `read`, to compare) on `{api_path}` \
             ({version}): path \"{api_path}\" {{ capabilities = [\"create\", \"update\", \"read\"] }}"
        )),
        Action::Endpoint { path } => e.with_hint(format!(
            "the token's policy needs `read` on `{path}`: \
             path \"{path}\" {{ capabilities = [\"read\"] }}"
        )),
        Action::Metadata { api_path } => e.with_hint(format!(
            "the token's policy needs `read` on `{api_path}` to probe versions: \
             path \"{api_path}\" {{ capabilities = [\"read\"] }}"
        )),
        // Vault answers 403 here for a mount that does not exist, too (even to root).
        Action::DetectMount { path } => e.with_hint(format!(
            "either no secrets engine is mounted at the start of `{path}` (see `bao secrets list`) \
             or the token's policies grant nothing under it: allow `read` on the secret \
             (`MOUNT/data/PATH` for KV v2, `MOUNT/PATH` for KV v1)"
        )),
        // A method may refuse with 403 and its own words (Kubernetes: "service account name not
        // authorized"); a bare "permission denied" is Vault's answer for a path where no method
        // is mounted.
        Action::Login { .. } if says != ": permission denied" => Error::new(
            ErrorKind::Unauthenticated,
            format!("Vault refused the login while {action}{says}"),
        )
        .with_hint(login_hint(action, says)),
        Action::Login { method, mount, .. } => Error::new(
            ErrorKind::Unauthenticated,
            format!("Vault refused the login while {action}{says}"),
        )
        .with_hint(format!(
            "is a {method} auth method mounted at `auth/{mount}`? (`bao auth list`; enable it \
             with `bao auth enable -path={mount} {method}`, or set `mount` in the backend's \
             `auth`)"
        )),
        Action::Token => e.with_hint("the token is expired or revoked"),
        Action::Dynamic {
            path, write: false, ..
        } => e.with_hint(format!(
            "the token's policy needs `read` on `{path}`: \
             path \"{path}\" {{ capabilities = [\"read\"] }}"
        )),
        Action::Dynamic {
            path, write: true, ..
        } => e.with_hint(format!(
            "a call with parameters is a write: the token's policy needs `update` on `{path}`: \
             path \"{path}\" {{ capabilities = [\"update\"] }}"
        )),
        Action::Lease { op, .. } => e.with_hint(format!(
            "{op} a lease needs `update` on `sys/leases/renew` or `sys/leases/revoke` (the \
             `default` policy allows renewing); a credential that cannot be renewed is replaced \
             before it expires"
        )),
    }
}

/// Vault refused to create a dynamic credential: an unknown role or bad parameters (400), or
/// the engine could not create it on the system it manages (500: a database refusing the
/// connection or the creation statements).
fn dynamic_refused(code: u16, action: &Action, says: &str) -> Error {
    let Action::Dynamic {
        path,
        mount,
        engine,
        ..
    } = action
    else {
        return Error::new(
            ErrorKind::Other,
            format!("Vault answered {code} while {action}{says}"),
        );
    };
    let role = path.rsplit('/').next().unwrap_or_default();
    if code == 400 {
        let unknown_role = says.contains("unknown role")
            || says.contains("role not found")
            || says.contains("no role");
        let hint = if unknown_role {
            format!("the {engine} mount `{mount}/` has no role `{role}`: list its roles (`bao list {mount}/roles`) or create it")
        } else {
            format!("check the parameters the {engine} engine takes at `{path}` (`bao path-help {path}`)")
        };
        return Error::new(
            if unknown_role {
                ErrorKind::NotFound
            } else {
                ErrorKind::InvalidRef
            },
            format!("Vault refused {action}{says}"),
        )
        .with_hint(hint);
    }
    let hint = if engine == "database" {
        format!(
            "Vault could not create the credential on the database: check that the database is up \
             and accepts Vault's connection (`bao read {mount}/config/NAME`), and the role's \
             creation statements (`bao read {mount}/roles/{role}`)"
        )
    } else {
        format!("the {engine} engine failed to create the credential; see the Vault server log")
    };
    Error::new(
        ErrorKind::Unavailable,
        format!("Vault answered {code} while {action}{says}"),
    )
    .with_hint(hint)
}

fn login_hint(action: &Action, says: &str) -> String {
    let Action::Login {
        method,
        mount,
        role,
    } = action
    else {
        return "check the token: it may be expired or revoked".into();
    };
    // Vault's words for a role that does not exist differ per method.
    let no_role = says.contains("could not be found")
        || says.contains("invalid role name")
        || says.contains("role not found");
    match (*method, role) {
        (_, Some(role)) if no_role => format!(
            "there is no role `{role}` at `auth/{mount}`: list them with `bao list \
             auth/{mount}/role` and fix `role` in the backend's `auth`, or create it"
        ),
        ("jwt", _) if says.contains("missing role") => format!(
            "set `role` in the backend's `auth`, or a `default_role` on the method \
             (`bao write auth/{mount}/config default_role=…`)"
        ),
        ("jwt", _) => format!(
            "Vault did not accept the JWT: check that it is unexpired, that its issuer's key is \
             in `auth/{mount}/config` (`jwt_validation_pubkeys`, `jwks_url` or \
             `oidc_discovery_url`), and that its `aud`, `sub` and other claims match the role's \
             `bound_audiences`, `bound_subject` and `bound_claims`"
        ),
        ("cert", _) => format!(
            "no certificate role at `auth/{mount}/certs/{}` trusts this client certificate: \
             check `client_cert` (and that it is unexpired), that the role's `certificate` is \
             the CA that issued it, and its `allowed_*` constraints; without `name` every role \
             is tried",
            role.as_deref().unwrap_or("…")
        ),
        ("approle", _) => {
            "check the role id (`role_id` / `role_id_file`) and that the secret id in \
             `secret_id_file` is valid and unexpired"
                .into()
        }
        ("kubernetes", _) => "check that the Vault role binds this service account name and \
              namespace (`bound_service_account_names`, `bound_service_account_namespaces`) and \
              that `auth/kubernetes/config` points at this cluster"
            .into(),
        _ => "check the token: it may be expired or revoked".into(),
    }
}

fn not_found(action: &Action, says: &str) -> Error {
    match action {
        Action::Read {
            path,
            api_path,
            mount,
            version,
        } => {
            let hint = match version {
                KvVersion::V2 => format!(
                    "read `{api_path}`: check the path under mount `{mount}/` (KV v2; \
                     `{mount}/PATH` and `{mount}/data/PATH` both work, so do not add `data/` twice), \
                     and that the version is not deleted"
                ),
                KvVersion::V1 => format!(
                    "read `{api_path}`: check the path under mount `{mount}/` (KV v1 has \
                     no `data/` segment)"
                ),
            };
            Error::new(ErrorKind::NotFound, format!("no secret at `{path}`{says}")).with_hint(hint)
        }
        Action::Endpoint { path } => Error::new(
            ErrorKind::NotFound,
            format!("Vault has nothing at `{path}`{says}"),
        )
        .with_hint(
            "check the path: it is read as written, like Vault Agent does (`bao read PATH`)",
        ),
        Action::Metadata { api_path } => Error::new(
            ErrorKind::NotFound,
            format!("no secret metadata at `{api_path}`"),
        ),
        Action::Write { mount, .. } => Error::new(
            ErrorKind::NotFound,
            format!("Vault answered 404 {action}{says}"),
        )
        .with_hint(format!(
            "check that `{mount}/` is still a KV mount (`bao secrets list`)"
        )),
        Action::DetectMount { path } => Error::new(
            ErrorKind::NotFound,
            format!("no secrets engine is mounted at `{path}`{says}"),
        )
        .with_hint("the first path segments must name a KV mount (`bao secrets list`)"),
        Action::Login { method, mount, .. } => Error::new(
            ErrorKind::Config,
            format!("no {method} auth method at `auth/{mount}`{says}"),
        )
        .with_hint(format!(
            "enable it (`bao auth enable {method}`) or set `mount` in the backend's `auth`"
        )),
        Action::Token => Error::new(
            ErrorKind::Other,
            format!("Vault answered 404 {action}{says}"),
        ),
        Action::Dynamic {
            path,
            mount,
            engine,
            ..
        } => Error::new(
            ErrorKind::NotFound,
            format!("nothing at `{path}` on the {engine} mount `{mount}/`{says}"),
        )
        .with_hint(format!(
            "check the path and the role name (`bao list {mount}/roles`; database credentials \
             are read at `{mount}/creds/ROLE`, PKI certificates issued at `{mount}/issue/ROLE`)"
        )),
        Action::Lease { .. } => Error::new(
            ErrorKind::NotFound,
            format!("Vault has no such lease while {action}{says}"),
        )
        .with_hint("the lease expired or was revoked; a new credential is fetched"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: KvVersion) -> Action {
        Action::Read {
            path: "ml-incident/prod/api".into(),
            api_path: "ml-incident/data/prod/api".into(),
            mount: "ml-incident".into(),
            version: v,
        }
    }

    #[test]
    fn forbidden_read_names_path_and_capability() {
        let e = map(
            Failure::Status {
                code: 403,
                errors: vec!["permission denied".into()],
            },
            &read(KvVersion::V2),
            "vault",
        );
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(e.backend(), Some("vault"));
        let hint = e.hint().unwrap();
        assert!(
            hint.contains("`read` on `ml-incident/data/prod/api`"),
            "{hint}"
        );
    }

    #[test]
    fn multierror_wrapping_is_flattened() {
        let e = map(
            Failure::Status {
                code: 403,
                errors: vec!["1 error occurred:\n\t* permission denied\n\n".into()],
            },
            &read(KvVersion::V2),
            "vault",
        );
        assert!(e.message().ends_with(": permission denied"), "{e}");
    }

    #[test]
    fn not_found_mentions_data_segment_and_mount() {
        let e = map(
            Failure::Status {
                code: 404,
                errors: vec![],
            },
            &read(KvVersion::V2),
            "vault",
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let hint = e.hint().unwrap();
        assert!(
            hint.contains("data/") && hint.contains("ml-incident/"),
            "{hint}"
        );
    }

    #[test]
    fn sealed_server_errors_and_transport_are_retryable() {
        for f in [
            Failure::Status {
                code: 503,
                errors: vec!["Vault is sealed".into()],
            },
            Failure::Status {
                code: 500,
                errors: vec![],
            },
            Failure::Status {
                code: 429,
                errors: vec![],
            },
            Failure::Transport {
                timeout: false,
                message: "connection refused".into(),
            },
            Failure::Transport {
                timeout: true,
                message: "timed out".into(),
            },
        ] {
            let e = map(f, &read(KvVersion::V1), "vault");
            assert!(e.is_retryable(), "{e}");
        }
    }

    #[test]
    fn dynamic_refusals_name_the_path_and_what_to_check() {
        let dynamic = |write| Action::Dynamic {
            path: "db/creds/nope".into(),
            mount: "db".into(),
            engine: "database".into(),
            write,
        };
        let e = map(
            Failure::Status {
                code: 400,
                errors: vec!["unknown role: nope".into()],
            },
            &dynamic(false),
            "vault",
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.message().contains("`db/creds/nope`"), "{e}");
        assert!(e.hint().unwrap().contains("no role `nope`"));
        let e = map(
            Failure::Status {
                code: 500,
                errors: vec!["failed to create user: connection refused".into()],
            },
            &dynamic(false),
            "vault",
        );
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(e.hint().unwrap().contains("database is up"));
        let e = map(
            Failure::Status {
                code: 403,
                errors: vec![],
            },
            &dynamic(true),
            "vault",
        );
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.hint().unwrap().contains("`update` on `db/creds/nope`"));
        let e = map(
            Failure::Status {
                code: 400,
                errors: vec!["lease is not renewable".into()],
            },
            &Action::Lease {
                op: "renewing",
                lease_id: "db/creds/nope/x".into(),
            },
            "vault",
        );
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.message().contains("lease `db/creds/nope/x`"));
    }

    #[test]
    fn refused_logins_are_unauthenticated() {
        let login = Action::Login {
            method: "approle",
            mount: "approle".into(),
            role: None,
        };
        for (code, says, hint) in [
            (400, "invalid secret id", "secret_id_file"),
            (403, "invalid secret id", "secret_id_file"),
            (403, "permission denied", "mounted at `auth/approle`"),
        ] {
            let e = map(
                Failure::Status {
                    code,
                    errors: vec![says.into()],
                },
                &login,
                "vault",
            );
            assert_eq!(e.kind(), ErrorKind::Unauthenticated);
            assert!(e.hint().unwrap().contains(hint), "{code}: {:?}", e.hint());
        }
    }

    #[test]
    fn a_missing_role_is_named_with_its_mount() {
        let login = Action::Login {
            method: "jwt",
            mount: "gha".into(),
            role: Some("deploy".into()),
        };
        let e = map(
            Failure::Status {
                code: 400,
                errors: vec!["role \"deploy\" could not be found".into()],
            },
            &login,
            "vault",
        );
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        assert!(
            e.message().contains("`auth/gha` as role `deploy`"),
            "{}",
            e.message()
        );
        let hint = e.hint().unwrap();
        assert!(hint.contains("no role `deploy` at `auth/gha`"), "{hint}");
        assert!(hint.contains("bao list auth/gha/role"), "{hint}");
    }
}
