//! The in-memory secret cache, as a [`Backend`] decorator so the core resolver reads through it.
//!
//! - A value is fresh for `ttl` after the backend last confirmed it (a full read, or a version
//!   probe that found the same version). The refresher re-confirms it at 75–90 % of `ttl`
//!   (jittered, so secrets fetched together do not refresh together).
//! - Concurrent misses of one secret make one backend call: the first caller holds the entry's
//!   fetch lock, the others wait on it and take its result.
//! - When the backend fails, the last good value is served until it is `max_stale` old; after
//!   that reads fail loudly with the backend's error. A failure is remembered for a moment so a
//!   burst of reads (and the resolver's own retries) do not hammer a backend that is down.
//! - At most `max_entries` secrets are kept; the least recently used unpinned one goes first.
//!   Values live only here, in memory: nothing is written to disk except through sinks.
//! - A secret enters the cache only once the backend has returned it. Until then it is a
//!   pending entry (so concurrent first reads still make one call); a first read that fails is
//!   remembered in a small negative cache for `negative_ttl` (a second for other errors)
//!   instead, so misses — however many, for whatever names — never evict a cached secret, and a
//!   repeated miss does not reach the backend again. A successful read of the name, or a refresh
//!   round that changed anything, forgets it sooner.
//! - A restricted client's reads that would reach the backend are rate-limited
//!   ([`crate::limits::Limiter::miss`]); past the rate they fail with `Throttled` (429).

use crate::audit::{Audit, AuditLine};
use crate::call_ceiling::CallCeiling;
use crate::lease;
use crate::limits::Limiter;
use crate::metrics::Metrics;
use async_trait::async_trait;
use envfile_core::{Backend, Capabilities, Error, Fetched, Locator, Result};
use futures::stream::{self, StreamExt};
use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A secret's identity in the cache: backend instance name and locator.
pub type Key = (String, Locator);

/// A key as the cache's tables hold it: one allocation, shared by the table and the entry.
/// At fleet scale (thousands of secrets) a table slot of a whole `Key` (128 bytes) plus a
/// second copy of the locator in each entry was a tenth of the broker's heap.
type SharedKey = Arc<Key>;

/// A table that has drained (the first reads of a start-up, all settled) gives its memory back
/// above this many slots: `pending` grows to every secret at start, then stays empty.
const KEEP_SLOTS: usize = 64;

/// How long a failure answers for the backend before we ask it again.
const NEGATIVE_TTL: Duration = Duration::from_secs(1);

/// Names remembered as missing, at most (whichever expires first goes when full).
const MAX_NEGATIVE: usize = 4096;

/// A cached value and when the backend gave it to us.
#[derive(Debug)]
pub struct Cached {
    /// The value and version.
    pub fetched: Fetched,
    /// Wall-clock time of the read that produced this value.
    pub fetched_at: SystemTime,
}

struct EntryState {
    value: Option<Arc<Cached>>,
    /// Last time the backend confirmed the value (read or same-version probe).
    confirmed_at: Instant,
    refresh_at: Instant,
    failing: Option<(Error, Instant)>,
    last_used: Instant,
    pinned: bool,
    /// When the value's lease ends (dynamic secrets): never served after (see [`crate::lease`]).
    lease_until: Option<Instant>,
}

pub(crate) struct Entry {
    backend: Arc<dyn Backend>,
    key: SharedKey,
    state: Mutex<EntryState>,
    fetch: Arc<tokio::sync::Mutex<()>>,
}

impl Entry {
    /// The secret this entry caches.
    pub(crate) fn loc(&self) -> &Locator {
        &self.key.1
    }
}

/// Cache settings.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    /// Fresh for this long after confirmation.
    pub ttl: Duration,
    /// Served at most this old while the backend fails.
    pub max_stale: Duration,
    /// Entries at most.
    pub max_entries: usize,
    /// How long a name the backend said does not exist is answered from memory.
    pub negative_ttl: Duration,
}

