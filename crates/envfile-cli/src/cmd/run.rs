//! `envfile run`: resolve an env file, start the command as a child and supervise it — the
//! container entrypoint for apps whose secrets rotate. Unlike `exec`, envfile stays as the
//! parent (PID 1 in a container): it passes signals on, reaps orphans, exits with the child's
//! status, and with `--watch` restarts or signals the child when its environment changes.

use crate::cmd::exec;
use crate::context::{pick_envfile, resolve_envfile, GlobalArgs};
use crate::exit::Failure;
use crate::supervise::{self, child, duration, redact, signals, watch, OnChange, Outcome};
use envfile_core::config::VarSource;
use envfile_core::{Error, ResolvedEnv};
use nix::sys::signal::Signal;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Arguments of `envfile run`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The command inherits envfile's environment plus the resolved variables (which win on a clash);
with --clean-env it gets only the resolved variables. stdin, stdout, stderr and the terminal are
the command's own (with --redact-output, stdout and stderr go through envfile).

envfile stays the command's parent: it passes SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
and SIGWINCH on to it, reaps orphaned processes (as PID 1, or as a child subreaper elsewhere),
and exits with the command's exit code, or 128 + N when a signal N killed it.

--watch polls the secrets' versions every --interval (±10% jitter). Only when a version moved is
the env file resolved again, and only when the command's variables really differ (a new version
with the same value changes nothing) and every reference resolved does envfile act:
  --on-change restart          send --restart-signal, wait --kill-timeout, SIGKILL, start again
  --on-change signal:SIGHUP    signal the command and keep it running. Its environment cannot
                               change: the app must re-read its config (from a file written by
                               `envfile render`/`serve`, or from the broker)
Changes within --debounce cause one action. While a backend cannot be reached the command keeps
running on its current values; envfile logs a warning and retries with backoff.

--redact-output masks every resolved secret value, and its base64 form, in the command's output
as `[redacted]`. Values shorter than 4 bytes are not masked (they would mangle every line);
literal `{ value = … }` variables are not masked. A secret written in two pieces more than 100ms
apart can escape the mask.

Exit codes (before the command starts, every failing reference is listed at once):
  1, 2, 3, 4  resolving failed: see `envfile --help` (3: a backend was unavailable, retry later)
  126         the command could not be executed;  127: the command was not found
Once the command has started, the exit code is always the command's own (128 + N if killed).

Examples:
  envfile run --watch app -- python -m app
  envfile run --watch --interval 30s --on-change signal:SIGHUP app -- nginx -g 'daemon off;'")]
pub struct Args {
    /// The env file to resolve (a name from the config).
    #[arg(value_name = "ENVFILE")]
    pub envfile: String,
    /// Give the command only the resolved variables, none of envfile's environment.
    #[arg(long)]
    pub clean_env: bool,
    /// Watch the secrets and act when the command's environment changes.
    #[arg(long)]
    pub watch: bool,
    /// How often to check for changes (e.g. 500ms, 10s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration::parse_nonzero, requires = "watch")]
    pub interval: Duration,
    /// What a change does: `restart`, or `signal:NAME` to signal the command and keep it.
    #[arg(long, value_name = "ACTION", default_value = "restart", value_parser = supervise::parse_on_change, requires = "watch")]
    pub on_change: OnChange,
    /// Changes seen within this window cause one action.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration::parse, requires = "watch")]
    pub debounce: Duration,
    /// The signal that asks the command to stop before a restart.
    #[arg(long, value_name = "SIGNAL", default_value = "SIGTERM", value_parser = signals::parse)]
    pub restart_signal: Signal,
    /// How long a stopping command gets before SIGKILL.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration::parse)]
    pub kill_timeout: Duration,
    /// Start the command again when it exits on its own, at most N times.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub restart_on_exit: u32,
    /// Mask secret values (and their base64 form) in the command's stdout and stderr.
    #[arg(long)]
    pub redact_output: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Run `envfile run`. Returns when the command has ended for good.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let (cfg, resolver) = global.resolver().await?;
    let (name, spec) = pick_envfile(&cfg, Some(&args.envfile))?;
    let resolved = resolve_envfile(&resolver, &name, spec).await?;
    child::check_env(&resolved)?;

    let (path, program, rest) = exec::locate(&args.command)?;

    // Literal variables are configuration, not secrets: masking `INFO` would only confuse.
    let literals: BTreeSet<String> = spec
        .vars
        .iter()
        .filter(|(_, s)| matches!(s, VarSource::Literal { .. }))
        .map(|(n, _)| n.clone())
        .collect();
    let redact_of = move |env: &ResolvedEnv| {
        redact::Patterns::new(
            env.vars
                .iter()
                .filter(|v| !literals.contains(&v.name))
                .map(|v| v.value.expose_bytes()),
        )
    };
    let redact = args
        .redact_output
        .then(|| Arc::new(RwLock::new(Arc::new(redact_of(&resolved)))));

    let launch = child::Launch {
        program: path.clone(),
        arg0: program.clone(),
        args: rest.to_vec(),
        clean_env: args.clean_env,
        redact,
    };
    let options = supervise::Options {
        on_change: args.on_change,
        restart_signal: args.restart_signal,
        kill_timeout: args.kill_timeout,
        restart_on_exit: args.restart_on_exit,
    };
    // Kept to give back dynamic secrets' leases once the command has ended (the watcher owns
    // the resolver).
    let backends = resolver.backends().clone();
    let changes = if args.watch {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let settings = watch::Settings {
            interval: args.interval,
            debounce: args.debounce,
        };
        let (spec, initial) = (spec.clone(), resolved.clone());
        tokio::spawn(async move { watch::watch(resolver, spec, &initial, settings, tx).await });
        Some(rx)
    } else {
        None
    };
    tracing::debug!(envfile = %name, vars = resolved.vars.len(), watch = args.watch, "run");

    let outcome = supervise::supervise(launch, resolved, options, changes, redact_of).await;
    // The command has ended: nothing uses its credentials any more, so their leases are revoked
    // (a backend's `revoke_leases = false` keeps them until their TTL).
    backends.release_all(true).await;
    let outcome = outcome.map_err(|e| Failure::from(Error::from(e)))?;
    match outcome {
        Outcome::Exited(0) => Ok(()),
        Outcome::Exited(code) => Err(Failure::Reported(code)),
        Outcome::SpawnFailed(e) => Err(exec::cannot_execute(&path, &e)),
    }
}
