//! The backend conformance suite: the contract every backend passes, as public async functions
//! that take a `&dyn Backend` and a [`Seeder`] that writes test secrets through the backend's real
//! API (not through envfile). Each backend's test file calls [`run_all`] against its real server.
//!
//! Every value the suite seeds contains a per-process canary string, and every error the suite
//! sees is checked for it (Display and Debug): an error must never carry a value. Failures print
//! lengths and positions, never values.

use async_trait::async_trait;
use envfile_core::{Backend, Error, ErrorKind, Fetched, Locator};
use std::sync::OnceLock;

/// Writes test secrets into a backend's real server, through its own API.
#[async_trait]
pub trait Seeder: Send + Sync {
    /// Create `name` (lowercase letters, digits and `-`; unique per test run) holding `value`,
    /// or add a new version when it exists. Returns the locator path envfile uses for it
    /// (a Vault seeder adds its mount, for example).
    async fn put(&self, name: &str, value: &[u8]) -> String;

    /// Delete the secret at `path` (as returned by `put`) so it is not found afterwards.
    async fn delete(&self, path: &str);
}

/// Run every conformance check, skipping only what `backend.capabilities()` says it cannot do.
pub async fn run_all(backend: &dyn Backend, seeder: &dyn Seeder) {
    get_text(backend, seeder).await;
    get_json_whole(backend, seeder).await;
    not_found(backend, seeder).await;
    versions(backend, seeder).await;
    get_many_concurrent(backend, seeder).await;
    concurrent_gets(backend, seeder).await;
    binary(backend, seeder).await;
    errors_have_no_value(backend, seeder).await;
    debug_has_no_value(backend, seeder).await;
}

/// A text secret (spaces, quotes, `$`, unicode, a newline) reads back byte-exact.
pub async fn get_text(backend: &dyn Backend, seeder: &dyn Seeder) {
    let name = crate::env::unique("conf-text");
    let value = as_stored(
        backend,
        secret_text("text 'q' \"dq\" $HOME `tick` é ✓\nsecond line"),
    );
    let path = seeder.put(&name, value.as_bytes()).await;
    let got = get_ok(backend, &Locator::new(&path), "get_text").await;
    assert_value(&got, value.as_bytes(), "get_text");
}

/// A JSON secret is returned whole, as JSON text whose keys and values match what was seeded.
pub async fn get_json_whole(backend: &dyn Backend, seeder: &dyn Seeder) {
    let name = crate::env::unique("conf-json");
    let want = serde_json::json!({
        "username": "app",
        "password": secret_text("pw"),
        "host": "db.internal",
        "port": 5432,
        "nested": { "a": [1, 2, 3] },
    });
    let text = want.to_string();
    let path = seeder.put(&name, text.as_bytes()).await;
    let got = get_ok(backend, &Locator::new(&path), "get_json_whole").await;
    let parsed = match got.value.parse_json() {
        Ok(j) => j,
        Err(pos) => panic!(
            "get_json_whole: value ({} bytes) is not JSON: syntax error at line {}, column {}",
            got.value.len(),
            pos.line,
            pos.column
        ),
    };
    let mut keys = parsed
        .keys()
        .expect("get_json_whole: the JSON secret is not an object");
    keys.sort();
    assert_eq!(keys, ["host", "nested", "password", "port", "username"]);
    // Backends may reformat the text (whitespace, key order): compare as JSON.
    assert!(
        parsed.expose() == &want,
        "get_json_whole: the parsed value differs from the seeded one ({} bytes returned, {} seeded)",
        got.value.len(),
        text.len()
    );
}

/// A missing secret is `NotFound`, names the path, and is not retryable — both one that never
/// existed and one that was deleted.
pub async fn not_found(backend: &dyn Backend, seeder: &dyn Seeder) {
    let name = crate::env::unique("conf-gone");
    let path = seeder
        .put(
            &name,
            as_stored(backend, secret_text("deleted soon")).as_bytes(),
        )
        .await;
    let never = missing_path(&path, &name);
    let err = get_err(backend, &Locator::new(&never), "not_found (never existed)").await;
    assert_not_found(&err, &never, "not_found (never existed)");

    seeder.delete(&path).await;
    let err = get_err(backend, &Locator::new(&path), "not_found (deleted)").await;
    assert_not_found(&err, &path, "not_found (deleted)");
}

