//! Refresh cost at scale (issue 19), counted at the wire: a counting proxy ([`FakeAwsProxy`])
//! in front of moto sees every call the broker's cache makes in a refresh round.
//!
//! - N secrets, one rotated: one round costs ⌈N/20⌉ BatchGetSecretValue probes and nothing
//!   else (the batch's answer carries the rotated value, which is stored from it), no
//!   DescribeSecret, and the rotation is picked up within one ttl.
//! - What a batch cannot answer (a deleted secret; one the batch answer denies, injected by the
//!   proxy; a role denied the batch API) falls back to DescribeSecret for those secrets alone,
//!   and why is logged once.
//! - `version_probe = "list"`: ListSecrets pages, no per-secret calls.
//! - SSM: ⌈N/10⌉ GetParameters per round, no GetParameter but the read of a changed
//!   SecureString (a String parameter's value comes with the probe); with `version_probe = "list"`,
//!   DescribeParameters requests of 50 names (moto pages them by 10 whatever `MaxResults`
//!   says; AWS by up to 50), no GetParameters.
//! - `max_calls_per_second`: a burst of due secrets stays under the ceiling; values are served
//!   stale (counted) meanwhile. The ceiling is charged what reaches the backend: nothing for a
//!   pinned version's probe, 10 SSM reads a call whatever the probe mode.
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
use std::sync::{Arc, Mutex, OnceLock};
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
    aws_named("aws", endpoint, probe).await
}

async fn aws_named(
    name: &str,
    endpoint: &str,
    probe: Option<VersionProbeMode>,
) -> Arc<dyn Backend> {
    moto::dummy_credentials_in_env();
    let cfg = AwsConfig {
        kind: "aws".into(),
        region: Some(REGION.into()),
        endpoint_url: Some(endpoint.into()),
        version_probe: probe,
        ..AwsConfig::default()
    };
    Arc::new(AwsBackend::new(name, &cfg).await)
}

