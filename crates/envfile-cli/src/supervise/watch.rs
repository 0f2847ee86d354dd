//! `--watch`: poll cheap version probes, re-resolve only when a version moved, and report a
//! change only when the child's rendered environment really differs.
//!
//! A change is judged on a SHA-256 over every variable's name and value, kept in memory and
//! never printed; a new version holding the same value, or a rotated key this env file does not
//! select, changes nothing. Only a resolution in which every reference succeeded is acted on.
//! When the backend cannot be reached the child keeps its environment; we warn and back off.
//!
//! A probe that is answered with values (AWS BatchGetSecretValue has no metadata-only form)
//! feeds the resolution it starts: a rotation costs the probe and nothing more (issue 19).
//! The values live only until that resolution is done, and are never logged.

use super::child;
use envfile_core::{EnvfileSpec, Prefetched, Problems, Reference, ResolvedEnv, Resolver};
use rand::Rng;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// A fingerprint of a whole environment.
pub type Digest = [u8; 32];

/// How to watch.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Time between probes (jittered by ±10%).
    pub interval: Duration,
    /// After a change is seen, wait this long and resolve again, so changes landing together
    /// cause one action.
    pub debounce: Duration,
}

/// A new environment for the child.
#[derive(Debug)]
pub struct Change {
    /// The fully resolved environment.
    pub env: ResolvedEnv,
}

/// The fingerprint of `env`: names and values, each length-prefixed so no two different
/// environments can produce the same byte stream.
pub fn digest(env: &ResolvedEnv) -> Digest {
    let mut h = Sha256::new();
    for var in &env.vars {
        h.update((var.name.len() as u64).to_le_bytes());
        h.update(var.name.as_bytes());
        let v = var.value.expose_bytes();
        h.update((v.len() as u64).to_le_bytes());
        h.update(v);
    }
    h.finalize().into()
}

fn per_var(env: &ResolvedEnv) -> BTreeMap<String, Digest> {
    env.vars
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                Sha256::digest(v.value.expose_bytes()).into(),
            )
        })
        .collect()
}

/// Names of variables added, removed or changed between two environments (names are not secret).
fn changed_names(old: &BTreeMap<String, Digest>, new: &BTreeMap<String, Digest>) -> Vec<String> {
    let mut names: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    names.extend(old.keys().filter(|k| !new.contains_key(*k)).cloned());
    names.sort();
    names
}

/// Every reference the env file reads (vars and expands); unparsable ones were already
/// reported by the first resolution, which succeeded, so there are none here.
pub fn references(spec: &EnvfileSpec) -> Vec<Reference> {
    use envfile_core::config::VarSource;
    let vars = spec.vars.values().filter_map(|s| match s {
        VarSource::Ref(raw) => Some(raw.as_str()),
        VarSource::Literal { .. } => None,
    });
    let expands = spec.expand.iter().map(|e| e.reference.as_str());
    vars.chain(expands)
        .filter_map(|raw| Reference::parse(raw).ok())
        .collect()
}

fn jittered(d: Duration) -> Duration {
    d.mul_f64(rand::thread_rng().gen_range(0.9..1.1))
}

/// The wait before the next probe: the interval, or after `failures` failed probes in a row a
/// doubling backoff capped at ten intervals (and at five minutes, unless the interval is longer).
fn next_delay(interval: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return jittered(interval);
    }
    let cap = interval
        .saturating_mul(10)
        .min(Duration::from_secs(300))
        .max(interval);
    let backoff = interval.saturating_mul(1u32 << failures.min(16));
    jittered(backoff.min(cap))
}

fn warn_problems(what: &str, problems: &Problems, retry_in: Duration) {
    let mut kinds: Vec<&str> = problems.0.iter().map(|p| p.error.kind().as_str()).collect();
    kinds.sort();
    kinds.dedup();
    for p in &problems.0 {
        tracing::warn!(
            kind = p.error.kind().as_str(),
            reference = p
                .reference
                .as_deref()
                .or(p.error.reference())
                .unwrap_or("-"),
            backend = p.error.backend().unwrap_or("-"),
            error = p.error.message(),
            "{what}"
        );
    }
    tracing::warn!(
        kinds = %kinds.join(","),
        problems = problems.0.len(),
        retry_in = ?retry_in,
        "the child keeps running on its current environment; retrying"
    );
}

/// Each reference's version, and the values the probe was answered with.
async fn probe(
    resolver: &Resolver,
    refs: &[Reference],
) -> Result<(Vec<Option<String>>, Prefetched), Problems> {
    tracing::debug!(secrets = refs.len(), "probing versions");
    let probed = resolver.probe(refs).await;
    let mut versions = Vec::with_capacity(refs.len());
    let mut problems = Vec::new();
    for (reference, res) in refs.iter().zip(probed.versions) {
        match res {
            Ok(v) => versions.push(v),
            Err(error) => problems.push(envfile_core::Problem {
                var: None,
                reference: Some(reference.raw.clone()),
                error,
            }),
        }
    }
    if problems.is_empty() {
        Ok((versions, probed.values))
    } else {
        Err(Problems(problems))
    }
}

