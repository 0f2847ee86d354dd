//! The bodies behind [`crate::Resolver`]: batched, deduplicated fetching with per-item retry,
//! key selection, `[secrets]` rules, expansion, and collecting every problem at once.
//!
//! Nothing here formats a value: messages are built from references, key names (which are
//! not secret) and error kinds only.

use crate::backend::{Backend, Fetched};
use crate::config::{Case, EnvfileSpec, VarSource};
use crate::envname;
use crate::error::{Error, ErrorKind, Result};
use crate::reference::{BackendSel, KeySel, Locator, Reference};
use crate::resolver::{Prefetched, Probed, Problem, Problems, ResolvedEnv, Resolver, Var};
use crate::retry::{gave_up, RetryPolicy};
use crate::secret::{SecretJson, SecretValue};
use crate::suggest::did_you_mean_phrase;
use futures::stream::{self, StreamExt};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, OnceLock};

// ---------------------------------------------------------------------------------------------
// Fetching

/// The distinct secrets one backend must read, in first-seen order.
struct Batch {
    backend: Arc<dyn Backend>,
    locs: Vec<Locator>,
    index: HashMap<Locator, usize>,
}

/// For each input: which batch and which slot in it, or why no backend could take it.
type Plan = (BTreeMap<String, Batch>, Vec<Result<(String, usize)>>);

fn plan(r: &Resolver, refs: &[Reference]) -> Plan {
    let mut batches: BTreeMap<String, Batch> = BTreeMap::new();
    let slots = refs
        .iter()
        .map(|reference| {
            let backend = r
                .backends()
                .select(&reference.backend)
                .map_err(|e| e.or_reference(&reference.raw))?;
            let name = backend.name().to_owned();
            let batch = batches.entry(name.clone()).or_insert_with(|| Batch {
                backend,
                locs: Vec::new(),
                index: HashMap::new(),
            });
            let slot = match batch.index.get(&reference.locator) {
                Some(&i) => i,
                None => {
                    batch.locs.push(reference.locator.clone());
                    batch
                        .index
                        .insert(reference.locator.clone(), batch.locs.len() - 1);
                    batch.locs.len() - 1
                }
            };
            Ok((name, slot))
        })
        .collect();
    (batches, slots)
}

/// Runs `per_backend` once for each backend over its distinct secrets, all backends at once,
/// then gives every input its own answer, naming its reference and backend on errors.
async fn scatter_gather<T, F, Fut>(
    r: &Resolver,
    refs: &[Reference],
    per_backend: F,
) -> Vec<Result<T>>
where
    T: Clone,
    F: Fn(Batch) -> Fut,
    Fut: Future<Output = Vec<Result<T>>>,
{
    let (batches, slots) = plan(r, refs);
    let results: HashMap<String, Vec<Result<T>>> = stream::iter(batches)
        .map(|(name, batch)| {
            let out = per_backend(batch);
            async move { (name, out.await) }
        })
        .buffer_unordered(r.concurrency())
        .collect()
        .await;
    slots
        .into_iter()
        .zip(refs)
        .map(|(slot, reference)| {
            let (name, i) = slot?;
            let res = results
                .get(&name)
                .and_then(|v| v.get(i))
                .cloned()
                .unwrap_or_else(|| Err(short_answer(&name)));
            res.map_err(|e| e.or_reference(&reference.raw).or_backend(&name))
        })
        .collect()
}

pub(crate) async fn fetch_many(r: &Resolver, refs: &[Reference]) -> Vec<Result<Fetched>> {
    fetch_many_with(r, refs, &Prefetched::default()).await
}

/// [`fetch_many`], taking what `pre` holds from there: only the rest is read.
async fn fetch_many_with(
    r: &Resolver,
    refs: &[Reference],
    pre: &Prefetched,
) -> Vec<Result<Fetched>> {
    // One `get_many` per backend; each backend bounds its own fan-out.
    scatter_gather(r, refs, |batch| async move {
        let backend = batch.backend.as_ref();
        let mut out: Vec<Option<Result<Fetched>>> = batch
            .locs
            .iter()
            .map(|loc| pre.get(backend.name(), loc).cloned().map(Ok))
            .collect();
        let need: Vec<usize> = (0..out.len()).filter(|&i| out[i].is_none()).collect();
        if !need.is_empty() {
            let locs: Vec<Locator> = need.iter().map(|&i| batch.locs[i].clone()).collect();
            for (i, res) in need
                .into_iter()
                .zip(get_many_retrying(backend, &locs).await)
            {
                out[i] = Some(res);
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(short_answer(backend.name()))))
            .collect()
    })
    .await
}

