//! The `aws` backend against moto, through the real AWS SDK: the conformance suite, then what
//! only Secrets Manager has (names / partial ARNs / full ARNs, ARN regions, staging labels,
//! secrets pending deletion, BatchGetSecretValue and its fallback, throttling retries, writes).
//! Faults moto cannot produce come from `FakeAwsProxy`, a hand-written proxy in front of moto.

use envfile_core::{Backend, ErrorKind, Locator, PutOutcome, SecretValue};
use envfile_tests::conformance::{self, assert_clean, assert_value, secret_text};
use envfile_tests::env::{moto_url, unique};
use envfile_tests::moto::{
    backend_at, deleted_secrets, put_secret, sdk_client, FakeAwsProxy, Fault, MotoSeeder, REGION,
};

fn staged(path: &str, stage: &str) -> Locator {
    Locator {
        stage: Some(stage.into()),
        ..Locator::new(path)
    }
}

fn partial_arn(full: &str) -> &str {
    &full[..full.len() - 7]
}

#[tokio::test]
async fn conformance() {
    let backend = backend_at("aws", &moto_url()).await;
    conformance::run_all(&backend, &MotoSeeder::new()).await;
}

#[tokio::test]
async fn name_partial_arn_and_full_arn_read_the_same_secret() {
    let backend = backend_at("aws", &moto_url()).await;
    let client = sdk_client(REGION);
    let name = format!("afu9/{}", unique("session-secret"));
    let value = secret_text("same");
    let full = put_secret(&client, &name, value.as_bytes()).await;
    assert!(
        partial_arn(&full).ends_with(&name) && full.as_bytes()[full.len() - 7] == b'-',
        "expected NAME-XXXXXX at the end of the ARN, got {full}"
    );
    for path in [name.as_str(), partial_arn(&full), full.as_str()] {
        let got = backend
            .get(&Locator::new(path))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_value(&got, value.as_bytes(), path);
    }
    // The same three in one get_many (the batch answers by ARN and Name; each maps back).
    let locs: Vec<_> = [name.as_str(), partial_arn(&full), full.as_str()]
        .map(Locator::new)
        .into();
    for (r, l) in backend.get_many(&locs).await.iter().zip(&locs) {
        let got = r.as_ref().unwrap_or_else(|e| panic!("{}: {e}", l.path));
        assert_value(got, value.as_bytes(), &l.path);
    }
}