/// The cache shared by every [`CachingBackend`] of one broker configuration.
pub struct SecretCache {
    policy: CachePolicy,
    /// Secrets with a value (or that had one). Locks are taken in this order: map, pending,
    /// negative.
    map: Mutex<HashMap<SharedKey, Arc<Entry>>>,
    /// First reads in flight.
    pending: Mutex<HashMap<SharedKey, Arc<Entry>>>,
    /// First reads that failed: the error, and until when it answers.
    negative: Mutex<HashMap<Key, (Error, Instant)>>,
    generation: AtomicU64,
    metrics: Arc<Metrics>,
    audit: Arc<Audit>,
    /// Per-backend call ceilings (`broker.max_calls_per_second`), set once after building.
    ceilings: std::sync::OnceLock<HashMap<String, Arc<CallCeiling>>>,
    /// This broker's place in the refresh cycle (0–1), drawn at start: brokers of a fleet
    /// started together drift apart instead of probing in step.
    phase: f64,
}

enum Lookup {
    Hit(Arc<Cached>),
    Miss,
}

impl SecretCache {
    /// An empty cache.
    pub fn new(policy: CachePolicy, metrics: Arc<Metrics>, audit: Arc<Audit>) -> Arc<Self> {
        Arc::new(Self {
            policy,
            map: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            negative: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(1),
            metrics,
            audit,
            ceilings: std::sync::OnceLock::new(),
            phase: rand::thread_rng().gen_range(0.0..1.0),
        })
    }

    /// Set the per-backend call ceilings (once; later calls are ignored).
    pub fn set_call_ceilings(&self, ceilings: HashMap<String, Arc<CallCeiling>>) {
        let _ = self.ceilings.set(ceilings);
    }

    fn ceiling(&self, backend: &str) -> Option<&Arc<CallCeiling>> {
        self.ceilings.get()?.get(backend)
    }

