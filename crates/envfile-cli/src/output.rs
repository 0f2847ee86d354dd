//! Writing rendered secrets: to stdout, or to a file atomically.
//!
//! A file is never seen half-written and never world-readable, even for an instant: the content
//! goes into a temp file in the target's directory (same filesystem, so the rename is atomic),
//! whose mode is set *before* any byte is written; it is fsynced, renamed over the target, and
//! the directory is fsynced so the rename survives a crash. On any error before the rename the
//! temp file is removed and the existing target is untouched.

use envfile_core::{Error, ErrorKind};
use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Parse an octal file mode (`0600`, `600`, `0o400`).
pub fn parse_mode(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    let mode = u32::from_str_radix(digits, 8)
        .map_err(|_| format!("`{s}` is not an octal file mode (for example 0600)"))?;
    if mode > 0o7777 {
        return Err(format!("`{s}` is larger than 07777"));
    }
    Ok(mode)
}

/// Write `contents` to `path` atomically with permission bits `mode`.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    let dir = parent_dir(path);
    let file_name = path
        .file_name()
        .ok_or_else(|| io_error(path, "has no file name", None))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", file_name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io_error(&dir, "cannot create a temporary file in", Some(e)))?;
    // Mode first: the bytes must never sit in a file with broader permissions.
    tmp.as_file()
        .set_permissions(Permissions::from_mode(mode))
        .map_err(|e| {
            io_error(
                path,
                "cannot set the mode of the temporary file for",
                Some(e),
            )
        })?;
    tmp.write_all(contents)
        .and_then(|()| tmp.flush())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io_error(path, "cannot write", Some(e)))?;
    // On failure `persist` hands the temp file back, and dropping it deletes it.
    tmp.persist(path)
        .map_err(|e| io_error(path, "cannot rename the temporary file onto", Some(e.error)))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(&dir, "cannot fsync directory", Some(e)))?;
    Ok(())
}

/// Write `contents` to stdout and flush.
pub fn write_stdout(contents: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(contents)
        .and_then(|()| out.flush())
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write to stdout: {e}")))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn io_error(path: &Path, what: &str, e: Option<std::io::Error>) -> Error {
    let msg = match &e {
        Some(e) => format!("{what} {}: {e}", path.display()),
        None => format!("{} {what}", path.display()),
    };
    let kind = match e.as_ref().map(|e| e.kind()) {
        Some(std::io::ErrorKind::PermissionDenied) => ErrorKind::PermissionDenied,
        _ => ErrorKind::Io,
    };
    let err = Error::new(kind, msg).with_hint("check that the directory exists and is writable");
    match e {
        Some(e) => err.with_source(e),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn modes_parse_as_octal() {
        assert_eq!(parse_mode("0600"), Ok(0o600));
        assert_eq!(parse_mode("400"), Ok(0o400));
        assert_eq!(parse_mode("0o640"), Ok(0o640));
        assert!(parse_mode("0800").is_err());
        assert!(parse_mode("17777").is_err());
        assert!(parse_mode("rw").is_err());
    }

    #[test]
    fn atomic_write_sets_mode_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("app.env");
        write_atomic(&target, b"A=1\n", 0o400).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"A=1\n");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o400);
        // Replacing a read-only target works: rename needs only the directory to be writable.
        write_atomic(&target, b"A=2\n", 0o600).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"A=2\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("app.env")]);
    }

    #[test]
    fn failed_rename_keeps_target_and_removes_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a rename of a file.
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"x").unwrap();
        let err = write_atomic(&target, b"SECRET=1\n", 0o600).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(target.join("keep").exists());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("occupied")]);
    }
}
