//! `envfile serve`: the broker. Loads the config, builds the backends, and hands both to
//! `envfile_broker::run`; SIGHUP rebuilds them from the config file (a broken config is logged
//! and the old one keeps serving), SIGTERM and Ctrl-C drain and exit.
//!
//! The broker is a long-lived sidecar that waits on sockets: it runs on a small runtime
//! ([`runtime`]) and builds Vault clients on first use ([`build_backends`]).

use crate::context::GlobalArgs;
use crate::exit::Failure;
use envfile_broker::auth::Token;
use envfile_broker::lazy::LazyBackend;
use envfile_broker::{BrokerConfig, Overrides, Reload, Setup};
use envfile_core::{config, Backend, Backends, LoadedConfig};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `envfile serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Every option also lives in the config under [broker] (plus [[broker.clients]] and [[sinks]]).
The TCP token comes from --token-file, ENVFILE_BROKER_TOKEN, or broker.token = \"file:///path\";
without one the broker refuses to listen on TCP (use --listen off to serve only the socket).

Examples:
  ENVFILE_BROKER_TOKEN=$(cat /run/secrets/broker-token) envfile serve
  envfile serve --listen off --socket /run/envfile/broker.sock
  curl -H \"X-Envfile-Token: $TOKEN\" 'http://127.0.0.1:7390/v1/envfiles/api?format=shell'")]
pub struct Args {
    /// TCP address to listen on (loopback only unless --allow-remote), or `off`
    /// [default: 127.0.0.1:7390].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Also listen on this unix socket (mode 0660; a stale socket is replaced).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Read the TCP token from this file.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Allow a non-loopback --listen address.
    #[arg(long)]
    pub allow_remote: bool,
}

struct CliReload {
    config: Option<PathBuf>,
    profile: Option<String>,
}

#[async_trait::async_trait]
impl Reload for CliReload {
    async fn reload(&self) -> envfile_core::Result<Setup> {
        let loaded = config::load(self.config.as_deref(), self.profile.as_deref())?;
        let backends = build_backends(&loaded).await?;
        Ok(Setup { loaded, backends })
    }
}

/// Run `envfile serve` until SIGTERM or Ctrl-C.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let token_env = match std::env::var("ENVFILE_BROKER_TOKEN") {
        Ok(t) if !t.is_empty() => Some(Token::new(&t, "ENVFILE_BROKER_TOKEN")?),
        _ => None,
    };
    let loaded = global.load_config()?;
    let backends = build_backends(&loaded).await?;
    let overrides = Overrides {
        listen: args.listen,
        socket: args.socket,
        allow_remote: args.allow_remote,
        token_file: args.token_file,
        token_env,
    };
    let config = BrokerConfig {
        setup: Setup { loaded, backends },
        overrides,
        reloader: Some(Arc::new(CliReload {
            config: global.config.clone(),
            profile: global.profile.clone(),
        })),
        reload: Arc::new(tokio::sync::Notify::new()),
        sighup: true,
    };
    let on_bound = |b: &envfile_broker::Bound| {
        // Always printed (not a log line): scripts and tests read the resolved port from it.
        if let Some(a) = b.tcp {
            eprintln!("envfile: serving on http://{a}");
        }
        if let Some(p) = &b.socket {
            eprintln!("envfile: serving on unix:{}", p.display());
        }
    };
    envfile_broker::run(config, on_bound, shutdown_signal()).await?;
    Ok(())
}

/// The runtime `envfile serve` runs on. The broker waits on sockets and backends; two worker
/// threads keep up with loopback clients (see `scripts/bench`), where the default of one per
/// core would cost a stack and a malloc arena each on a large node. glibc's malloc also makes an
/// arena per thread that allocates (up to 8 per core), each keeping the memory it freed: two
/// are enough here.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; it runs before any thread is spawned.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}

/// The config's backends, Vault ones built on first use: a Vault client loads TLS roots and
/// keeps an HTTP pool and auth state, which a broker that never reads Vault does not need. The
/// settings are validated now, so a broken Vault config still fails at start-up.
pub async fn build_backends(cfg: &LoadedConfig) -> envfile_core::Result<Backends> {
    let mut out = Backends::new();
    for (name, entry) in &cfg.config.backends {
        if entry.kind == "vault" {
            let settings = envfile_vault::VaultConfig::load(name, cfg)?;
            let caps = envfile_vault::VaultBackend::capabilities_for(envfile_vault::KvVersion::V2);
            let build = move || {
                let settings = settings.clone();
                async move {
                    Ok(Arc::new(envfile_vault::VaultBackend::new(settings)?) as Arc<dyn Backend>)
                }
            };
            out.insert(Arc::new(LazyBackend::new(name, "vault", caps, build)));
        } else {
            out.insert(crate::wiring::build_backend(name, &entry.kind, cfg).await?);
        }
    }
    Ok(out)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
