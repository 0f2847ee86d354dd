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
                create_parent_dirs(dest.path)?;
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

/// consul-template's `create_dest_dirs`: the missing parents of `dest`, mode 0755 (the
/// directories hold no secret; the file keeps its own mode). Only after a successful render,
/// so a failing template leaves nothing behind.
fn create_parent_dirs(dest: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::DirBuilderExt;
    let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(parent)
        .map_err(|e| {
            let kind = match e.kind() {
                std::io::ErrorKind::PermissionDenied => envfile_core::ErrorKind::PermissionDenied,
                _ => envfile_core::ErrorKind::Io,
            };
            envfile_core::Error::new(
                kind,
                format!("cannot create the directory {}: {e}", parent.display()),
            )
            .with_hint("check that the path is writable, or create the directory first")
        })?;
    Ok(())
}
