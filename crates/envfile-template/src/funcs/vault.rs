//! The Vault functions (`secret`, `secrets`; `pkiCert` is refused for now) and the functions consul-template
//! defines for Consul and Nomad, which envfile refuses by name.
//!
//! `secret` and `secrets` read the render's fetched secrets, so `exec` evaluates them; the
//! entries here only declare them. `pkiCert` and `secret` with `KEY=VALUE` arguments (writes)
//! belong to dynamic secrets and fail with an error that says so.

use super::{Def, R};
use crate::value::Value;

pub(crate) const FUNCS: &[Def] = &[Def::new("secret", stateful), Def::new("secrets", stateful)];

fn stateful(_: Vec<Value>) -> R {
    Err("internal: evaluated by the executor".into())
}

/// The error for a Vault feature that comes with dynamic secrets.
pub(crate) fn not_yet(what: &str) -> String {
    format!(
        "{what} is not yet supported: it comes with dynamic secrets (issue 16); \
         envfile templates read static secrets only for now"
    )
}

/// consul-template functions that need Consul or Nomad (or run programs) and their reason.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("key", "Consul"),
    ("keyExists", "Consul"),
    ("keyOrDefault", "Consul"),
    ("ls", "Consul"),
    ("safeLs", "Consul"),
    ("tree", "Consul"),
    ("safeTree", "Consul"),
    ("service", "Consul"),
    ("services", "Consul"),
    ("connect", "Consul"),
    ("node", "Consul"),
    ("nodes", "Consul"),
    ("datacenters", "Consul"),
    ("partitions", "Consul"),
    ("peerings", "Consul"),
    ("exportedServices", "Consul"),
    ("importedServices", "Consul"),
    ("caRoots", "Consul"),
    ("caLeaf", "Consul"),
    ("byKey", "Consul"),
    ("byTag", "Consul"),
    ("byPort", "Consul"),
    ("byMeta", "Consul"),
    ("explode", "Consul"),
    ("nomadServices", "Nomad"),
    ("nomadService", "Nomad"),
    ("nomadVarList", "Nomad"),
    ("nomadVarListSafe", "Nomad"),
    ("nomadVar", "Nomad"),
    ("nomadVarExists", "Nomad"),
];

/// Why `name` is not available, if it is a Consul- or Nomad-only function.
pub(crate) fn unsupported(name: &str) -> Option<String> {
    if name == "pkiCert" {
        return Some(not_yet("function \"pkiCert\""));
    }
    UNSUPPORTED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, what)| {
            format!(
                "function \"{n}\" is {what}-only: it reads {what}, which envfile does not talk to"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consul_and_nomad_functions_are_named() {
        assert!(unsupported("keyOrDefault").unwrap().contains("Consul-only"));
        assert!(unsupported("nomadVar").unwrap().contains("Nomad-only"));
        assert!(unsupported("secret").is_none());
        assert!(unsupported("pkiCert").unwrap().contains("dynamic secrets"));
    }
}
