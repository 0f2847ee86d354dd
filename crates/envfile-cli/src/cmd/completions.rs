//! `envfile completions bash|zsh|fish`: a shell completion script generated from the clap
//! definitions, so it always matches the installed binary's commands and options.

use crate::exit::Failure;
use clap::CommandFactory;

/// Arguments of `envfile completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  envfile completions bash > /etc/bash_completion.d/envfile
  envfile completions zsh > \"${fpath[1]}/_envfile\"
  envfile completions fish > ~/.config/fish/completions/envfile.fish")]
pub struct Args {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells a completion script can be written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash (with bash-completion).
    Bash,
    /// zsh (a `_envfile` file on `$fpath`).
    Zsh,
    /// fish.
    Fish,
}

/// Print the completion script for `args.shell` to stdout.
pub fn run(args: Args) -> Result<(), Failure> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut crate::Cli::command(), "envfile", &mut out);
    crate::output::write_stdout(&out)?;
    Ok(())
}