/// `current_version` (when the backend has one) equals the version `get` reports and changes
/// when the value does; with `capabilities().versions`, a pin reads an older version back and a
/// pin that does not exist is `NotFound`.
pub async fn versions(backend: &dyn Backend, seeder: &dyn Seeder) {
    let name = crate::env::unique("conf-ver");
    let v1 = as_stored(backend, secret_text("version one"));
    let v2 = as_stored(backend, secret_text("version two"));
    let path = seeder.put(&name, v1.as_bytes()).await;
    let loc = Locator::new(&path);
    let got1 = get_ok(backend, &loc, "versions (v1)").await;
    assert_value(&got1, v1.as_bytes(), "versions (v1)");
    check_current_version(backend, &loc, &got1, "versions (v1)").await;

    seeder.put(&name, v2.as_bytes()).await;
    let got2 = get_ok(backend, &loc, "versions (v2)").await;
    assert_value(&got2, v2.as_bytes(), "versions (v2)");
    check_current_version(backend, &loc, &got2, "versions (v2)").await;
    if let (Some(a), Some(b)) = (&got1.version, &got2.version) {
        assert_ne!(a, b, "versions: a new value kept the same version id");
    }

    if !backend.capabilities().versions {
        return;
    }
    let ver1 = got1
        .version
        .clone()
        .expect("versions: the backend supports version pins but `get` reported no version");
    let pinned = Locator {
        version: Some(ver1.clone()),
        ..loc.clone()
    };
    let old = get_ok(backend, &pinned, "versions (pin v1)").await;
    assert_value(&old, v1.as_bytes(), "versions (pin v1)");
    assert_eq!(
        old.version.as_deref(),
        Some(ver1.as_str()),
        "versions: pinned get reported another version"
    );

    let bogus = Locator {
        version: Some(bogus_version(&ver1)),
        ..loc
    };
    let err = get_err(backend, &bogus, "versions (pin that does not exist)").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "versions: a pin that does not exist should be NotFound, got: {err}"
    );
}

/// `get_many` of 25 secrets plus 2 missing ones, in a mixed order: one result per locator, in
/// order, the missing ones `NotFound`.
pub async fn get_many_concurrent(backend: &dyn Backend, seeder: &dyn Seeder) {
    let run = crate::env::unique("conf-many");
    let seeded: Vec<(String, String)> = futures::future::join_all((0..25).map(|i| {
        let name = format!("{run}-{i:02}");
        let value = as_stored(backend, secret_text(&format!("many {i}")));
        async move {
            let path = seeder.put(&name, value.as_bytes()).await;
            (path, value)
        }
    }))
    .await;
    let missing_a = missing_path(&seeded[0].0, &format!("{run}-00"));
    let missing_b = missing_path(&seeded[1].0, &format!("{run}-01"));

    // Reverse order with the missing ones at the front, the middle and the end.
    let mut wanted: Vec<(String, Option<&str>)> = seeded
        .iter()
        .rev()
        .map(|(p, v)| (p.clone(), Some(v.as_str())))
        .collect();
    wanted.insert(0, (missing_a, None));
    wanted.insert(13, (missing_b.clone(), None));
    wanted.push((missing_b, None));
    let locs: Vec<Locator> = wanted.iter().map(|(p, _)| Locator::new(p)).collect();

    let results = backend.get_many(&locs).await;
    assert_eq!(
        results.len(),
        locs.len(),
        "get_many: one result per locator"
    );
    for (i, ((path, want), got)) in wanted.iter().zip(&results).enumerate() {
        let what = format!("get_many result #{i}");
        match (want, got) {
            (Some(v), Ok(f)) => assert_value(f, v.as_bytes(), &what),
            (Some(_), Err(e)) => {
                assert_clean(e);
                panic!("{what}: expected a value, got error: {e}")
            }
            (None, Err(e)) => assert_not_found(e, path, &what),
            (None, Ok(f)) => panic!(
                "{what}: expected NotFound for a missing secret, got a value ({} bytes)",
                f.value.len()
            ),
        }
    }
}

