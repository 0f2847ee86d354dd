//! The lease keeper: one live credential per dynamic path and parameters, kept valid for as long
//! as the backend lives.
//!
//! - Every read of one path with the same parameters gets the SAME credential while it is valid
//!   (the `DB_USER` and `DB_PASS` of one env file belong together, and re-resolving after a
//!   rotation elsewhere must not mint a new database user each time). Concurrent first reads
//!   make one call.
//! - A renewable lease is renewed at about two thirds of its TTL (jittered so leases obtained
//!   together do not renew together). When Vault cannot extend it any more (max TTL near: the
//!   renewal gives less than asked) or it is not renewable, a new credential is fetched while a
//!   third of its TTL is still left, so whoever uses it (a restarted child, a re-rendered file)
//!   has time to switch. The new credential has a new version: `run --watch` and the broker see
//!   it like a rotated secret.
//! - On a clean shutdown the process may revoke every lease it still holds (the replaced ones
//!   too, until they expire); see [`Leases::release`].

use crate::caller::Caller;
use crate::dynamic::{self, Issued};
use crate::error::{self, Action};
use envfile_core::retry::RetryPolicy;
use envfile_core::{Fetched, Lease, Result, SecretMeta};
use rand::Rng;
use reqwest::Method;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// A credential this close to its end is not handed out: a fresh one is fetched instead.
const EXPIRY_MARGIN: Duration = Duration::from_millis(500);
/// The keeper never sleeps less than this between actions (a lease of a second or less must not
/// turn into a busy loop).
const MIN_WAIT: Duration = Duration::from_millis(100);
/// After a failed renewal or replacement, wait at most this long before trying again.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);
/// How long revoking every lease on shutdown may take, in total.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Paths and parameter sets kept at most (each is one credential and one keeper task). When
/// full, the one read least recently is let go (see [`Leases::slot`]).
const MAX_SLOTS: usize = 1024;

/// One dynamic secret: the API path and the write parameters (empty: a GET).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct DynKey {
    pub(crate) api_path: String,
    pub(crate) params: BTreeMap<String, String>,
}

/// The credential in use for one [`DynKey`].
struct Current {
    issued: Arc<Issued>,
    /// When it stops being valid (moved by renewals).
    expires_at: Instant,
    /// When the lease was last renewed (or obtained): the base of the next two-thirds point.
    renewed_at: Instant,
    /// Vault would not extend it (max TTL near) or refused a renewal: replace, do not renew.
    capped: bool,
    /// Failed renewals or replacements in a row (backoff).
    failures: u32,
}

impl Current {
    fn new(issued: Issued) -> Self {
        let now = Instant::now();
        Self {
            expires_at: now + issued.ttl,
            issued: Arc::new(issued),
            renewed_at: now,
            capped: false,
            failures: 0,
        }
    }

    fn live(&self, now: Instant) -> bool {
        now + EXPIRY_MARGIN < self.expires_at
    }

    /// What the keeper does next, and when.
    fn plan(&self, now: Instant) -> (Instant, Step) {
        let ttl = self.issued.ttl;
        if self.failures > 0 {
            let wait = (self.expires_at.saturating_duration_since(now) / 4)
                .min(MAX_RETRY_WAIT)
                .max(Duration::from_millis(250) * self.failures.min(8));
            let step = if self.capped || !self.renewable() {
                Step::Replace
            } else {
                Step::Renew
            };
            return (now + wait, step);
        }
        if self.renewable() && !self.capped {
            let span = self.expires_at.saturating_duration_since(self.renewed_at);
            let at = self.renewed_at + span.mul_f64(jitter(0.62, 0.70));
            return (at, Step::Renew);
        }
        // Replace while about a third of the credential's TTL is still left.
        let lead = ttl.mul_f64(jitter(0.30, 0.38));
        let at = self.expires_at.checked_sub(lead).unwrap_or(now).max(now);
        (at, Step::Replace)
    }

    fn renewable(&self) -> bool {
        self.issued.renewable && self.issued.lease_id.is_some()
    }

