//! `envfile render --template FILE`: render a Vault Agent (consul-template) compatible template
//! instead of an env file. The engine is the `envfile-template` crate.

use crate::context::GlobalArgs;
use crate::exit::Failure;
use crate::output;
use envfile_template::Template;
use std::path::Path;

/// Where `--out` writes: the file, its mode, and whether to create missing parent directories
/// first (the agent's `create_dest_dirs`).
pub struct Dest<'a> {
    pub path: &'a Path,
    pub mode: u32,
    pub create_dirs: bool,
}

/// Render the template at `path` with the configured backends; write it to `out` (atomically)
/// or stdout.
pub async fn run(
    path: &Path,
    options: &envfile_template::Options,
    out: Option<Dest<'_>>,
    global: &GlobalArgs,
) -> Result<(), Failure> {
    // Parse before loading the config so a template typo is reported without touching a backend.
    let mut template = Template::from_file_with(path, options)?;
    if let Some(dest) = &out {
        template = template.with_destination(dest.path);
    }
    let (_cfg, resolver) = global.resolver().await?;
    let text = template.render(&resolver).await?;
    match out {
        Some(dest) => {
            if dest.create_dirs {
                envfile_core::dirs::create_parent_dirs(dest.path)?;
            }
            output::write_atomic(dest.path, text.expose().as_bytes(), dest.mode)?;
            tracing::info!(template = %path.display(), path = %dest.path.display(), "rendered template");
        }
        None => output::write_stdout(text.expose().as_bytes())?,
    }
    // The output outlives this command: dynamic secrets' leases stay, unless a backend says
    // `revoke_leases = true`.
    resolver.backends().release_all(false).await;
    Ok(())
}
