//! `envfile check`: the preflight. Resolves every env file (or the ones named) and reports
//! every problem — unresolvable references, missing JSON keys, required variables absent or
//! empty — each with its hint, as a list for people or JSON for machines. Values are never
//! printed; resolved values are dropped (and zeroized) as soon as they are checked.

use crate::context::GlobalArgs;
use crate::exit::{self, Failure};
use crate::progress::Progress;
use envfile_core::Problem;
use serde::Serialize;
use std::io::Write;

/// Arguments of `envfile check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exits 0 when everything resolves, 1 when any problem is found, 2 on a config error.

Examples:
  envfile check
  envfile check api worker --format json | jq '.[] | .hint'")]
pub struct Args {
    /// The env files to check [default: every env file in the config].
    #[arg(value_name = "ENVFILE")]
    pub envfiles: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
}

/// How `check` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// A list with one block per problem, and a summary line.
    Human,
    /// A JSON array of `{envfile, var, reference, kind, message, hint}`.
    Json,
}

/// One problem as `--format json` prints it.
#[derive(Debug, Serialize)]
struct Row<'a> {
    envfile: &'a str,
    var: Option<&'a str>,
    reference: Option<&'a str>,
    kind: &'static str,
    message: &'a str,
    hint: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn new(envfile: &'a str, p: &'a Problem) -> Self {
        Row {
            envfile,
            var: p.var.as_deref(),
            reference: p.reference.as_deref().or(p.error.reference()),
            kind: p.error.kind().as_str(),
            message: p.error.message(),
            hint: p.error.hint(),
        }
    }
}

/// Run `envfile check`.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let (cfg, resolver) = global.resolver().await?;
    let names: Vec<String> = if args.envfiles.is_empty() {
        cfg.config.envfiles.keys().cloned().collect()
    } else {
        args.envfiles.clone()
    };
    // Unknown names are a usage error before anything is fetched.
    let mut specs = Vec::with_capacity(names.len());
    for name in &names {
        specs.push((name.as_str(), cfg.envfile(name)?));
    }

    let mut found: Vec<(&str, Problem)> = Vec::new();
    let mut var_count = 0usize;
    let mut progress = Progress::stderr("checking", "env files", specs.len());
    progress.show();
    for (name, spec) in &specs {
        match resolver.resolve_envfile(spec).await {
            Ok(resolved) => var_count += resolved.vars.len(),
            Err(problems) => found.extend(problems.0.into_iter().map(|p| (*name, p))),
        }
        progress.step();
    }
    drop(progress);

    let mut out = std::io::stdout().lock();
    let written = match args.format {
        CheckFormat::Json => write_json(&mut out, &found),
        CheckFormat::Human => write_human(&mut out, specs.len(), var_count, &found),
    };
    written
        .and_then(|()| out.flush())
        .map_err(envfile_core::Error::from)?;
    if found.is_empty() {
        Ok(())
    } else {
        Err(Failure::Reported(exit::PROBLEMS))
    }
}

fn write_json(out: &mut impl Write, found: &[(&str, Problem)]) -> std::io::Result<()> {
    let rows: Vec<Row<'_>> = found.iter().map(|(e, p)| Row::new(e, p)).collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)
}

fn write_human(
    out: &mut impl Write,
    envfiles: usize,
    vars: usize,
    found: &[(&str, Problem)],
) -> std::io::Result<()> {
    if found.is_empty() {
        return writeln!(
            out,
            "envfile check: OK: {envfiles} envfile(s), {vars} variable(s) resolved"
        );
    }
    let mut current: Option<&str> = None;
    for (envfile, p) in found {
        if current != Some(envfile) {
            writeln!(out, "envfile `{envfile}`:")?;
            current = Some(envfile);
        }
        exit::write_problem(out, p)?;
    }
    let affected = {
        let mut v: Vec<&str> = found.iter().map(|(e, _)| *e).collect();
        v.dedup();
        v.len()
    };
    writeln!(
        out,
        "envfile check: {} problem(s) in {affected} of {envfiles} envfile(s)",
        found.len()
    )
}
