//! `envfile man`: the manual page (roff), generated from the clap definitions: the same text
//! as `--help`, for every subcommand, in one page.

use crate::exit::Failure;
use clap::CommandFactory;

/// Arguments of `envfile man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  envfile man | man -l -
  envfile man > /usr/local/share/man/man1/envfile.1")]
pub struct Args {}

/// Print the man page to stdout.
pub fn run(_args: Args) -> Result<(), Failure> {
    let cmd = crate::Cli::command();
    let mut out = Vec::new();
    let io = |e: std::io::Error| Failure::from(envfile_core::Error::from(e));
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out).map_err(io)?;
    man.render_name_section(&mut out).map_err(io)?;
    man.render_synopsis_section(&mut out).map_err(io)?;
    man.render_description_section(&mut out).map_err(io)?;
    man.render_options_section(&mut out).map_err(io)?;
    man.render_subcommands_section(&mut out).map_err(io)?;
    // One section per subcommand with its own options, so the page answers what `--help` of
    // each command does.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_owned();
        let sub = sub.clone().bin_name(format!("envfile {name}"));
        let page = clap_mangen::Man::new(sub);
        let mut roff = Vec::new();
        page.render_synopsis_section(&mut roff).map_err(io)?;
        page.render_options_section(&mut roff).map_err(io)?;
        let text = String::from_utf8_lossy(&roff)
            .replace(
                ".SH SYNOPSIS",
                &format!(".SH \"ENVFILE {}\"", name.to_uppercase()),
            )
            .replace(".SH OPTIONS", ".SS Options");
        out.extend_from_slice(text.as_bytes());
    }
    // The top-level after_help: exit codes and environment variables.
    let mut extra = Vec::new();
    man.render_extra_section(&mut extra).map_err(io)?;
    let extra = String::from_utf8_lossy(&extra).replace(".SH EXTRA", ".SH \"EXIT STATUS\"");
    out.extend_from_slice(extra.as_bytes());
    man.render_version_section(&mut out).map_err(io)?;
    crate::output::write_stdout(&out)?;
    Ok(())
}
