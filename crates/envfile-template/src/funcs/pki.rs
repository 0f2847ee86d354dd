//! `pkiCert`, as Vault Agent implements it: `{{ with pkiCert "pki/issue/ROLE" "common_name=…" }}`
//! gives `.Cert`, `.Key`, `.CA` and `.CAChain` (and `.Data`, the same again). Before issuing,
//! the template's destination file is read: when it holds a certificate that is not yet 90 % of
//! the way through its lifetime, the PEMs there are used and nothing is issued, so restarts and
//! re-renders do not mint new certificates. Otherwise the certificate is issued (a write) and
//! its PEMs are taken from Vault's answer.
//!
//! Either way the PEM blocks are sorted the agent's way: a private key is `.Key`, a certificate
//! that is a CA goes to `.CAChain` (the first one is also `.CA`), the other one is `.Cert`; each
//! is re-encoded as a PEM block with a trailing newline. The agent spreads renewals with a ±3 %
//! jitter; envfile does not, so every pass of one render decides alike.

use crate::value::Value;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The share of a certificate's lifetime after which it is issued again (the agent's
/// `VaultLeaseRenewalThreshold`).
const RENEW_AT: f64 = 0.9;

/// The destination file is larger than any certificate bundle: not read.
const MAX_DEST: u64 = 1 << 20;

/// The PEMs `pkiCert` hands a template.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Pems {
    pub cert: String,
    pub key: String,
    pub ca: String,
    pub chain: Vec<String>,
}

/// The certificate's validity, seconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// Whether it is still before the renewal point.
    pub(crate) fn good_at(self, now: i64) -> bool {
        let life = (self.not_after - self.not_before).max(0) as f64;
        let renew = self.not_before as f64 + life * RENEW_AT;
        now < self.not_after && (now as f64) < renew
    }
}

/// The PEMs of the destination file, when it holds a certificate still good at `now`.
pub(crate) fn reuse(dest: &Path, now: i64) -> Option<Pems> {
    let meta = std::fs::metadata(dest).ok()?;
    if !meta.is_file() || meta.len() > MAX_DEST {
        return None;
    }
    let text = zeroize::Zeroizing::new(std::fs::read(dest).ok()?);
    let (pems, validity) = sort(&text).ok()?;
    validity.filter(|v| v.good_at(now)).map(|_| pems)
}

/// The PEMs of an issue answer's `data`: every string field and each `ca_chain` entry, sorted
/// like a destination file.
pub(crate) fn from_issued(data: &Value) -> Result<Pems, String> {
    let Value::Map(m) = data else {
        return Err("the issue answer has no data object".into());
    };
    let mut all = zeroize::Zeroizing::new(String::new());
    for (k, v) in m.entries().iter() {
        match v {
            Value::Str(s) => {
                all.push_str(s.as_str());
                all.push('\n');
            }
            Value::List(items) if k == "ca_chain" => {
                for i in items.iter() {
                    if let Value::Str(s) = i {
                        all.push_str(s.as_str());
                        all.push('\n');
                    }
                }
            }
            _ => {}
        }
    }
    let (pems, validity) = sort(all.as_bytes())?;
    if validity.is_none() {
        return Err("the issue answer holds no certificate".into());
    }
    Ok(pems)
}

/// The template value: `.Cert .Key .CA .CAChain`, and `.Data` with the same fields.
pub(crate) fn value(p: &Pems) -> Value {
    let fields = || {
        BTreeMap::from([
            ("CA".to_owned(), Value::str(p.ca.clone())),
            (
                "CAChain".to_owned(),
                Value::Strings(Arc::new(p.chain.iter().cloned().map(Value::str).collect())),
            ),
            ("Cert".to_owned(), Value::str(p.cert.clone())),
            ("Key".to_owned(), Value::str(p.key.clone())),
        ])
    };
    let mut top = fields();
    top.insert("Data".to_owned(), Value::map(fields()));
    Value::map(top)
}

/// Sort the PEM blocks of `text` and give the (non-CA) certificate's validity.
fn sort(text: &[u8]) -> Result<(Pems, Option<Validity>), String> {
    let mut out = Pems::default();
    let mut validity = None;
    for (label, der) in blocks(text) {
        let pem = encode(&label, &der);
        if label.ends_with("PRIVATE KEY") {
            out.key = pem;
            continue;
        }
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|_| format!("a `{label}` PEM block is not an X.509 certificate"))?;
        if cert.tbs_certificate.is_ca() {
            if out.ca.is_empty() {
                out.ca = pem.clone();
            }
            if !out.chain.contains(&pem) {
                out.chain.push(pem);
            }
        } else {
            let v = cert.validity();
            validity = Some(Validity {
                not_before: v.not_before.timestamp(),
                not_after: v.not_after.timestamp(),
            });
            out.cert = pem;
        }
    }
    Ok((out, validity))
}

/// Every well-formed `-----BEGIN L-----` … `-----END L-----` block: its label and DER bytes.
fn blocks(text: &[u8]) -> Vec<(String, Vec<u8>)> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        rest = &rest[start + 11..];
        let Some(end_label) = rest.find("-----") else {
            break;
        };
        let label = rest[..end_label].to_owned();
        rest = &rest[end_label + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest.find(&end_marker) else {
            break;
        };
        let body: String = rest[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        rest = &rest[end + end_marker.len()..];
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body.as_bytes()) {
            out.push((label, der));
        }
    }
    out
}

/// A PEM block as Go's `pem.EncodeToMemory` writes it: 64-column base64, trailing newline.
fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_at_ninety_percent_of_the_lifetime() {
        let v = Validity {
            not_before: 1000,
            not_after: 2000,
        };
        assert!(v.good_at(1000));
        assert!(v.good_at(1899));
        assert!(!v.good_at(1900));
        assert!(!v.good_at(2500));
    }

    #[test]
    fn junk_is_not_a_certificate() {
        let (p, v) = sort(b"no pem here").unwrap();
        assert!(v.is_none() && p == Pems::default());
        assert!(sort(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
        assert_eq!(
            encode("X", &[0u8; 3]),
            "-----BEGIN X-----\nAAAA\n-----END X-----\n"
        );
    }
}
