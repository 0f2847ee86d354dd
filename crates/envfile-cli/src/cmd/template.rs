//! `envfile render --template FILE`: render a Vault Agent (consul-template) compatible template
//! instead of an env file. The engine is the `envfile-template` crate.

use crate::context::GlobalArgs;
use crate::exit::Failure;
use crate::output;
use envfile_template::Template;
use std::path::{Path, PathBuf};

/// Render the template at `path` with the configured backends; write it to `out` (atomically,
/// with `mode`) or stdout.
pub async fn run(
    path: &Path,
    options: &envfile_template::Options,
    out: Option<&PathBuf>,
    mode: u32,
    global: &GlobalArgs,
) -> Result<(), Failure> {
    // Parse before loading the config so a template typo is reported without touching a backend.
    let template = Template::from_file_with(path, options)?;
    let (_cfg, resolver) = global.resolver().await?;
    let text = template.render(&resolver).await?;
    match out {
        Some(dest) => {
            output::write_atomic(dest, text.expose().as_bytes(), mode)?;
            tracing::info!(template = %path.display(), path = %dest.display(), "rendered template");
        }
        None => output::write_stdout(text.expose().as_bytes())?,
    }
    Ok(())
}
