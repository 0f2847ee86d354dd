//! One configuration's live state: settings, grants, the cache and the resolver reading through
//! it, and one slot per env file holding its latest resolution. A reload builds a new `State`
//! and swaps it in; requests already running finish on the old one.

use crate::audit::Audit;
use crate::auth::Authenticator;
use crate::cache::{CachePolicy, CachingBackend, Key, SecretCache};
use crate::config::{Settings, SinkSource, SinkSpec};
use crate::metrics::Metrics;
use crate::template_sinks::TemplateSink;
use crate::Setup;
use bytes::Bytes;
use envfile_core::config::VarSource;
use envfile_core::{
    Backends, EnvfileSpec, Format, Problems, Reference, RenderOptions, Resolver, Var,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

/// Bytes that are wiped when the last reference goes away (response bodies hold secrets).
pub struct Zeroed(pub Vec<u8>);

impl AsRef<[u8]> for Zeroed {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Zeroed {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY: a plain write through a valid &mut u8; volatile so it is not elided.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

/// A body that holds secrets.
pub fn secret_bytes(v: Vec<u8>) -> Bytes {
    Bytes::from_owner(Zeroed(v))
}

/// A rendered env file and its strong ETag.
pub struct Rendered {
    /// The body.
    pub body: Bytes,
    /// `"…"`, a hash of the body.
    pub etag: String,
}

/// The latest resolution of one env file.
pub struct Snapshot {
    /// The variables, or every problem found.
    pub result: Result<Arc<Vec<Var>>, Arc<Problems>>,
    /// Renderings by format, made on first request.
    rendered: Mutex<HashMap<Format, Arc<Rendered>>>,
}

impl Snapshot {
    /// A snapshot of a resolution.
    pub fn new(result: Result<Arc<Vec<Var>>, Arc<Problems>>) -> Self {
        Self {
            result,
            rendered: Mutex::new(HashMap::new()),
        }
    }

    /// The rendering in `format` (cached per snapshot).
    pub fn render(
        &self,
        name: &str,
        format: Format,
    ) -> envfile_core::Result<Option<Arc<Rendered>>> {
        let Ok(vars) = &self.result else {
            return Ok(None);
        };
        let mut m = self.rendered.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = m.get(&format) {
            return Ok(Some(r.clone()));
        }
        let opts = RenderOptions {
            name: Some(name.to_owned()),
            namespace: None,
        };
        let (text, _warnings) = envfile_core::render(format, vars, &opts)?;
        let digest = Sha256::digest(text.expose().as_bytes());
        let etag = format!("\"{}\"", hex(&digest[..16]));
        let r = Arc::new(Rendered {
            body: secret_bytes(text.expose().as_bytes().to_vec()),
            etag,
        });
        m.insert(format, r.clone());
        Ok(Some(r))
    }
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

/// One env file being served.
pub struct Slot {
    /// Its name.
    pub name: String,
    /// Its spec.
    pub spec: EnvfileSpec,
    /// The secrets it reads.
    pub keys: Vec<Key>,
    /// Sinks that render it.
    pub sinks: Vec<SinkSpec>,
    /// Latest snapshot (`None` until the first resolution finished).
    pub tx: watch::Sender<Option<Arc<Snapshot>>>,
    /// Whether it has ever resolved.
    pub ok_once: std::sync::atomic::AtomicBool,
    /// Per sink (same order as `sinks`): whether it holds the latest snapshot.
    pub sink_health: Mutex<Vec<SinkHealth>>,
}

/// Whether a sink file holds what it should, and when a failed write is tried again.
#[derive(Debug, Clone)]
pub struct SinkHealth {
    /// The file holds the latest snapshot.
    pub written: bool,
    /// When to retry a failed write.
    pub next_try: Instant,
    /// The delay before the next retry (doubles per failure, up to [`SINK_BACKOFF_MAX`]).
    pub backoff: std::time::Duration,
}

/// The first retry of a failed sink write comes this soon.
pub const SINK_BACKOFF_MIN: std::time::Duration = std::time::Duration::from_millis(500);
/// Retries of a failed sink write slow down to this.
pub const SINK_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(60);

impl SinkHealth {
    fn new() -> Self {
        Self {
            written: false,
            next_try: Instant::now(),
            backoff: SINK_BACKOFF_MIN,
        }
    }

    /// Record a write's outcome.
    pub fn record(&mut self, ok: bool) {
        self.written = ok;
        if ok {
            self.backoff = SINK_BACKOFF_MIN;
        } else {
            self.next_try = Instant::now() + self.backoff;
            self.backoff = (self.backoff * 2).min(SINK_BACKOFF_MAX);
        }
    }
}

impl Slot {
    /// Whether every sink of this env file holds its latest snapshot.
    pub fn sinks_written(&self) -> bool {
        lock(&self.sink_health).iter().all(|h| h.written)
    }

    /// Whether a failed sink write is due for another try.
    pub fn sink_retry_due(&self, now: Instant) -> bool {
        lock(&self.sink_health)
            .iter()
            .any(|h| !h.written && h.next_try <= now)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A memoized secret response, reused until the cache changes or the value's freshness ends.
pub struct Memo {
    /// Cache generation it was built at.
    pub generation: u64,
    /// It may be served until then.
    pub valid_until: Instant,
    /// Backend instance (for grants).
    pub backend: String,
    /// Locator path (for grants).
    pub path: String,
    /// The access line's fields after the principal (reference, backend, version, outcome),
    /// encoded when the response was built: see [`crate::audit::Audit::write_repeat`].
    pub audit_tail: Box<[u8]>,
    /// The JSON body.
    pub body: Bytes,
}

/// The live state of one configuration.
pub struct State {
    /// Settings.
    pub settings: Settings,
    /// Who is who.
    pub auth: Authenticator,
    /// The cache.
    pub cache: Arc<SecretCache>,
    /// The backends as configured (the cache calls these).
    pub raw: Backends,
    /// A resolver whose backends read through the cache.
    pub resolver: Resolver,
    /// Env files by name.
    pub envfiles: BTreeMap<String, Arc<Slot>>,
    /// Sinks rendered from templates.
    pub templates: Vec<Arc<TemplateSink>>,
    /// Memoized secret responses by canonical request (`routes::memo_key`), never by the bytes
    /// the client sent: bounded by what the grants let clients read.
    pub memo: Mutex<HashMap<Box<[u8]>, Arc<Memo>>>,
    /// Metrics (shared across reloads).
    pub metrics: Arc<Metrics>,
    /// Audit (shared across reloads).
    pub audit: Arc<Audit>,
}

impl State {
    /// Build from a setup and validated settings.
    pub fn build(
        setup: &Setup,
        settings: Settings,
        metrics: Arc<Metrics>,
        audit: Arc<Audit>,
    ) -> Self {
        let cache = SecretCache::new(
            CachePolicy {
                ttl: settings.ttl,
                max_stale: settings.max_stale,
                max_entries: settings.max_entries,
                negative_ttl: settings.negative_ttl,
            },
            metrics.clone(),
            audit.clone(),
        );
        cache.set_call_ceilings(
            settings
                .max_calls_per_second
                .iter()
                .map(|(name, rate)| {
                    let c = Arc::new(crate::call_ceiling::CallCeiling::new(*rate));
                    (name.clone(), c)
                })
                .collect(),
        );
        let mut cached = Backends::new();
        for (_, b) in setup.backends.iter() {
            cached.insert(Arc::new(CachingBackend::new(b.clone(), cache.clone())));
        }
        // Retries happen in the cache's refresh schedule; the resolver's own retries would only
        // re-ask the cache, which remembers failures for a moment.
        let templates = settings
            .sinks
            .iter()
            .filter_map(|s| TemplateSink::new(s, &cached, &setup.loaded.config))
            .map(Arc::new)
            .collect();
        let resolver = Resolver::new(cached, &setup.loaded.config);
        let mut envfiles = BTreeMap::new();
        for (name, spec) in &setup.loaded.config.envfiles {
            let keys = keys_of(&setup.backends, spec);
            let (tx, _) = watch::channel(None);
            let sinks: Vec<SinkSpec> = settings
                .sinks
                .iter()
                .filter(|s| matches!(&s.source, SinkSource::Envfile { name: n, .. } if n == name))
                .cloned()
                .collect();
            envfiles.insert(
                name.clone(),
                Arc::new(Slot {
                    name: name.clone(),
                    spec: spec.clone(),
                    keys,
                    sink_health: Mutex::new(sinks.iter().map(|_| SinkHealth::new()).collect()),
                    sinks,
                    tx,
                    ok_once: std::sync::atomic::AtomicBool::new(false),
                }),
            );
        }
        Self {
            auth: Authenticator::new(&settings),
            settings,
            cache,
            raw: setup.backends.clone(),
            resolver,
            envfiles,
            templates,
            memo: Mutex::new(HashMap::new()),
            metrics,
            audit,
        }
    }

    /// How many env files and template sinks are ready, of how many: an env file once it
    /// resolved, none of its secrets is older than max_stale and each of its sinks holds it; a
    /// template sink once its last render succeeded within the same bound.
    pub fn readiness(&self) -> (usize, usize) {
        let envfiles = self
            .envfiles
            .values()
            .filter(|slot| self.slot_servable(slot) && slot.sinks_written())
            .count();
        let templates = self
            .templates
            .iter()
            .filter(|t| {
                t.ok()
                    && self
                        .cache
                        .oldest_confirmation(&t.keys())
                        .is_some_and(|age| age <= self.settings.max_stale)
            })
            .count();
        (
            envfiles + templates,
            self.envfiles.len() + self.templates.len(),
        )
    }

    /// Whether a slot has a good snapshot whose secrets are within max_stale.
    pub fn slot_servable(&self, slot: &Slot) -> bool {
        let ok = matches!(&*slot.tx.borrow(), Some(s) if s.result.is_ok());
        ok && self
            .cache
            .oldest_confirmation(&slot.keys)
            .is_some_and(|age| age <= self.settings.max_stale)
    }
}

/// The secrets an env file reads, as cache keys.
fn keys_of(backends: &Backends, spec: &EnvfileSpec) -> Vec<Key> {
    let refs = spec
        .vars
        .values()
        .filter_map(|v| match v {
            VarSource::Ref(r) => Some(r.as_str()),
            VarSource::Literal { .. } => None,
        })
        .chain(spec.expand.iter().map(|e| e.reference.as_str()));
    let mut keys: Vec<Key> = refs
        .filter_map(|r| Reference::parse(r).ok())
        .filter_map(|r| {
            let b = backends.select(&r.backend).ok()?;
            Some((b.name().to_owned(), r.locator))
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
