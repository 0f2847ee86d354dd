//! Builds the configured backends. The one place that knows every backend crate: each `kind`
//! maps to its crate's constructor, which reads its own typed settings from the config.

use envfile_core::{Backend, Backends, Error, LoadedConfig, Result};
use std::sync::Arc;

/// Build every backend in the config.
pub async fn build_backends(cfg: &LoadedConfig) -> Result<Backends> {
    let mut out = Backends::new();
    for (name, entry) in &cfg.config.backends {
        out.insert(build_backend(name, &entry.kind, cfg).await?);
    }
    Ok(out)
}

/// Build one backend of the config (`envfile serve` builds some on first use).
pub async fn build_backend(name: &str, kind: &str, cfg: &LoadedConfig) -> Result<Arc<dyn Backend>> {
    Ok(match kind {
        "file" => Arc::new(envfile_core::file_backend::FileBackend::from_config(
            name, cfg,
        )?),
        "aws" => Arc::new(envfile_aws::AwsBackend::from_config(name, cfg).await?),
        "ssm" => Arc::new(envfile_aws::SsmBackend::from_config(name, cfg).await?),
        "gcp" => Arc::new(envfile_gcp::GcpBackend::from_config(name, cfg).await?),
        "vault" => Arc::new(envfile_vault::VaultBackend::from_config(name, cfg)?),
        other => {
            return Err(
                Error::config(format!("backend `{name}` has unknown kind `{other}`"))
                    .with_hint("kind must be one of: file, aws, ssm, vault, gcp"),
            )
        }
    })
}
