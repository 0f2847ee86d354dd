//! Where `secret "…"` reads from: a bare Vault path (the agent's `.Data` shape) or an envfile
//! reference, fetched through core's [`Resolver`] — the one interface the engine uses to reach
//! backends.

use crate::value::{Map, SecretRecord, Value};
use envfile_core::{
    BackendSel, Error, ErrorKind, Fetched, Locator, RefForm, Reference, Resolver, Result,
    SecretValue,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How one `secret` argument is read.
enum Source {
    /// A bare Vault path: the agent's `.Data` shape.
    Vault(Reference),
    /// An envfile reference without a key: the whole secret.
    Whole(Reference),
    /// An envfile reference with `#KEY`: the selected value.
    Keyed(Reference),
}

fn classify(arg: &str) -> Result<Source> {
    let foreign = ["arn:", "sm://", "ref+", "secretref+"]
        .iter()
        .any(|p| arg.starts_with(p));
    let canonical = matches!(arg.find(':'), Some(i) if i > 0 && !arg[..i].contains('/'));
    if foreign || canonical {
        let r = Reference::parse(arg)?;
        return Ok(if r.key.is_some() {
            Source::Keyed(r)
        } else {
            Source::Whole(r)
        });
    }
    // A write-style call (`secret "pki/issue/web" "common_name=…"`) arrives as the path and its
    // `KEY=VALUE` arguments joined by NUL (see [`call_key`]), which a path cannot contain.
    let mut parts = arg.split('\0');
    let head = parts.next().unwrap_or_default();
    let writes: Vec<&str> = parts.collect();
    let shown = shown_key(arg);
    let (path, query) = head.split_once('?').unwrap_or((head, ""));
    let path = path.trim_matches('/');
    if path.is_empty() || path.chars().any(char::is_control) {
        return Err(Error::new(
            ErrorKind::InvalidRef,
            "a Vault path must be non-empty and free of control characters",
        )
        .with_reference(shown)
        .with_hint("write the path as in a Vault Agent template, e.g. secret \"kv/data/app\""));
    }
    let mut locator = Locator::new(path);
    for w in &writes {
        let Some((k, v)) = w.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(
                Error::new(ErrorKind::InvalidRef, "a write argument is not `KEY=VALUE`")
                    .with_reference(shown),
            );
        };
        if locator.params.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(Error::new(
                ErrorKind::InvalidRef,
                format!("the write argument `{k}` is given twice"),
            )
            .with_reference(shown));
        }
    }
    if !writes.is_empty() && !query.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidRef,
            "a write (`KEY=VALUE` arguments) cannot also pin `?version=`",
        )
        .with_reference(shown));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            // The agent reads the latest version for `version=0`.
            Some(("version", "0")) => locator.version = None,
            Some(("version", v)) => locator.version = Some(v.to_owned()),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidRef,
                    format!("unsupported query parameter `{pair}` (only `version=N`)"),
                )
                .with_reference(shown))
            }
        }
    }
    Ok(Source::Vault(Reference {
        backend: BackendSel::Kind("vault".into()),
        locator,
        key: None,
        form: RefForm::Canonical,
        raw: shown,
    }))
}

/// The key a `secret` call with write arguments is fetched and remembered under: the path and
/// each `KEY=VALUE`, joined by NUL. `None` when an argument holds a NUL itself.
pub(crate) fn call_key(path: &str, writes: &[&str]) -> Option<String> {
    if writes.iter().any(|w| w.contains('\0')) || path.contains('\0') {
        return None;
    }
    let mut key = path.to_owned();
    for w in writes {
        key.push('\0');
        key.push_str(w);
    }
    Some(key)
}

/// How a call key is named in messages: the path and the names of its write arguments, never
/// their values (a write may carry a secret, e.g. a password to set).
fn shown_key(key: &str) -> String {
    let mut parts = key.split('\0');
    let path = parts.next().unwrap_or_default().to_owned();
    let names: Vec<&str> = parts
        .map(|w| w.split_once('=').map_or(w, |(k, _)| k))
        .collect();
    if names.is_empty() {
        path
    } else {
        format!("{path} (write: {})", names.join(", "))
    }
}

/// Fetch every argument's secret: whole secrets in one `fetch_many` (deduplicated, batched per
/// backend), keyed references concurrently with it.
pub(crate) async fn fetch(resolver: &Resolver, args: &[String]) -> Vec<Result<Value>> {
    let mut out: Vec<Option<Result<Value>>> = Vec::with_capacity(args.len());
    let mut whole: Vec<(usize, Reference, bool)> = Vec::new();
    let mut keyed: Vec<(usize, Reference)> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        match classify(a) {
            Ok(Source::Vault(r)) => whole.push((i, r, true)),
            Ok(Source::Whole(r)) => whole.push((i, r, false)),
            Ok(Source::Keyed(r)) => keyed.push((i, r)),
            Err(e) => {
                out.push(Some(Err(e)));
                continue;
            }
        }
        out.push(None);
    }
    let refs: Vec<Reference> = whole.iter().map(|(_, r, _)| r.clone()).collect();
    let (fetched, selected) = futures::join!(
        resolver.fetch_many(&refs),
        futures::future::join_all(keyed.iter().map(|(_, r)| resolver.get(r)))
    );
    for ((i, r, vault), f) in whole.iter().zip(fetched) {
        out[*i] = Some(f.and_then(|f| {
            let data = if *vault {
                vault_data(&f, r)?
            } else {
                ref_data(&f.value, r)?
            };
            let mut record = SecretRecord::plain(data);
            if let Some(env) = f.meta.as_ref().and_then(|m| m.envelope.as_ref()) {
                envelope_fields(&mut record, env);
            }
            if let Some(lease) = &f.lease {
                record.lease_id = lease.id.clone();
                record.lease_duration = i64::try_from(lease.ttl.as_secs()).unwrap_or(i64::MAX);
                record.renewable = lease.renewable;
            }
            Ok(Value::Secret(Arc::new(record)))
        }));
    }
    for ((i, r), v) in keyed.iter().zip(selected) {
        out[*i] = Some(
            v.and_then(|v| ref_data(&v, r))
                .map(|d| Value::Secret(Arc::new(SecretRecord::plain(d)))),
        );
    }
    out.into_iter()
        .map(|v| v.unwrap_or_else(|| Err(Error::new(ErrorKind::Other, "secret was not fetched"))))
        .collect()
}