    fn fetched(&self, now: Instant) -> Fetched {
        let remaining = self.expires_at.saturating_duration_since(now);
        let mut f = Fetched::new(self.issued.value.clone(), Some(self.issued.version.clone()));
        f.lease = Some(Lease {
            id: self.issued.lease_id.clone().unwrap_or_default(),
            ttl: remaining,
            renewable: self.renewable() && !self.capped,
        });
        f.meta = Some(Arc::new(SecretMeta {
            envelope: Some(self.issued.envelope.clone()),
            ..SecretMeta::default()
        }));
        f
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Renew,
    Replace,
}

fn jitter(lo: f64, hi: f64) -> f64 {
    rand::thread_rng().gen_range(lo..hi)
}

struct Slot {
    key: DynKey,
    action: Action,
    current: Mutex<Option<Current>>,
    /// Held while a credential is being issued for this slot.
    issuing: tokio::sync::Mutex<()>,
    keeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// When the credential was last asked for (a read or a version probe).
    last_used: Mutex<Instant>,
}

impl Slot {
    fn new(key: DynKey, action: Action) -> Self {
        Self {
            key,
            action,
            current: Mutex::new(None),
            issuing: tokio::sync::Mutex::new(()),
            keeper: Mutex::new(None),
            last_used: Mutex::new(Instant::now()),
        }
    }

    fn touch(&self) {
        *lock(&self.last_used) = Instant::now();
    }
}

/// The slot read least recently: the one to let go when the table is full.
fn least_recently_used(slots: &HashMap<DynKey, Arc<Slot>>) -> Option<DynKey> {
    slots
        .iter()
        .min_by_key(|(_, s)| *lock(&s.last_used))
        .map(|(k, _)| k.clone())
}

/// Counters for tests and `envfile check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaseStats {
    /// Credentials issued (first reads and replacements).
    pub issued: u64,
    /// Successful lease renewals.
    pub renewals: u64,
    /// Leases revoked on release.
    pub revoked: u64,
}

/// Every dynamic credential a backend holds.
pub(crate) struct Leases {
    caller: Caller,
    retry: RetryPolicy,
    slots: Mutex<HashMap<DynKey, Arc<Slot>>>,
    /// Leases of replaced credentials that have not expired yet, with their expiry: revoked on
    /// release too.
    replaced: Mutex<Vec<(String, Instant)>>,
    seq: AtomicU64,
    issued: AtomicU64,
    renewals: AtomicU64,
    revoked: AtomicU64,
}

impl Leases {
    pub(crate) fn new(caller: Caller, retry: RetryPolicy) -> Arc<Self> {
        Arc::new(Self {
            caller,
            retry,
            slots: Mutex::default(),
            replaced: Mutex::default(),
            seq: AtomicU64::new(0),
            issued: AtomicU64::new(0),
            renewals: AtomicU64::new(0),
            revoked: AtomicU64::new(0),
        })
    }

    pub(crate) fn stats(&self) -> LeaseStats {
        LeaseStats {
            issued: self.issued.load(Ordering::Relaxed),
            renewals: self.renewals.load(Ordering::Relaxed),
            revoked: self.revoked.load(Ordering::Relaxed),
        }
    }

    /// The version of the credential in use for `key`, without calling Vault; `None` when
    /// there is none yet (or it expired), so the caller reads instead.
    pub(crate) fn current_version(&self, key: &DynKey) -> Option<String> {
        let slot = lock(&self.slots).get(key).cloned()?;
        slot.touch();
        let cur = lock(&slot.current);
        cur.as_ref()
            .filter(|c| c.live(Instant::now()))
            .map(|c| c.issued.version.clone())
    }

