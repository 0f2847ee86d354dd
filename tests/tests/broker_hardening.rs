//! The broker against a hostile local client (issue 14): overflowing durations and a reload
//! that fails or panics; what a restricted client learns from an error; a memo keyed by the
//! canonical request; per-client limits on long-polls; misses that cost the backend; refusals
//! that leave an audit trail; sink modes, retries and `/readyz`. Every test uses the file
//! backend, so this binary needs no servers.

mod broker_support;

use async_trait::async_trait;
use broker_support::*;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const READER: &str = "reader-token-0123456789abcdef";

fn write_store(dir: &Path, v: serde_json::Value) {
    let tmp = dir.join(".store.json.tmp");
    std::fs::write(&tmp, v.to_string()).unwrap();
    std::fs::rename(tmp, dir.join("store.json")).unwrap();
}

/// A client grant named `name` with token `token` (written to a file in `dir`) and `body`.
fn client(dir: &Path, name: &str, token: &str, body: &str) -> String {
    let f = dir.join(format!("{name}.token"));
    std::fs::write(&f, token).unwrap();
    format!(
        "[[default.broker.clients]]\nname = \"{name}\"\ntoken = \"file://{}\"\n{body}\n",
        f.display()
    )
}

async fn as_token(b: &Running, token: &str, target: &str) -> Resp {
    http(Via::Tcp(b.tcp), target, &[("X-Envfile-Token", token)]).await
}

async fn eventually<F, Fut>(what: &str, limit: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out after {limit:?} waiting for: {what}");
}