fn parse_object(v: &SecretValue) -> Option<Value> {
    let j = v.parse_json().ok()?;
    j.is_object().then(|| Value::from_json(j.expose()))
}

/// The record fields the agent takes from Vault's read envelope (the body without the secret):
/// the request id and, on a read without a lease (KV v1 answers with the mount's default TTL,
/// 2764800), `lease_duration`, `lease_id` and `renewable` as Vault sent them.
fn envelope_fields(record: &mut SecretRecord, env: &serde_json::Value) {
    if let Some(id) = env.get("request_id").and_then(|v| v.as_str()) {
        record.request_id = Some(id.to_owned());
    }
    if let Some(d) = env
        .get("lease_duration")
        .and_then(serde_json::Value::as_i64)
    {
        record.lease_duration = d;
    }
    if let Some(id) = env.get("lease_id").and_then(|v| v.as_str()) {
        record.lease_id = id.to_owned();
    }
    if let Some(b) = env.get("renewable").and_then(serde_json::Value::as_bool) {
        record.renewable = b;
    }
}

/// The agent's `.Data` for a Vault read: KV v2 (the backend reports a version) nests the object
/// under `data` next to `metadata` (Vault's `metadata` object from the envelope: `version
/// created_time deletion_time destroyed custom_metadata`); KV v1 is the object itself.
fn vault_data(f: &Fetched, r: &Reference) -> Result<Value> {
    let obj = parse_object(&f.value).ok_or_else(|| {
        Error::new(ErrorKind::NotJson, "the Vault secret is not a JSON object")
            .with_reference(r.raw.clone())
    })?;
    let envelope_meta = f
        .meta
        .as_ref()
        .and_then(|m| m.envelope.as_ref())
        .and_then(|e| e.pointer("/data/metadata"))
        .filter(|m| m.is_object());
    if f.lease.is_some() {
        // A dynamic secret (database credentials, a certificate): `.Data` is Vault's `data`.
        return Ok(obj);
    }
    Ok(match (&f.version, envelope_meta) {
        (Some(_), Some(m)) => Value::map(BTreeMap::from([
            ("data".to_owned(), obj),
            ("metadata".to_owned(), Value::from_json(m)),
        ])),
        (Some(v), None) => {
            let meta = BTreeMap::from([("version".to_owned(), Value::Number(v.as_str().into()))]);
            Value::map(BTreeMap::from([
                ("data".to_owned(), obj),
                ("metadata".to_owned(), Value::map(meta)),
            ]))
        }
        (None, _) => obj,
    })
}

/// `.Data` for an envfile reference: a JSON object (with the `.data` alias) or the text.
fn ref_data(v: &SecretValue, r: &Reference) -> Result<Value> {
    if let Some(Value::Map(m)) = parse_object(v) {
        return Ok(Value::Map(Arc::new(Map::new(m.entries().clone(), true))));
    }
    match v.expose_str() {
        Some(s) => Ok(Value::str(s)),
        None => Err(Error::new(
            ErrorKind::NotUtf8,
            "the secret is binary; a template can only use text or JSON secrets",
        )
        .with_reference(r.raw.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envfile_core::SecretMeta;

    fn reference() -> Reference {
        match classify("kv/data/app") {
            Ok(Source::Vault(r)) => r,
            _ => panic!("a bare path is a Vault read"),
        }
    }

    fn fetched(version: Option<&str>, envelope: serde_json::Value) -> Fetched {
        Fetched::new(
            SecretValue::from_str_copy(r#"{"k":"v"}"#),
            version.map(str::to_owned),
        )
        .with_meta(SecretMeta {
            envelope: Some(envelope),
            ..SecretMeta::default()
        })
    }

    #[test]
    fn kv2_metadata_comes_whole_from_vaults_envelope() {
        let meta = serde_json::json!({"version": 2, "created_time": "2026-01-01T00:00:00Z",
            "deletion_time": "", "destroyed": false, "custom_metadata": {"owner": "ops"}});
        let f = fetched(
            Some("2"),
            serde_json::json!({"data": {"data": null, "metadata": meta}}),
        );
        let mut out = String::new();
        crate::value::fmt_v(&vault_data(&f, &reference()).unwrap(), &mut out);
        assert_eq!(
            out,
            "map[data:map[k:v] metadata:map[created_time:2026-01-01T00:00:00Z \
             custom_metadata:map[owner:ops] deletion_time: destroyed:false version:2]]"
        );
    }

    #[test]
    fn a_kv1_read_reports_vaults_lease_duration_and_request_id() {
        let env = serde_json::json!({"request_id": "r-1", "lease_id": "", "renewable": false,
            "lease_duration": 2764800, "data": null});
        let mut record = SecretRecord::plain(Value::Nil);
        envelope_fields(&mut record, &env);
        assert_eq!(record.lease_duration, 2_764_800);
        assert_eq!(record.request_id.as_deref(), Some("r-1"));
    }
}