    /// The credential for `key`: the one in use while it is valid, else a new one.
    pub(crate) async fn get(self: &Arc<Self>, key: DynKey, action: Action) -> Result<Fetched> {
        let slot = self.slot(key, action);
        slot.touch();
        if let Some(f) = live(&slot) {
            return Ok(f);
        }
        let _issuing = slot.issuing.lock().await;
        if let Some(f) = live(&slot) {
            return Ok(f);
        }
        let issued = self.issue(&slot).await?;
        if let Some(old) = lock(&slot.current).replace(Current::new(issued)) {
            self.remember_replaced(&old);
        }
        self.start_keeper(&slot);
        live(&slot).ok_or_else(|| {
            envfile_core::Error::new(
                envfile_core::ErrorKind::Other,
                format!(
                    "Vault issued a credential that expires at once ({})",
                    slot.action
                ),
            )
            .with_backend(&*self.caller.backend)
            .with_hint(
                "check the role's `default_ttl` and `max_ttl`: they must be longer than a second",
            )
        })
    }

    /// The slot of `key`, made when new. A full table lets go of the slot read least
    /// recently rather than refusing: a client that may write one path with parameters of its
    /// choosing could otherwise fill the table and deny every other dynamic read of this backend.
    /// The credential let go stays valid until its lease ends (and is revoked on release); its
    /// next reader gets a new one, which reaches users like a rotation.
    fn slot(&self, key: DynKey, action: Action) -> Arc<Slot> {
        let mut slots = lock(&self.slots);
        if let Some(s) = slots.get(&key) {
            return s.clone();
        }
        if slots.len() >= MAX_SLOTS {
            if let Some(old) = least_recently_used(&slots).and_then(|k| slots.remove(&k)) {
                if let Some(h) = lock(&old.keeper).take() {
                    h.abort();
                }
                if let Some(c) = lock(&old.current).take() {
                    self.remember_replaced(&c);
                }
                tracing::warn!(
                    backend = %self.caller.backend,
                    path = %old.key.api_path,
                    "{MAX_SLOTS} dynamic credentials held: letting go of the one read least recently"
                );
            }
        }
        let slot = Arc::new(Slot::new(key.clone(), action));
        slots.insert(key, slot.clone());
        slot
    }

