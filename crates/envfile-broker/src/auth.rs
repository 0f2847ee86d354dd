//! Who is asking and what they may read.
//!
//! TCP callers present a token (compared in constant time against every configured token, with
//! no early exit, so timing says nothing about which one nearly matched, nor how much of it).
//! Socket callers are identified by the kernel (SO_PEERCRED uid/gid/pid). Grants name env files
//! and secret patterns; a refusal never says whether the thing asked for exists.

use crate::audit::Escaped;
use crate::config::{ClientGrant, Settings};
use crate::limits::Limiter;
use envfile_core::{Backend, Error, Result, SecretValue};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a token comes from: `file:///path` or `env:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// Read from a file (trailing newline trimmed).
    File(PathBuf),
    /// Read from an environment variable.
    Env(String),
}

impl TokenSource {
    /// Parse a config value. A literal token is refused: config files get committed.
    pub fn parse(s: &str, key: &str) -> Result<Self> {
        if let Some(p) = s.strip_prefix("file://") {
            Ok(Self::File(PathBuf::from(p)))
        } else if let Some(v) = s.strip_prefix("env:") {
            Ok(Self::Env(v.to_owned()))
        } else {
            Err(Error::config(format!(
                "{key}: a token must be written as `file:///path` or `env:VARIABLE`"
            ))
            .with_hint("keep the token itself out of the config file"))
        }
    }
}

/// A bearer token. `Debug` never shows it.
#[derive(Clone)]
pub struct Token(SecretValue);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl Token {
    /// A token from its text. Empty tokens are refused (they would match a missing header).
    pub fn new(text: &str, what: &str) -> Result<Self> {
        let t = text.trim_end_matches(['\n', '\r']);
        if t.is_empty() {
            return Err(Error::config(format!("{what}: the token is empty"))
                .with_hint("put a long random string in it, e.g. from `openssl rand -hex 32`"));
        }
        if t.len() < 16 {
            return Err(
                Error::config(format!("{what}: the token is shorter than 16 characters"))
                    .with_hint("use a long random string, e.g. from `openssl rand -hex 32`"),
            );
        }
        Ok(Self(SecretValue::from_str_copy(t)))
    }

    /// Load from a source.
    pub fn load(src: &TokenSource, what: &str) -> Result<Self> {
        match src {
            TokenSource::File(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    Error::from(e).with_hint(format!(
                        "{what}: cannot read the token file {}",
                        p.display()
                    ))
                })?;
                Self::new(&text, what)
            }
            TokenSource::Env(v) => {
                let text = std::env::var(v).map_err(|_| {
                    Error::config(format!("{what}: environment variable {v} is not set"))
                })?;
                Self::new(&text, what)
            }
        }
    }

    fn matches(&self, presented: &[u8]) -> bool {
        constant_time_eq(self.0.expose_bytes(), presented)
    }
}

/// Whether `a == b`, in a time that depends on their lengths only (a token's length is not the
/// secret; its bytes are). Every byte pair is folded into one accumulator with no branch on the
/// data, and the accumulator passes an optimisation barrier before it is tested, so the
/// compiler cannot turn the loop into an early exit. (The `subtle` crate does the same with a
/// barrier per byte, which cost more than the rest of authentication on every request.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// What a principal may read.
#[derive(Clone, Debug)]
pub enum Access {
    /// Everything (the admin token, or the broker's own uid when no socket clients are listed).
    All,
    /// What one client grant allows.
    Client(Arc<ClientGrant>),
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    /// For audit lines: `token:NAME` or `uid:U gid:G pid:P`.
    pub label: Arc<str>,
    /// What it may read.
    pub access: Access,
    /// The label as an audit line's `principal` field, escaped once.
    pub audit: Escaped,
    /// The client grant's limits; `None` for the admin and the broker's own uid.
    pub limiter: Option<Arc<Limiter>>,
    /// A client grant, even after [`Principal::with_all_access`]: what it is told stays limited.
    restricted: bool,
}

impl Principal {
    /// A principal called `label` with `access`.
    pub fn new(label: impl Into<Arc<str>>, access: Access) -> Self {
        let label = label.into();
        Self {
            audit: Escaped::principal(&label),
            restricted: matches!(access, Access::Client(_)),
            label,
            access,
            limiter: None,
        }
    }

