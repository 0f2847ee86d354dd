//! The `ssm` backend against moto's Parameter Store, through the real AWS SDK: the conformance
//! suite, GetParameters batching counted through the counting proxy, selectors, SSM ARNs, the
//! grant identity of names and ARNs, and errors with hints.

use envfile_core::{Backend, ErrorKind, Locator};
use envfile_tests::conformance::{self, assert_clean};
use envfile_tests::env::unique;
use envfile_tests::moto::{self, FakeAwsProxy, SsmSeeder};

#[tokio::test(flavor = "multi_thread")]
async fn conformance() {
    let backend = moto::ssm_backend_at("ssm", &envfile_tests::env::moto_url()).await;
    conformance::run_all(&backend, &SsmSeeder::new()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_five_parameters_take_three_get_parameters_calls() {
    let proxy = FakeAwsProxy::start().await;
    let backend = moto::ssm_backend_at("ssm", proxy.url()).await;
    let client = moto::ssm_client(moto::REGION);
    let run = unique("/envfile-tests/batch");
    let mut locs = Vec::new();
    for i in 0..25 {
        let name = format!("{run}/p{i:02}");
        moto::put_parameter(&client, &name, &format!("value-{i}")).await;
        locs.push(Locator::new(name));
    }
    proxy.reset_calls();
    let got = backend.get_many(&locs).await;
    for (i, r) in got.iter().enumerate() {
        let f = r.as_ref().unwrap_or_else(|e| panic!("p{i}: {e}"));
        assert_eq!(f.value.expose_str(), Some(format!("value-{i}").as_str()));
        assert_eq!(f.version.as_deref(), Some("1"));
    }
    assert_eq!(
        proxy.calls("GetParameters"),
        3,
        "25 parameters in batches of 10"
    );
    assert_eq!(proxy.calls("GetParameter"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn selectors_arns_and_identities() {
    let backend = moto::ssm_backend_at("ssm", &envfile_tests::env::moto_url()).await;
    let client = moto::ssm_client(moto::REGION);
    let name = unique("/envfile-tests/sel");
    moto::put_parameter(&client, &name, "first").await;
    moto::put_parameter(&client, &name, "second").await;
    client
        .label_parameter_version()
        .name(&name)
        .parameter_version(1)
        .labels("old")
        .send()
        .await
        .unwrap();
    let read = |p: String| {
        let backend = &backend;
        async move { backend.get(&Locator::new(p)).await }
    };
    let cur = read(name.clone()).await.unwrap();
    assert_eq!(cur.value.expose_str(), Some("second"));
    assert_eq!(cur.version.as_deref(), Some("2"));
    let meta = cur.meta.clone().expect("SSM returns metadata");
    assert_eq!(meta.type_name.as_deref(), Some("SecureString"));
    assert_eq!(meta.name.as_deref(), Some(name.as_str()));
    let arn = meta.arn.clone().expect("an ARN");
    assert_eq!(
        read(format!("{name}:1")).await.unwrap().value.expose_str(),
        Some("first")
    );
    assert_eq!(
        read(format!("{name}:old"))
            .await
            .unwrap()
            .value
            .expose_str(),
        Some("first")
    );
    assert_eq!(
        read(arn.clone()).await.unwrap().value.expose_str(),
        Some("second")
    );
    assert_eq!(
        backend
            .current_version(&Locator::new(&name))
            .await
            .unwrap()
            .as_deref(),
        Some("2")
    );

    // One identity for the name, its ARN, and versions of it; another parameter's differs.
    let id = backend.identity(&name).await.unwrap();
    assert_eq!(backend.identity(&arn).await.unwrap(), id);
    assert_eq!(backend.identity(&format!("{name}:1")).await.unwrap(), id);
    assert_eq!(meta.identity.as_deref(), Some(id.as_str()));
    assert_ne!(backend.identity(&format!("{name}x")).await.unwrap(), id);
    let other_region = arn.replace(moto::REGION, "us-west-2");
    assert_ne!(backend.identity(&other_region).await.unwrap(), id);

    // A hierarchical name without its leading `/` is another parameter: the hint says so.
    let e = read(name.trim_start_matches('/').to_owned())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.hint().unwrap_or("").contains(&format!("`{name}`")), "{e}");
    assert_clean(&e);
    let e = read(format!("{name}:9")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

/// Both backends assume `role_arn` with the external id, session name and duration given, and
/// the SDK refreshes the assumed credentials before they expire. STS allows 15 minutes at the
/// least (the config refuses less); moto issues what it is asked for, so the test asks for 12
/// seconds through the typed config, bypassing that check.
#[tokio::test(flavor = "multi_thread")]
async fn roles_are_assumed_with_the_external_id_and_refreshed_before_expiry() {
    moto::dummy_credentials_in_env();
    let proxy = FakeAwsProxy::start().await;
    let client = moto::ssm_client(moto::REGION);
    let name = unique("/envfile-tests/role");
    moto::put_parameter(&client, &name, "via-role").await;
    let cfg = envfile_aws::AwsConfig {
        kind: "ssm".into(),
        region: Some(moto::REGION.into()),
        endpoint_url: Some(proxy.url().into()),
        role_arn: Some(format!("arn:aws:iam::{}:role/reader", moto::ACCOUNT)),
        external_id: Some("ext-4711".into()),
        session_name: Some("envfile-test".into()),
        duration: Some(envfile_aws::config::DurationSetting::Seconds(12)),
        ..envfile_aws::AwsConfig::default()
    };
    assert!(cfg.validate_kind("ssm", "ssm").is_err(), "STS's minimum");
    let backend = envfile_aws::SsmBackend::new("ssm", &cfg).await;
    let loc = Locator::new(&name);
    assert_eq!(
        backend.get(&loc).await.unwrap().value.expose_str(),
        Some("via-role")
    );
    assert_eq!(proxy.calls("AssumeRole"), 1);
    let form = proxy.last_assume_role().unwrap_or_default();
    for want in [
        "ExternalId=ext-4711",
        "RoleSessionName=envfile-test",
        "DurationSeconds=12",
        "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Freader",
    ] {
        assert!(form.contains(want), "AssumeRole lacks {want}: {form}");
    }
    // The SDK refreshes 5 to 10 s (jittered) before the expiry: for 12 s credentials that is
    // 2 to 7 s after they were issued, so a call at once reuses them and one 7.5 s later cannot.
    backend.get(&loc).await.unwrap();
    assert_eq!(proxy.calls("AssumeRole"), 1, "fresh credentials are reused");
    tokio::time::sleep(std::time::Duration::from_millis(7500)).await;
    backend.get(&loc).await.unwrap();
    assert_eq!(
        proxy.calls("AssumeRole"),
        2,
        "credentials near expiry are refreshed"
    );
}

/// An assume failure is `unauthenticated`, names the role and points at the trust policy.
#[tokio::test(flavor = "multi_thread")]
async fn an_assume_failure_names_the_role() {
    moto::dummy_credentials_in_env();
    let proxy = FakeAwsProxy::start().await;
    proxy.set_fault("AssumeRole", moto::Fault::Deny);
    let cfg = envfile_aws::AwsConfig {
        kind: "aws".into(),
        region: Some(moto::REGION.into()),
        endpoint_url: Some(proxy.url().into()),
        role_arn: Some(format!("arn:aws:iam::{}:role/nope", moto::ACCOUNT)),
        ..envfile_aws::AwsConfig::default()
    };
    let backend = envfile_aws::AwsBackend::new("aws", &cfg)
        .await
        .with_retry(envfile_core::retry::RetryPolicy::none());
    let e = backend.get(&Locator::new("anything")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated, "{e}");
    assert!(e.message().contains(":role/nope"), "{e}");
    assert!(e.hint().unwrap_or("").contains("trust policy"), "{e}");
}

/// A path reads every parameter below it, recursively, as one JSON object keyed by the name
/// below the path (what `expand` turns into variables); its version changes with any of them.
#[tokio::test(flavor = "multi_thread")]
async fn a_path_reads_the_hierarchy_for_expand() {
    let backend = moto::ssm_backend_at("ssm", &envfile_tests::env::moto_url()).await;
    let client = moto::ssm_client(moto::REGION);
    let root = unique("/envfile-tests/tree");
    for (rel, v) in [("db/host", "h"), ("db/password", "pw"), ("token", "t")] {
        moto::put_parameter(&client, &format!("{root}/{rel}"), v).await;
    }
    moto::put_parameter(&client, &format!("{root}-sibling/x"), "no").await;
    let loc = Locator::new(format!("{root}/"));
    let got = backend.get(&loc).await.unwrap();
    let json = got.value.parse_json().ok().unwrap();
    assert_eq!(
        json.expose(),
        &serde_json::json!({ "db/host": "h", "db/password": "pw", "token": "t" })
    );
    let v1 = got.version.clone().unwrap();
    assert_eq!(
        backend.current_version(&loc).await.unwrap(),
        Some(v1.clone())
    );
    moto::put_parameter(&client, &format!("{root}/token"), "t2").await;
    let v2 = backend.current_version(&loc).await.unwrap().unwrap();
    assert_ne!(v1, v2, "a changed parameter changes the path's version");
    let e = backend
        .get(&Locator::new(format!("{root}-none/")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