#[tokio::test]
async fn an_arn_region_wins_over_the_configured_region() {
    let backend = backend_at("aws", &moto_url()).await;
    let other = sdk_client("us-west-2");
    let name = unique("west-only");
    let value = secret_text("west");
    let arn = put_secret(&other, &name, value.as_bytes()).await;
    // By name the configured region (eu-central-1) is asked, which has no such secret.
    let err = backend.get(&Locator::new(&name)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(
        err.to_string().contains(REGION),
        "the error should name the region it asked: {err}"
    );
    assert!(err.hint().unwrap_or("").contains("region"), "{err}");
    let got = backend
        .get(&Locator::new(&arn))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_value(&got, value.as_bytes(), "full ARN in us-west-2");
    let got = backend
        .get(&Locator::new(partial_arn(&arn)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_value(&got, value.as_bytes(), "partial ARN in us-west-2");
    // A `region` parameter (vals references) works for names too.
    let mut loc = Locator::new(&name);
    loc.params.insert("region".into(), "us-west-2".into());
    assert_value(
        &backend.get(&loc).await.unwrap(),
        value.as_bytes(),
        "name + region param",
    );
}

#[tokio::test]
async fn awsprevious_after_rotation_and_the_describe_probe() {
    let backend = backend_at("aws", &moto_url()).await;
    let client = sdk_client(REGION);
    let name = unique("rotated");
    let (v1, v2) = (
        secret_text("before rotation"),
        secret_text("after rotation"),
    );
    put_secret(&client, &name, v1.as_bytes()).await;
    let first = backend.get(&Locator::new(&name)).await.unwrap();
    put_secret(&client, &name, v2.as_bytes()).await; // PutSecretValue: v2 AWSCURRENT, v1 AWSPREVIOUS
    let cur = backend.get(&Locator::new(&name)).await.unwrap();
    assert_value(&cur, v2.as_bytes(), "AWSCURRENT");
    let prev = backend.get(&staged(&name, "AWSPREVIOUS")).await.unwrap();
    assert_value(&prev, v1.as_bytes(), "AWSPREVIOUS");
    assert_eq!(
        prev.version, first.version,
        "AWSPREVIOUS is the first version"
    );
    // DescribeSecret answers the change probe, for the current and a staged version.
    assert_eq!(
        backend.current_version(&Locator::new(&name)).await.unwrap(),
        cur.version
    );
    assert_eq!(
        backend
            .current_version(&staged(&name, "AWSPREVIOUS"))
            .await
            .unwrap(),
        first.version
    );
    let err = backend
        .get(&staged(&name, "NOSUCHSTAGE"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(
        err.hint().unwrap_or("").contains("stage `NOSUCHSTAGE`"),
        "{err}"
    );
    assert_clean(&err);
}

#[tokio::test]
async fn a_secret_pending_deletion_and_a_force_deleted_one() {
    let backend = backend_at("aws", &moto_url()).await;
    let client = sdk_client(REGION);
    let (pending, gone) = deleted_secrets(&client).await;

    let err = backend.get(&Locator::new(&pending)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("scheduled for deletion"), "{err}");
    assert!(err.hint().unwrap_or("").contains("restore-secret"), "{err}");
    let err = backend
        .current_version(&Locator::new(&pending))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("scheduled for deletion"), "{err}");

    let err = backend.get(&Locator::new(&gone)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(!err.to_string().contains("scheduled for deletion"), "{err}");
    assert!(err.hint().unwrap_or("").contains("partial ARN"), "{err}");

    // Through the batch path the per-secret errors keep their own meaning.
    let ok = unique("alive");
    let value = secret_text("alive");
    put_secret(&client, &ok, value.as_bytes()).await;
    let res = backend
        .get_many(&[
            Locator::new(&pending),
            Locator::new(&ok),
            Locator::new(&gone),
        ])
        .await;
    let e0 = res[0].as_ref().unwrap_err();
    assert!(e0.to_string().contains("scheduled for deletion"), "{e0}");
    assert_value(res[1].as_ref().unwrap(), value.as_bytes(), "alive");
    assert_eq!(res[2].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(e0.backend(), Some("aws"));
}

#[tokio::test]
async fn binary_secrets_come_back_as_bytes() {
    let backend = backend_at("aws", &moto_url()).await;
    let name = unique("binary");
    let bytes: Vec<u8> = (0u8..=255).rev().chain([0, 0xff, 0xfe]).collect();
    put_secret(&sdk_client(REGION), &name, &bytes).await;
    assert_value(
        &backend.get(&Locator::new(&name)).await.unwrap(),
        &bytes,
        "binary get",
    );
    let other = unique("text");
    put_secret(&sdk_client(REGION), &other, b"plain").await;
    let many = backend
        .get_many(&[Locator::new(&name), Locator::new(&other)])
        .await;
    assert_value(many[0].as_ref().unwrap(), &bytes, "binary via batch");
}

#[tokio::test]
async fn get_many_batches_twenty_ids_a_call_and_keeps_errors_per_secret() {
    let proxy = FakeAwsProxy::start().await;
    let backend = backend_at("aws", proxy.url()).await;
    let client = sdk_client(REGION);
    let mut locs = Vec::new();
    let mut values = Vec::new();
    for i in 0..25 {
        let name = unique(&format!("batch{i}"));
        let v = secret_text(&format!("batch {i}"));
        put_secret(&client, &name, v.as_bytes()).await;
        locs.push(Locator::new(&name));
        values.push(Some(v));
    }
    locs.insert(7, Locator::new(unique("batch-missing")));
    values.insert(7, None);
    // A pinned locator cannot go through the batch API: it is read on its own.
    locs.push(staged(&locs[0].path, "AWSCURRENT"));
    values.push(values[0].clone());
    proxy.reset_calls();

    let res = backend.get_many(&locs).await;
    assert_eq!(res.len(), locs.len());
    for ((r, want), loc) in res.iter().zip(&values).zip(&locs) {
        match (r, want) {
            (Ok(got), Some(v)) => assert_value(got, v.as_bytes(), &loc.path),
            (Err(e), None) => {
                assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
                assert!(e.to_string().contains(&loc.path), "{e}");
            }
            (Ok(_), None) => panic!("{}: a missing secret returned a value", loc.path),
            (Err(e), Some(_)) => panic!("{}: {e}", loc.path),
        }
    }
    assert_eq!(
        proxy.calls("BatchGetSecretValue"),
        2,
        "26 unpinned ids = 2 batch calls (20 + 6)"
    );
    assert_eq!(
        proxy.calls("GetSecretValue"),
        1,
        "only the pinned locator is read alone"
    );
}

#[tokio::test]
async fn a_denied_batch_falls_back_to_one_read_per_secret() {
    let proxy = FakeAwsProxy::start().await;
    proxy.set_fault("BatchGetSecretValue", Fault::Deny);
    let backend = backend_at("aws", proxy.url()).await;
    let client = sdk_client(REGION);
    let mut locs = Vec::new();
    let mut values = Vec::new();
    for i in 0..3 {
        let name = unique(&format!("nobatch{i}"));
        let v = secret_text("fallback");
        put_secret(&client, &name, v.as_bytes()).await;
        locs.push(Locator::new(&name));
        values.push(v);
    }
    locs.push(Locator::new(unique("nobatch-missing")));
    proxy.reset_calls();

    let res = backend.get_many(&locs).await;
    for i in 0..3 {
        assert_value(
            res[i].as_ref().unwrap_or_else(|e| panic!("{e}")),
            values[i].as_bytes(),
            "fallback",
        );
    }
    assert_eq!(res[3].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        proxy.calls("BatchGetSecretValue"),
        1,
        "a denied batch is not retried"
    );
    assert_eq!(proxy.calls("GetSecretValue"), 4);

    // Once denied, later reads skip the batch API.
    proxy.reset_calls();
    let res = backend.get_many(&locs[..3]).await;
    assert!(res.iter().all(|r| r.is_ok()));
    assert_eq!(proxy.calls("BatchGetSecretValue"), 0);
    assert_eq!(proxy.calls("GetSecretValue"), 3);
}

#[tokio::test]
async fn throttling_is_retried_and_access_denied_is_not() {
    let proxy = FakeAwsProxy::start().await;
    let backend = backend_at("aws", proxy.url()).await;
    let name = unique("throttled");
    let value = secret_text("t");
    put_secret(&sdk_client(REGION), &name, value.as_bytes()).await;

    proxy.set_fault("GetSecretValue", Fault::Throttle(2));
    proxy.reset_calls();
    let got = backend
        .get(&Locator::new(&name))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_value(&got, value.as_bytes(), "after throttling");
    assert_eq!(
        proxy.calls("GetSecretValue"),
        3,
        "two throttled attempts, then success"
    );

    proxy.set_fault("GetSecretValue", Fault::Throttle(100));
    proxy.reset_calls();
    let err = backend.get(&Locator::new(&name)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Throttled, "{err}");
    assert!(err.is_retryable());
    // The SDK's own retries are off: exactly the policy's 4 attempts reach the server.
    assert_eq!(proxy.calls("GetSecretValue"), 4);

    proxy.set_fault("GetSecretValue", Fault::Deny);
    proxy.reset_calls();
    let err = backend.get(&Locator::new(&name)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert_eq!(proxy.calls("GetSecretValue"), 1);
    let hint = err.hint().unwrap_or("");
    assert!(
        hint.contains("execution") && hint.contains("-??????"),
        "{err}"
    );
    assert_clean(&err);
}

#[tokio::test]
async fn put_creates_updates_and_leaves_equal_values_alone() {
    let backend = backend_at("aws", &moto_url()).await;
    let name = format!("import/{}", unique("put"));
    let v1 = SecretValue::from_string(secret_text("one"));
    let v2 = SecretValue::from_string(secret_text("two"));
    assert_eq!(backend.put(&name, &v1).await.unwrap(), PutOutcome::Created);
    assert_eq!(
        backend.put(&name, &v1).await.unwrap(),
        PutOutcome::Unchanged
    );
    assert_eq!(backend.put(&name, &v2).await.unwrap(), PutOutcome::Updated);
    let got = backend.get(&Locator::new(&name)).await.unwrap();
    assert_value(&got, v2.expose_bytes(), "after update");
    let prev = backend.get(&staged(&name, "AWSPREVIOUS")).await.unwrap();
    assert_value(&prev, v1.expose_bytes(), "previous after update");

    let bin = SecretValue::new(vec![0, 159, 146, 150]);
    let bname = unique("put-bin");
    assert_eq!(
        backend.put(&bname, &bin).await.unwrap(),
        PutOutcome::Created
    );
    assert_value(
        &backend.get(&Locator::new(&bname)).await.unwrap(),
        bin.expose_bytes(),
        "binary put",
    );
    assert_eq!(
        backend.put(&bname, &bin).await.unwrap(),
        PutOutcome::Unchanged
    );
}

#[tokio::test]
async fn no_region_anywhere_is_a_config_error_for_names_only() {
    // A backend with no region: names cannot be resolved, ARNs can.
    envfile_tests::moto::dummy_credentials_in_env();
    std::env::remove_var("AWS_REGION");
    std::env::remove_var("AWS_DEFAULT_REGION");
    let cfg = envfile_aws::AwsConfig {
        kind: "aws".into(),
        endpoint_url: Some(moto_url()),
        ..Default::default()
    };
    let backend = envfile_aws::AwsBackend::new("aws", &cfg).await;
    let name = unique("noregion");
    let value = secret_text("nr");
    let arn = put_secret(&sdk_client(REGION), &name, value.as_bytes()).await;
    let err = backend.get(&Locator::new(&name)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.hint().unwrap_or("").contains("AWS_REGION"), "{err}");
    assert_value(
        &backend.get(&Locator::new(&arn)).await.unwrap(),
        value.as_bytes(),
        "ARN without a configured region",
    );
}
