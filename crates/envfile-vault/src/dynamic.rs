//! Dynamic secrets: what a non-KV engine (database, PKI, cloud engines…) hands out when read
//! (`database/creds/app`) or written to with parameters (`pki/issue/web` with
//! `common_name=…`), and how long the credential is good for.
//!
//! The value is the response's `data` object as compact JSON, like a KV secret, so
//! `#username` or `#certificate` select one field. The validity comes from the lease
//! (`lease_id`, `lease_duration`, `renewable`), or for a certificate issued without a lease from
//! its `expiration`; a read with neither is read again after [`NO_LEASE_REFRESH`], as Vault Agent
//! does for secrets without a lease.

use crate::error::Failure;
use envfile_core::{Error, ErrorKind, Result, SecretJson, SecretValue};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a dynamic read without a lease or an expiration is used before it is read again.
pub(crate) const NO_LEASE_REFRESH: Duration = Duration::from_secs(300);

/// One credential as Vault issued it.
#[derive(Debug)]
pub(crate) struct Issued {
    /// The `data` object as compact JSON (wiped when dropped).
    pub(crate) value: SecretValue,
    /// The lease id, when the engine gave one (names the lease; it is not the credential).
    pub(crate) lease_id: Option<String>,
    pub(crate) renewable: bool,
    /// How long it is valid from when the answer arrived.
    pub(crate) ttl: Duration,
    /// What names this credential among those issued for one path: the lease id, else the
    /// certificate's serial number, else a counter. Never derived from the value.
    pub(crate) version: String,
    /// The answer without its `data` (for routes that answer in Vault's shape).
    pub(crate) envelope: serde_json::Value,
}

/// Reads Vault's answer to a dynamic read or write. `seq` numbers credentials that have neither
/// a lease id nor a serial number.
pub(crate) fn parse(body: &SecretJson, seq: u64) -> std::result::Result<Issued, Failure> {
    let root = body.expose();
    let data = &root["data"];
    if !data.is_object() {
        return Err(Failure::Decode(
            "the answer has no `data` object (the endpoint issued nothing)".into(),
        ));
    }
    let lease_id = root["lease_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let lease_secs = root["lease_duration"].as_u64().unwrap_or(0);
    let renewable = lease_id.is_some() && root["renewable"].as_bool().unwrap_or(false);
    let expiration = data["expiration"].as_u64();
    let ttl = match (&lease_id, expiration) {
        (Some(_), _) if lease_secs > 0 => Duration::from_secs(lease_secs),
        (_, Some(exp)) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            Duration::from_secs(exp.saturating_sub(now))
        }
        _ if lease_secs > 0 => Duration::from_secs(lease_secs),
        _ => NO_LEASE_REFRESH,
    };
    let version = match (&lease_id, data["serial_number"].as_str()) {
        (Some(id), _) => id.clone(),
        (None, Some(serial)) => format!("serial:{serial}"),
        (None, None) => format!("issued:{seq}"),
    };
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(512));
    serde_json::to_writer(&mut *buf, data)
        .map_err(|_| Failure::Decode("the credential could not be re-encoded".into()))?;
    let mut envelope = serde_json::Map::new();
    if let Some(o) = root.as_object() {
        for (k, v) in o {
            // `auth` would hold a token for a login endpoint read this way: never keep it.
            if k != "data" && k != "auth" {
                envelope.insert(k.clone(), v.clone());
            }
        }
    }
    envelope.insert("data".into(), serde_json::Value::Null);
    Ok(Issued {
        value: SecretValue::new(std::mem::take(&mut *buf)),
        lease_id,
        renewable,
        ttl,
        version,
        envelope: serde_json::Value::Object(envelope),
    })
}

/// The body of a write-style call: every parameter as a string, as the Vault CLI and
/// consul-template send `KEY=VALUE` arguments (Vault converts them to the field's type).
pub(crate) fn write_body(params: &BTreeMap<String, String>) -> serde_json::Value {
    serde_json::Value::Object(
        params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    )
}

/// Refuse what a dynamic read cannot honour: version pins and staging labels.
pub(crate) fn check_locator(path: &str, loc: &envfile_core::Locator) -> Result<()> {
    if loc.version.is_some() || loc.stage.is_some() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "`{path}` is a dynamic secret: each read issues a new credential, so it has no \
                 versions or stages to pin"
            ),
        )
        .with_hint("remove `version=`/`stage=` from the reference"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: serde_json::Value) -> SecretJson {
        SecretJson::from_value(v)
    }

    #[test]
    fn a_database_lease_gives_ttl_renewable_and_the_lease_id_as_version() {
        let b = body(serde_json::json!({
            "request_id": "r", "lease_id": "database/creds/app/abc", "lease_duration": 3600,
            "renewable": true, "data": { "username": "u", "password": "p" }
        }));
        let i = parse(&b, 1).unwrap();
        assert_eq!(i.ttl, Duration::from_secs(3600));
        assert!(i.renewable);
        assert_eq!(i.version, "database/creds/app/abc");
        assert_eq!(i.lease_id.as_deref(), Some("database/creds/app/abc"));
        assert!(i.value.expose_bytes() == br#"{"password":"p","username":"u"}"#);
        assert!(i.envelope["data"].is_null());
        assert!(!i.envelope.to_string().contains("\"p\""));
    }

    #[test]
    fn a_certificate_without_lease_lives_until_its_expiration() {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 100;
        let b = body(serde_json::json!({
            "lease_id": "", "lease_duration": 0, "renewable": false,
            "data": { "certificate": "c", "serial_number": "1a:2b", "expiration": exp }
        }));
        let i = parse(&b, 7).unwrap();
        assert!(!i.renewable);
        assert!(i.lease_id.is_none());
        assert!(i.ttl <= Duration::from_secs(100) && i.ttl >= Duration::from_secs(98));
        assert_eq!(i.version, "serial:1a:2b");
    }

    #[test]
    fn no_lease_and_no_expiration_is_read_again_later() {
        let b = body(serde_json::json!({ "data": { "k": "v" } }));
        let i = parse(&b, 7).unwrap();
        assert_eq!(i.ttl, NO_LEASE_REFRESH);
        assert_eq!(i.version, "issued:7");
        assert!(parse(&body(serde_json::json!({ "data": null })), 1).is_err());
    }

    #[test]
    fn pins_are_refused() {
        let mut loc = envfile_core::Locator::new("database/creds/app");
        assert!(check_locator("database/creds/app", &loc).is_ok());
        loc.version = Some("2".into());
        assert_eq!(
            check_locator("database/creds/app", &loc)
                .unwrap_err()
                .kind(),
            ErrorKind::Unsupported
        );
    }
}
