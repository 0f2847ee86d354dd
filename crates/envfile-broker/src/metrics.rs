//! Counters for `/metrics`, written in the Prometheus text format by hand (a handful of
//! families does not justify a metrics framework). Hot-path counters are atomics; the labelled
//! ones (backend calls, errors) change only on backend traffic and sit behind a mutex.

use envfile_core::ErrorKind;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Routes, as metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Route {
    /// `/v1/envfiles/{name}`
    Envfile,
    /// `/v1/secrets/{ref}`
    Secret,
    /// `/secretsmanager/get`
    AwsCompat,
    /// `/v1/{mount}/data/{path}`
    VaultCompat,
    /// `/healthz`
    Health,
    /// `/readyz`
    Ready,
    /// `/metrics`
    Metrics,
    /// Anything else.
    Other,
}

const ROUTES: [&str; 8] = [
    "envfile",
    "secret",
    "aws_compat",
    "vault_compat",
    "healthz",
    "readyz",
    "metrics",
    "other",
];
const STATUSES: [u16; 14] = [
    200, 304, 400, 401, 403, 404, 405, 408, 413, 429, 431, 500, 503, 0,
];

const BUCKETS_MS: [f64; 8] = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0];

/// All counters.
#[derive(Default)]
pub struct Metrics {
    requests: [[AtomicU64; STATUSES.len()]; ROUTES.len()],
    /// Reads answered from the cache.
    pub cache_hits: AtomicU64,
    /// Reads that went to the backend (or waited for another reader's backend call).
    pub cache_misses: AtomicU64,
    /// Values served after their backend failed.
    pub stale_served: AtomicU64,
    /// Entries evicted to stay within max_entries.
    pub evictions: AtomicU64,
    /// Reads answered by the negative cache (a name the backend said a moment ago it lacks).
    pub negative_hits: AtomicU64,
    /// Reads refused because a client's misses exceeded its rate.
    pub client_throttled: AtomicU64,
    /// Requests refused because a client held its limit of requests or long-polls.
    pub client_limited: AtomicU64,
    /// Refusals: bad requests, unauthenticated, wrong tokens, proxied requests.
    pub refusals: AtomicU64,
    /// Values served past their ttl (within max_stale) because their backend's call ceiling
    /// (`broker.max_calls_per_second`) was reached.
    pub ceiling_stale_served: AtomicU64,
    /// Refresh probes or reads put off because their backend's call ceiling was reached.
    pub ceiling_deferred: AtomicU64,
    backend: Mutex<BTreeMap<(String, &'static str), u64>>,
    errors: Mutex<BTreeMap<(String, &'static str), u64>>,
    refresh_buckets: [AtomicU64; BUCKETS_MS.len()],
    refresh_count: AtomicU64,
    refresh_sum_us: AtomicU64,
}

impl Metrics {
    /// Count a response.
    pub fn request(&self, route: Route, status: u16) {
        let i = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len() - 1);
        self.requests[route as usize][i].fetch_add(1, Ordering::Relaxed);
    }

    /// Count a backend call.
    pub fn backend_call(&self, backend: &str, op: &'static str) {
        let mut m = self.backend.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((backend.to_owned(), op)).or_default() += 1;
    }

    /// Count `n` backend calls of one operation.
    pub fn backend_calls_n(&self, backend: &str, op: &'static str, n: usize) {
        if n > 0 {
            let mut m = self.backend.lock().unwrap_or_else(|p| p.into_inner());
            *m.entry((backend.to_owned(), op)).or_default() += n as u64;
        }
    }

    /// Count a backend error.
    pub fn backend_error(&self, backend: &str, kind: ErrorKind) {
        let mut m = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((backend.to_owned(), kind.as_str())).or_default() += 1;
    }

    /// Observe one refresh round's duration.
    pub fn refresh_observed(&self, d: Duration) {
        let ms = d.as_secs_f64() * 1e3;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if ms <= *b {
                self.refresh_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.refresh_count.fetch_add(1, Ordering::Relaxed);
        self.refresh_sum_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// Total backend calls of `backend` (all operations), for tests and the benchmark.
    pub fn backend_calls(&self, backend: &str) -> u64 {
        let m = self.backend.lock().unwrap_or_else(|p| p.into_inner());
        m.iter()
            .filter(|((b, _), _)| b == backend)
            .map(|(_, n)| n)
            .sum()
    }

    /// The text exposition. `gauges` are extra `name value` pairs computed by the caller.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP envfile_broker_requests_total HTTP responses by route and status.\n");
        out.push_str("# TYPE envfile_broker_requests_total counter\n");
        for (r, row) in self.requests.iter().enumerate() {
            for (s, n) in row.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let status = match STATUSES[s] {
                        0 => "other".to_owned(),
                        c => c.to_string(),
                    };
                    let _ = writeln!(
                        out,
                        "envfile_broker_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                        ROUTES[r]
                    );
                }
            }
        }
        counter(
            &mut out,
            "envfile_broker_cache_hits_total",
            "Reads answered from the cache.",
            &self.cache_hits,
        );
        counter(
            &mut out,
            "envfile_broker_cache_misses_total",
            "Reads that needed a backend call.",
            &self.cache_misses,
        );
        counter(
            &mut out,
            "envfile_broker_stale_served_total",
            "Values served while their backend failed.",
            &self.stale_served,
        );
        counter(
            &mut out,
            "envfile_broker_cache_evictions_total",
            "Entries evicted to bound the cache.",
            &self.evictions,
        );
        counter(
            &mut out,
            "envfile_broker_negative_hits_total",
            "Reads answered by the negative cache without asking the backend.",
            &self.negative_hits,
        );
        counter(
            &mut out,
            "envfile_broker_client_throttled_total",
            "Reads refused (429) because a client's cache misses exceeded its rate.",
            &self.client_throttled,
        );
        counter(
            &mut out,
            "envfile_broker_client_limited_total",
            "Requests refused (429) because a client held its limit of requests or long-polls.",
            &self.client_limited,
        );
        counter(
            &mut out,
            "envfile_broker_ceiling_stale_served_total",
            "Values served past ttl (within max_stale) because the backend's call ceiling was reached.",
            &self.ceiling_stale_served,
        );
        counter(
            &mut out,
            "envfile_broker_ceiling_deferred_total",
            "Refresh calls put off because the backend's call ceiling was reached.",
            &self.ceiling_deferred,
        );
        counter(
            &mut out,
            "envfile_broker_refusals_total",
            "Requests refused before reading anything (bad request, no or wrong token, proxied).",
            &self.refusals,
        );
        out.push_str(
            "# HELP envfile_broker_backend_calls_total Backend calls by backend and operation.\n",
        );
        out.push_str("# TYPE envfile_broker_backend_calls_total counter\n");
        for ((b, op), n) in self
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "envfile_broker_backend_calls_total{{backend=\"{}\",op=\"{op}\"}} {n}",
                escape(b)
            );
        }
        out.push_str(
            "# HELP envfile_broker_backend_errors_total Backend errors by backend and kind.\n",
        );
        out.push_str("# TYPE envfile_broker_backend_errors_total counter\n");
        for ((b, kind), n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "envfile_broker_backend_errors_total{{backend=\"{}\",kind=\"{kind}\"}} {n}",
                escape(b)
            );
        }
        out.push_str("# HELP envfile_broker_refresh_seconds Duration of refresh rounds.\n");
        out.push_str("# TYPE envfile_broker_refresh_seconds histogram\n");
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            let _ = writeln!(
                out,
                "envfile_broker_refresh_seconds_bucket{{le=\"{}\"}} {}",
                b / 1e3,
                self.refresh_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.refresh_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "envfile_broker_refresh_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "envfile_broker_refresh_seconds_sum {}",
            self.refresh_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "envfile_broker_refresh_seconds_count {count}");
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, v: &AtomicU64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
        v.load(Ordering::Relaxed)
    );
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_labelled_counters_and_gauges() {
        let m = Metrics::default();
        m.request(Route::Secret, 200);
        m.request(Route::Secret, 200);
        m.request(Route::Envfile, 599);
        m.backend_call("aws", "get_many");
        m.backend_error("aws", ErrorKind::Unavailable);
        m.refresh_observed(Duration::from_millis(7));
        let text = m.render(&[("envfile_broker_cache_entries", "Entries.", 3.0)]);
        assert!(text.contains("envfile_broker_requests_total{route=\"secret\",status=\"200\"} 2"));
        assert!(text.contains("route=\"envfile\",status=\"other\"} 1"));
        assert!(
            text.contains("envfile_broker_backend_calls_total{backend=\"aws\",op=\"get_many\"} 1")
        );
        assert!(text.contains("kind=\"unavailable\"} 1"));
        assert!(text.contains("envfile_broker_refresh_seconds_bucket{le=\"0.01\"} 1"));
        assert!(text.contains("envfile_broker_cache_entries 3"));
        assert_eq!(m.backend_calls("aws"), 1);
    }
}
