//! Refresh cost at scale (issue 19), counted at the wire: a counting proxy ([`FakeAwsProxy`])
//! in front of moto sees every call the broker's cache makes in a refresh round.
//!
//! - N secrets, one rotated: one round costs ⌈N/20⌉ BatchGetSecretValue probes plus one read of
//!   the rotated secret, no DescribeSecret, and the rotation is picked up within one ttl.
//! - What a batch cannot answer (a deleted secret; a role denied the batch API) falls back to
//!   DescribeSecret for those secrets alone.
//! - `version_probe = "list"`: ListSecrets pages, no per-secret calls.
//! - SSM: ⌈N/10⌉ GetParameters per round, no GetParameter.
//! - `max_calls_per_second`: a burst of due secrets stays under the ceiling; values are served
//!   stale (counted) meanwhile.
//!
//! The rounds are driven by calling `refresh_due` (what the broker's refresher loop calls), so
//! the counts are exact and nothing else runs in between.

use envfile_aws::{AwsBackend, AwsConfig, VersionProbeMode};
use envfile_broker::audit::Audit;
use envfile_broker::cache::{CachePolicy, SecretCache};
use envfile_broker::call_ceiling::CallCeiling;
use envfile_broker::metrics::Metrics;
use envfile_core::{Backend, Locator};
use envfile_tests::env::unique;
use envfile_tests::moto::{self, FakeAwsProxy, Fault, REGION};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_millis(1500);

fn cache() -> (Arc<SecretCache>, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let c = SecretCache::new(
        CachePolicy {
            ttl: TTL,
            max_stale: Duration::from_secs(60),
            max_entries: 10_000,
            negative_ttl: Duration::from_secs(5),
        },
        metrics.clone(),
        Arc::new(Audit::off()),
    );
    (c, metrics)
}

async fn aws_at(endpoint: &str, probe: Option<VersionProbeMode>) -> Arc<dyn Backend> {
    moto::dummy_credentials_in_env();
    let cfg = AwsConfig {
        kind: "aws".into(),
        region: Some(REGION.into()),
        endpoint_url: Some(endpoint.into()),
        version_probe: probe,
        ..AwsConfig::default()
    };
    Arc::new(AwsBackend::new("aws", &cfg).await)
}

/// `n` secrets named `PREFIX/i`, each holding `v0-i`.
async fn seed(n: usize) -> (String, Vec<Locator>) {
    let prefix = unique("scale");
    let client = moto::sdk_client(REGION);
    let mut locs = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}/{i}");
        moto::put_secret(&client, &name, format!("v0-{i}").as_bytes()).await;
        locs.push(Locator::new(&name));
    }
    (prefix, locs)
}

/// Wait until the first secret is due, then run one round; returns when it ran.
async fn one_round(cache: &SecretCache) -> Instant {
    let due = cache.next_due().expect("something is cached");
    tokio::time::sleep_until(due.into()).await;
    cache.refresh_due().await;
    Instant::now()
}

