//! The background loop: refresh cache entries ahead of expiry, re-resolve env files when a
//! secret they read changed, publish new snapshots (waking long-polls) and write sinks;
//! re-render template sinks when a secret changed.

use crate::sinks;
use crate::state::{Slot, Snapshot, State};
use crate::Shared;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Longest sleep between rounds: failing env files are retried this often.
const MAX_TICK: Duration = Duration::from_secs(1);
const MIN_TICK: Duration = Duration::from_millis(20);

/// Run until `stop` turns true.
pub async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut last: Option<Arc<State>> = None;
    loop {
        let st = shared.current();
        let new_state = !last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &st));
        let changed = st.cache.refresh_due().await;
        let failing = st
            .envfiles
            .values()
            .any(|s| !matches!(&*s.tx.borrow(), Some(snap) if snap.result.is_ok()))
            || st.templates.iter().any(|t| !t.ok())
            || st
                .envfiles
                .values()
                .any(|s| s.sink_retry_due(Instant::now()));
        if new_state || changed || failing {
            resolve_all(&st).await;
            if new_state {
                // Start-up or a reload: everything was just resolved at once (see `memory`).
                crate::memory::release_free();
            }
        }
        last = Some(st.clone());
        let now = Instant::now();
        let wake = st
            .cache
            .next_due()
            .unwrap_or(now + MAX_TICK)
            .clamp(now + MIN_TICK, now + MAX_TICK);
        tokio::select! {
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Resolve every env file of `st` and render every template sink (concurrently), and publish
/// what changed.
pub async fn resolve_all(st: &Arc<State>) {
    let envfiles = st.envfiles.values().map(|slot| resolve_one(st, slot));
    let templates = st.templates.iter().map(|t| async move {
        let keys = t.render_and_write().await;
        st.cache.pin(&keys);
    });
    futures::join!(
        futures::future::join_all(envfiles),
        futures::future::join_all(templates)
    );
}

async fn resolve_one(st: &State, slot: &Arc<Slot>) {
    let res = st.resolver.resolve_envfile(&slot.spec).await;
    st.cache.pin(&slot.keys);
    let new = res.map(|e| Arc::new(e.vars)).map_err(Arc::new);
    let same = match (&*slot.tx.borrow(), &new) {
        (Some(prev), Ok(v)) => prev.result.as_ref().is_ok_and(|pv| **pv == **v),
        // An error replacing an error: keep the snapshot (its waiters have nothing new to see).
        (Some(prev), Err(_)) => prev.result.is_err(),
        (None, _) => false,
    };
    if same {
        // Nothing new to publish; a sink whose last write failed is tried again (with backoff)
        // rather than left waiting for the content to change.
        let snap = slot.tx.borrow().clone();
        if let Some(snap) = snap.filter(|s| s.result.is_ok()) {
            write_sinks(slot, &snap, true).await;
        }
        return;
    }
    match &new {
        Ok(_) => {
            slot.ok_once.store(true, Ordering::Release);
            tracing::info!(envfile = %slot.name, "env file resolved");
        }
        Err(p) => tracing::warn!(envfile = %slot.name, problems = %p, "env file failed to resolve"),
    }
    let snap = Arc::new(Snapshot::new(new));
    slot.tx.send_replace(Some(snap.clone()));
    if snap.result.is_ok() {
        write_sinks(slot, &snap, false).await;
    }
}

/// Write `snap` to the slot's sinks (with `retry_only`, only to those whose last write failed
/// and whose backoff has passed), recording each outcome for `/readyz` and the next retry.
async fn write_sinks(slot: &Slot, snap: &Snapshot, retry_only: bool) {
    let now = Instant::now();
    for (i, sink) in slot.sinks.iter().enumerate() {
        if retry_only {
            let health = slot.sink_health.lock().unwrap_or_else(|p| p.into_inner());
            if health.get(i).is_none_or(|h| h.written || h.next_try > now) {
                continue;
            }
        }
        let ok = write_sink(&slot.name, sink, snap).await;
        if let Some(h) = slot
            .sink_health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(i)
        {
            h.record(ok);
        }
    }
}

/// Render and write one sink; whether the file now holds the snapshot.
async fn write_sink(name: &str, sink: &crate::config::SinkSpec, snap: &Snapshot) -> bool {
    let crate::config::SinkSource::Envfile { format, .. } = &sink.source else {
        return true;
    };
    let rendered = match snap.render(name, *format) {
        Ok(Some(r)) => r,
        Ok(None) => return false,
        Err(e) => {
            tracing::warn!(envfile = name, sink = %sink.path.display(), error = %e, "sink render failed");
            return false;
        }
    };
    let text = match std::str::from_utf8(&rendered.body) {
        Ok(t) => envfile_core::SecretString::new(t.to_owned()),
        Err(_) => return false,
    };
    let sink2 = sink.clone();
    let wrote = tokio::task::spawn_blocking(move || sinks::write_if_changed(&sink2, &text)).await;
    match wrote {
        Ok(Ok(true)) => {
            tracing::info!(envfile = name, sink = %sink.path.display(), "sink written");
            sinks::on_change(sink).await;
            true
        }
        Ok(Ok(false)) => true,
        Ok(Err(e)) => {
            tracing::warn!(envfile = name, sink = %sink.path.display(), error = %e, "sink write failed; retrying with backoff, /readyz is 503 until it succeeds");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "sink task failed");
            false
        }
    }
}