fn short_answer(backend: &str) -> Error {
    Error::new(
        ErrorKind::Other,
        "the backend returned fewer results than secrets asked for",
    )
    .with_backend(backend)
    .with_hint("this is a bug in the backend; please report it")
}

/// `get_many`, then again for only the items that failed with a retryable error (still
/// batched, so AWS keeps using one call), under [`RetryPolicy::default`]'s attempts, backoff
/// and deadline. Retrying the whole batch would re-read secrets we already have.
async fn get_many_retrying(backend: &dyn Backend, locs: &[Locator]) -> Vec<Result<Fetched>> {
    let policy = RetryPolicy::default();
    let start = tokio::time::Instant::now();
    let mut results = padded(backend.get_many(locs).await, locs.len(), backend.name());
    let mut attempt = 1u32;
    loop {
        let pending: Vec<usize> = (0..results.len())
            .filter(|&i| matches!(&results[i], Err(e) if e.is_retryable()))
            .collect();
        if pending.is_empty() || attempt >= policy.max_attempts {
            break;
        }
        let delay = policy.backoff(attempt);
        if start.elapsed() + delay > policy.total {
            break;
        }
        tracing::debug!(
            backend = backend.name(),
            items = pending.len(),
            attempt,
            ?delay,
            "retrying failed items"
        );
        tokio::time::sleep(delay).await;
        attempt += 1;
        let again_locs: Vec<Locator> = pending.iter().map(|&i| locs[i].clone()).collect();
        let again = padded(
            backend.get_many(&again_locs).await,
            pending.len(),
            backend.name(),
        );
        for (i, res) in pending.into_iter().zip(again) {
            results[i] = res;
        }
    }
    if attempt > 1 {
        for res in &mut results {
            if let Err(e) = res {
                if e.is_retryable() {
                    *e = gave_up(e, &format!("{attempt} attempts"));
                }
            }
        }
    }
    results
}

fn padded(mut v: Vec<Result<Fetched>>, n: usize, backend: &str) -> Vec<Result<Fetched>> {
    v.truncate(n);
    while v.len() < n {
        v.push(Err(short_answer(backend)));
    }
    v
}

// ---------------------------------------------------------------------------------------------
// One reference

pub(crate) async fn get(r: &Resolver, reference: &Reference) -> Result<SecretValue> {
    let fetched = fetch_many(r, std::slice::from_ref(reference))
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(short_answer(reference.backend.as_str())))?;
    if let Some(e) = check_rules(r, reference, &fetched.value) {
        return Err(with_backend_of(r, reference, e));
    }
    select(&fetched.value, reference).map_err(|e| with_backend_of(r, reference, e))
}

/// Name the backend on errors found after the fetch (key selection, rules, expansion).
fn with_backend_of(r: &Resolver, reference: &Reference, e: Error) -> Error {
    match r.backends().select(&reference.backend) {
        Ok(b) => e.or_backend(b.name()),
        Err(_) => e,
    }
}