    /// Ask Vault for a new credential: a GET, or a write with the parameters.
    async fn issue(&self, slot: &Slot) -> Result<Issued> {
        let key = &slot.key;
        let body = (!key.params.is_empty()).then(|| dynamic::write_body(&key.params));
        let method = if body.is_some() {
            Method::PUT
        } else {
            Method::GET
        };
        let answer = self
            .retry
            .run(|| {
                self.caller.call_once(
                    method.clone(),
                    &key.api_path,
                    &[],
                    body.as_ref(),
                    &slot.action,
                )
            })
            .await?;
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let issued = dynamic::parse(&answer, seq)
            .map_err(|f| error::map(f, &slot.action, &self.caller.backend))?;
        self.issued.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            backend = %self.caller.backend,
            path = %key.api_path,
            lease = issued.lease_id.as_deref().unwrap_or("-"),
            ttl = ?issued.ttl,
            renewable = issued.renewable,
            "issued a dynamic credential"
        );
        Ok(issued)
    }

    fn remember_replaced(&self, old: &Current) {
        if let Some(id) = &old.issued.lease_id {
            let now = Instant::now();
            let mut replaced = lock(&self.replaced);
            replaced.retain(|(_, until)| *until > now);
            if replaced.len() < MAX_SLOTS {
                replaced.push((id.clone(), old.expires_at));
            }
        }
    }

    fn start_keeper(self: &Arc<Self>, slot: &Arc<Slot>) {
        let mut keeper = lock(&slot.keeper);
        if keeper.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        *keeper = Some(rt.spawn(keep(Arc::downgrade(self), slot.clone())));
    }

    /// One keeper step: renew the lease, or issue a replacement. Returns whether to go on.
    async fn step(&self, slot: &Slot, step: Step) {
        match step {
            Step::Renew => self.renew(slot).await,
            Step::Replace => {
                let _issuing = slot.issuing.lock().await;
                match self.issue(slot).await {
                    Ok(issued) => {
                        let old = lock(&slot.current).replace(Current::new(issued));
                        if let Some(old) = old {
                            tracing::info!(
                                backend = %self.caller.backend,
                                path = %slot.key.api_path,
                                old_lease = old.issued.lease_id.as_deref().unwrap_or("-"),
                                "replaced a dynamic credential before it expires"
                            );
                            self.remember_replaced(&old);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(backend = %self.caller.backend, path = %slot.key.api_path, kind = %e.kind(), error = %e, "could not fetch a new credential ahead of expiry; retrying");
                        if let Some(c) = lock(&slot.current).as_mut() {
                            c.failures += 1;
                        }
                    }
                }
            }
        }
    }

    async fn renew(&self, slot: &Slot) {
        let (lease_id, increment) = {
            let cur = lock(&slot.current);
            let Some(c) = cur.as_ref() else { return };
            let Some(id) = c.issued.lease_id.clone() else {
                return;
            };
            (id, c.issued.ttl)
        };
        let action = Action::Lease {
            op: "renewing",
            lease_id: lease_id.clone(),
        };
        let body = serde_json::json!({ "lease_id": lease_id, "increment": increment.as_secs() });
        let res = self
            .caller
            .call_once(Method::PUT, "sys/leases/renew", &[], Some(&body), &action)
            .await;
        let now = Instant::now();
        let mut cur = lock(&slot.current);
        let Some(c) = cur.as_mut() else { return };
        if c.issued.lease_id.as_deref() != Some(lease_id.as_str()) {
            return; // replaced meanwhile
        }
        match res {
            Ok(answer) => {
                let granted =
                    Duration::from_secs(answer.expose()["lease_duration"].as_u64().unwrap_or(0));
                self.renewals.fetch_add(1, Ordering::Relaxed);
                c.expires_at = now + granted;
                c.renewed_at = now;
                c.failures = 0;
                // Vault grants less than asked (in whole seconds) only when the lease's max TTL
                // is near: it cannot be extended past that, so a replacement is due.
                if granted < increment {
                    c.capped = true;
                }
                tracing::info!(
                    backend = %self.caller.backend,
                    lease = %lease_id,
                    ttl = ?granted,
                    max_ttl_near = c.capped,
                    "renewed a lease"
                );
            }
            Err(e) => {
                tracing::warn!(backend = %self.caller.backend, lease = %lease_id, kind = %e.kind(), error = %e, "could not renew the lease; a new credential will be fetched before it expires");
                match e.kind() {
                    // Vault may be down for a moment: try renewing again, with backoff.
                    k if k.is_retryable() => c.failures += 1,
                    _ => c.capped = true,
                }
            }
        }
    }

    /// Stop every keeper; with `revoke`, revoke every lease still held (replaced ones too),
    /// within [`REVOKE_TIMEOUT`] in total.
    pub(crate) async fn release(&self, revoke: bool) {
        let slots: Vec<Arc<Slot>> = lock(&self.slots).values().cloned().collect();
        let mut ids = Vec::new();
        let now = Instant::now();
        for s in &slots {
            if let Some(h) = lock(&s.keeper).take() {
                h.abort();
            }
            if let Some(c) = lock(&s.current).as_ref() {
                if let (Some(id), true) = (&c.issued.lease_id, c.expires_at > now) {
                    ids.push(id.clone());
                }
            }
        }
        ids.extend(
            lock(&self.replaced)
                .drain(..)
                .filter(|(_, until)| *until > now)
                .map(|(id, _)| id),
        );
        if !revoke || ids.is_empty() {
            return;
        }
        let calls = ids.iter().map(|id| async move {
            let action = Action::Lease {
                op: "revoking",
                lease_id: id.clone(),
            };
            let body = serde_json::json!({ "lease_id": id });
            match self
                .caller
                .call_once(Method::PUT, "sys/leases/revoke", &[], Some(&body), &action)
                .await
            {
                Ok(_) => {
                    self.revoked.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(backend = %self.caller.backend, lease = %id, "revoked a lease");
                }
                Err(e) => {
                    tracing::warn!(backend = %self.caller.backend, lease = %id, kind = %e.kind(), error = %e, "could not revoke the lease; it ends at its TTL");
                }
            }
        });
        if tokio::time::timeout(REVOKE_TIMEOUT, futures::future::join_all(calls))
            .await
            .is_err()
        {
            tracing::warn!(backend = %self.caller.backend, "revoking leases took too long; the rest end at their TTL");
        }
    }

    fn abort_all(&self) {
        for s in lock(&self.slots).values() {
            if let Some(h) = lock(&s.keeper).take() {
                h.abort();
            }
        }
    }
}

