//! Where `secret "…"` reads from: a bare Vault path (the agent's `.Data` shape) or an envfile
//! reference, fetched through core's [`Resolver`] — the one interface the engine uses to reach
//! backends.

use crate::value::{Map, SecretRecord, Value};
use envfile_core::{
    BackendSel, Error, ErrorKind, Fetched, Locator, Native, RefForm, Reference, Resolver, Result,
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
/// The converted data of KV v2 secrets by reference, with the version it was converted from: a
/// version never changes, so a later render of the same version reuses the values instead of
/// converting the JSON again (most of a render's cost).
#[derive(Default)]
pub(crate) struct Converted {
    by_ref: std::sync::Mutex<std::collections::HashMap<String, (String, Value)>>,
}

impl Converted {
    /// The secret's object, from the cache when `version` is the one cached. `mutates`: the
    /// template changes maps in place, so it gets its own copy.
    fn object(&self, f: &Fetched, r: &Reference, mutates: bool) -> Option<Value> {
        let Some(version) = &f.version else {
            return parse_object(&f.value);
        };
        let mut cache = self.by_ref.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((v, obj)) = cache.get(&r.raw) {
            if v == version {
                return Some(if mutates {
                    obj.deep_copy()
                } else {
                    obj.clone()
                });
            }
        }
        let obj = parse_object(&f.value)?;
        cache.insert(r.raw.clone(), (version.clone(), obj.clone()));
        Some(if mutates { obj.deep_copy() } else { obj })
    }
}

pub(crate) async fn fetch(
    resolver: &Resolver,
    args: &[String],
    converted: &Converted,
    mutates: bool,
) -> Vec<Result<Value>> {
    let mut out: Vec<Option<Result<Value>>> = Vec::with_capacity(args.len());
    let mut whole: Vec<(usize, Reference, bool)> = Vec::new();
    let mut keyed: Vec<(usize, Reference)> = Vec::new();
    let mut lists: Vec<(usize, &str)> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if let Some(path) = a.strip_prefix(LIST_KEY) {
            lists.push((i, path));
            out.push(None);
            continue;
        }
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
    let (fetched, selected, listed) = futures::join!(
        resolver.fetch_many(&refs),
        futures::future::join_all(keyed.iter().map(|(_, r)| resolver.get(r))),
        futures::future::join_all(lists.iter().map(|(_, p)| list(resolver, p)))
    );
    for ((i, _), v) in lists.iter().zip(listed) {
        out[*i] = Some(v);
    }
    for ((i, r, vault), f) in whole.iter().zip(fetched) {
        if *vault && matches!(&f, Err(e) if e.kind() == ErrorKind::NotFound) {
            if let Some(record) = destroyed_version(resolver, r).await {
                out[*i] = Some(Ok(record));
                continue;
            }
        }
        out[*i] = Some(f.and_then(|f| {
            let data = if *vault {
                let obj = converted.object(&f, r, mutates);
                vault_data(&f, r, obj)?
            } else {
                ref_data(&f.value, r)?
            };
            let mut record = SecretRecord::plain(data);
            // The lease as the keeper holds it, then Vault's own answer over it: the agent shows
            // what Vault said (`lease_duration` 0 for a transit write, which the keeper gives a
            // lifetime of its own so it is read again later).
            if let Some(lease) = &f.lease {
                record.lease_id = lease.id.clone();
                record.lease_duration = i64::try_from(lease.ttl.as_secs()).unwrap_or(i64::MAX);
                record.renewable = lease.renewable;
            }
            if let Some(env) = f.meta.as_ref().and_then(|m| m.envelope.as_ref()) {
                envelope_fields(&mut record, env);
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

/// What the agent reads for a destroyed KV v2 version: Vault answers the read with a 404 that
/// still carries the version's metadata, so `.Data.data` is nil and `.Data.metadata` says
/// `destroyed: true`. envfile's backend reports not-found; the version's entry in the secret's
/// metadata holds the same facts. A soft-deleted version stays an error, as with the agent
/// ("no secret exists").
async fn destroyed_version(resolver: &Resolver, r: &Reference) -> Option<Value> {
    let b = resolver
        .backends()
        .select(&BackendSel::Kind("vault".into()))
        .ok()?;
    let body = b.native(Native::Metadata(&r.locator.path)).await.ok()?;
    let data = body.get("data")?;
    let version = match &r.locator.version {
        Some(v) => v.clone(),
        None => data.get("current_version")?.as_u64()?.to_string(),
    };
    let entry = data.get("versions")?.get(&version)?;
    let destroyed = entry.get("destroyed")?.as_bool()?;
    let deletion_time = entry.get("deletion_time")?.as_str()?;
    if !destroyed || !deletion_time.is_empty() {
        return None;
    }
    let metadata = BTreeMap::from([
        (
            "created_time".to_owned(),
            Value::from_json(entry.get("created_time")?),
        ),
        (
            "custom_metadata".to_owned(),
            data.get("custom_metadata")
                .map_or(Value::Nil, Value::from_json),
        ),
        ("deletion_time".to_owned(), Value::str("")),
        ("destroyed".to_owned(), Value::Bool(true)),
        ("version".to_owned(), Value::Number(version.as_str().into())),
    ]);
    let mut record = SecretRecord::plain(Value::map(BTreeMap::from([
        ("data".to_owned(), Value::Nil),
        ("metadata".to_owned(), Value::map(metadata)),
    ])));
    record.request_id = body
        .get("request_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Some(Value::Secret(Arc::new(record)))
}

/// How exec names a `secrets "PATH"` listing among the render's secrets: a control character
/// cannot start a `secret` argument (they are refused in paths), so the two never collide.
pub(crate) const LIST_KEY: &str = "\u{1}list:";

/// `secrets "PATH"`: the names in a Vault folder, sorted, as the agent's list query returns
/// them (`[]string`; a folder that does not exist is an empty list). On KV v2 the agent lists
/// `MOUNT/metadata/REST` whatever REST is (it inserts `metadata/` unless the path starts with
/// it), so `secrets "kv/data/x"` lists a folder named `data/x`, as there.
async fn list(resolver: &Resolver, path: &str) -> Result<Value> {
    let b = resolver
        .backends()
        .select(&BackendSel::Kind("vault".into()))?;
    let probe = format!("{path}/");
    let empty = || Value::Strings(Arc::new(Vec::new()));
    // A path under no mount lists nothing, as the agent's LIST of it answers.
    let info = match b.native(Native::MountOf(&probe)).await {
        Ok(info) => info,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(empty()),
        Err(e) => return Err(e.with_reference(path.to_owned())),
    };
    let mount = info["path"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/');
    let v2 = info["options"]["version"].as_str() == Some("2");
    let rest = path
        .strip_prefix(mount)
        .unwrap_or(path)
        .trim_start_matches('/');
    let folder = if v2 && format!("{mount}/{rest}").starts_with(&format!("{mount}/metadata")) {
        // Already the metadata spelling: the backend adds `metadata/` itself.
        let r = rest.strip_prefix("metadata").unwrap_or(rest);
        format!("{mount}/{}", r.trim_start_matches('/'))
    } else {
        format!("{mount}/{rest}")
    };
    let body = match b.native(Native::List(&folder)).await {
        Ok(body) => body,
        Err(e) if e.kind() == ErrorKind::NotFound => serde_json::Value::Null,
        Err(e) => return Err(e.with_reference(path.to_owned())),
    };
    let mut names = Vec::new();
    if let Some(keys) = body.pointer("/data/keys").and_then(|k| k.as_array()) {
        for k in keys {
            let name = k.as_str().ok_or_else(|| {
                Error::new(
                    ErrorKind::Other,
                    "the LIST answer holds a name that is not a string",
                )
                .with_reference(path.to_owned())
            })?;
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(Value::Strings(Arc::new(
        names.into_iter().map(Value::str).collect(),
    )))
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
fn vault_data(f: &Fetched, r: &Reference, obj: Option<Value>) -> Result<Value> {
    let obj = obj.ok_or_else(|| {
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
        let obj = parse_object(&f.value);
        crate::value::fmt_v(&vault_data(&f, &reference(), obj).unwrap(), &mut out);
        assert_eq!(
            out,
            "map[data:map[k:v] metadata:map[created_time:2026-01-01T00:00:00Z \
             custom_metadata:map[owner:ops] deletion_time: destroyed:false version:2]]"
        );
    }

    #[test]
    fn a_version_is_converted_once_and_a_new_one_again() {
        let c = Converted::default();
        let r = reference();
        let at = |json: &str, v: &str| {
            Fetched::new(SecretValue::from_str_copy(json), Some(v.to_owned()))
        };
        let show = |v: Option<Value>| {
            let mut out = String::new();
            crate::value::fmt_v(&v.unwrap(), &mut out);
            out
        };
        assert_eq!(
            show(c.object(&at(r#"{"k":"a"}"#, "1"), &r, false)),
            "map[k:a]"
        );
        // Version 1 again: the cached values, not a new conversion (the bytes here differ only
        // to show which one was used; a real version never changes).
        let first = c.object(&at(r#"{"k":"other"}"#, "1"), &r, false);
        assert_eq!(show(first), "map[k:a]");
        assert_eq!(
            show(c.object(&at(r#"{"k":"b"}"#, "2"), &r, false)),
            "map[k:b]"
        );
        // A template that changes maps gets a copy: the cache keeps its own.
        let Some(Value::Map(copy)) = c.object(&at("{}", "2"), &r, true) else {
            panic!("a map")
        };
        copy.entries_mut()
            .unwrap()
            .insert("k".into(), Value::str("changed"));
        assert_eq!(show(c.object(&at("{}", "2"), &r, false)), "map[k:b]");
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