/// Watch until the receiver is dropped. `initial` is the environment the child started with.
pub async fn watch(
    resolver: Resolver,
    spec: EnvfileSpec,
    initial: &ResolvedEnv,
    settings: Settings,
    tx: mpsc::Sender<Change>,
) {
    let refs = references(&spec);
    if refs.is_empty() {
        tracing::info!("the env file reads no secrets: nothing to watch");
        return;
    }
    let mut applied = digest(initial);
    let mut applied_vars = per_var(initial);
    // No baseline yet: the first probe always re-resolves, so a rotation between the first
    // resolution and the first probe is not missed.
    let mut baseline: Option<Vec<Option<String>>> = None;
    let mut failures = 0u32;
    loop {
        tokio::time::sleep(next_delay(settings.interval, failures)).await;
        if tx.is_closed() {
            return;
        }
        let (versions, values) = match probe(&resolver, &refs).await {
            Ok(v) => v,
            Err(problems) => {
                failures += 1;
                let retry_in = next_delay(settings.interval, failures);
                warn_problems("cannot check secrets for changes", &problems, retry_in);
                continue;
            }
        };
        if failures > 0 {
            tracing::warn!("secrets can be checked again");
        }
        if baseline.as_ref() == Some(&versions) {
            tracing::debug!(secrets = refs.len(), "check: no version moved");
            failures = 0;
            continue;
        }
        let resolved = resolver.resolve_envfile_with(&spec, &values).await;
        // A complete probe (every value came with it) can stand in for the debounce's read.
        let complete = values.is_complete();
        drop(values);
        let env = match resolved {
            Ok(env) => env,
            Err(problems) => {
                failures += 1;
                let retry_in = next_delay(settings.interval, failures);
                warn_problems(
                    "a secret version changed, but resolving failed",
                    &problems,
                    retry_in,
                );
                continue;
            }
        };
        failures = 0;
        let first = baseline.replace(versions).is_none();
        if digest(&env) == applied {
            if first {
                tracing::debug!("first check: the environment is unchanged");
            } else {
                tracing::debug!("secret versions moved, but the environment is unchanged");
            }
            continue;
        }
        let env = if settings.debounce.is_zero() {
            env
        } else {
            tracing::debug!(debounce = ?settings.debounce, "environment changed; waiting for more changes");
            tokio::time::sleep(settings.debounce).await;
            match resolve_again(&resolver, &spec, &refs, complete, &mut baseline).await {
                Ok(newer) => newer,
                // The earlier resolution was complete: act on it rather than on nothing.
                Err(problems) => {
                    warn_problems(
                        "resolving after the debounce window failed",
                        &problems,
                        Duration::ZERO,
                    );
                    env
                }
            }
        };
        let d = digest(&env);
        if d == applied {
            continue;
        }
        if let Err(e) = child::check_env(&env) {
            tracing::warn!(kind = e.kind().as_str(), error = %e, "the new environment cannot be used; keeping the current one");
            continue;
        }
        let vars = per_var(&env);
        tracing::info!(changed = %changed_names(&applied_vars, &vars).join(","), "the environment changed");
        applied = d;
        applied_vars = vars;
        if tx.send(Change { env }).await.is_err() {
            return;
        }
    }
}

/// The resolution after the debounce window. Where the probe answers with every value, a second
/// probe costs what the read would and also gives the versions the new environment is made of
/// (the baseline, so the next check does not see this change again); otherwise a plain read.
async fn resolve_again(
    resolver: &Resolver,
    spec: &EnvfileSpec,
    refs: &[Reference],
    complete: bool,
    baseline: &mut Option<Vec<Option<String>>>,
) -> Result<ResolvedEnv, Problems> {
    if complete {
        if let Ok((versions, values)) = probe(resolver, refs).await {
            if values.is_complete() {
                let env = resolver.resolve_envfile_with(spec, &values).await?;
                *baseline = Some(versions);
                return Ok(env);
            }
        }
    }
    resolver.resolve_envfile(spec).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use envfile_core::{SecretValue, Var};

    fn env(pairs: &[(&str, &str)]) -> ResolvedEnv {
        ResolvedEnv {
            vars: pairs
                .iter()
                .map(|(n, v)| Var {
                    name: (*n).to_owned(),
                    value: SecretValue::from_str_copy(v),
                })
                .collect(),
            versions: BTreeMap::new(),
        }
    }

    #[test]
    fn digest_sees_values_and_names_but_not_versions() {
        let a = env(&[("A", "1"), ("B", "2")]);
        let mut a2 = env(&[("A", "1"), ("B", "2")]);
        a2.versions.insert("file:x".into(), Some("v2".into()));
        assert_eq!(digest(&a), digest(&a2));
        assert_ne!(digest(&a), digest(&env(&[("A", "1"), ("B", "3")])));
        assert_ne!(digest(&a), digest(&env(&[("A", "12"), ("B", "")])));
        assert_ne!(digest(&a), digest(&env(&[("A", "1")])));
    }

    #[test]
    fn changed_names_lists_added_removed_and_changed() {
        let old = per_var(&env(&[("A", "1"), ("B", "2"), ("C", "3")]));
        let new = per_var(&env(&[("A", "1"), ("B", "x"), ("D", "4")]));
        assert_eq!(changed_names(&old, &new), ["B", "C", "D"]);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let i = Duration::from_millis(300);
        assert!(next_delay(i, 0) <= Duration::from_millis(330));
        assert!(next_delay(i, 1) >= Duration::from_millis(540));
        assert!(next_delay(i, 30) <= Duration::from_millis(3300));
        let long = Duration::from_secs(600);
        assert!(next_delay(long, 5) >= Duration::from_secs(540));
    }
}
