//! The `gcp` backend against the in-process Secret Manager emulator, through the real
//! `google-cloud-secretmanager-v1` client with anonymous credentials: the conformance suite, then
//! what only this backend has (CRC32C, disabled/destroyed versions, regional secrets, retries,
//! cold-start concurrency, writes, the foreign reference forms).

use envfile_core::retry::RetryPolicy;
use envfile_core::{Backend, ErrorKind, Locator, PutOutcome, Reference, SecretValue};
use envfile_gcp::{CredentialsMode, GcpBackend, GcpConfig};
use envfile_tests::conformance::{self, assert_clean, assert_value, secret_text};
use envfile_tests::env::unique;
use envfile_tests::gcp_emulator::{EmulatorHandle, GcpSeeder, SecretManagerEmulator};
use std::time::{Duration, Instant};

const PROJECT: &str = "envfile-test";

async fn setup(location: Option<&str>) -> (EmulatorHandle, GcpBackend, GcpSeeder) {
    let emu = SecretManagerEmulator::start();
    let cfg = GcpConfig::new(
        Some(PROJECT.into()),
        location.map(Into::into),
        Some(emu.base_url.clone()),
        CredentialsMode::Anonymous,
    )
    .expect("valid config");
    let backend = GcpBackend::new("gcp", cfg).await.expect("backend");
    let seeder = GcpSeeder::new(&emu.base_url, PROJECT, location).await;
    (emu, backend, seeder)
}

fn pinned(path: &str, version: &str) -> Locator {
    Locator {
        version: Some(version.into()),
        ..Locator::new(path)
    }
}

#[tokio::test]
async fn gcp_conformance_global() {
    let (_emu, backend, seeder) = setup(None).await;
    conformance::run_all(&backend, &seeder).await;
}

#[tokio::test]
async fn gcp_conformance_regional() {
    let (_emu, backend, seeder) = setup(Some("europe-west1")).await;
    conformance::run_all(&backend, &seeder).await;
}

#[tokio::test]
async fn gcp_latest_follows_new_versions_and_pins_stay() {
    let (_emu, backend, seeder) = setup(None).await;
    let id = unique("latest");
    let (a, b) = (secret_text("a"), secret_text("b"));
    assert_eq!(seeder.add(&id, a.as_bytes()).await, "1");
    let got = backend.get(&Locator::new(&id)).await.expect("get v1");
    assert_value(&got, a.as_bytes(), "latest v1");
    assert_eq!(got.version.as_deref(), Some("1"));
    assert_eq!(seeder.add(&id, b.as_bytes()).await, "2");
    let got = backend.get(&Locator::new(&id)).await.expect("get v2");
    assert_value(&got, b.as_bytes(), "latest v2");
    assert_eq!(
        got.version.as_deref(),
        Some("2"),
        "latest resolves to the numbered version"
    );
    let got = backend.get(&pinned(&id, "1")).await.expect("pinned v1");
    assert_value(&got, a.as_bytes(), "pinned v1");
    assert_eq!(
        backend
            .current_version(&Locator::new(&id))
            .await
            .expect("probe"),
        Some("2".into())
    );
}

#[tokio::test]
async fn gcp_crc32c_mismatch_is_an_integrity_error() {
    let (emu, backend, seeder) = setup(None).await;
    let id = unique("crc");
    let v = secret_text("crc");
    seeder.add(&id, v.as_bytes()).await;
    emu.set_corrupt_crc32c(true);
    let err = backend
        .get(&Locator::new(&id))
        .await
        .expect_err("corrupted crc must fail");
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    assert!(err.message().contains("CRC32C mismatch"), "{err}");
    assert!(!err.is_retryable());
    assert_clean(&err);
    emu.set_corrupt_crc32c(false);
    let got = backend.get(&Locator::new(&id)).await.expect("clean again");
    assert_value(&got, v.as_bytes(), "after the switch is off");
}