/// One gauge or counter from `/metrics` (read with the admin token).
async fn metric(b: &Running, name: &str) -> f64 {
    let text = b.get("/metrics").await.text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// The log of this test process, captured (set up once per process).
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

fn log_contains(needle: &str) -> bool {
    contains(&log().lock().unwrap(), needle)
}

/// Reloads like [`FileReload`], but panics on its first call and counts every call.
struct PanicsFirst {
    inner: FileReload,
    calls: AtomicUsize,
}

#[async_trait]
impl envfile_broker::Reload for PanicsFirst {
    async fn reload(&self) -> envfile_core::Result<envfile_broker::Setup> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("a reload bug nobody foresaw");
        }
        self.inner.reload().await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_overflowing_waits_are_400_and_a_failed_or_panicking_reload_keeps_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "a": "va", "b": "vb" }));
    let cfg = dir.path().join("envfile.toml");
    let good_a = file_config(dir.path(), "[default.envfiles.a]\nvars.A = \"file:a\"\n");
    std::fs::write(&cfg, &good_a).unwrap();
    let setup = {
        let loaded = envfile_core::config::load(Some(&cfg), None).unwrap();
        let backends = build_backends(&loaded).await.unwrap();
        envfile_broker::Setup { loaded, backends }
    };
    let reloader = Arc::new(PanicsFirst {
        inner: FileReload(cfg.clone()),
        calls: AtomicUsize::new(0),
    });
    let b = start(setup, Some(reloader.clone())).await;
    wait_ready(&b).await;

    // A wait no clock can add: a clear 400 naming the parameter, not a dropped connection.
    for wait in ["99999999999999999999", "99999999999999999999s", "1e400s"] {
        let r = b.get(&format!("/v1/envfiles/a?wait={wait}")).await;
        assert_eq!(r.status, 400, "wait={wait}: {r:?}");
        assert!(r.text().contains("wait"), "{}", r.text());
    }
    assert_eq!(b.get("/v1/envfiles/a").await.status, 200);

    let reload_and_wait = |n: usize| {
        let reload = b.reload.clone();
        let reloader = reloader.clone();
        async move {
            reload.notify_one();
            eventually("the reload to run", Duration::from_secs(5), || async {
                reloader.calls.load(Ordering::SeqCst) >= n
            })
            .await;
        }
    };
    // 1: the reloader panics. 2: the new config has an overflowing duration.
    reload_and_wait(1).await;
    std::fs::write(
        &cfg,
        file_config(
            dir.path(),
            "[default.envfiles.a]\nvars.A = \"file:a\"\n[default.envfiles.b]\nvars.B = \"file:b\"\n\
             [default.broker]\nmax_wait = \"99999999999999999999\"\n",
        ),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    reload_and_wait(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        b.get("/v1/envfiles/b").await.status,
        404,
        "a broken config was applied"
    );
    // 3: a good config still takes effect.
    std::fs::write(
        &cfg,
        file_config(
            dir.path(),
            "[default.envfiles.a]\nvars.A = \"file:a\"\n[default.envfiles.b]\nvars.B = \"file:b\"\n",
        ),
    )
    .unwrap();
    reload_and_wait(3).await;
    eventually(
        "envfile b after the good reload",
        Duration::from_secs(5),
        || async { b.get("/v1/envfiles/b").await.status == 200 },
    )
    .await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_restricted_clients_learn_no_names_counts_or_paths_from_errors_the_admin_and_log_do()
{
    let log = log();
    let dir = tempfile::tempdir().unwrap();
    write_store(
        dir.path(),
        json!({ "app/db": "v", "admin/root": "r", "admin/keys": "k", "ops/x": "x" }),
    );
    let rest = format!(
        "[default.envfiles.a]\nvars.A = \"file:app/db\"\n\
         [default.envfiles.broken]\nvars.B = \"file:admin/roo\"\n{}",
        client(
            dir.path(),
            "reader",
            READER,
            "envfiles = [\"broken\"]\nrefs = [\"file:app/*\"]"
        )
    );
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    let store = dir.path().join("store.json").display().to_string();
    eventually("the env files resolved", Duration::from_secs(5), || async {
        b.get("/v1/envfiles/a").await.status == 200
            && b.get("/v1/envfiles/broken").await.status == 500
    })
    .await;

    // Granted but missing: 404, the reference it asked for and the kind, nothing else.
    for (missing, ref_text) in [
        ("file:app%2Froot", "file:app/root"),
        ("file:app%2Fdb2", "file:app/db2"),
    ] {
        let r = as_token(&b, READER, &format!("/v1/secrets/{missing}")).await;
        assert_eq!(r.status, 404, "{r:?}");
        assert_eq!(
            r.json(),
            json!({ "error": "not_found", "message": format!("{ref_text}: not found") }),
            "{}",
            r.text()
        );
        for leak in [
            &*store,
            "store.json",
            "admin",
            "did you mean",
            "holds",
            "other",
        ] {
            assert!(!contains(&r.body, leak), "`{leak}` reached the client");
        }
    }
    // An env file with a missing secret: which variable and reference failed, not why in the
    // backend's words.
    let r = as_token(&b, READER, "/v1/envfiles/broken").await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.json()["problems"][0]["var"], "B");
    for leak in [
        &*store,
        "store.json",
        // (`admin/roo` is the config's own reference, which the grant lets it read.)
        "admin/root",
        "did you mean",
        "holds",
        "hint\":\"",
    ] {
        assert!(
            !contains(&r.body, leak),
            "`{leak}` reached the client: {}",
            r.text()
        );
    }
    assert!(contains(
        &b.get("/v1/envfiles/broken").await.body,
        "store.json"
    ));

    // Not granted: one body whether or not the secret exists.
    let exists = as_token(&b, READER, "/v1/secrets/file:admin%2Froot").await;
    let ghost = as_token(&b, READER, "/v1/secrets/file:admin%2Fghost").await;
    assert_eq!((exists.status, ghost.status), (403, 403));
    assert!(exists.body == ghost.body, "403 bodies reveal existence");

    // The admin gets the backend's own message and hint; so does the log.
    let admin = b.get("/v1/secrets/file:app%2Fdb2").await;
    assert_eq!(admin.status, 404);
    assert!(contains(&admin.body, "store.json"), "{}", admin.text());
    assert!(admin.json()["hint"].is_string(), "{}", admin.text());
    assert!(contains(&log.lock().unwrap(), "app/db2") && log_contains("store.json"));
    b.stop().await;
}

