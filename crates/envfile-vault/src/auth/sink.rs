//! `token_sink`: the current Vault token written to a file for apps that talk to Vault
//! themselves, as Vault Agent's `file` sink does. Like the agent's, the file holds the bare
//! token (no newline), is written on every login (not on renewals, which keep the token), and is
//! replaced atomically: a reader sees the old token or the new one, never a partial file.

use crate::config::TokenSink;
use envfile_core::{Error, ErrorKind, Result, SecretString};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Write `token` to the sink: a temp file next to it (same filesystem, so the rename is
/// atomic) that gets its final mode before any byte, fsync, rename, fsync of the directory.
pub(crate) async fn write(sink: &TokenSink, token: &SecretString, backend: &str) -> Result<()> {
    let sink = sink.clone();
    let token = token.clone();
    let backend = backend.to_owned();
    tokio::task::spawn_blocking(move || write_blocking(&sink, &token, &backend))
        .await
        .map_err(|_| Error::new(ErrorKind::Io, "the token sink writer stopped unexpectedly"))?
}

fn write_blocking(sink: &TokenSink, token: &SecretString, backend: &str) -> Result<()> {
    let path = &sink.path;
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "token".into());
    let fail = |what: &str, e: std::io::Error| {
        let kind = if e.kind() == std::io::ErrorKind::PermissionDenied {
            ErrorKind::PermissionDenied
        } else {
            ErrorKind::Io
        };
        Error::new(
            kind,
            format!(
                "cannot write the Vault token sink `{}`: {what}: {e}",
                path.display()
            ),
        )
        .with_backend(backend)
        .with_hint(format!(
            "`token_sink` needs a directory this process can create files in (`{}`)",
            dir.display()
        ))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp."))
        .tempfile_in(&dir)
        .map_err(|e| fail("cannot create a temporary file next to it", e))?;
    // Mode first: the token must never sit in a file with broader permissions. A file opened for
    // writing stays writable through its descriptor after its mode drops to 0400.
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(sink.mode))
        .map_err(|e| fail("cannot set the file mode", e))?;
    tmp.write_all(token.expose().as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| fail("write failed", e))?;
    // On failure `persist` hands the temp file back, and dropping it deletes it.
    tmp.persist(path)
        .map_err(|e| fail("cannot rename the temporary file onto it", e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        // Best effort: the rename is done; this only makes it survive a power cut.
        let _ = d.sync_all();
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_the_bare_token_with_the_mode_and_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let sink = TokenSink {
            path: dir.path().join("vault-token"),
            mode: 0o400,
        };
        write(&sink, &SecretString::new("s.first".into()), "v")
            .await
            .unwrap();
        assert_eq!(std::fs::read_to_string(&sink.path).unwrap(), "s.first");
        let mode = std::fs::metadata(&sink.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o400);
        // A 0400 file is replaced, not opened for writing.
        write(&sink, &SecretString::new("s.second".into()), "v")
            .await
            .unwrap();
        assert_eq!(std::fs::read_to_string(&sink.path).unwrap(), "s.second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["vault-token"], "a temporary file was left behind");
    }

    #[tokio::test]
    async fn a_missing_directory_is_a_clear_error_without_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let sink = TokenSink {
            path: dir.path().join("no/such/dir/token"),
            mode: 0o400,
        };
        let e = write(&sink, &SecretString::new("s.secret-token".into()), "v")
            .await
            .unwrap_err();
        let text = format!("{e} {}", e.hint().unwrap_or_default());
        assert!(
            text.contains("token_sink") && text.contains("no/such/dir"),
            "{text}"
        );
        assert!(!text.contains("s.secret-token"));
    }
}