/// This process's log, captured from the first call on.
fn log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lines of the captured log that hold every one of `needles`.
fn log_lines(needles: &[&str]) -> usize {
    let log = log();
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    text.lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count()
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

/// Wait until the first secret is due, then run one round; returns when it started (its
/// batches are then spread over a tenth of ttl, and take what moto takes under load).
async fn one_round(cache: &SecretCache) -> Instant {
    let due = cache.next_due().expect("something is cached");
    tokio::time::sleep_until(due.into()).await;
    let started = Instant::now();
    cache.refresh_due().await;
    started
}

fn text(f: &envfile_core::Fetched) -> String {
    String::from_utf8(f.value.expose_bytes().to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_rotation_among_many_costs_only_the_batch_probes() {
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

    // Rotate one; the next round's batch answer carries its new value: no read of its own.
    let rotated = &locs[17].path;
    moto::put_secret(&moto::sdk_client(REGION), rotated, b"v1-17").await;
    let rotated_at = Instant::now();
    proxy.reset_calls();
    let started = one_round(&cache).await;
    assert_eq!(
        proxy.calls("BatchGetSecretValue"),
        N.div_ceil(20) as u32,
        "probes: one per 20 secrets"
    );
    assert_eq!(proxy.calls("DescribeSecret"), 0, "no per-secret probes");
    assert_eq!(
        proxy.calls("GetSecretValue"),
        0,
        "the rotated value came with the batch probe"
    );
    assert!(
        started - rotated_at <= TTL,
        "the round that picked it up started {:?} after the rotation",
        started - rotated_at
    );
    let now = cache.get(&backend, &locs[17]).await.unwrap();
    assert_eq!(text(&now.fetched), "v1-17");
    let other = cache.get(&backend, &locs[3]).await.unwrap();
    assert_eq!(text(&other.fetched), "v0-3");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_batch_cannot_answer_is_probed_alone() {
    const N: usize = 25;
    let log = log();
    let (_, locs) = seed(N).await;
    let proxy = FakeAwsProxy::start().await;
    let backend = aws_named("aws-partial", proxy.url(), None).await;
    let (cache, _) = cache();
    assert!(cache
        .get_many(&backend, &locs)
        .await
        .iter()
        .all(|r| r.is_ok()));

    // One secret deleted, one the batch answer denies (the proxy moves it into `Errors` as
    // AccessDeniedException, as Secrets Manager does for a secret the role may not read): each
    // of those two alone gets a DescribeSecret, which names the problem; the rest of both
    // batches stands. The cache keeps serving their last values (within max_stale).
    let (deleted, denied) = (&locs[4].path, &locs[11].path);
    moto::sdk_client(REGION)
        .delete_secret()
        .secret_id(deleted)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    proxy.deny_in_batch(denied);
    proxy.reset_calls();
    one_round(&cache).await;
    assert_eq!(proxy.calls("BatchGetSecretValue"), 2);
    assert_eq!(proxy.calls_on("DescribeSecret", deleted), 1);
    assert_eq!(proxy.calls_on("DescribeSecret", denied), 1);
    assert_eq!(
        proxy.calls("DescribeSecret"),
        2,
        "only the deleted and the denied secret"
    );
    assert_eq!(proxy.calls("GetSecretValue"), 0);
    let stale = cache.get(&backend, &locs[4]).await.unwrap();
    assert_eq!(
        text(&stale.fetched),
        "v0-4",
        "served stale within max_stale"
    );
    let kept = cache.get(&backend, &locs[11]).await.unwrap();
    assert_eq!(text(&kept.fetched), "v0-11", "described unchanged: kept");

    // The next full round: the denied secret falls back again, alone; why is not logged again.
    proxy.reset_calls();
    let until = Instant::now() + TTL * 2;
    while proxy.calls("BatchGetSecretValue") < 2 && Instant::now() < until {
        one_round(&cache).await;
    }
    assert_eq!(proxy.calls("BatchGetSecretValue"), 2, "a full round ran");
    assert_eq!(proxy.calls_on("DescribeSecret", denied), 1);
    assert_eq!(
        proxy.calls("DescribeSecret") - proxy.calls_on("DescribeSecret", deleted),
        1,
        "no other secret left the batch"
    );
    assert_eq!(proxy.calls("GetSecretValue"), 0);
    for reason in ["batch-denied-secret", "batch-missing"] {
        assert_eq!(
            log_lines(&["aws-partial", reason]),
            1,
            "{reason} logged once per backend"
        );
    }
    let text_log = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(!text_log.contains("v0-"), "no secret value in the log");

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

/// Undecrypted, GetParameters answers a String parameter with its value (a SecureString with
/// ciphertext): a changed String parameter is stored from the probe, with no read of its own.
#[tokio::test(flavor = "multi_thread")]
async fn ssm_string_parameters_are_stored_from_the_probe() {
    use envfile_aws::ssm_sdk::types::ParameterType;
    const N: usize = 15;
    let prefix = unique("/scale-plain");
    let client = moto::ssm_client(REGION);
    let put = |name: String, value: String| {
        let client = client.clone();
        async move {
            client
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
    };
    let mut locs = Vec::new();
    for i in 0..N {
        let name = format!("{prefix}/p{i}");
        put(name.clone(), format!("v0-{i}")).await;
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
    put(locs[6].path.clone(), "v1-6".into()).await;
    proxy.reset_calls();
    one_round(&cache).await;
    assert_eq!(proxy.calls("GetParameters"), N.div_ceil(10) as u32);
    assert_eq!(
        proxy.calls("GetParameter"),
        0,
        "the value came with the probe"
    );
    let now = cache.get(&backend, &locs[6]).await.unwrap();
    assert_eq!(text(&now.fetched), "v1-6");
    assert_eq!(
        now.fetched.meta.as_ref().unwrap().type_name.as_deref(),
        Some("String")
    );
    let other = cache.get(&backend, &locs[2]).await.unwrap();
    assert_eq!(text(&other.fetched), "v0-2");
}

#[tokio::test(flavor = "multi_thread")]
async fn ssm_list_mode_probes_with_describeparameters_fifty_names_a_request() {
    const N: usize = 60;
    // moto 5's DescribeParameters pages by 10 and ignores MaxResults (AWS: up to 50 a page).
    const MOTO_PAGE: usize = 10;
    let prefix = unique("/scale-list");
    let client = moto::ssm_client(REGION);
    let mut locs = Vec::new();
    for i in 0..N {
        let name = format!("{prefix}/p{i}");
        moto::put_parameter(&client, &name, &format!("v0-{i}")).await;
        locs.push(Locator::new(&name));
    }
    let proxy = FakeAwsProxy::start().await;
    let backend: Arc<dyn Backend> =
        Arc::new(moto::ssm_backend_probing("ssm", proxy.url(), Some(VersionProbeMode::List)).await);
    assert_eq!(backend.probe_batch_size(), 50);
    let (cache, _) = cache();
    assert!(cache
        .get_many(&backend, &locs)
        .await
        .iter()
        .all(|r| r.is_ok()));
    moto::put_parameter(&client, &locs[33].path, "v1-33").await;
    proxy.reset_calls();
    proxy.record_requests("DescribeParameters");
    one_round(&cache).await;

    // One Name-Equals filter of at most 50 names a request, MaxResults 50; every name asked.
    let reqs = proxy.requests("DescribeParameters");
    let mut asked = std::collections::BTreeSet::new();
    for r in &reqs {
        assert_eq!(r["MaxResults"], 50, "{r}");
        let f = &r["ParameterFilters"];
        assert_eq!(f.as_array().map(Vec::len), Some(1), "{r}");
        assert_eq!(f[0]["Key"], "Name");
        assert_eq!(f[0]["Option"], "Equals");
        let values = f[0]["Values"].as_array().unwrap();
        assert!(!values.is_empty() && values.len() <= 50, "{r}");
        asked.extend(values.iter().map(|v| v.as_str().unwrap().to_owned()));
    }
    let want: std::collections::BTreeSet<String> = locs.iter().map(|l| l.path.clone()).collect();
    assert_eq!(asked, want);
    let first_pages = reqs.iter().filter(|r| r.get("NextToken").is_none()).count();
    assert_eq!(first_pages, N.div_ceil(50), "requests of 50 names");
    // Pages: 50 names take 5 of moto's pages, 10 names 1 (the last page is not asked for once
    // every name was answered).
    assert_eq!(
        proxy.calls("DescribeParameters") as usize,
        [50, N - 50]
            .iter()
            .map(|n: &usize| n.div_ceil(MOTO_PAGE))
            .sum::<usize>()
    );
    assert_eq!(proxy.calls("GetParameters"), 0, "no GetParameters probes");
    assert_eq!(
        proxy.calls("GetParameter"),
        1,
        "only the read of the changed one (DescribeParameters carries no value)"
    );
    let now = cache.get(&backend, &locs[33]).await.unwrap();
    assert_eq!(text(&now.fetched), "v1-33");
    let other = cache.get(&backend, &locs[3]).await.unwrap();
    assert_eq!(text(&other.fetched), "v0-3");

    // A role without ssm:DescribeParameters: the denied call is not tried again, and the
    // round probes with GetParameters, ten a call, instead of failing.
    proxy.set_fault("DescribeParameters", Fault::Deny);
    proxy.reset_calls();
    one_round(&cache).await;
    let denied = proxy.calls("DescribeParameters");
    // Two chunks of the round may be in flight when the first denial comes back.
    assert!((1..=2).contains(&denied), "{denied} denied calls");
    assert_eq!(proxy.calls("GetParameters") as usize, 5 + 1);
    assert_eq!(
        backend.probe_batch_size(),
        10,
        "GetParameters-sized rounds now"
    );
    proxy.reset_calls();
    one_round(&cache).await;
    assert_eq!(proxy.calls("DescribeParameters"), 0, "not tried again");
    assert_eq!(proxy.calls("GetParameters") as usize, N.div_ceil(10));
    assert_eq!(proxy.calls("GetParameter"), 0, "nothing changed: no reads");
}

/// Vault has no batch API: a round is one KV v2 metadata read per secret, counted at the wire
/// (the proxy in front of OpenBao), spread over a tenth of ttl and at most four in flight; a
/// pinned version is never probed; only the rotated secret is read again.
#[tokio::test(flavor = "multi_thread")]
async fn vault_probes_one_metadata_read_each_spread_and_bounded() {
    const N: usize = 24;
    let bao = envfile_tests::bao::Bao::root();
    let mount = unique("scale-kv");
    bao.enable_kv(&mount, 2).await;
    let mut locs = Vec::new();
    for i in 0..N {
        bao.kv_put(
            &mount,
            2,
            &format!("s{i}"),
            &serde_json::json!({ "v": format!("v0-{i}") }),
        )
        .await;
        locs.push(Locator::new(format!("{mount}/s{i}")));
    }
    bao.kv_put(&mount, 2, "pinned", &serde_json::json!({ "v": "p1" }))
        .await;
    let mut pinned = Locator::new(format!("{mount}/pinned"));
    pinned.version = Some("1".into());
    let proxy = FakeAwsProxy::start_in_front_of(&envfile_tests::env::vault_addr()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, envfile_tests::env::vault_root_token()).unwrap();
    let mut settings = envfile_tests::bao::settings(envfile_vault::AuthConfig::Token {
        token_file: Some(token),
    });
    settings.address = proxy.url().to_owned();
    let backend: Arc<dyn Backend> = Arc::new(envfile_vault::VaultBackend::new(settings).unwrap());
    let (cache, metrics) = cache();
    let mut all = locs.clone();
    all.push(pinned);
    assert!(cache
        .get_many(&backend, &all)
        .await
        .iter()
        .all(|r| r.is_ok()));
    bao.kv_put(&mount, 2, "s7", &serde_json::json!({ "v": "v1-7" }))
        .await;
    proxy.reset_calls();
    let counted = metrics.backend_calls("vault");
    one_round(&cache).await;
    assert_eq!(
        metrics.backend_calls("vault") - counted,
        N as u64 + 1,
        "the broker counts what reached Vault: the probes and one read, not the pinned one"
    );

    let metadata = proxy.calls_starting(&format!("GET /v1/{mount}/metadata/"));
    assert_eq!(
        metadata.len(),
        N,
        "one probe per unpinned secret: {metadata:?}"
    );
    assert!(metadata.values().all(|&n| n == 1), "{metadata:?}");
    assert!(
        !metadata.contains_key(&format!("GET /v1/{mount}/metadata/pinned")),
        "a pinned version is not probed"
    );
    let reads = proxy.calls_starting(&format!("GET /v1/{mount}/data/"));
    assert_eq!(
        reads,
        std::collections::BTreeMap::from([(format!("GET /v1/{mount}/data/s7"), 1)]),
        "only the rotated secret is read"
    );
    assert!(
        proxy.max_in_flight() <= 4,
        "{} at once",
        proxy.max_in_flight()
    );
    let mut at: Vec<Instant> = metadata.keys().flat_map(|op| proxy.arrivals(op)).collect();
    at.sort();
    let span = *at.last().unwrap() - at[0];
    // The probes are spaced a tenth of ttl / N apart (the last one ~0.096 × ttl after the first).
    assert!(span >= TTL / 20, "the probes came within {span:?}: a burst");
    let now = cache.get(&backend, &locs[7]).await.unwrap();
    assert!(text(&now.fetched).contains("v1-7"));
}

/// GCP: one GetSecretVersion per `latest` secret a round, counted at the wire (the proxy in
/// front of the emulator), spread and at most four at once; a numbered version is never probed
/// (its payload cannot change); only the rotated secret is accessed again.
#[tokio::test(flavor = "multi_thread")]
async fn gcp_probes_latest_only_spread_and_bounded() {
    use envfile_tests::gcp_emulator::{GcpSeeder, SecretManagerEmulator};
    const N: usize = 12;
    const PROJECT: &str = "envfile-test";
    let emu = SecretManagerEmulator::start();
    let seeder = GcpSeeder::new(&emu.base_url, PROJECT, None).await;
    let prefix = unique("scale");
    let mut locs = Vec::new();
    for i in 0..N {
        let id = format!("{prefix}-s{i}");
        seeder.add(&id, format!("v0-{i}").as_bytes()).await;
        locs.push(Locator::new(&id));
    }
    let pinned_id = format!("{prefix}-pinned");
    seeder.add(&pinned_id, b"p1").await;
    seeder.add(&pinned_id, b"p2").await;
    let mut pinned = Locator::new(&pinned_id);
    pinned.version = Some("1".into());
    let proxy = FakeAwsProxy::start_in_front_of(&emu.base_url).await;
    let cfg = envfile_gcp::GcpConfig::new(
        Some(PROJECT.into()),
        None,
        Some(proxy.url().to_owned()),
        envfile_gcp::CredentialsMode::Anonymous,
    )
    .unwrap();
    let backend: Arc<dyn Backend> =
        Arc::new(envfile_gcp::GcpBackend::new("gcp", cfg).await.unwrap());
    let (cache, metrics) = cache();
    let mut all = locs.clone();
    all.push(pinned.clone());
    assert!(cache
        .get_many(&backend, &all)
        .await
        .iter()
        .all(|r| r.is_ok()));
    seeder.add(&locs[5].path, b"v1-5").await;
    proxy.reset_calls();
    let counted = metrics.backend_calls("gcp");
    one_round(&cache).await;
    assert_eq!(
        metrics.backend_calls("gcp") - counted,
        N as u64 + 1,
        "the broker counts what reached Secret Manager: the probes and one read"
    );

    let secrets = format!("GET /v1/projects/{PROJECT}/secrets/");
    let calls = proxy.calls_starting(&secrets);
    let probes: Vec<&String> = calls
        .keys()
        .filter(|k| k.ends_with("/versions/latest"))
        .collect();
    assert_eq!(probes.len(), N, "one probe per latest secret: {calls:?}");
    assert!(
        !calls.keys().any(|k| k.contains(&pinned_id)),
        "a numbered version is not probed: {calls:?}"
    );
    let accessed: Vec<&String> = calls.keys().filter(|k| k.ends_with(":access")).collect();
    assert_eq!(
        accessed,
        vec![&format!("{secrets}{}/versions/latest:access", locs[5].path)],
        "only the rotated secret is read"
    );
    assert_eq!(calls.len(), N + 1, "nothing else: {calls:?}");
    assert!(
        proxy.max_in_flight() <= 4,
        "{} at once",
        proxy.max_in_flight()
    );
    let mut at: Vec<Instant> = probes.iter().flat_map(|op| proxy.arrivals(op)).collect();
    at.sort();
    let span = *at.last().unwrap() - at[0];
    assert!(span >= TTL / 20, "the probes came within {span:?}: a burst");
    let now = cache.get(&backend, &locs[5]).await.unwrap();
    assert_eq!(text(&now.fetched), "v1-5");
    let p = cache.get(&backend, &pinned).await.unwrap();
    assert_eq!(text(&p.fetched), "p1");
}

/// A pinned Vault version is answered without a call (its value cannot change), so it takes
/// nothing from the call ceiling: with a single call to spend, the one secret that can change
/// is probed, nothing is put off, and the ceiling is charged that one call.
#[tokio::test(flavor = "multi_thread")]
async fn pinned_versions_take_nothing_from_the_call_ceiling() {
    const PINNED: usize = 6;
    let bao = envfile_tests::bao::Bao::root();
    let mount = unique("ceil-kv");
    bao.enable_kv(&mount, 2).await;
    bao.kv_put(&mount, 2, "live", &serde_json::json!({ "v": "l1" }))
        .await;
    let mut all = vec![Locator::new(format!("{mount}/live"))];
    for i in 0..PINNED {
        bao.kv_put(
            &mount,
            2,
            &format!("p{i}"),
            &serde_json::json!({ "v": "p1" }),
        )
        .await;
        let mut pinned = Locator::new(format!("{mount}/p{i}"));
        pinned.version = Some("1".into());
        all.push(pinned);
    }
    let proxy = FakeAwsProxy::start_in_front_of(&envfile_tests::env::vault_addr()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, envfile_tests::env::vault_root_token()).unwrap();
    let mut settings = envfile_tests::bao::settings(envfile_vault::AuthConfig::Token {
        token_file: Some(token),
    });
    settings.address = proxy.url().to_owned();
    let backend: Arc<dyn Backend> = Arc::new(envfile_vault::VaultBackend::new(settings).unwrap());
    let (cache, metrics) = cache();
    assert!(cache
        .get_many(&backend, &all)
        .await
        .iter()
        .all(|r| r.is_ok()));
    // One call in the bucket, and hardly any refill while the round runs.
    let ceiling = Arc::new(CallCeiling::new(0.001));
    cache.set_call_ceilings(HashMap::from([(
        backend.name().to_owned(),
        ceiling.clone(),
    )]));
    proxy.reset_calls();
    one_round(&cache).await;
    assert_eq!(
        metrics.ceiling_deferred.load(Ordering::Relaxed),
        0,
        "a pinned version held the ceiling's call from the secret that can change"
    );
    let metadata = proxy.calls_starting(&format!("GET /v1/{mount}/metadata/"));
    assert_eq!(
        metadata,
        std::collections::BTreeMap::from([(format!("GET /v1/{mount}/metadata/live"), 1)]),
        "the live secret is probed, the pinned ones are not"
    );
    let level = ceiling.level();
    assert!(
        level.abs() < 0.01,
        "the ceiling is charged the one probe made: {level} calls left"
    );
}

/// An SSM read is charged what it costs at the wire (GetParameters reads 10 a call), also in
/// `list` mode, whose probe asks about 50 names a request.
#[tokio::test(flavor = "multi_thread")]
async fn ssm_reads_are_charged_ten_a_call_in_list_mode() {
    const N: usize = 25;
    let prefix = unique("/scale-charge");
    let client = moto::ssm_client(REGION);
    let mut locs = Vec::new();
    for i in 0..N {
        let name = format!("{prefix}/p{i}");
        moto::put_parameter(&client, &name, &format!("v0-{i}")).await;
        locs.push(Locator::new(&name));
    }
    let proxy = FakeAwsProxy::start().await;
    let backend: Arc<dyn Backend> =
        Arc::new(moto::ssm_backend_probing("ssm", proxy.url(), Some(VersionProbeMode::List)).await);
    assert_eq!(backend.probe_batch_size(), 50);
    let (cache, _) = cache();
    let ceiling = Arc::new(CallCeiling::new(0.001));
    cache.set_call_ceilings(HashMap::from([("ssm".to_owned(), ceiling.clone())]));
    let before = ceiling.level();
    assert!(cache
        .get_many(&backend, &locs)
        .await
        .iter()
        .all(|r| r.is_ok()));
    let made = proxy.calls("GetParameters") + proxy.calls("GetParameter");
    assert_eq!(made as usize, N.div_ceil(10), "10 a GetParameters");
    let charged = before - ceiling.level();
    assert!(
        (charged - f64::from(made)).abs() < 0.01,
        "charged {charged:.2} calls for {made} made"
    );
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

/// `envfile policy` grants ssm:DescribeParameters only to an ssm backend that probes with it.
#[test]
fn policy_grants_describeparameters_only_for_ssm_list_mode() {
    let actions = |probe: &str| -> (Vec<String>, serde_json::Value) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("envfile.toml");
        std::fs::write(
            &cfg,
            format!(
                "[default.backends.ssm]\nkind = \"ssm\"\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n{probe}\n[default.envfiles.app]\nvars.A = \"ssm:/app/a\"\nvars.B = \"ssm:/app/b\"\n",
                envfile_tests::env::moto_url()
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
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let a = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        (a, doc)
    };
    for probe in ["", "version_probe = \"batch\"", "version_probe = \"each\""] {
        let (a, _) = actions(probe);
        assert!(a.iter().any(|a| a == "ssm:GetParameters"), "{probe}: {a:?}");
        assert!(
            !a.iter().any(|a| a == "ssm:DescribeParameters"),
            "{probe}: {a:?}"
        );
    }
    let (_, doc) = actions("version_probe = \"list\"");
    let list = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == serde_json::json!(["ssm:DescribeParameters"]))
        .expect("a DescribeParameters statement");
    assert_eq!(list["Resource"], "*");
    let (a, _) = actions("version_probe = \"list\"");
    assert!(
        !a.iter().any(|a| a == "secretsmanager:ListSecrets"),
        "ssm list mode grants no ListSecrets: {a:?}"
    );
}
