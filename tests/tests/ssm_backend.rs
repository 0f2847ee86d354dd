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
