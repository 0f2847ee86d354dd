//! The Vault functions (`secret`, `secrets`, `pkiCert`) and the functions consul-template
//! defines for Consul and Nomad, which envfile refuses by name.
//!
//! `secret` (with `KEY=VALUE` arguments a write, as `pki/issue/ROLE` needs) and `pkiCert` (see
//! [`super::pki`]) read the render's fetched secrets, so `exec` evaluates them; the entries here
//! only declare them.

use super::{Def, R};
use crate::value::Value;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("secret", stateful),
    Def::new("secrets", stateful),
    Def::new("pkiCert", stateful),
];

fn stateful(_: Vec<Value>) -> R {
    Err("internal: evaluated by the executor".into())
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
        assert!(unsupported("pkiCert").is_none());
        assert!(unsupported("secrets").is_none());
    }
}
