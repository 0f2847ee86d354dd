//! The embedded `file` backend: secrets kept as local files, for the quickstart, tests and
//! small setups with no cloud account.
//!
//! OWNER: file-backend helper.
//!
//! Config: `kind = "file"`, `path = "…"`: either one TOML or JSON file mapping secret names to
//! values (a string, or a table/object for a JSON secret), or a directory with one file per
//! secret (the relative path is the secret name). Relative paths are relative to the config file.
//! The version id is derived from the content (a short SHA-256 hex).

use crate::{LoadedConfig, Result};

/// The file backend.
pub struct FileBackend {}

impl FileBackend {
    /// Build from `backends.NAME` of the config.
    pub fn from_config(_name: &str, _cfg: &LoadedConfig) -> Result<Self> {
        todo!("file-backend helper")
    }
}
