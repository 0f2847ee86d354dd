//! The client certificate of the `cert` method. Vault checks it twice: at login, and again when
//! the token is renewed (the method binds the token to the certificate), so it is part of the
//! HTTP client every call goes through, not of the login call alone.

use crate::config::{AuthConfig, VaultSettings};
use envfile_core::{Error, Result};
use std::path::Path;

/// The TLS identity to present, when the backend logs in with `cert`.
pub(crate) fn identity(s: &VaultSettings) -> Result<Option<reqwest::Identity>> {
    let AuthConfig::Cert {
        client_cert,
        client_key,
        ..
    } = &s.auth
    else {
        return Ok(None);
    };
    let (Some(cert), Some(key)) = (client_cert, client_key) else {
        return Err(Error::config(format!(
            "backend `{}`: the cert auth method needs `client_cert` and `client_key`",
            s.name
        ))
        .with_backend(&s.name)
        .with_hint(
            "set both in the backend's `auth`, or export VAULT_CLIENT_CERT and VAULT_CLIENT_KEY",
        ));
    };
    let read = |p: &Path, what: &str| {
        let limit = super::credential::MAX_CREDENTIAL_BYTES;
        match std::fs::metadata(p) {
            Ok(m) if m.len() > limit => Err(std::io::Error::other(format!(
                "larger than {} KiB",
                limit / 1024
            ))),
            _ => std::fs::read(p),
        }
        .map(zeroize::Zeroizing::new)
        .map_err(|e| {
            Error::config(format!(
                "backend `{}`: cannot read the {what} `{}`: {e}",
                s.name,
                p.display()
            ))
            .with_backend(&s.name)
            .with_hint("check `client_cert` / `client_key` in the backend's `auth` and the files' permissions")
        })
    };
    // reqwest wants one PEM holding the key and the certificate chain.
    let mut pem = read(key, "client key")?;
    pem.push(b'\n');
    pem.extend_from_slice(&read(cert, "client certificate")?);
    // The parse error names the problem (no key, unsupported format), never the bytes.
    let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
        Error::config(format!(
            "backend `{}`: `{}` and `{}` are not a PEM certificate and private key: {e}",
            s.name,
            cert.display(),
            key.display()
        ))
        .with_backend(&s.name)
        .with_hint(
            "the key must be PEM (PKCS#8 `BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY` or \
             `BEGIN EC PRIVATE KEY`) and the certificate PEM (`BEGIN CERTIFICATE`)",
        )
    })?;
    Ok(Some(identity))
}
