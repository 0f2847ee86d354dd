//! One login per method: read the credentials (again, each time: files rotate), POST them to
//! `auth/MOUNT/login`, and take the token and its lease from the answer.

use super::credential;
use super::LoginResult;
use crate::client::Http;
use crate::config::AuthConfig;
use crate::error::{self, Action, Failure};
use envfile_core::{Error, ErrorKind, Result, SecretString};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// Credentials kept between logins. The agent's AppRole method keeps the ids it read, so a
/// secret id file it deleted (`remove_secret_id_file_after_reading`) still serves re-logins; a
/// new file written at the same path replaces it.
#[derive(Default)]
pub(crate) struct Cache {
    role_id: Option<SecretString>,
    secret_id: Option<SecretString>,
}

/// Log in with any method but `token` (which has its own path: it looks itself up).
pub(crate) async fn login(
    method: &AuthConfig,
    http: &Http,
    cache: &mut Cache,
    backend: &str,
) -> Result<LoginResult> {
    match method {
        AuthConfig::Token { .. } => Err(Error::new(
            ErrorKind::Other,
            "the token method does not log in",
        )
        .with_backend(backend)),
        AuthConfig::Approle {
            role_id,
            role_id_file,
            secret_id_file,
            remove_secret_id_file_after_reading,
            mount,
        } => {
            let action = Action::Login {
                method: "approle",
                mount: mount.clone(),
                role: None,
            };
            let role_id = match (role_id, role_id_file) {
                (Some(r), _) => SecretString::new(r.trim().to_owned()),
                (None, Some(f)) => cached(&mut cache.role_id, f, "role id", backend).await?,
                (None, None) => {
                    return Err(Error::config(
                        "the AppRole method needs `role_id` or `role_id_file`",
                    )
                    .with_backend(backend))
                }
            };
            let mut body = json!({ "role_id": role_id.expose() });
            let mut secrets = vec![role_id];
            if let Some(f) = secret_id_file {
                let secret_id = cached(&mut cache.secret_id, f, "secret id", backend).await?;
                if *remove_secret_id_file_after_reading {
                    remove_read_file(f, backend).await;
                }
                body["secret_id"] = Value::String(secret_id.expose().to_owned());
                secrets.push(secret_id);
            }
            post(http, &action, body, &secrets, backend).await
        }
        AuthConfig::Kubernetes {
            role,
            jwt_file,
            mount,
        } => {
            let jwt = credential::read_file(jwt_file, "service-account token", backend).await?;
            let action = Action::Login {
                method: "kubernetes",
                mount: mount.clone(),
                role: Some(role.clone()),
            };
            let body = json!({ "role": role, "jwt": jwt.expose() });
            post(http, &action, body, &[jwt], backend).await
        }
        AuthConfig::Jwt {
            role,
            jwt_file,
            jwt_env,
            mount,
        } => {
            let jwt = match (jwt_file, jwt_env) {
                (Some(f), _) => credential::read_file(f, "JWT", backend).await?,
                (None, Some(v)) => credential::read_env(v, "JWT", backend)?,
                (None, None) => {
                    return Err(
                        Error::config("the JWT method needs `jwt_file` or `jwt_env`")
                            .with_backend(backend),
                    )
                }
            };
            let action = Action::Login {
                method: "jwt",
                mount: mount.clone(),
                role: role.clone(),
            };
            let mut body = json!({ "jwt": jwt.expose() });
            if let Some(r) = role {
                body["role"] = Value::String(r.clone());
            }
            post(http, &action, body, &[jwt], backend).await
        }
        AuthConfig::Cert { name, mount, .. } => {
            // The credential is the certificate the HTTP client presents (see `cert.rs`).
            let action = Action::Login {
                method: "cert",
                mount: mount.clone(),
                role: name.clone(),
            };
            let body = match name {
                Some(n) => json!({ "name": n }),
                None => json!({}),
            };
            post(http, &action, body, &[], backend).await
        }
    }
}

/// Read a credential file, falling back to (and refreshing) the cached value.
async fn cached(
    slot: &mut Option<SecretString>,
    path: &Path,
    what: &str,
    backend: &str,
) -> Result<SecretString> {
    match credential::read_file_if_present(path, what, backend).await? {
        Some(v) => {
            *slot = Some(v.clone());
            Ok(v)
        }
        None => match slot {
            Some(v) => Ok(v.clone()),
            None => credential::read_file(path, what, backend).await,
        },
    }
}

async fn remove_read_file(path: &Path, backend: &str) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // The id is in memory; a file left behind is a hygiene problem, not a login failure.
        Err(e) => {
            tracing::warn!(backend = %backend, path = %path.display(), error = %e, "could not remove the secret id file after reading it")
        }
    }
}

/// POST the login and read `auth` from the answer. `secrets` are scrubbed from Vault's error
/// messages, in case a method ever echoes what it was sent.
async fn post(
    http: &Http,
    action: &Action,
    body: Value,
    secrets: &[SecretString],
    backend: &str,
) -> Result<LoginResult> {
    let Action::Login { mount, .. } = action else {
        return Err(Error::new(ErrorKind::Other, "not a login").with_backend(backend));
    };
    let path = format!("auth/{mount}/login");
    let answer = http.call(Method::POST, &path, &[], None, Some(&body)).await;
    drop(body);
    let body = answer.map_err(|f| error::map(scrub(f, secrets), action, backend))?;
    let auth = &body.expose()["auth"];
    let token = auth["client_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            error::map(
                Failure::Decode("the login answer has no `auth.client_token`".into()),
                action,
                backend,
            )
        })?;
    let lease = auth["lease_duration"].as_u64().unwrap_or(0);
    Ok(LoginResult {
        token: SecretString::new(token.to_owned()),
        lease: (lease > 0).then(|| Duration::from_secs(lease)),
        renewable: auth["renewable"].as_bool().unwrap_or(false),
    })
}

fn scrub(f: Failure, secrets: &[SecretString]) -> Failure {
    match f {
        Failure::Status { code, errors } => Failure::Status {
            code,
            errors: errors
                .into_iter()
                .map(|mut e| {
                    for s in secrets {
                        let s = s.expose();
                        if !s.is_empty() && e.contains(s) {
                            e = e.replace(s, "[redacted]");
                        }
                    }
                    e
                })
                .collect(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_sent_credentials_from_vault_messages() {
        let f = Failure::Status {
            code: 400,
            errors: vec!["bad token eyJhbGc.x.y given".into()],
        };
        let Failure::Status { errors, .. } = scrub(f, &[SecretString::new("eyJhbGc.x.y".into())])
        else {
            panic!("status kept")
        };
        assert_eq!(errors, ["bad token [redacted] given"]);
    }

    #[tokio::test]
    async fn a_removed_secret_id_file_falls_back_to_the_cached_id_and_a_new_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sid");
        let mut slot = None;
        std::fs::write(&p, "first").unwrap();
        assert_eq!(
            cached(&mut slot, &p, "secret id", "v")
                .await
                .unwrap()
                .expose(),
            "first"
        );
        std::fs::remove_file(&p).unwrap();
        assert_eq!(
            cached(&mut slot, &p, "secret id", "v")
                .await
                .unwrap()
                .expose(),
            "first"
        );
        std::fs::write(&p, "second").unwrap();
        assert_eq!(
            cached(&mut slot, &p, "secret id", "v")
                .await
                .unwrap()
                .expose(),
            "second"
        );
        let mut empty = None;
        std::fs::remove_file(&p).unwrap();
        assert!(cached(&mut empty, &p, "secret id", "v").await.is_err());
    }
}