    /// Bumped whenever a cached value changes or goes away; memoized responses compare it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Count a read answered without reaching the cache proper (a memoized response).
    pub fn note_hit(&self) {
        self.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// The policy.
    pub fn policy(&self) -> CachePolicy {
        self.policy
    }

    /// Number of cached secrets.
    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keep these secrets cached and refreshed even when nobody reads them (env files, sinks).
    pub fn pin(&self, keys: &[Key]) {
        let map = lock(&self.map);
        for k in keys {
            if let Some(e) = map.get(k) {
                lock(&e.state).pinned = true;
            }
        }
    }

    /// How long ago the backend last confirmed each secret; `None` when one was never read.
    pub fn oldest_confirmation(&self, keys: &[Key]) -> Option<Duration> {
        let map = lock(&self.map);
        let now = Instant::now();
        let mut oldest = Duration::ZERO;
        for k in keys {
            let e = map.get(k)?;
            let st = lock(&e.state);
            st.value.as_ref()?;
            oldest = oldest.max(now.saturating_duration_since(st.confirmed_at));
        }
        Some(oldest)
    }

    /// The largest age of any cached value (a staleness gauge for `/metrics`).
    pub fn max_age(&self) -> Duration {
        let map = lock(&self.map);
        let now = Instant::now();
        map.values()
            .filter_map(|e| {
                let st = lock(&e.state);
                st.value
                    .as_ref()
                    .map(|_| now.saturating_duration_since(st.confirmed_at))
            })
            .max()
            .unwrap_or_default()
    }

    /// Until when a value read now may be served without asking the cache again.
    pub fn valid_until(&self, backend: &str, loc: &Locator) -> Option<Instant> {
        let map = lock(&self.map);
        let e = map.get(&(backend.to_owned(), loc.clone()))?;
        let st = lock(&e.state);
        let until = if st.failing.is_some() {
            st.confirmed_at + self.policy.max_stale
        } else {
            st.confirmed_at + lease::fresh_for(self.policy.ttl, st.lease_until, st.confirmed_at)
        };
        Some(st.lease_until.map_or(until, |l| until.min(l)))
    }

    /// The cached entry for a secret, or a pending one for its first read; `Err` when a first
    /// read failed a moment ago (the negative cache answers instead of the backend).
    fn entry(&self, backend: &Arc<dyn Backend>, loc: &Locator) -> Result<Arc<Entry>> {
        let key = (backend.name().to_owned(), loc.clone());
        let map = lock(&self.map);
        if let Some(e) = map.get(&key) {
            return Ok(e.clone());
        }
        let mut pending = lock(&self.pending);
        if let Some(e) = pending.get(&key) {
            return Ok(e.clone());
        }
        {
            let mut negative = lock(&self.negative);
            if let Some((err, until)) = negative.get(&key) {
                if Instant::now() < *until {
                    self.metrics.negative_hits.fetch_add(1, Ordering::Relaxed);
                    return Err(err.clone());
                }
                negative.remove(&key);
            }
        }
        let now = Instant::now();
        let key = Arc::new(key);
        let e = Arc::new(Entry {
            backend: backend.clone(),
            key: key.clone(),
            state: Mutex::new(EntryState {
                value: None,
                confirmed_at: now,
                refresh_at: now,
                failing: None,
                last_used: now,
                pinned: false,
                lease_until: None,
            }),
            fetch: Arc::new(tokio::sync::Mutex::new(())),
        });
        pending.insert(key, e.clone());
        Ok(e)
    }

    /// After a read through `e`: a pending entry that got a value moves into the cache
    /// (evicting the least recently used unpinned secret if full); one that failed moves into
    /// the negative cache.
    fn settle(&self, e: &Arc<Entry>, res: &Result<Arc<Cached>>) {
        let key = &e.key;
        let mut map = lock(&self.map);
        let mut pending = lock(&self.pending);
        if !pending.get(key).is_some_and(|p| Arc::ptr_eq(p, e)) {
            if res.is_ok() {
                lock(&self.negative).remove(&**key);
            }
            return;
        }
        pending.remove(key);
        if pending.is_empty() && pending.capacity() > KEEP_SLOTS {
            pending.shrink_to(KEEP_SLOTS);
        }
        drop(pending);
        match res {
            Ok(_) => {
                lock(&self.negative).remove(&**key);
                if map.len() >= self.policy.max_entries {
                    let victim = map
                        .iter()
                        .filter(|(_, e)| !lock(&e.state).pinned)
                        .min_by_key(|(_, e)| lock(&e.state).last_used)
                        .map(|(k, _)| k.clone());
                    // A memoized response of the victim stays valid until its value's own
                    // freshness ends, so evicting needs no new generation: other memos live on.
                    if let Some(v) = victim {
                        map.remove(&v);
                        self.metrics.evictions.fetch_add(1, Ordering::Relaxed);
                    }
                }
                map.insert(key.clone(), e.clone());
            }
            Err(err) => {
                drop(map);
                let ttl = if err.kind() == envfile_core::ErrorKind::NotFound {
                    self.policy.negative_ttl
                } else {
                    NEGATIVE_TTL
                };
                let now = Instant::now();
                let mut negative = lock(&self.negative);
                if negative.len() >= MAX_NEGATIVE {
                    negative.retain(|_, (_, until)| *until > now);
                }
                if negative.len() >= MAX_NEGATIVE {
                    let soonest = negative
                        .iter()
                        .min_by_key(|(_, (_, until))| *until)
                        .map(|(k, _)| k.clone());
                    if let Some(k) = soonest {
                        negative.remove(&k);
                    }
                }
                negative.insert((**key).clone(), (err.clone(), now + ttl));
            }
        }
    }

    /// Names remembered as missing (for `/metrics` and tests).
    pub fn negative_len(&self) -> usize {
        lock(&self.negative).len()
    }

    fn lookup(&self, e: &Entry) -> Lookup {
        let now = Instant::now();
        let mut st = lock(&e.state);
        st.last_used = now;
        if let Some(v) = st
            .value
            .as_ref()
            .filter(|_| !lease::over(st.lease_until, now))
        {
            let age = now.saturating_duration_since(st.confirmed_at);
            let fresh = lease::fresh_for(self.policy.ttl, st.lease_until, st.confirmed_at);
            if age < fresh || (st.failing.is_some() && age <= self.policy.max_stale) {
                self.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Lookup::Hit(v.clone());
            }
            // Past ttl while the backend's call ceiling is reached: stale within max_stale
            // beats a call over the ceiling (the refresher catches up as the bucket refills).
            if age <= self.policy.max_stale
                && self.ceiling(e.backend.name()).is_some_and(|c| c.reached())
            {
                self.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                self.metrics
                    .ceiling_stale_served
                    .fetch_add(1, Ordering::Relaxed);
                return Lookup::Hit(v.clone());
            }
        }
        Lookup::Miss
    }

    /// Read one secret through the cache.
    pub async fn get(&self, backend: &Arc<dyn Backend>, loc: &Locator) -> Result<Arc<Cached>> {
        self.get_for(backend, loc, None).await
    }

    /// Read one secret through the cache for a client: a read that would reach the backend
    /// first takes one of the client's miss tokens, and fails `Throttled` when it has none.
    pub async fn get_for(
        &self,
        backend: &Arc<dyn Backend>,
        loc: &Locator,
        budget: Option<&Limiter>,
    ) -> Result<Arc<Cached>> {
        let e = self.entry(backend, loc)?;
        if let Lookup::Hit(v) = self.lookup(&e) {
            return Ok(v);
        }
        self.metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
        let waited_from = Instant::now();
        let _guard = e.fetch.clone().lock_owned().await;
        // Someone else may have fetched (or failed) while we waited for the lock.
        if let Lookup::Hit(v) = self.lookup(&e) {
            return Ok(v);
        }
        if let Some(err) = self.recent_failure(&e, waited_from) {
            return Err(err);
        }
        if budget.is_some_and(|b| !b.miss()) {
            self.metrics
                .client_throttled
                .fetch_add(1, Ordering::Relaxed);
            return Err(Error::new(
                envfile_core::ErrorKind::Throttled,
                "this client reads secrets that are not cached faster than its rate allows",
            )
            .with_hint("retry in a moment; the operator sets broker.client_miss_rate"));
        }
        let started = Instant::now();
        self.metrics.backend_call(backend.name(), "get");
        if let Some(c) = self.ceiling(backend.name()) {
            c.charge(1);
        }
        let res = backend.get(loc).await;
        let out = self.store(&e, res, started, "read");
        self.settle(&e, &out);
        out
    }

    /// Read one secret from the backend even if the cached value is fresh (the AWS agent's
    /// `refreshNow=true`), unless the backend confirmed it less than `min_age` ago: a client
    /// looping on refreshes costs the backend at most one call per secret per `min_age`, and
    /// concurrent refreshes of one secret make one call.
    pub async fn get_refreshed(
        &self,
        backend: &Arc<dyn Backend>,
        loc: &Locator,
        min_age: Duration,
        budget: Option<&Limiter>,
    ) -> Result<Arc<Cached>> {
        let e = self.entry(backend, loc)?;
        let _guard = e.fetch.clone().lock_owned().await;
        {
            let st = lock(&e.state);
            if let Some(v) = &st.value {
                if st.failing.is_none() && st.confirmed_at.elapsed() < min_age {
                    return Ok(v.clone());
                }
            }
        }
        // A refresh is a backend call the client asked for: it spends a miss token like a miss.
        if budget.is_some_and(|b| !b.miss()) {
            self.metrics
                .client_throttled
                .fetch_add(1, Ordering::Relaxed);
            return Err(Error::new(
                envfile_core::ErrorKind::Throttled,
                "this client refreshes secrets faster than its rate allows",
            )
            .with_hint("retry in a moment; the operator sets broker.client_miss_rate"));
        }
        self.metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        self.metrics.backend_call(backend.name(), "get");
        let res = backend.get(loc).await;
        let out = self.store(&e, res, started, "read");
        self.settle(&e, &out);
        out
    }

    fn recent_failure(&self, e: &Entry, waited_from: Instant) -> Option<Error> {
        let st = lock(&e.state);
        let (err, at) = st.failing.as_ref()?;
        if *at >= waited_from || at.elapsed() < NEGATIVE_TTL {
            Some(self.beyond_stale(err.clone(), st.value.is_some()))
        } else {
            None
        }
    }

    fn beyond_stale(&self, err: Error, had_value: bool) -> Error {
        if !had_value {
            return err;
        }
        let mut out = Error::new(
            err.kind(),
            format!(
                "{}; the last good value is older than max_stale ({}s), so it is no longer served",
                err.message(),
                self.policy.max_stale.as_secs()
            ),
        );
        if let Some(r) = err.reference() {
            out = out.with_reference(r);
        }
        if let Some(b) = err.backend() {
            out = out.with_backend(b);
        }
        if let Some(h) = err.hint() {
            out = out.with_hint(h);
        }
        out
    }

    /// Record the outcome of a read; returns what the caller should see.
    pub(crate) fn store(
        &self,
        e: &Entry,
        res: Result<Fetched>,
        started: Instant,
        why: &'static str,
    ) -> Result<Arc<Cached>> {
        let now = Instant::now();
        let latency = now.duration_since(started);
        let mut st = lock(&e.state);
        let path = format!("{}:{}", e.backend.name(), e.loc().path);
        match res {
            Ok(f) => {
                st.lease_until = lease::end(&f, now);
                let changed = match &st.value {
                    Some(old) => old.fetched.version != f.version || old.fetched.value != f.value,
                    None => true,
                };
                self.audit.write(&AuditLine {
                    event: "refresh",
                    principal: "broker",
                    envfile: None,
                    reference: Some(&path),
                    backend: Some(e.backend.name()),
                    version: f.version.as_deref(),
                    outcome: if changed { why } else { "unchanged" },
                    error_kind: None,
                    latency,
                });
                let v = if changed {
                    let v = Arc::new(Cached {
                        fetched: f,
                        fetched_at: SystemTime::now(),
                    });
                    // A first value has no memoized responses to invalidate: only a change does.
                    if st.value.replace(v.clone()).is_some() {
                        self.generation.fetch_add(1, Ordering::AcqRel);
                    }
                    v
                } else {
                    st.value.clone().unwrap_or_else(|| {
                        Arc::new(Cached {
                            fetched: f,
                            fetched_at: SystemTime::now(),
                        })
                    })
                };
                if st.failing.take().is_some() && !changed {
                    // Recovery without a new value still changes what readers may see.
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                self.confirm(&mut st, now);
                Ok(v)
            }
            Err(err) => {
                self.metrics.backend_error(e.backend.name(), err.kind());
                self.audit.write(&AuditLine {
                    event: "refresh",
                    principal: "broker",
                    envfile: None,
                    reference: Some(&path),
                    backend: Some(e.backend.name()),
                    version: st.value.as_ref().and_then(|v| v.fetched.version.as_deref()),
                    outcome: "error",
                    error_kind: Some(err.kind().as_str()),
                    latency,
                });
                tracing::warn!(
                    backend = e.backend.name(),
                    path = %e.loc().path,
                    kind = %err.kind(),
                    error = %err,
                    "backend read failed"
                );
                let first_failure = st.failing.is_none();
                st.failing = Some((err.clone(), now));
                st.refresh_at = now + self.retry_delay();
                // A secret that never had a value has no memoized responses: a miss must not
                // invalidate everybody else's.
                if first_failure && st.value.is_some() {
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                let age = now.saturating_duration_since(st.confirmed_at);
                match &st.value {
                    Some(v)
                        if age <= self.policy.max_stale && !lease::over(st.lease_until, now) =>
                    {
                        self.metrics.stale_served.fetch_add(1, Ordering::Relaxed);
                        Ok(v.clone())
                    }
                    Some(_) => Err(self.beyond_stale(err, true)),
                    None => Err(err),
                }
            }
        }
    }

    fn confirm(&self, st: &mut EntryState, now: Instant) {
        st.confirmed_at = now;
        // 75–90 % of ttl (or of what is left of a lease, when that is shorter): this broker's
        // phase picks where in that band its rounds fall, a little per-entry jitter on top. A
        // round takes everything due within LOOKAHEAD of ttl, so secrets confirmed together
        // stay together and fill whole batch probes.
        let frac = 0.75 + 0.12 * self.phase + rand::thread_rng().gen_range(0.0..0.03);
        let fresh = lease::fresh_for(self.policy.ttl, st.lease_until, now);
        st.refresh_at = now + fresh.mul_f64(frac);
    }

    fn retry_delay(&self) -> Duration {
        let base =
            (self.policy.ttl / 10).clamp(Duration::from_millis(200), Duration::from_secs(30));
        base.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
    }

    /// Read several secrets of one backend: hits from the cache, misses in one `get_many`
    /// (so AWS still batches), each miss still single-flight.
    pub async fn get_many(
        &self,
        backend: &Arc<dyn Backend>,
        locs: &[Locator],
    ) -> Vec<Result<Fetched>> {
        let mut out: Vec<Option<Result<Fetched>>> = vec![None; locs.len()];
        let mut mine: Vec<(usize, Arc<Entry>, tokio::sync::OwnedMutexGuard<()>)> = Vec::new();
        let mut theirs: Vec<usize> = Vec::new();
        for (i, loc) in locs.iter().enumerate() {
            let e = match self.entry(backend, loc) {
                Ok(e) => e,
                Err(err) => {
                    out[i] = Some(Err(err));
                    continue;
                }
            };
            if let Lookup::Hit(v) = self.lookup(&e) {
                out[i] = Some(Ok(v.fetched.clone()));
                continue;
            }
            self.metrics.cache_misses.fetch_add(1, Ordering::Relaxed);
            match e.fetch.clone().try_lock_owned() {
                Ok(g) => {
                    if let Lookup::Hit(v) = self.lookup(&e) {
                        out[i] = Some(Ok(v.fetched.clone()));
                    } else if let Some(err) = self.recent_failure(&e, Instant::now()) {
                        out[i] = Some(Err(err));
                    } else {
                        mine.push((i, e, g));
                    }
                }
                Err(_) => theirs.push(i),
            }
        }
        if !mine.is_empty() {
            let batch: Vec<Locator> = mine.iter().map(|(i, _, _)| locs[*i].clone()).collect();
            let started = Instant::now();
            self.metrics.backend_call(backend.name(), "get_many");
            if let Some(c) = self.ceiling(backend.name()) {
                c.charge(batch.len().div_ceil(read_batch(backend.as_ref())));
            }
            let mut results = backend.get_many(&batch).await.into_iter();
            for (i, e, _guard) in mine {
                let res = results.next().unwrap_or_else(|| {
                    Err(Error::new(
                        envfile_core::ErrorKind::Other,
                        "the backend returned fewer results than secrets asked for",
                    )
                    .with_backend(backend.name()))
                });
                let stored = self.store(&e, res, started, "read");
                self.settle(&e, &stored);
                out[i] = Some(stored.map(|v| v.fetched.clone()));
            }
        }
        for i in theirs {
            out[i] = Some(self.get(backend, &locs[i]).await.map(|v| v.fetched.clone()));
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(Error::new(envfile_core::ErrorKind::Other, "lost result")))
            })
            .collect()
    }

    /// Refresh every entry that is due: version probes first where the backend has a cheap one,
    /// full reads (batched per backend) for the rest. Idle, unpinned entries are dropped instead.
    /// Returns whether anything readers can see changed.
    pub async fn refresh_due(&self) -> bool {
        let before = self.generation();
        let now = Instant::now();
        let idle_limit = self.policy.max_stale.max(self.policy.ttl * 2);
        let mut due: HashMap<String, Vec<Arc<Entry>>> = HashMap::new();
        // A round starts when the first secret is due and takes every secret due soon after, so
        // probes go out in full batches (one BatchGetSecretValue for 20 secrets) rather than a
        // trickle of part-filled ones as each secret's own time comes.
        let horizon = {
            let map = lock(&self.map);
            // Only a healthy secret's turn starts a full round: a failing one is retried on its
            // own, shorter schedule and must not drag the others into early probes.
            let any_due = map.values().any(|e| {
                let st = lock(&e.state);
                st.refresh_at <= now && st.failing.is_none() && (st.value.is_some() || st.pinned)
            });
            if any_due {
                now + self.policy.ttl.mul_f64(LOOKAHEAD)
            } else {
                now
            }
        };
        {
            let mut map = lock(&self.map);
            // Dropping an idle secret changes nothing anyone sees (its memos end with its
            // freshness), so it bumps no generation.
            map.retain(|_, e| {
                let st = lock(&e.state);
                if !st.pinned && now.saturating_duration_since(st.last_used) > idle_limit {
                    return false;
                }
                if st.refresh_at <= horizon && (st.value.is_some() || st.pinned) {
                    due.entry(e.backend.name().to_owned())
                        .or_default()
                        .push(e.clone());
                }
                true
            });
        }
        let started = Instant::now();
        let n: usize = due.values().map(Vec::len).sum();
        stream::iter(due.into_values())
            .for_each_concurrent(8, |entries| self.refresh_group(entries))
            .await;
        if n > 0 {
            self.metrics.refresh_observed(started.elapsed());
        }
        let changed = self.generation() != before;
        if changed {
            // Something rotated: a name remembered as missing may have been created with it.
            lock(&self.negative).clear();
        }
        changed
    }

    async fn refresh_group(&self, entries: Vec<Arc<Entry>>) {
        let mut held = Vec::new();
        for e in entries {
            // Busy means a reader is fetching it right now: that is a refresh too.
            if let Ok(g) = e.fetch.clone().try_lock_owned() {
                held.push((e, g));
            }
        }
        let Some((first, _)) = held.first() else {
            return;
        };
        let backend = first.backend.clone();
        let ceiling = self.ceiling(backend.name()).cloned();
        let full = if backend.capabilities().cheap_version_probe {
            crate::probe_round::probe(self, &backend, ceiling.as_deref(), held).await
        } else {
            held
        };
        if full.is_empty() {
            return;
        }
        if let Some(c) = &ceiling {
            if !c.try_take() {
                self.defer(full.iter().map(|(e, _)| e), c);
                return;
            }
            c.charge(full.len().div_ceil(read_batch(backend.as_ref())) - 1);
        }
        let locs: Vec<Locator> = full.iter().map(|(e, _)| e.loc().clone()).collect();
        let started = Instant::now();
        self.metrics.backend_call(backend.name(), "get_many");
        let mut results = backend.get_many(&locs).await.into_iter();
        for (e, _g) in full {
            if let Some(res) = results.next() {
                let _ = self.store(&e, res, started, "refreshed");
            }
        }
    }

    /// Put these entries' refresh off until the ceiling has a call for them.
    pub(crate) fn defer<'a>(&self, entries: impl Iterator<Item = &'a Arc<Entry>>, c: &CallCeiling) {
        let at = Instant::now() + c.wait().max(Duration::from_millis(50));
        for e in entries {
            self.metrics
                .ceiling_deferred
                .fetch_add(1, Ordering::Relaxed);
            lock(&e.state).refresh_at = at;
        }
    }