/// 50 concurrent `get`s of 5 secrets all succeed with the right values.
pub async fn concurrent_gets(backend: &dyn Backend, seeder: &dyn Seeder) {
    let run = crate::env::unique("conf-conc");
    let mut seeded = Vec::new();
    for i in 0..5 {
        let value = as_stored(backend, secret_text(&format!("concurrent {i}")));
        let path = seeder.put(&format!("{run}-{i}"), value.as_bytes()).await;
        seeded.push((Locator::new(path), value));
    }
    let results = futures::future::join_all((0..50).map(|i| {
        let (loc, _) = &seeded[i % seeded.len()];
        backend.get(loc)
    }))
    .await;
    for (i, got) in results.iter().enumerate() {
        let what = format!("concurrent get #{i}");
        match got {
            Ok(f) => assert_value(f, seeded[i % seeded.len()].1.as_bytes(), &what),
            Err(e) => {
                assert_clean(e);
                panic!("{what}: {e}")
            }
        }
    }
}

/// Non-UTF-8 bytes round-trip (only for backends whose capabilities say `binary`).
pub async fn binary(backend: &dyn Backend, seeder: &dyn Seeder) {
    if !backend.capabilities().binary {
        return;
    }
    let name = crate::env::unique("conf-bin");
    let mut value = vec![0xff, 0x00, 0xfe, 0x80, b'\n', 0xc3, 0x28, b'\r', 0x00];
    value.extend_from_slice(canary().as_bytes());
    value.extend_from_slice(&[0xf0, 0x9f, 0x00, 0xff]);
    assert!(std::str::from_utf8(&value).is_err());
    let path = seeder.put(&name, &value).await;
    let got = get_ok(backend, &Locator::new(&path), "binary").await;
    assert_value(&got, &value, "binary");
}

/// Errors about a secret that holds a canary never contain it: a version pin that does not
/// exist, a staging label that does not exist, a missing neighbour. (Every other check of the
/// suite also runs its errors through the same assertion.)
pub async fn errors_have_no_value(backend: &dyn Backend, seeder: &dyn Seeder) {
    let name = crate::env::unique("conf-canary");
    let json = serde_json::json!({ "password": canary(), "note": secret_text("json") }).to_string();
    let path = seeder.put(&name, json.as_bytes()).await;
    let got = get_ok(backend, &Locator::new(&path), "errors_have_no_value").await;

    let pin = bogus_version(got.version.as_deref().unwrap_or("1"));
    let attempts = [
        Locator {
            version: Some(pin),
            ..Locator::new(&path)
        },
        Locator {
            stage: Some("ENVFILE-NO-SUCH-STAGE".into()),
            ..Locator::new(&path)
        },
        Locator::new(missing_path(&path, &name)),
    ];
    for loc in &attempts {
        // `get_many` too: a batch path must not leak where the single path does not.
        let single = backend.get(loc).await;
        let many = backend.get_many(std::slice::from_ref(loc)).await;
        for r in std::iter::once(single).chain(many) {
            match r {
                Err(e) => assert_clean(&e),
                // A pin that cannot be honoured must fail, never fall back to the current value.
                Ok(f) => panic!(
                    "errors_have_no_value: a lookup naming nothing (version {:?}, stage {:?}) \
                     returned a value ({} bytes)",
                    loc.version,
                    loc.stage,
                    f.value.len()
                ),
            }
        }
    }
}

/// `Debug` of what a backend returns never shows the value.
pub async fn debug_has_no_value(backend: &dyn Backend, seeder: &dyn Seeder) {
    let name = crate::env::unique("conf-debug");
    let value = as_stored(backend, secret_text("debug"));
    let path = seeder.put(&name, value.as_bytes()).await;
    let loc = Locator::new(&path);
    let fetched = get_ok(backend, &loc, "debug_has_no_value").await;
    assert_value(&fetched, value.as_bytes(), "debug_has_no_value");
    let many = backend.get_many(std::slice::from_ref(&loc)).await;
    for (what, text) in [
        ("Fetched", format!("{fetched:?}")),
        ("Fetched (alternate)", format!("{fetched:#?}")),
        ("get_many results", format!("{many:?}")),
        ("value", format!("{:?} {}", fetched.value, fetched.value)),
    ] {
        assert!(
            !text.contains(canary()),
            "debug_has_no_value: Debug of {what} contains the secret value"
        );
    }
}