    /// The same principal, counted against `limiter`.
    pub fn limited(mut self, limiter: &Arc<Limiter>) -> Self {
        self.limiter = Some(limiter.clone());
        self
    }

    /// Whether this is a restricted client (not the admin, not the broker's own uid): what it
    /// is told about a failure is limited to what it may know.
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }

    /// May this principal read `/metrics`? They name env files and backends and count errors,
    /// so only the admin and grants with `metrics = true` may.
    pub fn may_read_metrics(&self) -> bool {
        match &self.access {
            Access::All => true,
            Access::Client(c) => c.metrics,
        }
    }

    /// May this principal read env file `name`?
    pub fn may_read_envfile(&self, name: &str) -> bool {
        match &self.access {
            Access::All => true,
            Access::Client(c) => c.envfiles.iter().any(|e| e == "*" || e == name),
        }
    }
}

/// What a grant check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not granted (or its identity could not be established: the same to the client).
    Denied,
    /// Granted; the secret's canonical identity when the backend could tell it.
    Allowed(Option<String>),
}

/// Grants checked by canonical identity ([`Backend::identity`]): a grant pattern and the secret
/// a request reads are both reduced to the backend's one spelling of a secret before they are
/// compared, so no other spelling of a path (KV v2 with or without `data/`, a KV v1 name that
/// starts with `data/`, an ARN) can reach a secret the grant does not name, on any route.
///
/// The identities of grant patterns are remembered for the life of the configuration (they come
/// from the config, so the map is bounded by it); a pattern whose identity could not be found is
/// retried after [`RETRY_PATTERN`], so a missing mount costs a backend call per that interval,
/// not per request.
#[derive(Default)]
pub struct GrantIdentities {
    known: Mutex<HashMap<(String, String), PatternId>>,
}

#[derive(Clone)]
enum PatternId {
    Known(String),
    Failed(Instant),
}

/// How long a grant pattern whose identity could not be found matches nothing before it is
/// looked up again.
const RETRY_PATTERN: Duration = Duration::from_secs(30);

