//! The embedded `file` backend: secrets kept as local files, for the quickstart, tests and
//! small setups with no cloud account.
//!
//! ```toml
//! [default.backends.file]
//! kind = "file"
//! path = "secrets.toml"   # relative to the config file; or a .json file, or a directory
//! # format = "toml"       # "toml" | "json"; inferred from the extension
//! # writable = true       # allow `envfile import --to file:…` (default false)
//! ```
//!
//! Two layouts:
//! - **one file** (TOML or JSON) mapping secret names to values. A string is the secret's text; a
//!   table (object) is a JSON secret, served as compact JSON text. Names may contain `/`: quote
//!   them (`"afu9/database" = { … }` or a `["afu9/database"]` table).
//! - **a directory**, each file (recursively) one secret: the relative path is its name, the bytes
//!   its value (binary is fine). Dot-files are not secrets (temp files, Kubernetes `..data`).
//!
//! Every read re-reads the store, so edits show up at once. The version id is the first 16 hex
//! characters of the SHA-256 of the value; only the current version exists, so a version pin
//! other than the current one is `NotFound`. Writes are atomic (temp file + rename; new files 0600).

mod fsops;
mod store;

use crate::backend::{Backend, Capabilities, Fetched, PutOutcome};
use crate::error::{Error, ErrorKind, Result};
use crate::reference::Locator;
use crate::secret::SecretValue;
use crate::LoadedConfig;
use async_trait::async_trait;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The settings of a `kind = "file"` backend, as written under `[default.backends.NAME]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Always `"file"`.
    pub kind: String,
    /// The store: a `.toml` or `.json` file, or a directory. Relative paths are relative to the
    /// config file's directory (to the working directory when the config came from a string).
    pub path: PathBuf,
    /// The single-file format, when the extension does not say.
    #[serde(default)]
    pub format: Option<StoreFormat>,
    /// Whether [`Backend::put`] may write to the store (`envfile import`). Default: false.
    #[serde(default)]
    pub writable: bool,
}

impl fmt::Debug for FileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileConfig")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The format of a single-file store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreFormat {
    /// A TOML document.
    Toml,
    /// A JSON object.
    Json,
}

/// How the store is laid out on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One file mapping names to values.
    File(StoreFormat),
    /// A directory with one file per secret.
    Dir,
}

/// The file backend.
pub struct FileBackend {
    name: String,
    path: PathBuf,
    layout: Layout,
    writable: bool,
    // Serialises this process's read-modify-write of a single-file store (other processes
    // writing the same file at once can still lose an update: the store is for one writer).
    write_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileBackend")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileBackend {
    /// Build from `backends.NAME` of the config. A relative `path` is resolved against the
    /// config file's directory, else the working directory.
    pub fn from_config(name: &str, cfg: &LoadedConfig) -> Result<Self> {
        let fc: FileConfig = cfg.backend_config(name)?;
        if fc.kind != "file" {
            return Err(Error::config(format!(
                "backends.{name}: kind is `{}`, the file backend needs `file`",
                fc.kind
            ))
            .with_backend(name));
        }
        let base = cfg.path.as_deref().and_then(Path::parent);
        let path = resolve_path(&fc.path, base).map_err(|e| e.with_backend(name))?;
        let layout = detect_layout(&path, fc.format).map_err(|e| {
            e.with_backend(name).with_hint(format!(
                "set `path` under [default.backends.{name}] to a .toml or .json file or an \
                 existing directory, or add `format = \"toml\"` (relative paths are relative to \
                 the config file)"
            ))
        })?;
        Ok(Self::with_layout(name, path, layout, fc.writable))
    }

    /// Open the store at `path` (layout detected as for the config; relative to the working
    /// directory), read-only. Mostly for tests; see [`FileBackend::writable`].
    pub fn open(name: &str, path: impl AsRef<Path>) -> Result<Self> {
        let path = resolve_path(path.as_ref(), None).map_err(|e| e.with_backend(name))?;
        let layout = detect_layout(&path, None).map_err(|e| e.with_backend(name))?;
        Ok(Self::with_layout(name, path, layout, false))
    }

    /// Allow or forbid [`Backend::put`].
    pub fn writable(mut self, writable: bool) -> Self {
        self.writable = writable;
        self
    }

    /// The store's absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store's layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    fn with_layout(name: &str, path: PathBuf, layout: Layout, writable: bool) -> Self {
        Self {
            name: name.to_owned(),
            path,
            layout,
            writable,
            write_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn err(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, message).with_backend(&self.name)
    }

    fn check_locator(&self, loc: &Locator) -> Result<()> {
        if let Some(stage) = &loc.stage {
            return Err(self
                .err(
                    ErrorKind::Unsupported,
                    format!(
                        "secret `{}`: the file backend has no staging labels (stage `{stage}`)",
                        loc.path
                    ),
                )
                .with_hint("drop `stage=`: staging labels are an AWS Secrets Manager feature"));
        }
        if let Some(param) = loc.params.keys().next() {
            return Err(self
                .err(
                    ErrorKind::Unsupported,
                    format!(
                        "secret `{}`: the file backend takes no `{param}` parameter",
                        loc.path
                    ),
                )
                .with_hint("drop the parameter from the reference"));
        }
        Ok(())
    }

    /// Read the whole current value of `name`.
    async fn read(&self, name: &str) -> Result<SecretValue> {
        match self.layout {
            Layout::File(format) => {
                let bytes = self.read_store_file().await?;
                let mut doc = store::Doc::parse(&self.path, format, &bytes)
                    .map_err(|e| e.with_backend(&self.name))?;
                match doc.take(&self.path, name) {
                    Some(v) => v.map_err(|e| e.with_backend(&self.name)),
                    None => Err(self.not_found(name, &doc.names())),
                }
            }
            Layout::Dir => {
                let file = self.dir_entry(name)?;
                match tokio::fs::read(&file).await {
                    Ok(bytes) => Ok(SecretValue::new(bytes)),
                    Err(e) => Err(self.dir_read_error(name, &file, e).await),
                }
            }
        }
    }

    async fn read_store_file(&self) -> Result<Zeroizing<Vec<u8>>> {
        tokio::fs::read(&self.path)
            .await
            .map(Zeroizing::new)
            .map_err(|e| self.store_io_error(e))
    }

    /// The file of `name` in a directory store.
    fn dir_entry(&self, name: &str) -> Result<PathBuf> {
        fsops::relative_path(name)
            .map(|rel| self.path.join(rel))
            .ok_or_else(|| {
                self.err(
                    ErrorKind::InvalidRef,
                    format!("`{name}` is not a valid secret name in a directory store"),
                )
                .with_hint(
                    "name secrets by their path under the store directory, like `app/db`: \
                     no leading `/`, no `.` or `..` segments, no empty segments",
                )
            })
    }

    async fn dir_read_error(&self, name: &str, file: &Path, e: io::Error) -> Error {
        match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                if !tokio::fs::metadata(&self.path)
                    .await
                    .is_ok_and(|m| m.is_dir())
                {
                    return self.store_io_error(e);
                }
                let names = fsops::list_dir_names(&self.path).await.unwrap_or_default();
                self.not_found(name, &names)
            }
            io::ErrorKind::IsADirectory => {
                let names = fsops::list_dir_names(file).await.unwrap_or_default();
                let inside: Vec<_> = names
                    .iter()
                    .take(5)
                    .map(|n| format!("{name}/{n}"))
                    .collect();
                self.err(
                    ErrorKind::NotFound,
                    format!(
                        "secret `{name}` not found: {} is a directory, not a secret file",
                        file.display()
                    ),
                )
                .with_hint(if inside.is_empty() {
                    "name a file under the store directory".to_owned()
                } else {
                    format!("secrets under it: {}", inside.join(", "))
                })
            }
            _ => self.io_error(&format!("cannot read secret `{name}` from"), file, e),
        }
    }

    fn not_found(&self, name: &str, names: &[String]) -> Error {
        let (place, how) = match self.layout {
            Layout::File(_) => ("file", "add it to the file"),
            Layout::Dir => (
                "directory",
                "create a file of that name under the directory",
            ),
        };
        let near = fsops::near_names(name, names);
        let hint = if !near.is_empty() {
            format!("did you mean: {}?", near.join(", "))
        } else if names.is_empty() {
            format!("the store is empty; {how}")
        } else {
            format!("the store holds {} other secret(s); {how}", names.len())
        };
        self.err(
            ErrorKind::NotFound,
            format!(
                "secret `{name}` not found in the {place} store {}",
                self.path.display()
            ),
        )
        .with_hint(hint)
    }

    fn store_io_error(&self, e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::NotFound {
            let what = match self.layout {
                Layout::File(_) => "file",
                Layout::Dir => "directory",
            };
            return self
                .err(
                    ErrorKind::Config,
                    format!("the store {what} {} does not exist", self.path.display()),
                )
                .with_hint(format!(
                    "create it, or fix `path` under [default.backends.{}] (relative paths are \
                     relative to the config file)",
                    self.name
                ));
        }
        self.io_error("cannot read the store", &self.path, e)
    }

    fn io_error(&self, what: &str, path: &Path, e: io::Error) -> Error {
        io_error(what, path, e).with_backend(&self.name)
    }

    async fn put_file(
        &self,
        format: StoreFormat,
        name: &str,
        value: &SecretValue,
    ) -> Result<PutOutcome> {
        let text = value.expose_str().ok_or_else(|| {
            self.err(
                ErrorKind::Unsupported,
                format!(
                    "secret `{name}`: a single-file store holds text, and this value is not UTF-8"
                ),
            )
            .with_hint("keep binary secrets in a directory store (`path` = a directory)")
        })?;
        let existing = match tokio::fs::read(&self.path).await {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Zeroizing::new(Vec::new()),
            Err(e) => return Err(self.store_io_error(e)),
        };
        match store::upsert(&self.path, format, &existing, name, text)
            .map_err(|e| e.with_backend(&self.name))?
        {
            None => Ok(PutOutcome::Unchanged),
            Some((bytes, outcome)) => {
                fsops::write_atomic(&self.path, &bytes)
                    .await
                    .map_err(|e| self.io_error("cannot write the store", &self.path, e))?;
                Ok(outcome)
            }
        }
    }

    async fn put_dir(&self, name: &str, value: &SecretValue) -> Result<PutOutcome> {
        let file = self.dir_entry(name)?;
        let outcome = match tokio::fs::read(&file).await {
            Ok(old) => {
                if Zeroizing::new(old).as_slice() == value.expose_bytes() {
                    return Ok(PutOutcome::Unchanged);
                }
                PutOutcome::Updated
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => PutOutcome::Created,
            Err(e) => {
                return Err(self.io_error(&format!("cannot read secret `{name}` at"), &file, e))
            }
        };
        if let Some(parent) = file.parent() {
            fsops::create_dirs(parent)
                .await
                .map_err(|e| self.io_error("cannot create directory", parent, e))?;
        }
        fsops::write_atomic(&file, value.expose_bytes())
            .await
            .map_err(|e| self.io_error(&format!("cannot write secret `{name}` to"), &file, e))?;
        Ok(outcome)
    }
}