#[tokio::test]
async fn gcp_disabled_and_destroyed_versions_have_clear_errors() {
    let (_emu, backend, seeder) = setup(None).await;
    let id = unique("states");
    seeder.add(&id, secret_text("one").as_bytes()).await;
    seeder.add(&id, secret_text("two").as_bytes()).await;
    seeder.disable(&id, "2").await;

    let err = backend
        .get(&Locator::new(&id))
        .await
        .expect_err("latest is disabled");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.message()
            .contains("version 2 is DISABLED: enable it or pin another version"),
        "{err}"
    );
    assert!(
        err.hint()
            .unwrap_or_default()
            .contains("gcloud secrets versions enable 2"),
        "{err}"
    );
    // The change probe still names the latest version: it reads metadata, not the payload.
    assert_eq!(
        backend
            .current_version(&Locator::new(&id))
            .await
            .expect("probe"),
        Some("2".into())
    );
    assert!(
        backend.get(&pinned(&id, "1")).await.is_ok(),
        "v1 is still enabled"
    );

    seeder.destroy(&id, "1").await;
    let err = backend.get(&pinned(&id, "1")).await.expect_err("destroyed");
    assert!(err.message().contains("version 1 is DESTROYED"), "{err}");

    let err = backend
        .get(&pinned(&id, "9"))
        .await
        .expect_err("no such version");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("version `9`"), "{err}");
    let err = backend
        .get(&Locator::new(unique("missing")))
        .await
        .expect_err("no such secret");
    assert!(err.message().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn gcp_retryable_errors_are_retried_and_permanent_ones_are_not() {
    let (emu, backend, seeder) = setup(None).await;
    let id = unique("retry");
    let v = secret_text("retry");
    seeder.add(&id, v.as_bytes()).await;
    let before = emu.request_count();
    emu.fail_next(&["UNAVAILABLE", "RESOURCE_EXHAUSTED"]);
    let got = backend
        .get(&Locator::new(&id))
        .await
        .expect("succeeds on the third attempt");
    assert_value(&got, v.as_bytes(), "after retries");
    assert_eq!(emu.request_count() - before, 3);

    let backend = backend.with_retry(RetryPolicy::none());
    for (status, kind) in [
        ("UNAVAILABLE", ErrorKind::Unavailable),
        ("RESOURCE_EXHAUSTED", ErrorKind::Throttled),
        ("DEADLINE_EXCEEDED", ErrorKind::Timeout),
        ("PERMISSION_DENIED", ErrorKind::PermissionDenied),
        ("UNAUTHENTICATED", ErrorKind::Unauthenticated),
    ] {
        emu.fail_next(&[status]);
        let err = backend.get(&Locator::new(&id)).await.expect_err(status);
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert_eq!(err.backend(), Some("gcp"));
    }
    emu.fail_next(&["PERMISSION_DENIED"]);
    let err = backend.get(&Locator::new(&id)).await.expect_err("denied");
    assert!(
        err.hint()
            .unwrap_or_default()
            .contains("roles/secretmanager.secretAccessor"),
        "{err}"
    );
}

#[tokio::test]
async fn gcp_get_many_fetches_concurrently() {
    let (emu, backend, seeder) = setup(None).await;
    let mut locs = Vec::new();
    for i in 0..8 {
        let id = unique(&format!("cold-{i}"));
        seeder.add(&id, secret_text("cold").as_bytes()).await;
        locs.push(Locator::new(id));
    }
    emu.set_latency(Duration::from_millis(200));
    let start = Instant::now();
    let out = backend.get_many(&locs).await;
    let took = start.elapsed();
    assert!(out.iter().all(|r| r.is_ok()));
    assert!(
        emu.max_in_flight() >= 4,
        "max in flight {}",
        emu.max_in_flight()
    );
    // Sequential would take 8 × 200 ms.
    assert!(took < Duration::from_millis(1200), "took {took:?}");
}

#[tokio::test]
async fn gcp_put_creates_updates_and_skips_unchanged() {
    let (_emu, backend, _seeder) = setup(None).await;
    let id = unique("put");
    let a = SecretValue::from_string(secret_text("a"));
    let b = SecretValue::from_string(secret_text("b"));
    assert_eq!(
        backend.put(&id, &a).await.expect("create"),
        PutOutcome::Created
    );
    assert_eq!(
        backend.put(&id, &a).await.expect("same"),
        PutOutcome::Unchanged
    );
    assert_eq!(
        backend.put(&id, &b).await.expect("update"),
        PutOutcome::Updated
    );
    let got = backend.get(&Locator::new(&id)).await.expect("read back");
    assert_value(&got, b.expose_bytes(), "after put");
    assert_eq!(got.version.as_deref(), Some("2"));
    let err = backend
        .put(&format!("{id}/x"), &a)
        .await
        .expect_err("bad path");
    assert_eq!(err.kind(), ErrorKind::InvalidRef);
}

#[tokio::test]
async fn gcp_foreign_reference_forms_resolve() {
    let (_emu, backend, seeder) = setup(None).await;
    let id = unique("forms");
    let (a, b) = (secret_text("a"), secret_text("b"));
    seeder.add(&id, a.as_bytes()).await;
    seeder.add(&id, b.as_bytes()).await;
    for (raw, want) in [
        (format!("gcp:{id}"), &b),
        (format!("gcp:{id}?version=1"), &a),
        (format!("projects/{PROJECT}/secrets/{id}"), &b),
        (format!("projects/{PROJECT}/secrets/{id}/versions/1"), &a),
        (
            format!("projects/{PROJECT}/secrets/{id}/versions/latest"),
            &b,
        ),
        (format!("sm://{PROJECT}/{id}"), &b),
        (format!("sm://{PROJECT}/{id}#1"), &a),
    ] {
        let r = Reference::parse(&raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(r.backend.as_str(), "gcp", "{raw}");
        let got = backend
            .get(&r.locator)
            .await
            .unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_value(&got, want.as_bytes(), &raw);
    }
}

#[tokio::test]
async fn gcp_regional_and_global_secrets_are_separate() {
    let emu = SecretManagerEmulator::start();
    let regional = GcpSeeder::new(&emu.base_url, PROJECT, Some("us-east1")).await;
    let id = unique("region");
    let v = secret_text("regional");
    regional.add(&id, v.as_bytes()).await;
    let cfg = |loc: Option<&str>| {
        GcpConfig::new(
            Some(PROJECT.into()),
            loc.map(Into::into),
            Some(emu.base_url.clone()),
            CredentialsMode::Anonymous,
        )
        .expect("config")
    };
    let global = GcpBackend::new("gcp", cfg(None))
        .await
        .expect("global backend");
    let err = global
        .get(&Locator::new(&id))
        .await
        .expect_err("not a global secret");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    // A full regional name works from any backend; a bare id needs `location`.
    let full = format!("projects/{PROJECT}/locations/us-east1/secrets/{id}");
    assert_value(
        &global.get(&Locator::new(&full)).await.expect("full name"),
        v.as_bytes(),
        "full",
    );
    let eu = GcpBackend::new("gcp", cfg(Some("us-east1")))
        .await
        .expect("regional backend");
    assert_value(
        &eu.get(&Locator::new(&id)).await.expect("bare id"),
        v.as_bytes(),
        "bare",
    );
}

#[tokio::test]
async fn gcp_unreachable_endpoint_is_unavailable_with_a_hint() {
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = GcpConfig::new(
        Some(PROJECT.into()),
        None,
        Some(format!("http://127.0.0.1:{port}")),
        CredentialsMode::Anonymous,
    )
    .unwrap();
    let backend = GcpBackend::new("gcp", cfg)
        .await
        .unwrap()
        .with_retry(RetryPolicy::none());
    let err = backend
        .get(&Locator::new("anything"))
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_retryable());
}

#[test]
fn gcp_debug_of_config_and_backend_is_allow_listed() {
    let cfg = GcpConfig::new(Some("p".into()), None, None, CredentialsMode::Anonymous).unwrap();
    let s = format!("{cfg:?}");
    assert!(s.starts_with("GcpConfig {") && s.contains("project"), "{s}");
}
