//! Starting the child: its command line, its environment, and (with `--redact-output`) pipes
//! for its output.

use super::redact;
use envfile_core::{Error, ErrorKind, ResolvedEnv};
use nix::unistd::Pid;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::task::JoinHandle;

/// How to start the child; the same for every restart.
#[derive(Debug)]
pub struct Launch {
    /// The program, looked up on envfile's own `PATH` (as `exec` does).
    pub program: PathBuf,
    /// `argv[0]` as the user wrote it.
    pub arg0: OsString,
    /// The remaining arguments.
    pub args: Vec<OsString>,
    /// Give the child only the resolved variables.
    pub clean_env: bool,
    /// Pipe stdout/stderr through the masker.
    pub redact: Option<redact::Shared>,
}

/// A started child.
#[derive(Debug)]
pub struct Running {
    /// Its pid.
    pub pid: Pid,
    /// The output pumps (with `--redact-output`); done when the child's output is closed.
    pub pumps: Vec<JoinHandle<()>>,
}

/// Refuse an environment the kernel cannot carry, naming the variable (never the value).
/// `execve` takes C strings, so a value with a NUL byte would be cut off or rejected.
pub fn check_env(env: &ResolvedEnv) -> Result<(), Error> {
    for var in &env.vars {
        if var.value.expose_bytes().contains(&0) {
            return Err(Error::new(
                ErrorKind::Unrepresentable,
                format!(
                    "{}: the value contains a NUL byte, which an environment variable cannot carry",
                    var.name
                ),
            ));
        }
    }
    Ok(())
}

impl Launch {
    /// Start the child with `env` (on top of envfile's own environment unless `clean_env`).
    pub fn spawn(&self, env: &ResolvedEnv) -> std::io::Result<Running> {
        let mut command = std::process::Command::new(&self.program);
        command.arg0(&self.arg0).args(&self.args);
        if self.clean_env {
            command.env_clear();
        }
        for var in &env.vars {
            command.env(&var.name, OsStr::from_bytes(var.value.expose_bytes()));
        }
        command.stdin(Stdio::inherit());
        if self.redact.is_some() {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        } else {
            command.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        }
        let mut child = command.spawn()?;
        let pid = Pid::from_raw(child.id() as i32);
        let mut pumps = Vec::new();
        if let Some(patterns) = &self.redact {
            if let Some(out) = child.stdout.take() {
                let out = tokio::process::ChildStdout::from_std(out)?;
                pumps.push(tokio::spawn(redact::pump(
                    out,
                    tokio::io::stdout(),
                    patterns.clone(),
                )));
            }
            if let Some(err) = child.stderr.take() {
                let err = tokio::process::ChildStderr::from_std(err)?;
                pumps.push(tokio::spawn(redact::pump(
                    err,
                    tokio::io::stderr(),
                    patterns.clone(),
                )));
            }
        }
        // The supervisor reaps by pid (see `reap`); dropping the handle neither waits nor kills.
        drop(child);
        Ok(Running { pid, pumps })
    }
}
