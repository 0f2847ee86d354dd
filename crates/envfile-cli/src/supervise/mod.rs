//! `envfile run`'s supervisor: start the child, stay its parent, pass signals on, reap orphans,
//! restart or signal the child when its secrets change, and exit with the child's status.
//!
//! Everything happens in one loop over four event sources (forwarded signals, SIGCHLD, changes
//! from the watcher, the kill deadline of a restart), so there is never more than one child and
//! no state is shared between tasks except the redaction patterns.

pub mod child;
pub mod duration;
pub mod reap;
pub mod redact;
pub mod signals;
pub mod watch;

use envfile_core::ResolvedEnv;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What to do when the child's environment changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// Stop the child and start it again with the new environment.
    Restart,
    /// Send the child this signal and keep it (its environment cannot change: the app must
    /// re-read its configuration from somewhere else, e.g. a file sink or the broker).
    Signal(Signal),
}

/// Parse `restart` or `signal:SIGHUP` for clap.
pub fn parse_on_change(text: &str) -> Result<OnChange, String> {
    match text.split_once(':') {
        None if text == "restart" => Ok(OnChange::Restart),
        Some(("signal", sig)) => signals::parse(sig).map(OnChange::Signal),
        _ => Err(format!(
            "invalid --on-change `{text}`: use `restart` or `signal:NAME` (e.g. signal:SIGHUP)"
        )),
    }
}

/// How the supervisor behaves.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// What a change does.
    pub on_change: OnChange,
    /// Sent to stop the child for a restart.
    pub restart_signal: Signal,
    /// How long a stopping child gets before SIGKILL.
    pub kill_timeout: Duration,
    /// How many times a child that exits on its own is started again.
    pub restart_on_exit: u32,
}

/// How the supervisor ended.
#[derive(Debug)]
pub enum Outcome {
    /// The child ended: exit with this code.
    Exited(u8),
    /// The child could not be started.
    SpawnFailed(std::io::Error),
}

/// How long to wait, after the child exits, for the output it wrote to be passed on (a
/// grandchild holding the pipe open must not keep us alive).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// Reap even if a SIGCHLD was missed (they coalesce; this is a safety net, not the mechanism).
const REAP_SAFETY_NET: Duration = Duration::from_secs(1);

struct Restart {
    deadline: Instant,
    killed: bool,
    env: ResolvedEnv,
}

/// Run the child under supervision until it ends for good.
pub async fn supervise(
    launch: child::Launch,
    env: ResolvedEnv,
    options: Options,
    mut changes: Option<mpsc::Receiver<watch::Change>>,
    redact_of: impl Fn(&ResolvedEnv) -> redact::Patterns,
) -> std::io::Result<Outcome> {
    use tokio::signal::unix::{signal, SignalKind};
    // Listen before the first spawn so no signal or exit can slip between the two.
    let mut forwarded = signals::listen()?;
    let mut sigchld = signal(SignalKind::child())?;
    reap::become_subreaper();
    let mut safety_net = tokio::time::interval(REAP_SAFETY_NET);

    let mut current_env = env;
    let mut child = match launch.spawn(&current_env) {
        Ok(c) => c,
        Err(e) => return Ok(Outcome::SpawnFailed(e)),
    };
    tracing::debug!(pid = child.pid.as_raw(), "child started");
    let mut restart: Option<Restart> = None;
    let mut stopping = false;
    let mut restarts_left = options.restart_on_exit;

    loop {
        let deadline = restart.as_ref().filter(|r| !r.killed).map(|r| r.deadline);
        tokio::select! {
            Some(sig) = forwarded.recv() => {
                if signals::is_stop_request(sig) {
                    stopping = true;
                }
                send(child.pid, sig);
            }
            _ = sigchld.recv() => {}
            _ = safety_net.tick() => {}
            Some(change) = next_change(&mut changes), if restart.is_none() && !stopping => {
                if let Some(shared) = &launch.redact {
                    // Old values stay masked too: the running child may still print them.
                    let added = redact_of(&change.env);
                    let mut guard = shared.write().unwrap_or_else(|p| p.into_inner());
                    *guard = Arc::new(guard.union(&added));
                }
                match options.on_change {
                    OnChange::Restart => {
                        tracing::warn!(pid = child.pid.as_raw(), signal = %options.restart_signal, "secrets changed: restarting the child");
                        send(child.pid, options.restart_signal);
                        restart = Some(Restart {
                            deadline: Instant::now() + options.kill_timeout,
                            killed: false,
                            env: change.env,
                        });
                    }
                    OnChange::Signal(sig) => {
                        tracing::warn!(pid = child.pid.as_raw(), signal = %sig, "secrets changed: signalling the child");
                        send(child.pid, sig);
                        // The next start (after --restart-on-exit) uses the new values.
                        current_env = change.env;
                    }
                }
                continue;
            }
            _ = sleep_until(deadline), if deadline.is_some() => {
                tracing::warn!(pid = child.pid.as_raw(), timeout = ?options.kill_timeout, "the child did not stop in time: SIGKILL");
                send(child.pid, Signal::SIGKILL);
                if let Some(r) = &mut restart {
                    r.killed = true;
                }
                continue;
            }
        }

        let Some(status) = reap::reap_exited()
            .into_iter()
            .find(|(pid, _)| *pid == child.pid)
            .map(|(_, s)| s)
        else {
            continue;
        };
        let code = signals::exit_code(&status);
        let old_pumps = std::mem::take(&mut child.pumps);
        let next_env = match restart.take() {
            Some(r) if !stopping => Some(r.env),
            Some(_) => None,
            None if !stopping && restarts_left > 0 => {
                restarts_left -= 1;
                tracing::warn!(
                    code,
                    left = restarts_left,
                    "the child exited on its own: starting it again (--restart-on-exit)"
                );
                Some(current_env.clone())
            }
            None => None,
        };
        let Some(next_env) = next_env else {
            drain(old_pumps).await;
            tracing::debug!(code, "child exited");
            return Ok(Outcome::Exited(code));
        };
        // The old child's output keeps flowing from its pumps while the new one starts.
        current_env = next_env;
        child = match launch.spawn(&current_env) {
            Ok(c) => c,
            Err(e) => {
                drain(old_pumps).await;
                return Ok(Outcome::SpawnFailed(e));
            }
        };
        tracing::info!(pid = child.pid.as_raw(), "child started");
    }
}

async fn next_change(changes: &mut Option<mpsc::Receiver<watch::Change>>) -> Option<watch::Change> {
    match changes {
        Some(rx) => match rx.recv().await {
            Some(c) => Some(c),
            None => {
                // The watcher ended (nothing to watch): stop polling the channel.
                *changes = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn send(pid: Pid, sig: Signal) {
    // ESRCH: the child has exited and been reaped; its exit is handled on SIGCHLD.
    if let Err(e) = kill(pid, sig) {
        tracing::debug!(pid = pid.as_raw(), signal = %sig, error = %e, "could not signal the child");
    }
}

async fn drain(pumps: Vec<tokio::task::JoinHandle<()>>) {
    // One deadline for all: stdout and stderr are usually held open by the same grandchild.
    let all = async {
        for p in pumps {
            let _ = p.await;
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, all).await;
}