fn text(f: &envfile_core::Fetched) -> String {
    String::from_utf8(f.value.expose_bytes().to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_rotation_among_many_costs_a_batch_per_20_and_one_read() {
    const N: usize = 45;
    let (_, locs) = seed(N).await;
    let proxy = FakeAwsProxy::start().await;
    let backend = aws_at(proxy.url(), None).await;
    let (cache, _) = cache();
    let first = cache.get_many(&backend, &locs).await;
    assert!(first.iter().all(|r| r.is_ok()));
    assert_eq!(proxy.calls("BatchGetSecretValue"), 3, "start-up: 20 a call");

    // A round with nothing rotated: probes only.
    proxy.reset_calls();
    one_round(&cache).await;
    assert_eq!(proxy.calls("BatchGetSecretValue"), 3);
    assert_eq!(proxy.calls("DescribeSecret"), 0);
    assert_eq!(proxy.calls("GetSecretValue"), 0);

    // Rotate one; the next round reads it (and only it) again.
    let rotated = &locs[17].path;
    moto::put_secret(&moto::sdk_client(REGION), rotated, b"v1-17").await;
    let rotated_at = Instant::now();
    proxy.reset_calls();
    let done = one_round(&cache).await;
    assert_eq!(
        proxy.calls("BatchGetSecretValue"),
        N.div_ceil(20) as u32,
        "probes: one per 20 secrets"
    );
    assert_eq!(proxy.calls("DescribeSecret"), 0, "no per-secret probes");
    assert_eq!(
        proxy.calls("GetSecretValue"),
        1,
        "one read of the rotated secret"
    );
    assert!(
        done - rotated_at <= TTL,
        "picked up {:?} after the rotation",
        done - rotated_at
    );
    let now = cache.get(&backend, &locs[17]).await.unwrap();
    assert_eq!(text(&now.fetched), "v1-17");
    let other = cache.get(&backend, &locs[3]).await.unwrap();
    assert_eq!(text(&other.fetched), "v0-3");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_batch_cannot_answer_is_probed_alone() {
    const N: usize = 25;
    let (_, locs) = seed(N).await;
    let proxy = FakeAwsProxy::start().await;
    let backend = aws_at(proxy.url(), None).await;
    let (cache, _) = cache();
    assert!(cache
        .get_many(&backend, &locs)
        .await
        .iter()
        .all(|r| r.is_ok()));

    // One secret deleted: the batch reports an error for it; it alone gets a DescribeSecret,
    // which names the problem; the cache keeps serving its last value (within max_stale).
    moto::sdk_client(REGION)
        .delete_secret()
        .secret_id(&locs[4].path)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    proxy.reset_calls();
    one_round(&cache).await;
    assert_eq!(proxy.calls("BatchGetSecretValue"), 2);
    assert_eq!(proxy.calls("DescribeSecret"), 1, "only the deleted secret");
    assert_eq!(proxy.calls("GetSecretValue"), 0);
    let stale = cache.get(&backend, &locs[4]).await.unwrap();
    assert_eq!(
        text(&stale.fetched),
        "v0-4",
        "served stale within max_stale"
    );

    // The role loses the batch permission: the denied batch is not tried again, and every
    // secret is probed on its own. Rounds for two ttls, so every secret came due.
    proxy.set_fault("BatchGetSecretValue", Fault::Deny);
    proxy.reset_calls();
    let until = Instant::now() + TTL * 2;
    while Instant::now() < until {
        one_round(&cache).await;
    }
    assert_eq!(
        proxy.calls("BatchGetSecretValue"),
        1,
        "denied once, then not tried"
    );
    let described = proxy.calls("DescribeSecret");
    assert!(
        described >= N as u32,
        "each secret probed alone after the denial: {described}"
    );
    assert_eq!(
        proxy.calls("GetSecretValue"),
        0,
        "nothing changed: no reads"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn list_mode_probes_with_listsecrets_pages() {
    const N: usize = 30;
    let (_, locs) = seed(N).await;
    let proxy = FakeAwsProxy::start().await;
    let backend = aws_at(proxy.url(), Some(VersionProbeMode::List)).await;
    let (cache, _) = cache();
    assert!(cache
        .get_many(&backend, &locs)
        .await
        .iter()
        .all(|r| r.is_ok()));
    moto::put_secret(&moto::sdk_client(REGION), &locs[2].path, b"v1-2").await;
    proxy.reset_calls();
    one_round(&cache).await;
    // Every secret of the region is listed (other tests share moto): pages of 100.
    let (mut listed, mut token) = (0usize, None::<String>);
    loop {
        let page = moto::sdk_client(REGION)
            .list_secrets()
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        listed += page.secret_list().len();
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let pages = proxy.calls("ListSecrets");
    assert!(
        pages >= 1 && pages as usize <= listed.div_ceil(100) + 1,
        "{pages} ListSecrets calls for {listed} secrets"
    );
    assert_eq!(proxy.calls("DescribeSecret"), 0);
    assert_eq!(proxy.calls("BatchGetSecretValue"), 0);
    assert_eq!(
        proxy.calls("GetSecretValue"),
        1,
        "the rotated secret read again"
    );
    let now = cache.get(&backend, &locs[2]).await.unwrap();
    assert_eq!(text(&now.fetched), "v1-2");
}

#[tokio::test(flavor = "multi_thread")]
async fn ssm_probes_ten_parameters_a_call() {
    const N: usize = 25;
    let prefix = unique("/scale");
    let client = moto::ssm_client(REGION);
    let mut locs = Vec::new();
    for i in 0..N {
        let name = format!("{prefix}/p{i}");
        moto::put_parameter(&client, &name, &format!("v0-{i}")).await;
        locs.push(Locator::new(&name));
    }
    let proxy = FakeAwsProxy::start().await;
    let backend: Arc<dyn Backend> = Arc::new(moto::ssm_backend_at("ssm", proxy.url()).await);
    let (cache, _) = cache();
    assert!(cache
        .get_many(&backend, &locs)
        .await
        .iter()
        .all(|r| r.is_ok()));
    moto::put_parameter(&client, &locs[9].path, "v1-9").await;
    proxy.reset_calls();
    one_round(&cache).await;
    assert_eq!(
        proxy.calls("GetParameters"),
        N.div_ceil(10) as u32,
        "probes: 10 a call"
    );
    assert_eq!(
        proxy.calls("GetParameter"),
        1,
        "no per-parameter probes: only the read of the changed one"
    );
    let now = cache.get(&backend, &locs[9]).await.unwrap();
    assert_eq!(text(&now.fetched), "v1-9");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_call_ceiling_holds_under_a_burst_and_stale_values_are_served() {
    const N: usize = 200;
    const RATE: f64 = 2.0;
    let (_, locs) = seed(N).await;
    let proxy = FakeAwsProxy::start().await;
    let backend = aws_at(proxy.url(), Some(VersionProbeMode::Batch)).await;
    let (cache, metrics) = cache();
    assert!(cache
        .get_many(&backend, &locs)
        .await
        .iter()
        .all(|r| r.is_ok()));
    cache.set_call_ceilings(HashMap::from([(
        "aws".to_owned(),
        Arc::new(CallCeiling::new(RATE)),
    )]));
    proxy.reset_calls();
    // Everything comes due at once: 10 batches wanted, the ceiling allows a burst of 2 and
    // then 2 a second.
    let start = Instant::now();
    let until = start + Duration::from_secs(3);
    tokio::time::sleep_until(cache.next_due().unwrap().into()).await;
    while Instant::now() < until {
        cache.refresh_due().await;
        // Reads past ttl while the ceiling is reached are served stale, without a call.
        for l in locs.iter().step_by(37) {
            cache.get(&backend, l).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let calls = proxy.calls("BatchGetSecretValue")
        + proxy.calls("DescribeSecret")
        + proxy.calls("GetSecretValue");
    assert!(
        f64::from(calls) <= RATE + RATE * secs + 1.0,
        "{calls} calls in {secs:.1}s under a ceiling of {RATE}/s"
    );
    assert!(calls >= 2, "the ceiling lets calls through: {calls}");
    assert!(metrics.ceiling_deferred.load(Ordering::Relaxed) > 0);
    assert!(metrics.ceiling_stale_served.load(Ordering::Relaxed) > 0);
}

/// `envfile policy` grants ListSecrets only to a config that probes with it.
#[test]
fn policy_grants_listsecrets_only_for_list_mode() {
    let policy = |probe: &str| -> serde_json::Value {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("envfile.toml");
        std::fs::write(
            &cfg,
            format!(
                "{}{probe}\n[default.envfiles.app]\nvars.A = \"aws:app/a#k\"\nvars.B = \"aws:app/b#k\"\n",
                moto::backend_toml()
            ),
        )
        .unwrap();
        let out = std::process::Command::new(envfile_tests::env::envfile_bin())
            .arg("--config")
            .arg(&cfg)
            .args(["policy", "--for", "aws"])
            .env_remove("ENVFILE_CONFIG")
            .env_remove("ENVFILE_PROFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let actions = |doc: &serde_json::Value| -> Vec<String> {
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    };
    for probe in ["", "version_probe = \"batch\"", "version_probe = \"each\""] {
        let a = actions(&policy(probe));
        assert!(
            !a.iter().any(|a| a == "secretsmanager:ListSecrets"),
            "{probe}: {a:?}"
        );
    }
    let doc = policy("version_probe = \"list\"");
    let list = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == serde_json::json!(["secretsmanager:ListSecrets"]))
        .expect("a ListSecrets statement");
    assert_eq!(list["Resource"], "*");
}