/// `text` with each byte percent-encoded when bit `i % 64` of `bits` is set: many spellings of
/// one path.
fn spelled(text: &str, bits: u64) -> String {
    text.bytes()
        .enumerate()
        .map(|(i, c)| {
            if c == b'/' || bits >> (i % 64) & 1 == 1 {
                format!("%{c:02X}")
            } else {
                (c as char).to_string()
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_memo_is_keyed_by_the_canonical_request_not_the_bytes_sent() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "app/database-password-1": "v" }));
    let rest = "[default.broker]\nmax_entries = 5000\n";
    let b = Arc::new(start(setup_from(&file_config(dir.path(), rest)).await, None).await);
    let first = b.get("/v1/secrets/file:app%2Fdatabase-password-1").await;
    assert_eq!(first.status, 200);
    // 20,000 reads, each spelled differently (the reference has 27 bytes: 2^27 spellings).
    let tasks: Vec<_> = (0..8u64)
        .map(|t| {
            let b = b.clone();
            let expected = first.body.clone();
            tokio::spawn(async move {
                for i in 0..2500u64 {
                    let target = format!(
                        "/v1/secrets/{}",
                        spelled("file:app/database-password-1", t * 2500 + i + 1)
                    );
                    let r = b.get(&target).await;
                    assert_eq!(r.status, 200, "{target}");
                    assert!(r.body == expected, "{target}: another body");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        metric(&b, "envfile_broker_memo_entries").await,
        1.0,
        "one secret, one route: one memo entry"
    );
    // Junk in the query is refused rather than memoized (or ignored).
    for junk in ["?x=1", "?stage=AWSPREVIOUS", "?"] {
        let r = b
            .get(&format!("/v1/secrets/file:app%2Fdatabase-password-1{junk}"))
            .await;
        assert_eq!(r.status, 400, "{junk}");
    }
    assert_eq!(metric(&b, "envfile_broker_memo_entries").await, 1.0);
    Arc::try_unwrap(b).ok().expect("sole owner").stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_one_client_holding_long_polls_cannot_starve_others_or_the_probes() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "a": "va" }));
    let rest = format!(
        "[default.envfiles.a]\nvars.A = \"file:a\"\n\
         [default.broker]\nmax_connections = 8\nclient_max_requests = 4\nclient_max_waits = 3\n\
         max_wait = \"30s\"\n{}{}",
        client(dir.path(), "greedy", READER, "envfiles = [\"a\"]"),
        client(
            dir.path(),
            "other",
            "other-token-0123456789abcdef",
            "envfiles = [\"a\"]"
        ),
    );
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    wait_ready(&b).await;
    let tcp = b.tcp;
    let etag = b
        .get("/v1/envfiles/a")
        .await
        .header("etag")
        .unwrap()
        .to_owned();

    // The greedy client asks for ten long-polls at once: three wait, the rest are refused.
    let refused = Arc::new(AtomicUsize::new(0));
    let mut waits = Vec::new();
    for _ in 0..10 {
        let (etag, refused) = (etag.clone(), refused.clone());
        waits.push(tokio::spawn(async move {
            let r = http(
                Via::Tcp(tcp),
                "/v1/envfiles/a?wait=30s",
                &[("X-Envfile-Token", READER), ("If-None-Match", &etag)],
            )
            .await;
            if r.status == 429 {
                assert_eq!(r.header("retry-after"), Some("1"));
                assert!(contains(&r.body, "too many"), "{}", r.text());
                refused.fetch_add(1, Ordering::SeqCst);
            }
            r.status
        }));
    }
    eventually("seven refusals", Duration::from_secs(5), || async {
        refused.load(Ordering::SeqCst) == 7
    })
    .await;

    // Meanwhile the probes and another client are answered at once.
    let prompt = |target: &'static str, token: &'static str| async move {
        {
            tokio::time::timeout(
                Duration::from_secs(2),
                http(Via::Tcp(tcp), target, &[("X-Envfile-Token", token)]),
            )
            .await
            .unwrap_or_else(|_| panic!("{target} was not answered promptly"))
        }
    };
    for _ in 0..3 {
        assert_eq!(prompt("/healthz", "").await.status, 200);
        assert_eq!(prompt("/readyz", "").await.status, 200);
        let other = prompt("/v1/envfiles/a", "other-token-0123456789abcdef").await;
        assert_eq!(other.status, 200);
    }
    assert!(
        waits.iter().filter(|w| !w.is_finished()).count() == 3,
        "three long-polls still wait"
    );
    b.stop().await;
    for w in waits {
        let _ = w.await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_misses_are_rate_limited_negatively_cached_and_never_evict_secrets() {
    let dir = tempfile::tempdir().unwrap();
    write_store(
        dir.path(),
        json!({ "s0": "v0", "s1": "v1", "s2": "v2", "s3": "v3" }),
    );
    let rest = format!(
        "[default.broker]\nmax_entries = 4\nclient_miss_rate = 1\nclient_miss_burst = 5\n\
         negative_ttl = \"1m\"\n{}",
        client(dir.path(), "reader", READER, "refs = [\"file:*\"]")
    );
    let mut setup = setup_from(&file_config(dir.path(), &rest)).await;
    let real = setup
        .backends
        .select(&envfile_core::BackendSel::Named("file".into()))
        .unwrap();
    let counting = Counting::wrap(real);
    let mut backends = envfile_core::Backends::new();
    backends.insert(counting.clone());
    setup.backends = backends;
    let b = start(setup, None).await;

    // Four secrets fill the cache.
    for i in 0..4 {
        assert_eq!(b.get(&format!("/v1/secrets/file:s{i}")).await.status, 200);
    }
    assert_eq!(counting.reads(), 4);

    // One client, 200 distinct missing names: a burst reaches the backend, the rest get 429.
    let started = Instant::now();
    let mut statuses = Vec::new();
    for i in 0..200 {
        let r = as_token(&b, READER, &format!("/v1/secrets/file:missing-{i}")).await;
        statuses.push(r.status);
    }
    let allowed = 5 + started.elapsed().as_secs() as usize + 1;
    let calls = counting.reads() - 4;
    assert!(
        calls <= allowed,
        "200 misses made {calls} backend calls (at most {allowed} allowed)"
    );
    assert!(statuses.iter().all(|s| *s == 404 || *s == 429));
    assert_eq!(statuses.iter().filter(|s| **s == 404).count(), calls);
    assert!(statuses.contains(&429));

    // The cached secrets are still cached (no eviction, no new backend read).
    let before = counting.reads();
    for i in 0..4 {
        assert_eq!(b.get(&format!("/v1/secrets/file:s{i}")).await.status, 200);
    }
    assert_eq!(counting.reads(), before, "a miss evicted a cached secret");
    assert_eq!(
        metric(&b, "envfile_broker_cache_evictions_total").await,
        0.0
    );

    // A repeated miss is answered from the negative cache.
    let before = counting.reads();
    for _ in 0..50 {
        assert_eq!(b.get("/v1/secrets/file:gone").await.status, 404);
    }
    assert_eq!(
        counting.reads(),
        before + 1,
        "repeated misses reached the backend"
    );
    assert!(metric(&b, "envfile_broker_negative_hits_total").await >= 49.0);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_refusals_are_audited_without_tokens_and_odd_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "app/db": "v" }));
    let audit = dir.path().join("audit.log");
    let rest =
        format!(
        "[default.envfiles.a]\nvars.A = \"file:app/db\"\n[default.broker]\naudit = \"{}\"\n{}{}",
        audit.display(),
        client(dir.path(), "reader", READER, "envfiles = [\"a\"]\nrefs = [\"file:app/*\"]"),
        client(
            dir.path(),
            "watcher",
            "watcher-token-0123456789abcdef",
            "metrics = true"
        ),
    );
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    wait_ready(&b).await;
    let tcp = Via::Tcp(b.tcp);
    let guess = "guessed-token-SECRET-BYTES-0123";

    // Every proxy header is refused like X-Forwarded-For.
    for h in ["X-Forwarded-For", "Forwarded", "X-Real-IP", "Via"] {
        let r = http(
            tcp.clone(),
            "/v1/envfiles/a",
            &[("X-Envfile-Token", TOKEN), (h, "1.1 proxy")],
        )
        .await;
        assert_eq!(r.status, 400, "{h}");
    }
    assert_eq!(http(tcp.clone(), "/v1/envfiles/a", &[]).await.status, 401);
    let wrong = http(tcp.clone(), "/v1/envfiles/a", &[("X-Envfile-Token", guess)]).await;
    assert_eq!(wrong.status, 403);
    let bad_ref = as_token(&b, READER, "/v1/secrets/%3A%3A").await;
    assert_eq!(bad_ref.status, 400, "{}", bad_ref.text());

    // Queries a route does not take are refused, not ignored.
    let r = as_token(&b, READER, "/v1/secrets/file:app%2Fdb?stage=AWSPREVIOUS").await;
    assert_eq!(r.status, 400);
    assert!(contains(&r.body, "%3F"), "{}", r.text());
    assert_eq!(
        as_token(&b, READER, "/v1/envfiles/a?fromat=json")
            .await
            .status,
        400
    );
    assert_eq!(
        as_token(&b, READER, "/v1/envfiles/a?format=json&format=shell")
            .await
            .status,
        400
    );
    assert_eq!(
        as_token(&b, READER, "/v1/envfiles/a?format=json&wait=0s")
            .await
            .status,
        200
    );

    // /metrics: the admin and grants that say so.
    assert_eq!(as_token(&b, READER, "/metrics").await.status, 403);
    assert_eq!(
        as_token(&b, "watcher-token-0123456789abcdef", "/metrics")
            .await
            .status,
        200
    );
    assert_eq!(b.get("/metrics").await.status, 200);
    b.stop().await;

    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(
        !text.contains(guess),
        "a presented token reached the audit log"
    );
    let refused: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &serde_json::Value| l["outcome"] == "refused")
        .collect();
    let kinds: Vec<&str> = refused
        .iter()
        .filter_map(|l| l["error_kind"].as_str())
        .collect();
    for want in ["bad_request", "unauthenticated", "forbidden", "invalid_ref"] {
        assert!(
            kinds.contains(&want),
            "no refused line of kind {want}: {kinds:?}"
        );
    }
    // Four proxied, a missing token, a wrong one, a bad reference, three bad queries, metrics.
    assert!(refused.len() >= 11, "{} refusal lines", refused.len());
    assert!(refused.iter().any(|l| l["principal"]
        .as_str()
        .is_some_and(|p| p.contains("token:unknown"))));
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_a_failed_sink_write_is_retried_and_keeps_readyz_503_until_it_lands() {
    let log = log();
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "a": "va" }));
    let later = dir.path().join("later");
    let sink = later.join("a.env");
    let readable = dir.path().join("readable.env");
    let rest = format!(
        "[default.envfiles.a]\nvars.A = \"file:a\"\n\
         [[default.sinks]]\nenvfile = \"a\"\npath = \"{}\"\nmode = \"0400\"\n\
         [[default.sinks]]\nenvfile = \"a\"\npath = \"{}\"\nmode = \"0644\"\n",
        sink.display(),
        readable.display()
    );
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    // The env file resolves, one sink is written, the other's directory does not exist yet.
    eventually("the readable sink", Duration::from_secs(5), || async {
        readable.exists()
    })
    .await;
    assert_eq!(b.get("/v1/envfiles/a").await.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        b.get("/readyz").await.status,
        503,
        "ready with a sink unwritten"
    );
    assert!(log_contains("may read this sink"), "no warning for 0644");

    // Without any change to the content, the write is retried and lands.
    std::fs::create_dir(&later).unwrap();
    eventually("the retried sink", Duration::from_secs(10), || async {
        std::fs::read(&sink).is_ok_and(|s| contains(&s, "va"))
    })
    .await;
    eventually("/readyz 200", Duration::from_secs(5), || async {
        b.get("/readyz").await.status == 200
    })
    .await;
    assert!(contains(&log.lock().unwrap(), "sink write failed"));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_socket_group_is_applied_to_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({}));
    // This process's own group: the one any user may give a file it owns.
    let gid: u32 = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Gid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|g| g.parse().ok())
        .unwrap();
    let rest = format!("[default.broker]\nsocket_group = \"{gid}\"\nsocket_mode = \"0660\"\n");
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(&b.socket).unwrap();
    assert_eq!(meta.gid(), gid);
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_a_socket_client_holds_at_most_its_limit_of_connections() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "a": "va" }));
    let me: u32 = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap();
    let rest = format!(
        "[default.envfiles.a]\nvars.A = \"file:a\"\n\
         [default.broker]\nmax_connections = 8\nclient_max_requests = 2\nclient_max_waits = 1\n\
         [[default.broker.clients]]\nname = \"me\"\nuid = {me}\nenvfiles = [\"a\"]\n"
    );
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    wait_ready(&b).await;
    // Four idle connections: two are kept, the others closed at once.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(tokio::net::UnixStream::connect(&b.socket).await.unwrap());
    }
    let mut closed = 0;
    for c in &mut conns {
        let mut buf = [0u8; 1];
        match tokio::time::timeout(Duration::from_millis(300), c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            Ok(Ok(_)) => panic!("the broker sent something unasked"),
            Err(_) => {}
        }
    }
    assert_eq!(closed, 2, "connections over the per-uid limit were kept");
    // Others (and the probes) are served meanwhile; the uid is served again once it lets go.
    assert_eq!(b.get("/readyz").await.status, 200);
    drop(conns);
    // (The broker notices the closes in its own time; until then a new one is closed too.)
    let socket = b.socket.clone();
    eventually(
        "a socket connection after letting go",
        Duration::from_secs(5),
        || {
            let socket = socket.clone();
            async move {
                use tokio::io::AsyncWriteExt;
                let Ok(mut s) = tokio::net::UnixStream::connect(&socket).await else {
                    return false;
                };
                let req = "GET /v1/envfiles/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
                let mut out = Vec::new();
                s.write_all(req.as_bytes()).await.is_ok()
                    && s.read_to_end(&mut out).await.is_ok()
                    && out.starts_with(b"HTTP/1.1 200")
            }
        },
    )
    .await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_a_refresh_that_changed_something_forgets_remembered_misses() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path(), json!({ "a": "v1" }));
    let rest = "[default.envfiles.a]\nvars.A = \"file:a\"\n\
                [default.broker]\nttl = \"1s\"\nnegative_ttl = \"1h\"\n";
    let b = start(setup_from(&file_config(dir.path(), rest)).await, None).await;
    wait_ready(&b).await;
    assert_eq!(b.get("/v1/secrets/file:new").await.status, 404);
    // Created now: still remembered as missing (for up to an hour)…
    write_store(dir.path(), json!({ "a": "v1", "new": "n" }));
    assert_eq!(b.get("/v1/secrets/file:new").await.status, 404);
    // …until a refresh round sees something change.
    write_store(dir.path(), json!({ "a": "v2", "new": "n" }));
    eventually("the new secret", Duration::from_secs(10), || async {
        b.get("/v1/secrets/file:new").await.status == 200
    })
    .await;
    b.stop().await;
}
