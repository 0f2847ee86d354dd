//! The envfile broker (`envfile serve`): a sidecar that serves env files and secrets to local
//! programs over loopback HTTP and a unix socket.
//!
//! - [`listen`]: TCP + unix socket listeners, HTTP/1.1 with limits, connection cap; [`drain`]
//!   closes open connections gracefully at shutdown.
//! - [`auth`]: tokens (constant-time) and socket peer credentials; per-client grants.
//! - [`routes`]: `/v1/envfiles/{name}` (ETag, long-poll), `/v1/secrets/{ref}`, `/healthz`,
//!   `/readyz`, `/metrics`; [`aws_compat`] and [`vault_compat`] for drop-in clients.
//! - [`cache`]: the secret cache (TTL, refresh-ahead, single-flight, stale-on-error, bounded),
//!   as a backend decorator the core resolver reads through; [`refresh`] drives it.
//! - [`sinks`] (env files and, through [`template_sinks`], Vault Agent templates), [`audit`],
//!   [`metrics`].
//!
//! The broker depends on `envfile-core` only: it receives backends as `Arc<dyn Backend>` from
//! the CLI (some wrapped in a [`lazy::LazyBackend`] built on first use), and a [`Reload`] that
//! builds them again for `SIGHUP`.
//!
//! The server is shaped as [`run`]`(config, on_bound, shutdown)` so tests bind port 0 and stop it.
#![warn(missing_docs)]

pub mod audit;
pub mod auth;
pub mod aws_compat;
pub mod cache;
pub mod call_ceiling;
pub mod config;
pub mod drain;
pub mod lazy;
mod lease;
pub mod limits;
pub mod listen;
pub mod memory;
pub mod metrics;
mod probe_round;
pub mod refresh;
pub mod routes;
pub mod sinks;
pub mod state;
pub mod template_sinks;
pub mod vault_compat;

pub use config::{Overrides, Settings};
pub use listen::Bound;

use async_trait::async_trait;
use audit::Audit;
use envfile_core::{Backends, LoadedConfig, Result};
use futures::FutureExt as _;
use metrics::Metrics;
use state::State;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// A configuration and the backends built from it.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The loaded config.
    pub loaded: LoadedConfig,
    /// Its backends (not cached: the broker wraps them).
    pub backends: Backends,
}

/// Builds a fresh [`Setup`] (the CLI re-reads the config file and rebuilds the backends).
#[async_trait]
pub trait Reload: Send + Sync {
    /// Load the config again and build its backends.
    async fn reload(&self) -> Result<Setup>;
}

/// Everything [`run`] needs.
pub struct BrokerConfig {
    /// The initial config and backends.
    pub setup: Setup,
    /// Command-line overrides.
    pub overrides: Overrides,
    /// How to reload; without one, reload requests are logged and ignored.
    pub reloader: Option<Arc<dyn Reload>>,
    /// Notify this to reload (the CLI does on SIGHUP; tests call it directly).
    pub reload: Arc<Notify>,
    /// Whether `run` itself listens for SIGHUP.
    pub sighup: bool,
}

impl std::fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("setup", &self.setup)
            .field("overrides", &self.overrides)
            .field("reloader", &self.reloader.is_some())
            .finish_non_exhaustive()
    }
}

impl BrokerConfig {
    /// A config with no reloader and no signal handling (tests).
    pub fn new(setup: Setup, overrides: Overrides) -> Self {
        Self {
            setup,
            overrides,
            reloader: None,
            reload: Arc::new(Notify::new()),
            sighup: false,
        }
    }
}

/// What every request handler shares.
pub struct Shared {
    state: RwLock<Arc<State>>,
    /// Turns true when shutting down (long-polls end early).
    pub stop: watch::Receiver<bool>,
}

