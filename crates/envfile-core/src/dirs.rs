//! Creating an output's missing parent directories: consul-template's `create_dest_dirs`, shared
//! by `envfile render --create-dest-dirs` and the broker's template sinks.

use crate::error::{Error, Result};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Create the missing parents of `dest`, mode 0755 (the directories hold no secret; the file
/// keeps its own mode). Callers do it only after a successful render, so a failing template
/// leaves nothing behind.
pub fn create_parent_dirs(dest: &Path) -> Result<()> {
    let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(parent)
        .map_err(|e| {
            let message = format!("cannot create the directory {}: {e}", parent.display());
            Error::new(Error::from(e).kind(), message)
                .with_hint("check that the path is writable, or create the directory first")
        })
}
