//! `envfile get`: resolve one reference and print its value.
//!
//! The value is written as raw bytes. A newline follows only when stdout is a terminal, so
//! `X=$(envfile get …)` and `envfile get … > file` carry the value byte-exact (a command
//! substitution would strip trailing newlines anyway; a file would gain one).

use crate::context::GlobalArgs;
use crate::exit::Failure;
use crate::output;
use envfile_core::Reference;
use std::io::IsTerminal;

/// Arguments of `envfile get`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  envfile get aws:ml-incident/prod/jwt-secret-key
  envfile get 'vault:secret/api#database_url'
  envfile get 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/database:password::'")]
pub struct Args {
    /// The reference: `BACKEND:PATH[#KEY][?version=V&stage=S]`, an ECS valueFrom ARN, a GCP
    /// resource name, `sm://…` or `ref+…://…`.
    #[arg(value_name = "REF")]
    pub reference: String,
}

/// Run `envfile get`.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let reference = Reference::parse(&args.reference)?;
    let (_cfg, resolver) = global.resolver().await?;
    let value = resolver
        .get(&reference)
        .await
        .map_err(|e| e.or_reference(args.reference.clone()))?;
    output::write_stdout(value.expose_bytes())?;
    if std::io::stdout().is_terminal() {
        output::write_stdout(b"\n")?;
    }
    Ok(())
}
