//! One backend's version probes in a refresh round (issue 19): in the backend's own batches
//! ([`Backend::probe_batch_size`]: 20 secrets a BatchGetSecretValue, 10 a GetParameters), the
//! batches spread over a tenth of the ttl instead of sent as one burst, a few in flight at once,
//! each taking a call from the backend's ceiling first unless the backend says it makes none
//! ([`Backend::probe_costs_call`]: a pinned Vault or GCP version cannot change, so it is
//! answered without asking), and settling for the calls really made. A batch the ceiling has no call for is
//! put off (its secrets stay served, stale within `max_stale`, and counted in
//! `envfile_broker_ceiling_deferred_total`). A changed secret whose value came with the probe
//! (BatchGetSecretValue answers with values) is stored from it: no second read.

use crate::cache::{Entry, SecretCache};
use crate::call_ceiling::CallCeiling;
use envfile_core::{Backend, Locator};
use futures::stream::{self, StreamExt};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::OwnedMutexGuard;

/// Share of the ttl one round's batches are spread over.
const SPREAD: f64 = 0.1;

/// Probe calls of one backend in flight at once.
const IN_FLIGHT: usize = 4;

type Held = (Arc<Entry>, OwnedMutexGuard<()>);

/// Probe `held`; returns the entries that changed (or cannot be probed) and need a full read.
pub(crate) async fn probe(
    cache: &SecretCache,
    backend: &Arc<dyn Backend>,
    ceiling: Option<&CallCeiling>,
    held: Vec<Held>,
) -> Vec<Held> {
    let size = backend.probe_batch_size().max(1);
    let mut chunks: Vec<Vec<Held>> = Vec::new();
    let mut rest = held.into_iter().peekable();
    while rest.peek().is_some() {
        chunks.push(rest.by_ref().take(size).collect());
    }
    let n = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
    let spacing = if n > 1 {
        cache.policy().ttl.mul_f64(SPREAD) / n
    } else {
        std::time::Duration::ZERO
    };
    let round_start = Instant::now();
    let futs: Vec<_> = chunks
        .into_iter()
        .enumerate()
        .map(|(k, chunk)| async move {
            let k = u32::try_from(k).unwrap_or(u32::MAX);
            tokio::time::sleep_until((round_start + spacing.saturating_mul(k)).into()).await;
            let locs: Vec<Locator> = chunk.iter().map(|(e, _)| e.loc().clone()).collect();
            // A chunk that reaches nobody takes nothing: a pinned version must not hold the
            // ceiling's calls from the secrets that can change.
            let taken = usize::from(locs.iter().any(|l| backend.probe_costs_call(l)));
            if let Some(c) = ceiling {
                if taken > 0 && !c.try_take() {
                    return (chunk, None);
                }
            }
            let started = Instant::now();
            let probe = backend.current_versions(&locs).await;
            cache
                .metrics()
                .backend_calls_n(backend.name(), "probe", probe.calls);
            if let Some(c) = ceiling {
                c.settle(taken, probe.calls);
            }
            // Keep only the values of changed secrets: the round's other chunks may take a
            // tenth of ttl, and a copy of every unchanged value meanwhile is memory for nothing.
            let mut values = probe.values;
            for ((slot, v), (e, _)) in values.iter_mut().zip(&probe.versions).zip(&chunk) {
                if matches!(v, Ok(v) if SecretCache::same_version(e, v)) {
                    *slot = None;
                }
            }
            (chunk, Some((probe.versions, values, started)))
        })
        .collect();
    let done: Vec<_> = stream::iter(futs)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut full = Vec::new();
    for (chunk, res) in done {
        let Some((versions, values, started)) = res else {
            if let Some(c) = ceiling {
                cache.defer(chunk.iter().map(|(e, _)| e), c);
            }
            continue;
        };
        let mut versions = versions.into_iter();
        let mut values = values.into_iter();
        for (e, g) in chunk {
            let value = values.next().flatten();
            match versions.next() {
                Some(Ok(v)) if SecretCache::same_version(&e, &v) => {
                    cache.confirm_unchanged(&e, backend.as_ref(), v.as_deref(), started)
                }
                Some(Err(err)) => cache.probe_failed(&e, err, started),
                // Changed, and the probe brought the value of that very version: what a read
                // would store, without the read.
                Some(Ok(Some(v)))
                    if value
                        .as_ref()
                        .is_some_and(|f| f.version.as_deref() == Some(v.as_str())) =>
                {
                    if let Some(f) = value {
                        let _ = cache.store(&e, Ok(f), started, "refreshed");
                    }
                    drop(g);
                }
                // Changed, no cheap probe, or a backend that answered short: read it.
                _ => full.push((e, g)),
            }
        }
    }
    full
}