impl GrantIdentities {
    /// Whether `principal` may read `path` on `backend`. A client without a grant on `backend`
    /// is refused without the backend being asked anything; otherwise the patterns' identities
    /// are found first (which warms what the backend needs to place the path, such as the
    /// Vault mount of the grant), then the path's. A path whose identity cannot be found is
    /// refused like any ungranted one.
    pub async fn check(
        &self,
        principal: &Principal,
        backend: &Arc<dyn Backend>,
        path: &str,
    ) -> Verdict {
        let grant = match &principal.access {
            Access::All => return Verdict::Allowed(backend.identity(path).await.ok()),
            Access::Client(c) => c,
        };
        let name = backend.name();
        let mut everything = false;
        let mut patterns = Vec::new();
        for p in &grant.refs {
            if p == "*" {
                everything = true;
            } else if let Some((b, pp)) = p.split_once(':') {
                if b == name {
                    patterns.push(pp);
                }
            }
        }
        if everything {
            return match backend.identity(path).await {
                // A path the backend says names no secret (Vault's `auth/…` and `sys/…`, KV v2
                // metadata): `*` grants every secret, not the backend's own token or endpoints.
                Err(e) if e.kind() == envfile_core::ErrorKind::Unsupported => Verdict::Denied,
                id => Verdict::Allowed(id.ok()),
            };
        }
        if patterns.is_empty() {
            return Verdict::Denied;
        }
        let mut ids = Vec::with_capacity(patterns.len());
        for p in patterns {
            if let Some(id) = self.pattern(backend, p).await {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Verdict::Denied;
        }
        let Ok(id) = backend.identity(path).await else {
            return Verdict::Denied;
        };
        if ids.iter().any(|p| identity_matches(p, &id)) {
            Verdict::Allowed(Some(id))
        } else {
            Verdict::Denied
        }
    }

    /// Whether `principal` may read anything whose identity starts with `folder` (a folder's
    /// identity, ending in `/`), or, with `exact`, the secret whose identity is `folder`. For
    /// listings: a client sees the names it may read and the folders leading to them.
    pub async fn sees(
        &self,
        principal: &Principal,
        backend: &Arc<dyn Backend>,
        id: &str,
        exact: bool,
    ) -> bool {
        let grant = match &principal.access {
            Access::All => return true,
            Access::Client(c) => c,
        };
        for p in &grant.refs {
            if p == "*" {
                return true;
            }
            let Some((b, pp)) = p.split_once(':') else {
                continue;
            };
            if b != backend.name() {
                continue;
            }
            let Some(pid) = self.pattern(backend, pp).await else {
                continue;
            };
            let hit = match (pid.strip_suffix('*'), exact) {
                (Some(q), true) => id.starts_with(q),
                (None, true) => pid == id,
                (Some(q), false) => q.starts_with(id) || id.starts_with(q),
                (None, false) => pid.starts_with(id),
            };
            if hit {
                return true;
            }
        }
        false
    }

    /// Whether `principal` has any grant on `backend` (without asking the backend anything).
    pub fn any_on(&self, principal: &Principal, backend: &str) -> bool {
        match &principal.access {
            Access::All => true,
            Access::Client(c) => c
                .refs
                .iter()
                .any(|p| p == "*" || p.split_once(':').is_some_and(|(b, _)| b == backend)),
        }
    }

    /// Whether `principal` may read the secret whose identity is `id`, from what is known
    /// without waiting: `false` also when a pattern's identity has not been found yet (the
    /// caller then takes the path that finds it).
    pub fn allows_known(&self, principal: &Principal, backend: &str, id: &str) -> bool {
        let grant = match &principal.access {
            Access::All => return true,
            Access::Client(c) => c,
        };
        let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        grant.refs.iter().any(|p| {
            if p == "*" {
                return true;
            }
            let Some((b, pp)) = p.split_once(':') else {
                return false;
            };
            b == backend
                && matches!(
                    known.get(&(b.to_owned(), pp.to_owned())),
                    Some(PatternId::Known(pid)) if identity_matches(pid, id)
                )
        })
    }

    async fn pattern(&self, backend: &Arc<dyn Backend>, pattern: &str) -> Option<String> {
        let key = (backend.name().to_owned(), pattern.to_owned());
        let cached = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        match cached {
            Some(PatternId::Known(id)) => return Some(id),
            Some(PatternId::Failed(at)) if at.elapsed() < RETRY_PATTERN => return None,
            _ => {}
        }
        let found = backend.identity(pattern).await;
        let entry = match &found {
            Ok(id) => PatternId::Known(id.clone()),
            Err(e) => {
                tracing::warn!(backend = %key.0, pattern = %pattern, error = %e, "a grant pattern matches nothing: its identity could not be found");
                PatternId::Failed(Instant::now())
            }
        };
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, entry);
        found.ok()
    }
}

/// Whether a pattern's identity covers a secret's: a prefix when it ends in `*`, else equal.
fn identity_matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials (401).
    Missing,
    /// Credentials not recognised or not allowed (403).
    Denied,
}

impl Peer {
    /// Who knocked, for the audit line of a refusal: never anything the client sent (a
    /// wrong token is not written down, not even in part).
    pub fn label(&self) -> String {
        match self {
            Peer::Tcp => "tcp".to_owned(),
            Peer::Unix { uid, gid, pid } => match pid {
                Some(p) => format!("uid:{uid} gid:{gid} pid:{p}"),
                None => format!("uid:{uid} gid:{gid} pid:?"),
            },
        }
    }
}

/// The caller as the listener saw it.
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    /// A TCP connection.
    Tcp,
    /// A unix socket connection with the kernel's view of the peer.
    Unix {
        /// uid.
        uid: u32,
        /// gid.
        gid: u32,
        /// pid, when known.
        pid: Option<i32>,
    },
}

/// The authentication table built from the settings.
pub struct Authenticator {
    /// Every token with the principal it stands for, the admin token first. Built once, so a
    /// request authenticates without allocating.
    tokens: Vec<(Token, Principal)>,
    /// Each grant with its limiter.
    clients: Vec<(Arc<ClientGrant>, Arc<Limiter>)>,
    socket_clients: bool,
    own_uid: u32,
    /// Grant patterns by canonical identity.
    pub grants: GrantIdentities,
}

