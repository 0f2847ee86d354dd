//! `k8s-secret`: a `v1` `Secret` manifest of `type: Opaque` with each value base64-encoded
//! under `data`, so any bytes (binary included) are carried.
//!
//! Kubernetes validates what we would otherwise only find out at `kubectl apply`:
//! `metadata.name` is a DNS-1123 subdomain, `metadata.namespace` a DNS-1123 label, each `data`
//! key matches `[-._a-zA-Z0-9]+` (at most 253 characters, not `.`, `..` or starting with `..`),
//! and the data of one Secret totals at most 1 MiB. Scalars are double-quoted so that names
//! like `true`, `null` or `123` stay strings.

use super::check::{self, shown};
use super::sink::{self, Sink};
use super::yaml::{write_entry, write_scalar};
use super::{Format, RenderOptions};
use crate::error::{Error, Result};
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::K8sSecret;

/// `MaxSecretSize` in Kubernetes' API validation: the sum of the decoded `data` values.
const MAX_DATA: usize = 1024 * 1024;

pub(super) fn render(vars: &[Var], opts: &RenderOptions) -> Result<SecretString> {
    let name = opts.name.as_deref().ok_or_else(|| {
        Error::config("a k8s-secret needs a name (metadata.name)")
            .with_hint("pass the Secret's name, e.g. `--name api-env`")
    })?;
    if !is_dns_subdomain(name) {
        return Err(Error::config(format!(
            "`{}` is not a valid Kubernetes Secret name",
            shown(name)
        ))
        .with_hint(
            "use at most 253 lowercase letters, digits, `-` and `.`, starting and ending with a \
             letter or digit (e.g. `api-env`)",
        ));
    }
    if let Some(ns) = opts.namespace.as_deref() {
        if !is_dns_label(ns) {
            return Err(Error::config(format!(
                "`{}` is not a valid Kubernetes namespace",
                shown(ns)
            ))
            .with_hint(
                "use at most 63 lowercase letters, digits and `-`, starting and ending with a \
                 letter or digit",
            ));
        }
    }
    let mut total = 0usize;
    for var in vars {
        if !is_config_key(&var.name) {
            return Err(check::invalid_name(
                FORMAT,
                &var.name,
                "must be at most 253 letters, digits, `-`, `_` and `.` (not `.`, `..`, or starting with `..`)",
            ));
        }
        total += var.value.len();
        if total > MAX_DATA {
            return Err(check::unrepresentable(
                FORMAT,
                &var.name,
                "more data than one Secret may hold: Kubernetes allows 1 MiB of data per Secret, \
                 and this variable takes the total over",
                0,
                "split the variables over several Secrets (several env files)",
            ));
        }
    }
    Ok(sink::build(|out| {
        out.text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: ");
        write_scalar(out, name);
        out.text("\n");
        if let Some(ns) = opts.namespace.as_deref() {
            out.text("  namespace: ");
            write_scalar(out, ns);
            out.text("\n");
        }
        out.text("type: Opaque\n");
        if vars.is_empty() {
            out.text("data: {}\n");
            return;
        }
        out.text("data:\n");
        for var in vars {
            write_entry(out, "  ", &var.name, |out: &mut dyn Sink| {
                out.text("\"");
                out.base64(var.value.expose_bytes());
                out.text("\"");
            });
        }
    }))
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn is_config_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && s != "."
        && !s.starts_with("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_name_rules() {
        assert!(is_dns_subdomain("api-env.prod"));
        assert!(is_dns_subdomain("1a"));
        assert!(!is_dns_subdomain("Api"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_subdomain(""));
        assert!(!is_dns_subdomain(&"a".repeat(254)));
        assert!(is_dns_label("ns-1"));
        assert!(!is_dns_label("ns.1"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_config_key("A.b-c_1"));
        assert!(is_config_key(".env"));
        assert!(!is_config_key("."));
        assert!(!is_config_key(".."));
        assert!(!is_config_key("..a"));
        assert!(!is_config_key("a b"));
    }
}