#[async_trait]
impl Backend for FileBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "file"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // Only the current version exists: a pin to an older one cannot be honoured.
            versions: false,
            stages: false,
            binary: self.layout == Layout::Dir,
            write: self.writable,
            // The probe hashes the whole value, so it costs the same as a read (a cheap local
            // one): claiming "cheaper" would only mislead callers choosing between the two.
            cheap_version_probe: false,
            json_only: false,
        }
    }

    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        self.check_locator(loc)?;
        let value = self.read(&loc.path).await?;
        let version = version_of(&value);
        if let Some(pin) = &loc.version {
            if *pin != version {
                return Err(self
                    .err(
                        ErrorKind::NotFound,
                        format!(
                            "version `{pin}` of secret `{}` not found: the file backend keeps only \
                             the current version",
                            loc.path
                        ),
                    )
                    .with_hint("drop `version=` to read the current value"));
            }
        }
        Ok(Fetched::new(value, Some(version)))
    }

    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.check_locator(loc)?;
        let value = self.read(&loc.path).await?;
        Ok(Some(version_of(&value)))
    }

    async fn put(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        if !self.writable {
            return Err(self
                .err(
                    ErrorKind::Unsupported,
                    format!(
                        "cannot write secret `{path}`: backend `{}` is read-only",
                        self.name
                    ),
                )
                .with_hint(format!(
                    "set `writable = true` under [default.backends.{}]",
                    self.name
                )));
        }
        let _guard = self.write_lock.lock().await;
        match self.layout {
            Layout::File(format) => self.put_file(format, path, value).await,
            Layout::Dir => self.put_dir(path, value).await,
        }
    }
}