impl Authenticator {
    /// Build from validated settings.
    pub fn new(s: &Settings) -> Self {
        let clients: Vec<_> = s
            .clients
            .iter()
            .cloned()
            .map(|c| (Arc::new(c), Limiter::new(s.client_limits)))
            .collect();
        let admin = s
            .token
            .iter()
            .map(|t| (t.clone(), Principal::new("token:admin", Access::All)));
        let granted = clients.iter().filter_map(|(c, limiter)| {
            let p = Principal::new(format!("token:{}", c.name), Access::Client(c.clone()))
                .limited(limiter);
            c.token.clone().map(|t| (t, p))
        });
        Self {
            tokens: admin.chain(granted).collect(),
            socket_clients: clients
                .iter()
                .any(|(c, _)| c.uid.is_some() || c.gid.is_some()),
            clients,
            // SAFETY: getuid cannot fail and touches no memory.
            own_uid: unsafe { libc::getuid() },
            grants: GrantIdentities::default(),
        }
    }

    /// Whether a socket peer with `uid` is the operator (the broker's own uid or root, when no
    /// client names a uid or gid): its connections count against no per-client cap.
    pub fn is_operator_uid(&self, uid: u32) -> bool {
        !self.socket_clients && (uid == self.own_uid || uid == 0)
    }

    /// Authenticate by token (any listener) or by peer credentials (socket only). A token's
    /// principal is borrowed from the table; a socket peer's is built for it.
    pub fn authenticate(
        &self,
        peer: Peer,
        token: Option<&[u8]>,
    ) -> std::result::Result<Cow<'_, Principal>, Refusal> {
        if let Some(t) = token {
            // Check every token with no early exit.
            let mut found: Option<&Principal> = None;
            for (token, principal) in &self.tokens {
                if token.matches(t) && found.is_none() {
                    found = Some(principal);
                }
            }
            return found.map(Cow::Borrowed).ok_or(Refusal::Denied);
        }
        match peer {
            Peer::Tcp => Err(Refusal::Missing),
            Peer::Unix { uid, gid, pid } => {
                let pid_s = pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
                if self.socket_clients {
                    let hit = self.clients.iter().find(|(c, _)| {
                        c.uid.is_some_and(|u| u == uid) || c.gid.is_some_and(|g| g == gid)
                    });
                    match hit {
                        Some((c, limiter)) => Ok(Cow::Owned(
                            Principal::new(
                                format!("client:{} uid:{uid} gid:{gid} pid:{pid_s}", c.name),
                                Access::Client(c.clone()),
                            )
                            .limited(limiter),
                        )),
                        None => Err(Refusal::Denied),
                    }
                } else if uid == self.own_uid || uid == 0 {
                    Ok(Cow::Owned(Principal::new(
                        format!("uid:{uid} gid:{gid} pid:{pid_s}"),
                        Access::All,
                    )))
                } else {
                    Err(Refusal::Denied)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_match_exactly_or_by_prefix() {
        assert!(identity_matches("app/*", "app/db"));
        assert!(!identity_matches("app/*", "other/db"));
        assert!(identity_matches("a", "a"));
        assert!(!identity_matches("a", "ab"));
        assert!(identity_matches("*", "y"));
    }

    #[test]
    fn tokens_never_print_and_short_ones_are_refused() {
        let t = Token::new("canary-token-0123456789\n", "t").unwrap();
        assert!(!format!("{t:?}").contains("canary"));
        assert!(t.matches(b"canary-token-0123456789"));
        assert!(!t.matches(b"canary-token-012345678"));
        assert!(!t.matches(b"canary-token-0123456788"), "last byte differs");
        assert!(!t.matches(b"Canary-token-0123456789"), "first byte differs");
        assert!(Token::new("short", "t").is_err());
        assert!(Token::new("", "t").is_err());
        assert!(TokenSource::parse("hunter2hunter2hunter2", "k").is_err());
    }
}