impl Shared {
    /// The current state.
    pub fn current(&self) -> Arc<State> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Serve until `shutdown` completes, then drain and return.
///
/// `on_bound` is called once the listeners are bound (with port 0 resolved), before the first
/// render finishes: `/readyz` says when every env file is ready.
pub async fn run<B, S>(config: BrokerConfig, on_bound: B, shutdown: S) -> Result<()>
where
    B: FnOnce(&Bound),
    S: Future<Output = ()>,
{
    let settings = Settings::from_config(&config.setup.loaded, &config.overrides)?;
    let metrics = Arc::new(Metrics::default());
    let audit = Arc::new(Audit::open(&settings.audit)?);
    let listeners = listen::bind(&settings).await?;
    let bound = listeners.bound();
    let state = Arc::new(State::build(
        &config.setup,
        settings,
        metrics.clone(),
        audit.clone(),
    ));
    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        state: RwLock::new(state),
        stop: stop_rx.clone(),
    });
    tracing::info!(tcp = ?bound.tcp, socket = ?bound.socket, "broker listening");
    on_bound(&bound);
    let server = tokio::spawn(listen::serve(listeners, shared.clone(), stop_rx.clone()));
    let refresher = tokio::spawn(refresh::run(shared.clone(), stop_rx.clone()));
    let reloader = tokio::spawn(reload_loop(
        shared.clone(),
        config,
        metrics,
        audit.clone(),
        stop_rx.clone(),
    ));
    shutdown.await;
    tracing::info!("shutting down: draining open requests");
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = refresher.await;
    // Dynamic secrets' leases stay by default: sink files and clients may still use them (a
    // backend's `revoke_leases = true` revokes them).
    shared.current().raw.release_all(false).await;
    reloader.abort();
    audit.close();
    Ok(())
}

async fn reload_loop(
    shared: Arc<Shared>,
    config: BrokerConfig,
    metrics: Arc<Metrics>,
    audit: Arc<Audit>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hup = if config.sighup {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    } else {
        None
    };
    loop {
        tokio::select! {
            _ = config.reload.notified() => {}
            Some(_) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {}
            _ = stop.changed() => return,
        }
        let Some(reloader) = &config.reloader else {
            tracing::warn!("reload requested, but this broker has no way to reload");
            continue;
        };
        // A reload runs code that reads whatever the new config holds: whatever goes wrong in
        // it (an error, or a panic nobody foresaw) is logged and the old config keeps serving.
        // This task must outlive it, or every later SIGHUP — a revoked client's, say — would
        // be ignored without a word.
        let attempt = reload_once(
            &shared,
            reloader.as_ref(),
            &config.overrides,
            &metrics,
            &audit,
        );
        if let Err(panic) = std::panic::AssertUnwindSafe(attempt).catch_unwind().await {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            tracing::error!(error = %what, "reload failed unexpectedly; the old config keeps serving");
        }
    }
}

async fn reload_once(
    shared: &Shared,
    reloader: &dyn Reload,
    overrides: &Overrides,
    metrics: &Arc<Metrics>,
    audit: &Arc<Audit>,
) {
    tracing::info!("reloading the configuration");
    let setup = match reloader.reload().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "reload failed: the new config is invalid; the old one keeps serving");
            return;
        }
    };
    let settings = match Settings::from_config(&setup.loaded, overrides) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "reload failed: the new broker settings are invalid; the old ones keep serving");
            return;
        }
    };
    let old = shared.current();
    if settings.listen != old.settings.listen
        || settings.socket != old.settings.socket
        || settings.audit != old.settings.audit
    {
        tracing::warn!("listener and audit changes take effect at the next restart");
    }
    let new = Arc::new(State::build(
        &setup,
        settings,
        metrics.clone(),
        audit.clone(),
    ));
    // Resolve before swapping so readers never see an unresolved state.
    let _ = tokio::time::timeout(Duration::from_secs(30), refresh::resolve_all(&new)).await;
    *shared.state.write().unwrap_or_else(|p| p.into_inner()) = new;
    tracing::info!("configuration reloaded");
}
