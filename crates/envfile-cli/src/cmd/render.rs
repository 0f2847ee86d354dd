//! `envfile render`: resolve an env file and write it in one format, to stdout or atomically
//! to a file.

use crate::context::{pick_envfile, resolve_envfile, GlobalArgs};
use crate::exit::Failure;
use crate::output;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use envfile_core::render::{self, Format, RenderOptions};
use std::path::PathBuf;

/// Arguments of `envfile render`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  envfile render app --format shell > app.sh
  envfile render app --format dotenv --out /run/secrets/app.env --mode 0400
  envfile render api --format k8s-secret --namespace prod | kubectl apply -f -")]
pub struct Args {
    /// The env file to render (a name from the config); optional when the config has only one.
    #[arg(value_name = "ENVFILE")]
    pub envfile: Option<String>,
    /// Output format.
    #[arg(long, short, default_value = "dotenv", value_parser = format_parser())]
    pub format: Format,
    /// Write to FILE atomically (temp file + rename) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Permission bits of --out, in octal.
    #[arg(long, default_value = "0600", value_parser = output::parse_mode, requires = "out")]
    pub mode: u32,
    /// k8s-secret: `metadata.name` [default: the env file's name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// k8s-secret: `metadata.namespace`.
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Render this Vault Agent (Go text/template) template instead of an env file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["envfile", "name", "namespace"])]
    pub template: Option<PathBuf>,
    /// With --template: the left action delimiter (the agent's `left_delimiter`).
    #[arg(
        long,
        value_name = "DELIM",
        default_value = "{{",
        requires = "template"
    )]
    pub left_delimiter: String,
    /// With --template: the right action delimiter (the agent's `right_delimiter`).
    #[arg(
        long,
        value_name = "DELIM",
        default_value = "}}",
        requires = "template"
    )]
    pub right_delimiter: String,
    /// With --template: a missing map key is an error, not `<no value>` (the agent's
    /// `error_on_missing_key`).
    #[arg(long, requires = "template")]
    pub error_on_missing_key: bool,
    /// With --template and --out: create the destination's missing parent directories
    /// (mode 0755, as the agent's `create_dest_dirs`).
    #[arg(long, requires_all = ["template", "out"])]
    pub create_dest_dirs: bool,
    /// List the functions --template supports (one per line) and exit.
    #[arg(long, exclusive = true)]
    pub template_functions: bool,
    /// Render what an ECS task would see: its container's `secrets` and `environment`.
    #[arg(long, value_name = "TASKDEF.json", conflicts_with = "envfile")]
    pub from_ecs_task_definition: Option<PathBuf>,
    /// With --from-ecs-task-definition: the container [default: the only one].
    #[arg(long, value_name = "NAME", requires = "from_ecs_task_definition")]
    pub container: Option<String>,
}

/// `--format` values, listed in `--help` and checked by clap.
pub fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::ALL.map(Format::as_str)).try_map(|s| s.parse::<Format>())
}

/// Run `envfile render`.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    if args.template_functions {
        let mut list = envfile_template::function_names().join("\n");
        list.push('\n');
        return Ok(output::write_stdout(list.as_bytes())?);
    }
    if let Some(t) = &args.template {
        let options = envfile_template::Options {
            left_delimiter: args.left_delimiter.clone(),
            right_delimiter: args.right_delimiter.clone(),
            error_on_missing_key: args.error_on_missing_key,
        };
        let out = args.out.as_ref().map(|path| super::template::Dest {
            path,
            mode: args.mode,
            create_dirs: args.create_dest_dirs,
        });
        return super::template::run(t, &options, out, global).await;
    }
    let (cfg, resolver) = global.resolver().await?;
    let ecs = match &args.from_ecs_task_definition {
        Some(path) => Some(crate::ecs_taskdef::load(path, args.container.as_deref())?),
        None => None,
    };
    let (name, spec) = match &ecs {
        Some((name, spec)) => (name.clone(), spec),
        None => pick_envfile(&cfg, args.envfile.as_deref())?,
    };
    let resolved = resolve_envfile(&resolver, &name, spec).await?;
    let opts = RenderOptions {
        name: Some(args.name.unwrap_or_else(|| name.clone())),
        namespace: args.namespace,
    };
    let (text, warnings) = render::render(args.format, &resolved.vars, &opts)?;
    for w in &warnings {
        eprintln!("envfile: warning: {}: {}", w.var, w.message);
    }
    match &args.out {
        Some(path) => {
            output::write_atomic(path, text.expose().as_bytes(), args.mode)?;
            tracing::info!(envfile = %name, path = %path.display(), vars = resolved.vars.len(), "rendered");
        }
        None => output::write_stdout(text.expose().as_bytes())?,
    }
    // The output outlives this command: dynamic secrets' leases stay, unless a backend says
    // `revoke_leases = true`.
    resolver.backends().release_all(false).await;
    Ok(())
}