// ---- helpers ----------------------------------------------------------------------------------

/// A random marker in every value this process seeds, so a leak into an error is detectable.
pub fn canary() -> &'static str {
    static CANARY: OnceLock<String> = OnceLock::new();
    CANARY.get_or_init(|| crate::env::unique("CANARY-SECRET"))
}

/// A value for `label` that contains the canary.
pub fn secret_text(label: &str) -> String {
    format!("{label} {} {}", canary(), crate::env::unique("v"))
}

/// What the suite seeds for a text value: the text itself, or for a `json_only` backend (Vault
/// KV, whose secrets are JSON objects) the object `{"value": text}` as compact JSON — which such a
/// backend returns byte-for-byte, since it hands back the data object as compact JSON.
pub fn as_stored(backend: &dyn Backend, text: String) -> String {
    if backend.capabilities().json_only {
        serde_json::json!({ "value": text }).to_string()
    } else {
        text
    }
}

/// Fail if `err` shows the canary in Display or Debug.
#[track_caller]
pub fn assert_clean(err: &Error) {
    let display = err.to_string();
    let debug = format!("{err:?}");
    assert!(
        !display.contains(canary()) && !debug.contains(canary()),
        "an error contains a secret value (kind {}, backend {:?})",
        err.kind(),
        err.backend()
    );
}

/// Fail unless `got` holds exactly `want`; the message has lengths and a position only.
#[track_caller]
pub fn assert_value(got: &Fetched, want: &[u8], what: &str) {
    let got = got.value.expose_bytes();
    if got != want {
        let at = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: value differs (got {} bytes, want {} bytes, first difference at byte {at})",
            got.len(),
            want.len()
        );
    }
}

async fn get_ok(backend: &dyn Backend, loc: &Locator, what: &str) -> Fetched {
    match backend.get(loc).await {
        Ok(f) => f,
        Err(e) => {
            assert_clean(&e);
            panic!("{what}: get `{}` failed: {e}", loc.path)
        }
    }
}

async fn get_err(backend: &dyn Backend, loc: &Locator, what: &str) -> Error {
    match backend.get(loc).await {
        Ok(f) => panic!(
            "{what}: get `{}` should fail, returned a value ({} bytes)",
            loc.path,
            f.value.len()
        ),
        Err(e) => {
            assert_clean(&e);
            e
        }
    }
}

#[track_caller]
fn assert_not_found(err: &Error, path: &str, what: &str) {
    assert_clean(err);
    assert_eq!(err.kind(), ErrorKind::NotFound, "{what}: wrong kind: {err}");
    assert!(
        !err.is_retryable(),
        "{what}: NotFound must not be retryable"
    );
    assert!(
        err.to_string().contains(path),
        "{what}: the error does not name the path `{path}`: {err}"
    );
}

async fn check_current_version(backend: &dyn Backend, loc: &Locator, got: &Fetched, what: &str) {
    match backend.current_version(loc).await {
        Ok(None) => {}
        Ok(Some(v)) => assert_eq!(
            Some(&v),
            got.version.as_ref(),
            "{what}: current_version differs from the version `get` reported"
        ),
        Err(e) => {
            assert_clean(&e);
            panic!("{what}: current_version failed: {e}")
        }
    }
}

/// A path like `path` for a secret that does not exist (keeps any mount or prefix the seeder
/// added around `name`).
fn missing_path(path: &str, name: &str) -> String {
    let missing = crate::env::unique("conf-missing");
    assert!(
        path.contains(name),
        "the seeder's path `{path}` does not contain the name `{name}`"
    );
    path.replacen(name, &missing, 1)
}

/// A version id of the same shape as `v` that does not exist: numbers get far ahead, ids
/// (hex, UUIDs) get their characters replaced so a backend validating the shape still accepts it.
pub fn bogus_version(v: &str) -> String {
    if let Ok(n) = v.parse::<u64>() {
        return (n + 1_000_000).to_string();
    }
    let fill = if v.chars().all(|c| !c.is_ascii_alphanumeric() || c == '0') {
        '1'
    } else {
        '0'
    };
    v.chars()
        .map(|c| if c.is_ascii_alphanumeric() { fill } else { c })
        .collect()
}
