//! One authenticated Vault call, shared by the backend's reads and by the lease keeper's
//! renewals (which run in a task of their own, so this is a cheap clone, not the backend).

use crate::auth::Auth;
use crate::client::Http;
use crate::error::{self, Action, Failure};
use envfile_core::{Error, ErrorKind, Result, SecretJson};
use reqwest::Method;
use std::sync::Arc;

/// What a call needs: the transport, the token and the backend's name (for errors).
#[derive(Clone)]
pub(crate) struct Caller {
    pub(crate) http: Arc<Http>,
    pub(crate) auth: Arc<Auth>,
    pub(crate) backend: Arc<str>,
}

impl Caller {
    /// One call; when Vault refuses the token (expired, revoked), log in again and retry once.
    pub(crate) async fn call_once(
        &self,
        method: Method,
        api_path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
        action: &Action,
    ) -> Result<SecretJson> {
        let cur = self.auth.current().await?;
        let first = self
            .http
            .call(method.clone(), api_path, query, Some(&cur.token), body)
            .await;
        let failure = match first {
            Ok(body) => return Ok(body),
            Err(f) => f,
        };
        let map = |f: Failure| error::map(f, action, &self.backend);
        match failure.status() {
            Some(403) if self.auth.still_valid(&cur.token).await => return Err(map(failure)),
            Some(401 | 403) => {}
            _ => return Err(map(failure)),
        }
        tracing::info!(backend = %self.backend, "Vault no longer accepts the token; logging in again");
        self.auth.invalidate(cur.generation).await;
        let cur = self.auth.current().await?;
        match self
            .http
            .call(method, api_path, query, Some(&cur.token), body)
            .await
        {
            Ok(body) => Ok(body),
            Err(f) if f.status() == Some(403) && !self.auth.still_valid(&cur.token).await => {
                Err(Error::new(
                    ErrorKind::Unauthenticated,
                    format!(
                        "Vault does not accept the token, even after logging in again ({action})"
                    ),
                )
                .with_backend(&*self.backend)
                .with_hint(
                    "the token is expired or revoked (for `method = \"token\"`, put a new one in \
                     `token_file` or VAULT_TOKEN); a token without the `default` policy cannot be \
                     checked and also lands here",
                ))
            }
            Err(f) => Err(map(f)),
        }
    }
}