    /// A probe found `e` unchanged (`version`): it is confirmed without a read.
    pub(crate) fn confirm_unchanged(
        &self,
        e: &Entry,
        backend: &dyn Backend,
        version: Option<&str>,
        started: Instant,
    ) {
        let mut st = lock(&e.state);
        if st.failing.take().is_some() {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        self.confirm(&mut st, Instant::now());
        drop(st);
        self.audit.write(&AuditLine {
            event: "refresh",
            principal: "broker",
            envfile: None,
            reference: Some(&format!("{}:{}", backend.name(), e.loc().path)),
            backend: Some(backend.name()),
            version,
            outcome: "unchanged",
            error_kind: None,
            latency: started.elapsed(),
        });
    }

    /// Whether a probe's `version` is the one cached for `e`.
    pub(crate) fn same_version(e: &Entry, version: &Option<String>) -> bool {
        let st = lock(&e.state);
        // A lease the cache saw end (the backend renewed it meanwhile) needs a full read to
        // learn its new end: a probe only tells the version.
        if lease::over(st.lease_until, Instant::now()) {
            return false;
        }
        match (version, &st.value) {
            (Some(v), Some(c)) => c.fetched.version.as_deref() == Some(v.as_str()),
            _ => false,
        }
    }

    /// A probe failed: the read would too; record it without a second call.
    pub(crate) fn probe_failed(&self, e: &Entry, err: Error, started: Instant) {
        let _ = self.store(e, Err(err), started, "read");
    }

    /// The metrics (for the probe round).
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// When the next entry is due for a refresh (for the refresher's sleep).
    pub fn next_due(&self) -> Option<Instant> {
        let map = lock(&self.map);
        map.values()
            .filter_map(|e| {
                let st = lock(&e.state);
                (st.value.is_some() || st.pinned).then_some(st.refresh_at)
            })
            .min()
    }
}

/// How many secrets one `get_many` call of `backend` reads, for charging the call ceiling: the
/// backend's read batch, not its probe's (an SSM `list` probe asks about 50 names a request;
/// its reads are 10 a GetParameters).
fn read_batch(backend: &dyn Backend) -> usize {
    backend.read_batch_size().max(1)
}

/// A round also takes the secrets due within this fraction of ttl (see `refresh_due`).
const LOOKAHEAD: f64 = 0.25;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind, never a broken invariant
    // worth taking the whole broker down for.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A backend that reads through the cache. The resolver is built over these.
pub struct CachingBackend {
    inner: Arc<dyn Backend>,
    cache: Arc<SecretCache>,
}

impl CachingBackend {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn Backend>, cache: Arc<SecretCache>) -> Self {
        Self { inner, cache }
    }
}

#[async_trait]
impl Backend for CachingBackend {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        self.cache
            .get(&self.inner, loc)
            .await
            .map(|c| c.fetched.clone())
    }
    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        self.cache.get_many(&self.inner, locs).await
    }
    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.cache
            .get(&self.inner, loc)
            .await
            .map(|c| c.fetched.version.clone())
    }
    async fn identity(&self, path: &str) -> Result<String> {
        self.inner.identity(path).await
    }
    async fn release(&self, revoke: bool) {
        self.inner.release(revoke).await
    }
    async fn native(&self, call: envfile_core::Native<'_>) -> Result<serde_json::Value> {
        self.inner.native(call).await
    }
}