impl Drop for Leases {
    fn drop(&mut self) {
        self.abort_all();
    }
}

fn live(slot: &Slot) -> Option<Fetched> {
    let now = Instant::now();
    lock(&slot.current)
        .as_ref()
        .filter(|c| c.live(now))
        .map(|c| c.fetched(now))
}

/// The keeper of one slot: holds the backend's leases weakly, so it ends with the backend.
async fn keep(leases: Weak<Leases>, slot: Arc<Slot>) {
    loop {
        let plan = {
            let cur = lock(&slot.current);
            match cur.as_ref() {
                Some(c) => c.plan(Instant::now()),
                None => return,
            }
        };
        let (at, step) = plan;
        let wait = at.saturating_duration_since(Instant::now()).max(MIN_WAIT);
        tokio::time::sleep(wait).await;
        let Some(leases) = leases.upgrade() else {
            return;
        };
        leases.step(&slot, step).await;
        // An expired credential with nothing to replace it: the next read issues a new one.
        let dead = lock(&slot.current)
            .as_ref()
            .is_none_or(|c| !c.live(Instant::now()) && c.failures > 8);
        if dead {
            return;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use envfile_core::SecretJson;

    fn issued(lease: Option<&str>, ttl: u64, renewable: bool) -> Issued {
        let body = SecretJson::from_value(serde_json::json!({
            "lease_id": lease.unwrap_or(""), "lease_duration": ttl, "renewable": renewable,
            "data": { "username": "u" }
        }));
        dynamic::parse(&body, 1).unwrap()
    }

    #[test]
    fn renewable_leases_renew_at_about_two_thirds() {
        let c = Current::new(issued(Some("db/creds/a/1"), 30, true));
        let (at, step) = c.plan(c.renewed_at);
        assert_eq!(step, Step::Renew);
        let frac = at.duration_since(c.renewed_at).as_secs_f64() / 30.0;
        assert!((0.62..0.70).contains(&frac), "{frac}");
    }

    #[test]
    fn capped_or_unrenewable_leases_are_replaced_with_a_third_left() {
        for mut c in [
            Current::new(issued(Some("db/creds/a/1"), 30, false)),
            Current::new(issued(None, 30, false)),
            {
                let mut c = Current::new(issued(Some("db/creds/a/1"), 30, true));
                c.capped = true;
                c
            },
        ] {
            let (at, step) = c.plan(c.renewed_at);
            assert_eq!(step, Step::Replace);
            let left = c.expires_at.duration_since(at).as_secs_f64() / 30.0;
            assert!((0.30..0.38).contains(&left), "{left}");
            // Failures back off but still act before expiry.
            c.failures = 2;
            let (at, _) = c.plan(c.renewed_at);
            assert!(at < c.expires_at);
        }
    }

    #[test]
    fn a_full_table_lets_go_of_the_slot_read_least_recently() {
        let key = |i: usize| DynKey {
            api_path: format!("pki/issue/web{i}"),
            params: BTreeMap::new(),
        };
        let action = |i: usize| Action::DetectMount {
            path: format!("pki/issue/web{i}"),
        };
        let mut slots = HashMap::new();
        for i in 0..3 {
            slots.insert(key(i), Arc::new(Slot::new(key(i), action(i))));
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(least_recently_used(&slots), Some(key(0)));
        slots[&key(0)].touch();
        assert_eq!(least_recently_used(&slots), Some(key(1)));
    }

    #[test]
    fn a_credential_near_its_end_is_not_handed_out() {
        let c = Current::new(issued(Some("x/1"), 1, true));
        assert!(c.live(c.renewed_at));
        assert!(!c.live(c.renewed_at + Duration::from_millis(600)));
        let f = c.fetched(c.renewed_at);
        let lease = f.lease.unwrap();
        assert_eq!(lease.id, "x/1");
        assert!(lease.renewable);
        assert_eq!(f.version.as_deref(), Some("x/1"));
    }
}
