//! Transport: a vaultrs client built with the TLS settings (CA bundle, the `cert` method's client
//! certificate, timeout), and raw JSON calls on its connection pool: logins, KV reads and
//! writes, mount detection, with Vault's status codes and `errors` kept for the error mapping.

use crate::config::VaultSettings;
use crate::error::Failure;
use envfile_core::{Error, Result, SecretJson, SecretString};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};

/// One Vault server: where it is and how to talk to it.
pub(crate) struct Http {
    vault: VaultClient,
    base: Url,
    namespace: Option<String>,
}

impl Http {
    pub(crate) fn new(s: &VaultSettings) -> Result<Self> {
        let base = Url::parse(&s.address)
            .map_err(|e| Error::config(format!("invalid Vault address `{}`: {e}", s.address)))?;
        let ca_certs: Vec<String> = s
            .ca_cert
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        // Every field is set explicitly: vaultrs' defaults read VAULT_* variables (and unwrap on
        // some), and the token must never live in its settings.
        let settings = VaultClientSettingsBuilder::default()
            .address(&s.address)
            .token("")
            .ca_certs(ca_certs)
            // The `cert` method's client certificate, presented on every connection.
            .identity(crate::auth::cert::identity(s)?)
            .verify(true)
            .timeout(Some(s.timeout))
            .namespace(s.namespace.clone())
            .build()
            .map_err(|e| {
                Error::config(format!("backend `{}`: bad Vault settings: {e}", s.name))
                    .with_backend(&s.name)
            })?;
        let vault = VaultClient::new(settings).map_err(|e| {
            Error::config(format!(
                "backend `{}`: cannot set up the Vault client: {e}",
                s.name
            ))
            .with_backend(&s.name)
            .with_hint(
                "check that `ca_cert` (or VAULT_CACERT) names a readable PEM bundle, and for the \
                 cert auth method that `client_key` is the key of `client_cert`",
            )
        })?;
        Ok(Self {
            vault,
            base,
            namespace: s.namespace.clone(),
        })
    }

    fn url(&self, api_path: &str, query: &[(&str, &str)]) -> std::result::Result<Url, Failure> {
        let mut url = self.base.clone();
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|()| Failure::Decode("the Vault address cannot take a path".into()))?;
            segs.pop_if_empty().push("v1");
            segs.extend(api_path.split('/'));
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// One JSON call. Success: the whole response body (zeroized on drop). Failure: the status
    /// and Vault's `errors`, or the transport error.
    pub(crate) async fn call(
        &self,
        method: Method,
        api_path: &str,
        query: &[(&str, &str)],
        token: Option<&SecretString>,
        body: Option<&serde_json::Value>,
    ) -> std::result::Result<SecretJson, Failure> {
        let url = self.url(api_path, query)?;
        let mut req = self
            .vault
            .http
            .http
            .request(method, url)
            .header("X-Vault-Request", "true");
        if let Some(t) = token {
            let mut v = HeaderValue::from_str(t.expose()).map_err(|_| {
                Failure::Local(Error::new(
                    envfile_core::ErrorKind::Unauthenticated,
                    "the Vault token contains characters that cannot go in an HTTP header",
                ))
            })?;
            v.set_sensitive(true);
            req = req.header(HeaderName::from_static("x-vault-token"), v);
        }
        if let Some(ns) = &self.namespace {
            req = req.header("X-Vault-Namespace", ns.as_str());
        }
        if let Some(b) = body {
            // A write's body holds secret values; reqwest takes ownership of the bytes and cannot
            // wipe them, so at least no second copy (a `String` from `to_string`) is left behind.
            let bytes = serde_json::to_vec(b).map_err(|_| {
                Failure::Decode("the request body could not be encoded as JSON".into())
            })?;
            req = req.header("Content-Type", "application/json").body(bytes);
        }
        let resp = req.send().await.map_err(|e| Failure::from_reqwest(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| Failure::from_reqwest(&e))?;
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(SecretJson::from_value(serde_json::Value::Null));
            }
            // The parse error is reduced to a position: serde_json may quote the (secret) input.
            return serde_json::from_slice(&bytes)
                .map(SecretJson::from_value)
                .map_err(|e| {
                    Failure::Decode(format!(
                        "the response is not JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    ))
                });
        }
        #[derive(serde::Deserialize)]
        struct Errors {
            #[serde(default)]
            errors: Vec<String>,
        }
        let errors = serde_json::from_slice::<Errors>(&bytes)
            .map(|e| e.errors)
            .unwrap_or_default();
        Err(Failure::Status {
            code: status.as_u16(),
            errors,
        })
    }
}
