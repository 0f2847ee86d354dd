//! `envfile exec`: resolve an env file, then replace this process with the command (Unix
//! `execve`), so the command gets envfile's pid, signals and exit status — the shape an
//! entrypoint needs. Nothing runs when any reference fails: every problem is reported at once.

use crate::context::{pick_envfile, resolve_envfile, GlobalArgs};
use crate::exit::{self, Failure};
use crate::supervise::child;
use envfile_core::Error;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

/// Arguments of `envfile exec`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
The command inherits envfile's environment plus the resolved variables (which win on a clash).
With --clean-env it gets only the resolved variables: not even PATH or HOME. The command itself
is looked up on envfile's own PATH either way.

Examples:
  envfile exec app -- python -m app
  envfile exec --clean-env app -- /usr/local/bin/server --port 8080")]
pub struct Args {
    /// The env file to resolve (a name from the config).
    #[arg(value_name = "ENVFILE")]
    pub envfile: String,
    /// Give the command only the resolved variables, none of envfile's environment.
    #[arg(long)]
    pub clean_env: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// Run `envfile exec`. Returns only on failure.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let (cfg, resolver) = global.resolver().await?;
    let (name, spec) = pick_envfile(&cfg, Some(&args.envfile))?;
    let resolved = resolve_envfile(&resolver, &name, spec).await?;

    let (path, program, rest) = locate(&args.command)?;
    child::check_env(&resolved)?;

    let mut command = std::process::Command::new(&path);
    command.arg0(program).args(rest);
    if args.clean_env {
        command.env_clear();
    }
    for var in &resolved.vars {
        command.env(&var.name, OsStr::from_bytes(var.value.expose_bytes()));
    }
    tracing::debug!(envfile = %name, vars = resolved.vars.len(), "exec");
    // Only returns on failure.
    let err = command.exec();
    Err(cannot_execute(&path, &err))
}

/// Split `command` into the program (found as [`find_program`] does) and its arguments. A
/// program that is not found is reported here, with the shell's exit code 127.
pub(crate) fn locate(command: &[OsString]) -> Result<(PathBuf, &OsString, &[OsString]), Failure> {
    let Some((program, rest)) = command.split_first() else {
        return Err(Error::config("no command given after `--`").into());
    };
    let Some(path) = find_program(program) else {
        eprintln!(
            "envfile: error: command not found: {}",
            program.to_string_lossy()
        );
        return Err(Failure::Reported(exit::EXEC_NOT_FOUND));
    };
    Ok((path, program, rest))
}

/// Report that `path` could not be started, with the shell's exit code for why.
pub(crate) fn cannot_execute(path: &Path, err: &std::io::Error) -> Failure {
    let code = match err.kind() {
        std::io::ErrorKind::NotFound => exit::EXEC_NOT_FOUND,
        _ => exit::EXEC_FAILED,
    };
    eprintln!("envfile: error: cannot execute {}: {err}", path.display());
    Failure::Reported(code)
}

/// Resolve `program` the way a shell would: a name with a `/` is a path; otherwise the first
/// executable file of that name on our own `PATH`.
fn find_program(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        let p = PathBuf::from(program);
        return p.exists().then_some(p);
    }
    if program.is_empty() {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
