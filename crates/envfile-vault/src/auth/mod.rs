//! The token lifecycle: log in lazily, keep the token with its lease, renew it at two thirds of
//! the lease (on access, and from a background task while the backend lives), and log in again
//! when it expires, cannot be extended, or Vault stops accepting it. Every login writes the
//! new token to the `token_sink`, if one is configured.

pub(crate) mod cert;
mod credential;
mod login;
mod sink;

use crate::client::Http;
use crate::config::{AuthConfig, TokenSink};
use crate::error::{self, Action, Failure};
use envfile_core::{Error, ErrorKind, Result, SecretString};
use reqwest::Method;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How often the background task looks again when there is nothing to renew yet.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// Treat a token as expired this long before Vault would, so a request never races the expiry.
const EXPIRY_MARGIN: Duration = Duration::from_millis(500);

/// Counters for tests, metrics and `envfile check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthStats {
    /// Successful logins (for `token`: times the token was (re-)read and accepted).
    pub logins: u64,
    /// Successful `renew-self` calls.
    pub renewals: u64,
}

/// A token handed to one request, with the generation it belongs to (so a request that saw it
/// fail invalidates only that token, not a newer one another request already obtained).
pub(crate) struct Current {
    pub(crate) token: SecretString,
    pub(crate) generation: u64,
}

struct TokenState {
    token: SecretString,
    generation: u64,
    obtained: Instant,
    /// `None`: the token does not expire (a root token).
    lease: Option<Duration>,
    /// The lease the login gave; a renewal that cannot get close to it means max TTL is near.
    login_lease: Option<Duration>,
    renewable: bool,
}

impl TokenState {
    fn expires_at(&self) -> Option<Instant> {
        self.lease.map(|l| self.obtained + l)
    }
    fn renew_at(&self) -> Option<Instant> {
        if !self.renewable {
            return None;
        }
        self.lease.map(|l| self.obtained + l * 2 / 3)
    }
    fn expired(&self, now: Instant) -> bool {
        self.expires_at().is_some_and(|e| now + EXPIRY_MARGIN >= e)
    }
}

pub(crate) struct Auth {
    method: AuthConfig,
    http: Arc<Http>,
    backend: String,
    token_sink: Option<TokenSink>,
    /// The token of this generation is not in the sink yet (its write failed): retried on
    /// the next access.
    sink_pending: AtomicU64,
    /// Credentials kept between logins (an AppRole secret id whose file was removed).
    cache: Mutex<login::Cache>,
    state: Mutex<Option<TokenState>>,
    generation: AtomicU64,
    logins: AtomicU64,
    renewals: AtomicU64,
    renewer_started: AtomicBool,
}

pub(crate) struct LoginResult {
    token: SecretString,
    lease: Option<Duration>,
    renewable: bool,
}

impl Auth {
    pub(crate) fn new(
        method: AuthConfig,
        token_sink: Option<TokenSink>,
        http: Arc<Http>,
        backend: String,
    ) -> Arc<Self> {
        let auth = Arc::new(Self {
            method,
            http,
            backend,
            token_sink,
            sink_pending: AtomicU64::new(0),
            cache: Mutex::new(login::Cache::default()),
            state: Mutex::new(None),
            generation: AtomicU64::new(0),
            logins: AtomicU64::new(0),
            renewals: AtomicU64::new(0),
            renewer_started: AtomicBool::new(false),
        });
        if auth.token_sink.is_some() {
            auth.login_in_background();
        }
        auth
    }