/// The version id of a value: the first 16 hex characters of its SHA-256.
pub fn version_of(value: &SecretValue) -> String {
    let digest = Sha256::digest(value.expose_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn resolve_path(path: &Path, base: Option<&Path>) -> Result<PathBuf> {
    if path.as_os_str().is_empty() {
        return Err(Error::config("the file backend's `path` is empty")
            .with_hint("set `path` to a .toml or .json file or a directory"));
    }
    let joined = match base {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    };
    // Absolute now, so a later change of working directory cannot move the store.
    std::path::absolute(&joined).map_err(|e| io_error("cannot resolve the store path", &joined, e))
}

fn detect_layout(path: &Path, format: Option<StoreFormat>) -> Result<Layout> {
    let is_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
    if let Some(f) = format {
        if is_dir {
            return Err(Error::config(format!(
                "{} is a directory, but `format` is set (it applies to single-file stores only)",
                path.display()
            )));
        }
        return Ok(Layout::File(f));
    }
    if is_dir {
        return Ok(Layout::Dir);
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("toml") => Ok(Layout::File(StoreFormat::Toml)),
        Some(e) if e.eq_ignore_ascii_case("json") => Ok(Layout::File(StoreFormat::Json)),
        _ if !path.exists() => Err(Error::config(format!(
            "the file store {} does not exist, and its name does not say whether it is a TOML \
             file, a JSON file or a directory",
            path.display()
        ))),
        _ => Err(Error::config(format!(
            "cannot tell the format of the file store {}: it is not a directory and has no \
             .toml or .json extension",
            path.display()
        ))),
    }
}

/// Map an I/O error on `path`; permission problems get their own kind and a hint.
fn io_error(what: &str, path: &Path, e: io::Error) -> Error {
    let kind = match e.kind() {
        io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Io,
    };
    let err = Error::new(kind, format!("{what} {}: {e}", path.display()));
    let err = if kind == ErrorKind::PermissionDenied {
        err.with_hint("check the owner and mode of the file and its directories (`ls -l`)")
    } else {
        err
    };
    err.with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_errors_map_to_permission_denied() {
        // Tests run as root on CI, where chmod cannot provoke EACCES: check the mapping itself.
        let e = io_error(
            "cannot read the store",
            Path::new("/s.toml"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("/s.toml"));
        assert!(e.hint().is_some_and(|h| h.contains("mode")));
    }

    #[test]
    fn version_is_a_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(
            version_of(&SecretValue::from_str_copy("abc")),
            "ba7816bf8f01cfea"
        );
    }
}
