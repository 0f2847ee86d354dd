//! What every command shares: the global options, logging, loading the config, building the
//! resolver, and choosing an env file.

use crate::exit::Failure;
use envfile_core::config::{self, EnvfileSpec, LoadedConfig};
use envfile_core::{Error, ResolvedEnv, Resolver};
use std::path::PathBuf;

/// Options accepted by every subcommand.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Config file [default: ./envfile.toml].
    #[arg(long, global = true, env = "ENVFILE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Config profile; `default` is the base every profile extends [default: default].
    #[arg(long, global = true, env = "ENVFILE_PROFILE", value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Log filter for stderr (`error`, `warn`, `info`, `debug`, `trace`, or a tracing filter);
    /// overrides ENVFILE_LOG [default: warn].
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Log line format on stderr: `text` for people, `json` (one object per line) for log
    /// pipelines.
    #[arg(
        long,
        global = true,
        env = "ENVFILE_LOG_FORMAT",
        value_name = "FORMAT",
        value_enum,
        default_value_t = crate::logging::LogFormat::Text
    )]
    pub log_format: crate::logging::LogFormat,
}

/// Logs go to stderr so they never mix with rendered output on stdout.
pub fn init_logging(global: &GlobalArgs) {
    crate::logging::init(global.log_level.as_deref(), global.log_format);
}

impl GlobalArgs {
    /// Load the config from `--config` / `ENVFILE_CONFIG` / `./envfile.toml`.
    pub fn load_config(&self) -> Result<LoadedConfig, Error> {
        config::load(self.config.as_deref(), self.profile.as_deref())
    }

    /// Load the config and build a resolver over its backends.
    pub async fn resolver(&self) -> Result<(LoadedConfig, Resolver), Error> {
        let cfg = self.load_config()?;
        let backends = crate::wiring::build_backends(&cfg).await?;
        let resolver = Resolver::new(backends, &cfg.config);
        Ok((cfg, resolver))
    }
}

/// Resolve `spec` (the env file `name`), reporting every problem at once.
pub async fn resolve_envfile(
    resolver: &Resolver,
    name: &str,
    spec: &EnvfileSpec,
) -> Result<ResolvedEnv, Failure> {
    resolver
        .resolve_envfile(spec)
        .await
        .map_err(|problems| Failure::Problems {
            context: format!("envfile `{name}`"),
            problems,
        })
}

/// The env file named `name`, or the only one in the config when `name` is `None`.
pub fn pick_envfile<'c>(
    cfg: &'c LoadedConfig,
    name: Option<&str>,
) -> Result<(String, &'c EnvfileSpec), Failure> {
    if let Some(name) = name {
        return Ok((name.to_owned(), cfg.envfile(name)?));
    }
    let envfiles = &cfg.config.envfiles;
    let mut iter = envfiles.iter();
    match (iter.next(), iter.next()) {
        (Some((name, spec)), None) => Ok((name.clone(), spec)),
        (None, _) => Err(Error::config(format!(
            "the config{} defines no envfiles",
            describe_path(cfg)
        ))
        .with_hint("add a [default.envfiles.NAME] table with vars to the config")
        .into()),
        (Some(_), Some(_)) => Err(Error::config(format!(
            "the config{} defines {} envfiles: name one",
            describe_path(cfg),
            envfiles.len()
        ))
        .with_hint(format!(
            "pass one of: {}",
            envfiles.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
        .into()),
    }
}

fn describe_path(cfg: &LoadedConfig) -> String {
    cfg.path
        .as_ref()
        .map(|p| format!(" {}", p.display()))
        .unwrap_or_default()
}