    /// With a token sink, log in right away rather than on the first read, as the agent does:
    /// an app may wait for the sink file before it starts, and a broker may not read anything
    /// until a client asks.
    fn login_in_background(self: &Arc<Self>) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak = Arc::downgrade(self);
        rt.spawn(async move {
            let Some(auth) = weak.upgrade() else { return };
            if let Err(e) = auth.current().await {
                // The first read meets the same error and reports it.
                tracing::warn!(backend = %auth.backend, error = %e, "logging in for the token sink failed");
            }
        });
    }

    pub(crate) fn stats(&self) -> AuthStats {
        AuthStats {
            logins: self.logins.load(Ordering::Relaxed),
            renewals: self.renewals.load(Ordering::Relaxed),
        }
    }

    /// A usable token: logs in, renews or re-logs in as needed.
    pub(crate) async fn current(self: &Arc<Self>) -> Result<Current> {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        let (expired, renew_due) = match state.as_ref() {
            None => (true, false),
            Some(s) => (s.expired(now), s.renew_at().is_some_and(|r| now >= r)),
        };
        let needs_login = expired || (renew_due && !self.renew(&mut state).await);
        if needs_login {
            *state = None;
            let fresh = self.login().await?;
            let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
            *state = Some(TokenState {
                token: fresh.token,
                generation,
                obtained: Instant::now(),
                lease: fresh.lease,
                login_lease: fresh.lease,
                renewable: fresh.renewable,
            });
            self.logins.fetch_add(1, Ordering::Relaxed);
            self.start_renewer();
            if self.token_sink.is_some() {
                self.sink_pending.store(generation, Ordering::Relaxed);
            }
        }
        let Some(s) = state.as_ref() else {
            return Err(
                Error::new(ErrorKind::Other, "no Vault token after logging in")
                    .with_backend(&self.backend),
            );
        };
        self.write_sink(s).await?;
        Ok(Current {
            token: s.token.clone(),
            generation: s.generation,
        })
    }

    /// Forget the token of `generation` (Vault rejected it), so the next [`Self::current`] logs in.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|s| s.generation == generation) {
            *state = None;
        }
    }

    /// Whether Vault still accepts `token` (a 403 on a read then means a policy denial, not an
    /// expired or revoked token). A token that may not look itself up counts as accepted.
    pub(crate) async fn still_valid(&self, token: &SecretString) -> bool {
        match self
            .http
            .call(
                Method::GET,
                "auth/token/lookup-self",
                &[],
                Some(token),
                None,
            )
            .await
        {
            Ok(_) => true,
            Err(Failure::Status { code: 401, .. }) => false,
            // Vault answers 403 both for a dead token and for a live one without the default
            // policy; the caller re-logs in once either way and then believes the read.
            Err(Failure::Status { code: 403, .. }) => false,
            Err(_) => true,
        }
    }

    /// Renew in place. Returns false when a fresh login is needed instead.
    async fn renew(&self, state: &mut Option<TokenState>) -> bool {
        let Some(s) = state.as_mut() else {
            return false;
        };
        let answer = self
            .http
            .call(
                Method::POST,
                "auth/token/renew-self",
                &[],
                Some(&s.token),
                Some(&serde_json::json!({})),
            )
            .await;
        match answer {
            Ok(body) => {
                let auth = &body.expose()["auth"];
                let lease = auth["lease_duration"].as_u64().map(Duration::from_secs);
                self.renewals.fetch_add(1, Ordering::Relaxed);
                s.obtained = Instant::now();
                s.lease = lease.filter(|l| !l.is_zero()).or(s.lease);
                s.renewable = auth["renewable"].as_bool().unwrap_or(false);
                tracing::debug!(backend = %self.backend, lease_secs = ?s.lease.map(|l| l.as_secs()), "renewed the Vault token");
                // Close to the token's max TTL a renewal gives less and less time: a method that
                // can log in again does so rather than let the token run out.
                let shrinking = match (s.lease, s.login_lease) {
                    (Some(now), Some(login)) => now < login / 3,
                    _ => false,
                };
                !(shrinking && self.can_relogin())
            }
            Err(Failure::Status { code, .. }) if code == 401 || code == 403 => {
                tracing::info!(backend = %self.backend, "Vault refused to renew the token; logging in again");
                false
            }
            Err(f) => {
                // Vault is briefly unreachable: keep the token while it lasts.
                let e = error::map(f, &Action::Token, &self.backend);
                tracing::warn!(backend = %self.backend, error = %e, "could not renew the Vault token");
                !s.expired(Instant::now())
            }
        }
    }

    fn can_relogin(&self) -> bool {
        !matches!(self.method, AuthConfig::Token { .. })
    }

    /// Write the token to the sink when it is not there yet. The first token's write failing
    /// is an error (a sink that cannot be written is a setup problem, shown at start-up); a
    /// later one is logged and retried on the next access, and reads go on meanwhile.
    async fn write_sink(&self, s: &TokenState) -> Result<()> {
        let Some(sink) = &self.token_sink else {
            return Ok(());
        };
        if self.sink_pending.load(Ordering::Relaxed) != s.generation {
            return Ok(());
        }
        match sink::write(sink, &s.token, &self.backend).await {
            Ok(()) => {
                self.sink_pending.store(0, Ordering::Relaxed);
                tracing::debug!(backend = %self.backend, path = %sink.path.display(), "wrote the Vault token to the token sink");
                Ok(())
            }
            Err(e) if s.generation <= 1 => Err(e),
            Err(e) => {
                tracing::error!(backend = %self.backend, error = %e, "could not write the token sink; retrying on the next request");
                Ok(())
            }
        }
    }

    async fn login(&self) -> Result<LoginResult> {
        if let AuthConfig::Token { token_file } = &self.method {
            return self.token_login(token_file.as_deref()).await;
        }
        let mut cache = self.cache.lock().await;
        login::login(&self.method, &self.http, &mut cache, &self.backend).await
    }

    /// The token method has nothing to log in with: (re-)read the token and ask Vault how long
    /// it lives.
    async fn token_login(&self, token_file: Option<&Path>) -> Result<LoginResult> {
        let token = match token_file {
            Some(f) => credential::read_file(f, "token", &self.backend).await?,
            None => match std::env::var("VAULT_TOKEN") {
                Ok(t) if !t.trim().is_empty() => SecretString::new(t.trim().to_owned()),
                _ => return Err(Error::new(
                    ErrorKind::Unauthenticated,
                    "no Vault token: VAULT_TOKEN is not set",
                )
                .with_backend(&self.backend)
                .with_hint(
                    "export VAULT_TOKEN, set `auth = { method = \"token\", token_file = \"…\" }`, \
                         or another auth method (approle, kubernetes, jwt, cert)",
                )),
            },
        };
        let answer = self
            .http
            .call(
                Method::GET,
                "auth/token/lookup-self",
                &[],
                Some(&token),
                None,
            )
            .await;
        match answer {
            Ok(body) => {
                let data = &body.expose()["data"];
                let ttl = data["ttl"].as_u64().unwrap_or(0);
                Ok(LoginResult {
                    token,
                    // ttl 0 is a token that never expires (root).
                    lease: (ttl > 0).then(|| Duration::from_secs(ttl)),
                    renewable: data["renewable"].as_bool().unwrap_or(false),
                })
            }
            // A token without the default policy cannot look itself up: use it, and let reads
            // decide.
            Err(Failure::Status { code: 403, .. }) => Ok(LoginResult {
                token,
                lease: None,
                renewable: false,
            }),
            Err(f) => Err(error::map(f, &Action::Token, &self.backend)),
        }
    }

    fn start_renewer(self: &Arc<Self>) {
        if self.renewer_started.swap(true, Ordering::Relaxed) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.renewer_started.store(false, Ordering::Relaxed);
            return;
        };
        let weak = Arc::downgrade(self);
        rt.spawn(renew_in_background(weak));
    }

    async fn next_renewal(&self) -> Option<Instant> {
        let state = self.state.lock().await;
        state.as_ref().and_then(TokenState::renew_at)
    }
}

/// Keeps the token alive between requests (the broker may sit idle longer than a token's TTL).
/// Holds only a weak reference, so it ends when the backend is dropped.
async fn renew_in_background(weak: Weak<Auth>) {
    loop {
        let wait = {
            let Some(auth) = weak.upgrade() else { return };
            match auth.next_renewal().await {
                Some(at) => at.saturating_duration_since(Instant::now()),
                None => IDLE_CHECK,
            }
        };
        tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
        let Some(auth) = weak.upgrade() else { return };
        let due = auth
            .next_renewal()
            .await
            .is_some_and(|at| Instant::now() >= at);
        if due {
            if let Err(e) = auth.current().await {
                tracing::warn!(backend = %auth.backend, error = %e, "background token renewal failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
