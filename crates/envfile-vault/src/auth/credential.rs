//! Reading the credentials a login sends: files (token, role id, secret id, JWT) and
//! environment variables. The content is never quoted in an error.

use envfile_core::{Error, ErrorKind, Result, SecretString};
use std::path::Path;
use tokio::io::AsyncReadExt;

/// A credential file larger than this is refused rather than read: the largest real one, a
/// JWT with many claims, is a few KiB.
pub(crate) const MAX_CREDENTIAL_BYTES: u64 = 64 * 1024;

/// Read a credential file, trimmed. `Ok(None)` when the file does not exist (a caller with a
/// cached value falls back to it).
pub(crate) async fn read_file_if_present(
    path: &Path,
    what: &str,
    backend: &str,
) -> Result<Option<SecretString>> {
    let unreadable = |e: std::io::Error| {
        Error::new(
            ErrorKind::Unauthenticated,
            format!(
                "cannot read the Vault {what} file `{}`: {e}",
                path.display()
            ),
        )
        .with_backend(backend)
        .with_hint("check the path in the backend's `auth` settings and the file's permissions")
    };
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_CREDENTIAL_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_CREDENTIAL_BYTES {
        return Err(Error::new(
            ErrorKind::Unauthenticated,
            format!(
                "the Vault {what} file `{}` is larger than {} KiB: not a credential",
                path.display(),
                MAX_CREDENTIAL_BYTES / 1024
            ),
        )
        .with_backend(backend)
        .with_hint("check that the backend's `auth` settings name the right file"));
    }
    let origin = format!("file `{}`", path.display());
    text(&bytes, what, &origin, backend).map(Some)
}

/// Read a credential file that must exist.
pub(crate) async fn read_file(path: &Path, what: &str, backend: &str) -> Result<SecretString> {
    read_file_if_present(path, what, backend)
        .await?
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "cannot read the Vault {what} file `{}`: it does not exist",
                    path.display()
                ),
            )
            .with_backend(backend)
            .with_hint("check the path in the backend's `auth` settings")
        })
}

/// Read a credential from an environment variable (read at each login, like a file).
pub(crate) fn read_env(var: &str, what: &str, backend: &str) -> Result<SecretString> {
    // The process keeps its own copy in the environment block; this one is short-lived.
    let value = std::env::var_os(var).unwrap_or_default();
    if value.is_empty() {
        return Err(Error::new(
            ErrorKind::Unauthenticated,
            format!("no Vault {what}: the variable {var} is not set"),
        )
        .with_backend(backend)
        .with_hint(format!(
            "export {var} with the {what}, or point the backend's `auth` at a file"
        )));
    }
    let origin = format!("variable {var}");
    text(value.as_encoded_bytes(), what, &origin, backend)
}

fn text(bytes: &[u8], what: &str, origin: &str, backend: &str) -> Result<SecretString> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::Unauthenticated,
            format!("the Vault {what} in {origin} is not UTF-8 text"),
        )
        .with_backend(backend)
    })?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::new(
            ErrorKind::Unauthenticated,
            format!("the Vault {what} in {origin} is empty"),
        )
        .with_backend(backend));
    }
    Ok(SecretString::new(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_trimmed_and_errors_never_quote_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sid");
        std::fs::write(&p, "  s3cret-value\n").unwrap();
        assert_eq!(
            read_file(&p, "secret id", "v").await.unwrap().expose(),
            "s3cret-value"
        );

        std::fs::write(&p, b"s3cret-\xff").unwrap();
        let e = read_file(&p, "secret id", "v").await.unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(e.to_string().contains("not UTF-8"), "{e}");

        std::fs::write(&p, " \n").unwrap();
        let e = read_file(&p, "secret id", "v").await.unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
    }

    #[tokio::test]
    async fn a_missing_file_is_none_or_an_error_and_a_huge_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("absent");
        assert!(read_file_if_present(&p, "jwt", "v")
            .await
            .unwrap()
            .is_none());
        let e = read_file(&p, "JWT", "v").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        assert!(e.to_string().contains("does not exist"), "{e}");

        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; MAX_CREDENTIAL_BYTES as usize + 1]).unwrap();
        let e = read_file(&big, "JWT", "v").await.unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
    }
}
