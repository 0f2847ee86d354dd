//! Exit codes and how failures reach the user.
//!
//! Every failure is printed to stderr as `envfile: error: …` with the reference and backend it
//! concerns, and a `hint:` line when we know what to do about it. Messages come from
//! [`envfile_core::Error`], which never carries a secret value.

use envfile_core::{Error, ErrorKind, Problem, Problems};
use std::io::Write;
use std::process::ExitCode;

/// Problems found (`check`), or resolution failed for a reason retrying will not fix.
pub const PROBLEMS: u8 = 1;
/// Bad usage or an invalid config (clap also exits 2 on usage errors).
pub const USAGE: u8 = 2;
/// A backend was unavailable, throttled or timed out: retrying later can succeed.
pub const RETRYABLE: u8 = 3;
/// Credentials missing or not allowed to read.
pub const DENIED: u8 = 4;
/// `exec`: the command was found but could not be executed (shell convention).
pub const EXEC_FAILED: u8 = 126;
/// `exec`: the command was not found (shell convention).
pub const EXEC_NOT_FOUND: u8 = 127;

/// The exit-code table, shown after the top-level `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    problems found (check), or a secret could not be resolved (not found, missing key, ...)
  2    usage error or invalid config (also: invalid reference)
  3    a backend was unavailable, throttled or timed out: retrying later can succeed
  4    authentication or permission denied
  126  exec: the command could not be executed
  127  exec: the command was not found

Environment:
  ENVFILE_CONFIG   config file (as --config)
  ENVFILE_PROFILE  profile (as --profile)
  ENVFILE_LOG      log filter (tracing syntax, e.g. `info` or `envfile_aws=debug`); --log-level wins
  ENVFILE_LOG_FORMAT  `text` or `json` (as --log-format)
  NO_COLOR         any non-empty value: no colour in log lines (there is none unless stderr is a terminal)";

/// The exit code for one error kind.
pub fn code_for_kind(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Config | ErrorKind::InvalidRef | ErrorKind::InvalidName => USAGE,
        ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::Timeout => RETRYABLE,
        ErrorKind::PermissionDenied | ErrorKind::Unauthenticated => DENIED,
        _ => PROBLEMS,
    }
}

/// The exit code for a set of problems: the shared class when every problem has the same one
/// (all retryable → 3, so an orchestrator can retry), otherwise 1.
pub fn code_for_problems(problems: &Problems) -> u8 {
    let mut codes = problems.0.iter().map(|p| code_for_kind(p.error.kind()));
    match codes.next() {
        Some(first) if codes.all(|c| c == first) => first,
        _ => PROBLEMS,
    }
}

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// One error.
    Error(Error),
    /// Several problems from resolving an env file; `context` says which (`envfile \`app\``).
    Problems {
        /// What was being resolved.
        context: String,
        /// Every problem found.
        problems: Problems,
    },
    /// Already reported to the user (e.g. `check` printed its table): just exit with this code.
    Reported(u8),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

/// Print `failure` to stderr and return the exit code.
pub fn report(failure: &Failure) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let code = match failure {
        Failure::Error(e) => {
            let _ = write!(err, "envfile: error: ");
            let _ = write_error(&mut err, e, "");
            code_for_kind(e.kind())
        }
        Failure::Problems { context, problems } => {
            let _ = writeln!(
                err,
                "envfile: error: {context}: {} problem(s):",
                problems.0.len()
            );
            for p in &problems.0 {
                let _ = write_problem(&mut err, p);
            }
            code_for_problems(problems)
        }
        Failure::Reported(code) => *code,
    };
    let _ = err.flush();
    ExitCode::from(code)
}

/// Write one error as `REF: message (backend `b`, kind)` and an indented `hint:` line.
pub fn write_error(out: &mut impl Write, e: &Error, indent: &str) -> std::io::Result<()> {
    if let Some(r) = e.reference() {
        write!(out, "{r}: ")?;
    }
    write!(out, "{}", e.message())?;
    match e.backend() {
        Some(b) => writeln!(out, " (backend `{b}`, {})", e.kind())?,
        None => writeln!(out, " ({})", e.kind())?,
    }
    if let Some(h) = e.hint() {
        writeln!(out, "{indent}hint: {h}")?;
    }
    Ok(())
}

/// Write one problem of a list as `  - VAR: REF: message (backend `b`, kind)` and a `hint:` line.
pub fn write_problem(out: &mut impl Write, p: &Problem) -> std::io::Result<()> {
    write!(out, "  - ")?;
    if let Some(var) = &p.var {
        write!(out, "{var}: ")?;
    }
    // The resolver may know the reference when the backend's error does not.
    match (&p.reference, p.error.reference()) {
        (Some(r), None) => {
            write!(out, "{r}: ")?;
            write_error(out, &p.error, "    ")
        }
        _ => write_error(out, &p.error, "    "),
    }
}