/// The keys `[secrets."REF"]` rules require of the secret `reference` reads. A rule applies
/// when it names the same backend instance and the same path (pins and `#key` aside: rules
/// describe the secret's shape, which every version shares).
fn required_keys(r: &Resolver, reference: &Reference) -> Vec<String> {
    let backend_of = |sel: &BackendSel| -> Option<String> {
        r.backends().select(sel).ok().map(|b| b.name().to_owned())
    };
    let target = backend_of(&reference.backend);
    let mut keys = Vec::new();
    for (raw, rule) in r.rules() {
        let Ok(rule_ref) = Reference::parse(raw) else {
            continue; // rejected at config load; nothing sensible to match here
        };
        if rule_ref.locator.path != reference.locator.path {
            continue;
        }
        let same_backend = match (&target, backend_of(&rule_ref.backend)) {
            (Some(a), Some(b)) => *a == b,
            _ => rule_ref.backend == reference.backend,
        };
        if same_backend {
            keys.extend(rule.required_keys.iter().cloned());
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Check the secret against its rules; one error listing every missing key.
fn check_rules(r: &Resolver, reference: &Reference, value: &SecretValue) -> Option<Error> {
    let required = required_keys(r, reference);
    if required.is_empty() {
        return None;
    }
    let raw = &Reference {
        key: None,
        ..reference.clone()
    }
    .canonical();
    let json = match value.parse_json() {
        Ok(j) if j.is_object() => j,
        Ok(j) => {
            return Some(
                Error::new(
                    ErrorKind::NotJson,
                    format!(
                        "the secret must be a JSON object with keys {} (a [secrets] rule), \
                         but it is {}",
                        required.join(", "),
                        json_kind(j.expose())
                    ),
                )
                .with_reference(raw.as_str()),
            )
        }
        Err(at) => {
            return Some(
                Error::new(
                    ErrorKind::NotJson,
                    format!(
                        "the secret must be a JSON object with keys {} (a [secrets] rule), but it \
                         is not JSON (syntax error at line {}, column {})",
                        required.join(", "),
                        at.line,
                        at.column
                    ),
                )
                .with_reference(raw.as_str()),
            )
        }
    };
    let present = sorted_keys(&json);
    let missing: Vec<&String> = required.iter().filter(|k| !present.contains(k)).collect();
    if missing.is_empty() {
        return None;
    }
    let names: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
    let mut hint = found_keys(&present);
    for k in &missing {
        // The rule says what the app needs, so a near miss is a misnamed key in the secret.
        let near = crate::suggest::did_you_mean(k, present.iter().map(String::as_str));
        if let Some(found) = near.first() {
            hint.push_str(&format!(
                "; the secret has `{found}` where `{k}` is required: rename that key to `{k}`"
            ));
        }
    }
    Some(
        Error::new(
            ErrorKind::MissingKey,
            format!("the secret lacks required key(s) {}", names.join(", ")),
        )
        .with_reference(raw.as_str())
        .with_hint(hint),
    )
}

fn sorted_keys(json: &SecretJson) -> Vec<String> {
    let mut keys = json.keys().unwrap_or_default();
    keys.sort();
    keys
}

fn found_keys(keys: &[String]) -> String {
    if keys.is_empty() {
        "the secret is an empty JSON object".to_owned()
    } else {
        format!("found keys: {}", keys.join(", "))
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "JSON null",
        serde_json::Value::Bool(_) => "a JSON boolean",
        serde_json::Value::Number(_) => "a JSON number",
        serde_json::Value::String(_) => "a JSON string",
        serde_json::Value::Array(_) => "a JSON array",
        serde_json::Value::Object(_) => "a JSON object",
    }
}

fn parse_for_key(value: &SecretValue, reference: &Reference, key: &KeySel) -> Result<SecretJson> {
    value.parse_json().map_err(|at| {
        Error::new(
            ErrorKind::NotJson,
            format!(
                "key `{key}` was asked for, but the secret is not JSON (syntax error at line {}, \
                 column {})",
                at.line, at.column
            ),
        )
        .with_reference(reference.raw.as_str())
        .with_hint(format!(
            "drop `#{key}` to use the whole value, or store the secret as a JSON object"
        ))
    })
}

/// Apply the reference's key selection to a fetched value.
fn select(value: &SecretValue, reference: &Reference) -> Result<SecretValue> {
    let raw = reference.raw.as_str();
    let Some(key) = &reference.key else {
        return Ok(value.clone());
    };
    let json = parse_for_key(value, reference, key)?;
    match key {
        KeySel::Field(k) => {
            let Some(obj) = json.expose().as_object() else {
                return Err(Error::new(
                    ErrorKind::NotJson,
                    format!(
                        "key `{k}` was asked for, but the secret is {}, not a JSON object",
                        json_kind(json.expose())
                    ),
                )
                .with_reference(raw)
                .with_hint(format!("drop `#{k}` to use the whole value")));
            };
            match obj.get(k) {
                Some(v) => render(v, k, raw),
                None => Err(missing_key(k, &sorted_keys(&json), raw)),
            }
        }
        KeySel::Pointer(p) => {
            if !matches!(
                json.expose(),
                serde_json::Value::Object(_) | serde_json::Value::Array(_)
            ) {
                return Err(Error::new(
                    ErrorKind::NotJson,
                    format!(
                        "JSON pointer `{p}` was asked for, but the secret is {}",
                        json_kind(json.expose())
                    ),
                )
                .with_reference(raw)
                .with_hint(format!("drop `#{p}` to use the whole value")));
            }
            match json.expose().pointer(p) {
                Some(v) => render(v, p, raw),
                None => Err(missing_pointer(json.expose(), p, raw)),
            }
        }
    }
}

/// "found keys: …; did you mean …?" for a key that is not in `present`.
fn keys_hint(key: &str, present: &[String], at: &str) -> String {
    let mut hint = if at.is_empty() {
        found_keys(present)
    } else if present.is_empty() {
        format!("`{at}` is an empty object")
    } else {
        format!("keys at `{at}`: {}", present.join(", "))
    };
    if let Some(s) = did_you_mean_phrase(key, present.iter().map(String::as_str)) {
        hint.push_str("; ");
        hint.push_str(&s);
    }
    hint
}

fn missing_key(key: &str, present: &[String], raw: &str) -> Error {
    Error::new(
        ErrorKind::MissingKey,
        format!("the secret has no key `{key}`"),
    )
    .with_reference(raw)
    .with_hint(keys_hint(key, present, ""))
}

/// Walk the pointer to the first segment that is not there and describe that spot.
fn missing_pointer(root: &serde_json::Value, pointer: &str, raw: &str) -> Error {
    let mut cur = root;
    let mut walked = String::new();
    for seg in pointer.split('/').skip(1) {
        let name = seg.replace("~1", "/").replace("~0", "~");
        let next = match cur {
            serde_json::Value::Object(m) => m.get(&name),
            serde_json::Value::Array(a) => name.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        };
        match next {
            Some(v) => {
                walked.push('/');
                walked.push_str(seg);
                cur = v;
            }
            None => {
                let at = if walked.is_empty() {
                    "/"
                } else {
                    walked.as_str()
                };
                let hint = match cur {
                    serde_json::Value::Object(m) => {
                        let mut keys: Vec<String> = m.keys().cloned().collect();
                        keys.sort();
                        keys_hint(&name, &keys, at)
                    }
                    serde_json::Value::Array(a) => {
                        format!("`{at}` is an array of {} items", a.len())
                    }
                    other => format!("`{at}` is {}, which has no keys", json_kind(other)),
                };
                return Error::new(
                    ErrorKind::MissingKey,
                    format!("the secret has no value at JSON pointer `{pointer}`"),
                )
                .with_reference(raw)
                .with_hint(hint);
            }
        }
    }
    Error::new(
        ErrorKind::MissingKey,
        format!("the secret has no value at JSON pointer `{pointer}`"),
    )
    .with_reference(raw)
    .with_hint("a JSON pointer starts with `/`, e.g. `#/db/password`")
}

/// A selected JSON value as variable text: strings as their text, other scalars and
/// structures as compact JSON. `null` is no value at all.
fn render(v: &serde_json::Value, what: &str, raw: &str) -> Result<SecretValue> {
    match v {
        serde_json::Value::Null => Err(Error::new(
            ErrorKind::Empty,
            format!("key `{what}` is null"),
        )
        .with_reference(raw)
        .with_hint("store a value under the key, or pick another key")),
        other => Ok(json_text(other)),
    }
}

fn json_text(v: &serde_json::Value) -> SecretValue {
    match v {
        serde_json::Value::String(s) => SecretValue::from_str_copy(s),
        serde_json::Value::Null => SecretValue::new(Vec::new()),
        // Serializing a `Value` cannot fail (its keys are strings); an empty value on the
        // impossible path is caught by `required` rather than panicking.
        other => SecretValue::new(serde_json::to_vec(other).unwrap_or_default()),
    }
}

// ---------------------------------------------------------------------------------------------
// Env files

/// A variable and where it came from (for conflict and `required` messages).
struct Produced {
    source: String,
    reference: Option<String>,
    value: SecretValue,
}

fn problem(var: Option<&str>, reference: Option<&str>, error: Error) -> Problem {
    Problem {
        var: var.map(str::to_owned),
        reference: reference.map(str::to_owned),
        error,
    }
}

/// A JSON key as a variable name under `case` (before the prefix).
fn convert_case(key: &str, case: Case) -> String {
    let clean = |c: char| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    };
    match case {
        Case::Upper => key.chars().map(|c| clean(c).to_ascii_uppercase()).collect(),
        Case::Lower => key.chars().map(|c| clean(c).to_ascii_lowercase()).collect(),
        Case::Keep => key.to_owned(),
    }
}

pub(crate) async fn resolve_envfile(
    r: &Resolver,
    spec: &EnvfileSpec,
    pre: &Prefetched,
) -> std::result::Result<ResolvedEnv, Problems> {
    let mut problems: Vec<Problem> = Vec::new();
    let mut refs: Vec<Reference> = Vec::new();
    let mut var_refs: Vec<(&str, usize)> = Vec::new();
    let mut produced: BTreeMap<String, Produced> = BTreeMap::new();
    // Variables whose own source failed: already reported, so `required` stays quiet on them.
    let mut failed: BTreeSet<&str> = BTreeSet::new();

    for (name, source) in &spec.vars {
        if !envname::is_valid(name) {
            problems.push(problem(
                Some(name),
                None,
                Error::new(
                    ErrorKind::InvalidName,
                    format!(
                        "`{name}` is not a valid variable name: {}",
                        envname::why_invalid(name)
                    ),
                )
                .with_hint("use letters, digits and `_`, not starting with a digit"),
            ));
            failed.insert(name);
            continue;
        }
        match source {
            VarSource::Literal { value } => {
                produced.insert(
                    name.clone(),
                    Produced {
                        source: format!("vars.{name} (literal)"),
                        reference: None,
                        value: SecretValue::from_str_copy(value),
                    },
                );
            }
            VarSource::Ref(raw) => match Reference::parse(raw) {
                Ok(reference) => {
                    refs.push(reference);
                    var_refs.push((name, refs.len() - 1));
                }
                Err(e) => {
                    problems.push(problem(Some(name), Some(raw), e));
                    failed.insert(name);
                }
            },
        }
    }

    let mut expand_refs: Vec<(usize, usize)> = Vec::new();
    let mut expand_failed = false;
    for (i, ex) in spec.expand.iter().enumerate() {
        match Reference::parse(&ex.reference) {
            Ok(reference) => {
                refs.push(reference);
                expand_refs.push((i, refs.len() - 1));
            }
            Err(e) => {
                problems.push(problem(None, Some(&ex.reference), e));
                expand_failed = true;
            }
        }
    }

    let fetched = fetch_many_with(r, &refs, pre).await;

    let mut versions = BTreeMap::new();
    let mut rules_checked: HashSet<(String, Locator)> = HashSet::new();
    for (i, res) in fetched.iter().enumerate() {
        let Ok(f) = res else { continue };
        let reference = &refs[i];
        versions.insert(reference.raw.clone(), f.version.clone());
        let secret = (
            reference.backend.as_str().to_owned(),
            reference.locator.clone(),
        );
        if rules_checked.insert(secret) {
            if let Some(e) = check_rules(r, reference, &f.value) {
                // A rule is about the secret, not about whichever variable happened to read it
                // first: name the secret itself (without the `#key`).
                let e = with_backend_of(r, reference, e);
                let secret = e.reference().unwrap_or(&reference.raw).to_owned();
                problems.push(problem(None, Some(&secret), e));
            }
        }
    }

    for &(name, i) in &var_refs {
        let raw = refs[i].raw.as_str();
        let value = match &fetched[i] {
            Ok(f) => select(&f.value, &refs[i]).map_err(|e| with_backend_of(r, &refs[i], e)),
            Err(e) => Err(e.clone()),
        };
        match value {
            Ok(value) => {
                produced.insert(
                    name.to_owned(),
                    Produced {
                        source: format!("vars.{name} (`{raw}`)"),
                        reference: Some(raw.to_owned()),
                        value,
                    },
                );
            }
            Err(e) => {
                problems.push(problem(Some(name), Some(raw), e));
                failed.insert(name);
            }
        }
    }

    for &(ei, i) in &expand_refs {
        let ex = &spec.expand[ei];
        let reference = &refs[i];
        let raw = reference.raw.as_str();
        let object = match &fetched[i] {
            Ok(f) => expandable(&f.value, reference).map_err(|e| with_backend_of(r, reference, e)),
            Err(e) => Err(e.clone()),
        };
        let json = match object {
            Ok(json) => json,
            Err(e) => {
                problems.push(problem(None, Some(raw), e));
                expand_failed = true;
                continue;
            }
        };
        let Some(obj) = json.expose().as_object() else {
            continue; // `expandable` only returns objects
        };
        for (key, v) in obj {
            let name = format!("{}{}", ex.prefix, convert_case(key, ex.case));
            if !envname::is_valid(&name) {
                problems.push(problem(
                    Some(&name),
                    Some(raw),
                    Error::new(
                        ErrorKind::InvalidName,
                        format!(
                            "key `{key}` gives the variable name `{name}`, which is not valid: {}",
                            envname::why_invalid(&name)
                        ),
                    )
                    .with_reference(raw)
                    .with_hint(
                        "set `case = \"upper\"` (turns other characters into `_`) or a `prefix` \
                         that starts with a letter",
                    ),
                ));
                continue;
            }
            let source = format!("expand `{raw}` (key `{key}`)");
            if let Some(first) = produced.get(&name) {
                problems.push(problem(
                    Some(&name),
                    Some(raw),
                    Error::new(
                        ErrorKind::Config,
                        format!(
                            "variable `{name}` is set by both {} and {source}",
                            first.source
                        ),
                    )
                    .with_hint("give the expand a `prefix`, or remove one of the two sources"),
                ));
                continue;
            }
            produced.insert(
                name,
                Produced {
                    source,
                    reference: Some(raw.to_owned()),
                    value: json_text(v),
                },
            );
        }
    }

    for name in &spec.required {
        match produced.get(name) {
            Some(p) if p.value.is_empty() => problems.push(problem(
                Some(name),
                p.reference.as_deref(),
                Error::new(
                    ErrorKind::Empty,
                    format!("required variable `{name}` is empty (from {})", p.source),
                )
                .with_hint("store a non-empty value, or remove the name from `required`"),
            )),
            Some(_) => {}
            None if failed.contains(name.as_str()) => {}
            None => {
                let mut hint =
                    String::from("add it to `vars`, or to a secret that an `expand` reads");
                if expand_failed {
                    hint.push_str("; an `expand` source failed above, which may be why");
                }
                if let Some(s) = did_you_mean_phrase(name, produced.keys().map(String::as_str)) {
                    hint.push_str("; ");
                    hint.push_str(&s);
                }
                problems.push(problem(
                    Some(name),
                    None,
                    Error::new(
                        ErrorKind::Empty,
                        format!("required variable `{name}` is not set by vars or expand"),
                    )
                    .with_hint(hint),
                ));
            }
        }
    }

    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    Ok(ResolvedEnv {
        vars: produced
            .into_iter()
            .map(|(name, p)| Var {
                name,
                value: p.value,
            })
            .collect(),
        versions,
    })
}

/// The JSON object an `expand` spreads into variables: the secret, or the part `#key` selects.
fn expandable(value: &SecretValue, reference: &Reference) -> Result<SecretJson> {
    let raw = reference.raw.as_str();
    let selected;
    let source = match &reference.key {
        Some(_) => {
            selected = select(value, reference)?;
            &selected
        }
        None => value,
    };
    let json = source.parse_json().map_err(|at| {
        Error::new(
            ErrorKind::NotJson,
            format!(
                "`expand` needs a JSON object, but the secret is not JSON (syntax error at line \
                 {}, column {})",
                at.line, at.column
            ),
        )
        .with_reference(raw)
        .with_hint("use the reference in `vars` instead, as one variable")
    })?;
    if !json.is_object() {
        return Err(Error::new(
            ErrorKind::NotJson,
            format!(
                "`expand` needs a JSON object, but the secret is {}",
                json_kind(json.expose())
            ),
        )
        .with_reference(raw)
        .with_hint("use the reference in `vars` instead, as one variable"));
    }
    Ok(json)
}

// ---------------------------------------------------------------------------------------------
// Versions

/// Each reference's version, and the values the probes were answered with (see [`Prefetched`]).
pub(crate) async fn probe(r: &Resolver, refs: &[Reference]) -> Probed {
    let concurrency = r.concurrency();
    let found = scatter_gather(r, refs, |batch| async move {
        let name = batch.backend.name().to_owned();
        let (versions, values) =
            batch_versions(batch.backend.as_ref(), &batch.locs, concurrency).await;
        // The value travels with its locator, so the caller can key it without a second plan.
        versions
            .into_iter()
            .zip(values)
            .zip(batch.locs)
            .map(|((v, f), loc)| v.map(|v| (v, f.map(|f| Arc::new((name.clone(), loc, f))))))
            .collect()
    })
    .await;
    let mut complete = true;
    let mut values = HashMap::new();
    let versions = found
        .into_iter()
        .map(|res| {
            res.map(|(version, value)| {
                match value {
                    Some(held) => {
                        let (name, loc, f) = &*held;
                        values
                            .entry((name.clone(), loc.clone()))
                            .or_insert_with(|| f.clone());
                    }
                    None => complete = false,
                }
                version
            })
        })
        .collect();
    Probed {
        versions,
        values: Prefetched::new(values, complete),
    }
}

/// Cheap probes first; the secrets without one are read in full, in one batch. Returns the
/// versions and, one per locator, the value a probe or read brought (`None` where it brought
/// none).
async fn batch_versions(
    backend: &dyn Backend,
    locs: &[Locator],
    concurrency: usize,
) -> (Vec<Result<Option<String>>>, Vec<Option<Fetched>>) {
    let mut values: Vec<Option<Fetched>> = Vec::new();
    let mut out: Vec<Result<Option<String>>> = if backend.probe_batch_size() > 1 {
        // A batch probe (AWS BatchGetSecretValue, SSM GetParameters): a few calls for every
        // secret rather than one each (issue 19); the backend retries its own calls. Its
        // values (BatchGetSecretValue answers with them) are kept for the resolution a moved
        // version starts, which then reads nothing again.
        let probe = backend.current_versions(locs).await;
        values = probe.values;
        for (v, f) in probe.versions.iter().zip(values.iter_mut()) {
            // Only a value of the version the probe reports stands for it.
            let same = matches!((v, &*f), (Ok(Some(v)), Some(f)) if f.version.as_deref() == Some(v.as_str()));
            if !same {
                *f = None;
            }
        }
        probe.versions
    } else {
        let policy = RetryPolicy::default();
        let probes: Vec<_> = locs
            .iter()
            .map(|loc| policy.run(move || backend.current_version(loc)))
            .collect();
        stream::iter(probes).buffered(concurrency).collect().await
    };
    out.resize_with(locs.len(), || Ok(None));
    values.resize_with(locs.len(), || None);

    let need_read: Vec<usize> = (0..out.len())
        .filter(|&i| matches!(out[i], Ok(None)))
        .collect();
    if !need_read.is_empty() {
        let read_locs: Vec<Locator> = need_read.iter().map(|&i| locs[i].clone()).collect();
        let read = get_many_retrying(backend, &read_locs).await;
        for (i, res) in need_read.into_iter().zip(read) {
            out[i] = res.map(|f| {
                let version = f
                    .version
                    .clone()
                    .unwrap_or_else(|| content_version(&f.value));
                values[i] = Some(f);
                Some(version)
            });
        }
    }
    (out, values)
}

/// A version for a backend that has none: a hash of the content, keyed with a per-process
/// random salt. Unsalted, the hash of a short secret could be brute-forced from an audit line;
/// salted, it still changes exactly when the value does within this process, which is all
/// change detection (`run --watch`, the broker) needs.
fn content_version(value: &SecretValue) -> String {
    static SALT: OnceLock<[u8; 16]> = OnceLock::new();
    let salt = SALT.get_or_init(rand::random);
    let mut h = Sha256::new();
    h.update(salt);
    h.update(value.expose_bytes());
    let digest = h.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("content-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversion() {
        assert_eq!(convert_case("db-host.name", Case::Upper), "DB_HOST_NAME");
        assert_eq!(convert_case("DB_Host", Case::Lower), "db_host");
        assert_eq!(convert_case("db-host", Case::Keep), "db-host");
    }

    #[test]
    fn content_version_tracks_content() {
        let a = content_version(&SecretValue::from_str_copy("one"));
        let b = content_version(&SecretValue::from_str_copy("two"));
        assert_ne!(a, b);
        assert_eq!(a, content_version(&SecretValue::from_str_copy("one")));
    }

    #[test]
    fn json_text_renders_scalars_and_structures() {
        let v: serde_json::Value =
            serde_json::json!({"n": 5, "b": true, "s": "x", "o": {"k": [1, 2]}});
        let text = |k: &str| json_text(&v[k]).expose_str().map(str::to_owned);
        assert_eq!(text("n").as_deref(), Some("5"));
        assert_eq!(text("b").as_deref(), Some("true"));
        assert_eq!(text("s").as_deref(), Some("x"));
        assert_eq!(text("o").as_deref(), Some(r#"{"k":[1,2]}"#));
    }
}
