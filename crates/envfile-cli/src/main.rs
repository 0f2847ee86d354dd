//! The `envfile` binary: resolve secrets from AWS Secrets Manager, Vault/OpenBao, GCP Secret
//! Manager or local files into environment variables, and hand them to a program or a file.
//!
//! Layout: this file holds the clap [`Cli`], the [`Command`] enum and the dispatch; each
//! subcommand lives in its own module under [`cmd`] with an `Args` struct and an async `run`.
//! Adding a command is one new file under `src/cmd/` plus one variant and one match arm here.
//! [`exit`] maps failures to exit codes and prints them; [`output`] writes files atomically;
//! [`context`] loads the config and builds the resolver; [`wiring`] builds the backends.
#![warn(missing_docs)]

/// `eprintln!` that never panics. std's panics when stderr cannot be written (`2>/dev/full`, a
/// closed pipe), which would turn any warning into exit 101; a message that cannot be shown is
/// dropped and envfile exits with the code it would have. Defined before the modules, so it
/// replaces std's in all of them.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod cmd;
mod context;
#[cfg(test)]
mod dotenv_props;
mod dotenv_read;
mod ecs_taskdef;
mod exit;
mod logging;
mod output;
mod progress;
mod supervise;
mod wiring;

use clap::{Parser, Subcommand};
use context::GlobalArgs;
use std::process::ExitCode;

/// Resolve secrets from several backends into environment variables.
#[derive(Debug, Parser)]
#[command(
    name = "envfile",
    version,
    about = "Resolve secrets from AWS Secrets Manager, Vault/OpenBao, GCP Secret Manager or local \
             files into environment variables: render env files, exec programs, preflight checks.",
    after_help = exit::EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. One variant per module under `src/cmd/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve an env file and write it in a format (dotenv, dotenv-node, dotenv-compose, shell, json, yaml, systemd, docker, k8s-secret).
    Render(cmd::render::Args),
    /// Resolve one reference and print its value.
    Get(cmd::get::Args),
    /// Resolve an env file and replace this process with a command running in it.
    Exec(cmd::exec::Args),
    /// Resolve an env file and supervise a command in it: pass signals on, reap orphans, and
    /// with --watch restart or signal it when its secrets change.
    Run(cmd::run::Args),
    /// Preflight: resolve every env file and report every problem with a hint.
    Check(cmd::check::Args),
    /// Import a .env file into a backend (plan by default; --apply writes).
    Import(cmd::import::Args),
    /// Print the least-privilege access policy for the secrets the config reads.
    Policy(cmd::policy::Args),
    /// Run the broker: serve env files and secrets over loopback HTTP and a unix socket.
    Serve(cmd::serve::Args),
    /// Ask a running broker whether it is ready (exit 0) or not (exit 3): for exec probes.
    Ready(cmd::ready::Args),
    /// Print a shell completion script (bash, zsh, fish).
    Completions(cmd::completions::Args),
    /// Print the manual page (roff), generated from the same definitions as --help.
    Man(cmd::man::Args),
}

fn main() -> ExitCode {
    // clap prints usage errors and `--help` itself and panics when it cannot: do it here.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    context::init_logging(&cli.global);
    let runtime = match &cli.command {
        Command::Serve(_) => cmd::serve::runtime(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => return exit::report(&exit::Failure::from(envfile_core::Error::from(e))),
    };
    let result = runtime.block_on(dispatch(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => exit::report(&failure),
    }
}

async fn dispatch(cli: Cli) -> Result<(), exit::Failure> {
    let global = cli.global;
    match cli.command {
        Command::Render(args) => cmd::render::run(args, &global).await,
        Command::Get(args) => cmd::get::run(args, &global).await,
        Command::Exec(args) => cmd::exec::run(args, &global).await,
        Command::Run(args) => cmd::run::run(args, &global).await,
        Command::Check(args) => cmd::check::run(args, &global).await,
        Command::Import(args) => cmd::import::run(args, &global).await,
        Command::Policy(args) => cmd::policy::run(args, &global).await,
        Command::Serve(args) => cmd::serve::run(args, &global).await,
        Command::Ready(args) => cmd::ready::run(args, &global).await,
        Command::Completions(args) => cmd::completions::run(args),
        Command::Man(args) => cmd::man::run(args),
    }
}
