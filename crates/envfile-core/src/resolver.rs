//! The resolver: turns an env file spec into variables.
//!
//! OWNER: resolver helper. The public API below is fixed (the CLI, broker and `run` code against
//! it); the bodies are to be written.
//!
//! It fetches every distinct secret once (dedupe on backend + locator) even when many variables
//! use it, through `Backend::get_many` per backend, concurrently across backends with a bound;
//! selects JSON keys; expands; validates; and reports **all** problems at once.

use crate::backend::{Backends, Fetched};
use crate::config::{Config, EnvfileSpec, SecretRule};
use crate::error::{Error, Result};
use crate::reference::{Locator, Reference};
use crate::secret::SecretValue;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Values a version probe was answered with (AWS BatchGetSecretValue has no metadata-only form;
/// a backend without a cheap probe is read in full), by backend and locator, so the resolution
/// that follows a moved version takes them instead of reading the secrets again. Held only for
/// that resolution; Debug says how many, never a value.
#[derive(Clone, Default)]
pub struct Prefetched {
    values: HashMap<(String, Locator), Fetched>,
    complete: bool,
}

impl Prefetched {
    pub(crate) fn new(values: HashMap<(String, Locator), Fetched>, complete: bool) -> Self {
        Self { values, complete }
    }

    /// How many secrets' values are held.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether the probe brought the value of every secret it was asked about (so probing
    /// again costs what reading them would).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    pub(crate) fn get(&self, backend: &str, loc: &Locator) -> Option<&Fetched> {
        // Keyed by owned parts: a lookup clones the locator, which holds no secret.
        self.values.get(&(backend.to_owned(), loc.clone()))
    }
}

impl fmt::Debug for Prefetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prefetched")
            .field("secrets", &self.values.len())
            .field("complete", &self.complete)
            .finish()
    }
}

/// What [`Resolver::probe`] found: each reference's version, in order, and the values that came
/// with the probe.
#[derive(Debug, Default)]
pub struct Probed {
    /// One per reference, in order (`Ok(None)`: the backend has no version for it).
    pub versions: Vec<Result<Option<String>>>,
    /// The values the probe was answered with.
    pub values: Prefetched,
}

/// One resolved variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// The variable name (validated).
    pub name: String,
    /// Its value.
    pub value: SecretValue,
}

/// The result of resolving an env file: variables in a stable order (sorted by name),
/// and the version of every secret used (for change detection: `run --watch`, the broker).
#[derive(Debug, Clone, Default)]
pub struct ResolvedEnv {
    /// The variables, sorted by name.
    pub vars: Vec<Var>,
    /// Reference (as written) → version id of the secret it read, when the backend has one.
    pub versions: BTreeMap<String, Option<String>>,
}

impl ResolvedEnv {
    /// Look a variable up by name.
    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.vars.iter().find(|v| v.name == name).map(|v| &v.value)
    }
}

/// One problem found while resolving: which variable (if any), which reference (if any), what.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The variable it concerns.
    pub var: Option<String>,
    /// The reference it concerns, as written.
    pub reference: Option<String>,
    /// What went wrong, with kind and hint.
    pub error: Error,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v) = &self.var {
            write!(f, "{v}: ")?;
        }
        write!(f, "{}", self.error)
    }
}

/// Every problem found; never empty when returned as an error.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "- {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Resolves references and env files against the configured backends.
#[derive(Clone)]
pub struct Resolver {
    backends: Backends,
    rules: BTreeMap<String, SecretRule>,
    concurrency: usize,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("backends", &self.backends)
            .field("rules", &self.rules.keys().collect::<Vec<_>>())
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl Resolver {
    /// A resolver over `backends`, with the per-secret rules of `config`.
    pub fn new(backends: Backends, config: &Config) -> Self {
        Self {
            backends,
            rules: config.secrets.clone(),
            concurrency: crate::backend::DEFAULT_CONCURRENCY,
        }
    }

    /// Bound on concurrent backend calls (default 16).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The backends.
    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    /// Resolve one env file. On any problem, returns every problem found (not the first).
    pub async fn resolve_envfile(&self, spec: &EnvfileSpec) -> Result<ResolvedEnv, Problems> {
        crate::resolve::resolve_envfile(self, spec, &Prefetched::default()).await
    }

    /// Resolve one reference to a value (with key selection and the secret's rules).
    pub async fn get(&self, reference: &Reference) -> Result<SecretValue> {
        crate::resolve::get(self, reference).await
    }

    /// Fetch several references' secrets (whole, no key selection), each distinct secret once.
    /// The result has one entry per input, in order.
    pub async fn fetch_many(&self, refs: &[Reference]) -> Vec<Result<Fetched>> {
        crate::resolve::fetch_many(self, refs).await
    }

    /// The cheap version probe for each reference's secret (falls back to a full read where the
    /// backend has no cheap probe). Used by `run --watch` and the broker.
    pub async fn versions(&self, refs: &[Reference]) -> Vec<Result<Option<String>>> {
        crate::resolve::probe(self, refs).await.versions
    }

    /// [`Resolver::versions`], keeping the values the probe was answered with, for
    /// [`Resolver::resolve_envfile_with`]: `run --watch` resolves a moved secret from its batch
    /// probe's answer instead of reading it again.
    pub async fn probe(&self, refs: &[Reference]) -> Probed {
        crate::resolve::probe(self, refs).await
    }

    /// [`Resolver::resolve_envfile`], taking each secret held in `prefetched` from there instead
    /// of reading it.
    pub async fn resolve_envfile_with(
        &self,
        spec: &EnvfileSpec,
        prefetched: &Prefetched,
    ) -> Result<ResolvedEnv, Problems> {
        crate::resolve::resolve_envfile(self, spec, prefetched).await
    }

    pub(crate) fn rules(&self) -> &BTreeMap<String, SecretRule> {
        &self.rules
    }
    pub(crate) fn concurrency(&self) -> usize {
        self.concurrency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run --watch` holds a probe's values between the probe and the resolution: a log line or
    /// a panic that prints them must not show one.
    #[test]
    fn probe_values_debug_without_them() {
        let values = HashMap::from([(
            ("aws".to_owned(), Locator::new("db")),
            Fetched::new(
                SecretValue::from_string("hunter2-watch".to_owned()),
                Some("v2".into()),
            ),
        )]);
        let probed = Probed {
            versions: vec![Ok(Some("v2".into()))],
            values: Prefetched::new(values, true),
        };
        let shown = format!("{probed:?}");
        assert!(
            shown.contains("v2") && shown.contains("secrets: 1"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(probed.values.len(), 1);
        assert!(probed.values.get("aws", &Locator::new("db")).is_some());
        assert!(probed.values.get("aws", &Locator::new("other")).is_none());
    }
}
