//! Grants are checked against the canonical identity of exactly the secret a request reads, on
//! every route: `/v1/secrets/…`, the Vault route and the AWS agent's route. On OpenBao, a KV v1
//! mount holds both `x` and a secret literally named `data/x`, and so does a KV v2 mount (where
//! `data/` is also the API segment); a grant for one of them must never read the other under any
//! spelling, memoized or not.

mod broker_support;

use broker_support::*;
use envfile_tests::bao::Bao;
use envfile_tests::env::unique;
use envfile_tests::moto;
use serde_json::json;

const NARROW: &str = "narrow-token-0123456789abcdef";
const DATA: &str = "data-token-0123456789abcdef00";
const PREFIX: &str = "prefix-token-0123456789abcdef";
const STAR: &str = "star-token-0123456789abcdef00";

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The marker each seeded secret holds, so a test can tell which one a response came from.
fn marker(mount: &str, name: &str) -> String {
    format!("{mount}|{name}|{}", envfile_tests::conformance::canary())
}

struct World {
    _dir: tempfile::TempDir,
    v1: String,
    v2: String,
    aws_name: String,
    aws_other: String,
    broker: Running,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let bao = Bao::root();
    let v1 = unique("grant-kv1");
    let v2 = unique("grant-kv2");
    bao.enable_kv(&v1, 1).await;
    bao.enable_kv(&v2, 2).await;
    for (mount, version) in [(&v1, 1), (&v2, 2)] {
        for name in ["x", "data/x", "metadata/x"] {
            bao.kv_put(mount, version, name, &json!({ "m": marker(mount, name) }))
                .await;
        }
    }
    let client = moto::sdk_client(moto::REGION);
    let aws_name = unique("grant/aws");
    let aws_other = unique("grant/other");
    for n in [&aws_name, &aws_other] {
        moto::put_secret(
            &client,
            n,
            json!({ "m": marker("aws", n) }).to_string().as_bytes(),
        )
        .await;
    }
    let token_file = dir.path().join("vault-token");
    std::fs::write(&token_file, envfile_tests::env::vault_root_token()).unwrap();
    for (f, t) in [
        ("narrow", NARROW),
        ("data", DATA),
        ("prefix", PREFIX),
        ("star", STAR),
    ] {
        std::fs::write(dir.path().join(f), t).unwrap();
    }
    let toml = format!(
        r#"
[default.backends.vault]
kind = "vault"
address = "{vault}"
auth = {{ method = "token", token_file = "{token_file}" }}

[default.backends.aws]
kind = "aws"
region = "{region}"
endpoint_url = "{moto}"

[default.envfiles.none]
vars.X = {{ value = "1" }}

# The secrets named `x`, spelled as each route would name them.
[[default.broker.clients]]
name = "narrow"
token = "file://{d}/narrow"
refs = ["vault:{v1}/x", "vault:{v2}/data/x", "vault:{v2}/gone", "aws:{aws_name}"]

# The secrets named `data/x`.
[[default.broker.clients]]
name = "data"
token = "file://{d}/data"
refs = ["vault:{v1}/data/x", "vault:{v2}/data/data/x"]

# Prefixes: every KV v1 name under `data/`, every KV v2 name under `data/` (API segment first).
[[default.broker.clients]]
name = "prefix"
token = "file://{d}/prefix"
refs = ["vault:{v1}/data/*", "vault:{v2}/data/data/*"]

# Every secret of every backend.
[[default.broker.clients]]
name = "star"
token = "file://{d}/star"
refs = ["*"]
"#,
        vault = envfile_tests::env::vault_addr(),
        token_file = token_file.display(),
        region = moto::REGION,
        moto = envfile_tests::env::moto_url(),
        d = dir.path().display(),
    );
    let broker = start(setup_from(&toml).await, None).await;
    World {
        _dir: dir,
        v1,
        v2,
        aws_name,
        aws_other,
        broker,
    }
}

/// One request by `token` through the envfile route (`/v1/secrets/…`), the Vault route (with
/// `X-Vault-Token`) or the AWS route (with the agent's header).
#[derive(Clone, Copy, Debug)]
enum By {
    Secrets,
    Vault,
    Aws,
}

async fn ask(w: &World, by: By, token: &str, what: &str) -> Resp {
    let tcp = Via::Tcp(w.broker.tcp);
    match by {
        By::Secrets => {
            let t = format!("/v1/secrets/{}", enc(what));
            http(tcp, &t, &[("X-Envfile-Token", token)]).await
        }
        By::Vault => http(tcp, &format!("/v1/{what}"), &[("X-Vault-Token", token)]).await,
        By::Aws => {
            let t = format!("/secretsmanager/get?secretId={}", enc(what));
            http(tcp, &t, &[("X-Aws-Parameters-Secrets-Token", token)]).await
        }
    }
}

/// `expect` is the marker the body must hold, or `None` for a refusal.
async fn check(w: &World, by: By, token: &str, what: &str, expect: Option<String>) {
    // Twice: the second answer may come from the memo of the first (or of the admin's read).
    for round in 0..2 {
        let r = ask(w, by, token, what).await;
        match &expect {
            Some(m) => {
                assert_eq!(r.status, 200, "{by:?} {what} round {round}: {r:?}");
                assert!(
                    contains(&r.body, m),
                    "{by:?} {what}: another secret's value"
                );
            }
            None => {
                // Each route refuses in its incumbent's shape: envfile's 403, Vault's 404 of a
                // missing secret, the AWS agent's 400 `AccessDeniedException`.
                let refused = match by {
                    By::Aws => r.status == 400 && contains(&r.body, "AccessDeniedException"),
                    By::Secrets | By::Vault => r.status == 403 || r.status == 404,
                };
                assert!(
                    refused,
                    "{by:?} {what} round {round} must be refused: {r:?}"
                );
                assert!(
                    !contains(&r.body, envfile_tests::conformance::canary()),
                    "{by:?} {what}: a refusal carried a value"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_grants_name_the_secret_read_on_every_route() {
    let w = world().await;
    let (v1, v2) = (w.v1.clone(), w.v2.clone());
    // The admin reads every spelling first, so the restricted reads below also meet memoized
    // responses built for someone else.
    for t in [
        format!("{v1}/data/x"),
        format!("{v2}/data/x"),
        format!("{v2}/data/data/x"),
    ] {
        let r = ask(&w, By::Vault, TOKEN, &t).await;
        assert_eq!(r.status, 200, "admin {t}: {r:?}");
    }
    for t in [
        format!("vault:{v1}/x"),
        format!("vault:{v1}/data/x"),
        format!("vault:{v2}/data/data/x"),
    ] {
        assert_eq!(ask(&w, By::Secrets, TOKEN, &t).await.status, 200, "{t}");
    }

    let m = |mount: &str, name: &str| Some(marker(mount, name));
    let cases: Vec<(By, &str, String, Option<String>)> = vec![
        // The two bypasses of the issue: a grant for `x` reading the secret named `data/x`.
        (By::Vault, NARROW, format!("{v1}/data/x"), None),
        (By::Vault, NARROW, format!("{v2}/data/data/x"), None),
        (By::Secrets, NARROW, format!("vault:{v1}/data/x"), None),
        (By::Secrets, NARROW, format!("vault:{v2}/data/data/x"), None),
        // …and the secrets the grant does name, in every spelling that reads them.
        (By::Vault, NARROW, format!("{v2}/data/x"), m(&v2, "x")),
        (By::Secrets, NARROW, format!("vault:{v1}/x"), m(&v1, "x")),
        (By::Secrets, NARROW, format!("vault:{v2}/x"), m(&v2, "x")),
        (
            By::Secrets,
            NARROW,
            format!("vault:{v2}/data/x"),
            m(&v2, "x"),
        ),
        // Names with `metadata/` inside are names like any other to a read.
        (By::Secrets, NARROW, format!("vault:{v1}/metadata/x"), None),
        (By::Secrets, NARROW, format!("vault:{v2}/metadata/x"), None),
        // A grant for `data/x` reads `data/x`, and not `x`.
        (By::Vault, DATA, format!("{v1}/data/x"), m(&v1, "data/x")),
        (
            By::Vault,
            DATA,
            format!("{v2}/data/data/x"),
            m(&v2, "data/x"),
        ),
        (
            By::Secrets,
            DATA,
            format!("vault:{v1}/data/x"),
            m(&v1, "data/x"),
        ),
        (
            By::Secrets,
            DATA,
            format!("vault:{v2}/data/data/x"),
            m(&v2, "data/x"),
        ),
        (By::Vault, DATA, format!("{v2}/data/x"), None),
        (By::Secrets, DATA, format!("vault:{v1}/x"), None),
        (By::Secrets, DATA, format!("vault:{v2}/x"), None),
        (By::Secrets, DATA, format!("vault:{v2}/data/x"), None),
        // Prefixes follow the same rule.
        (By::Vault, PREFIX, format!("{v1}/data/x"), m(&v1, "data/x")),
        (
            By::Vault,
            PREFIX,
            format!("{v2}/data/data/x"),
            m(&v2, "data/x"),
        ),
        (By::Secrets, PREFIX, format!("vault:{v1}/x"), None),
        (By::Secrets, PREFIX, format!("vault:{v1}/metadata/x"), None),
        (By::Vault, PREFIX, format!("{v2}/data/x"), None),
        (By::Vault, PREFIX, format!("{v2}/data/metadata/x"), None),
        (By::Secrets, PREFIX, format!("vault:{v2}/x"), None),
        // The AWS route goes through the same check.
        (By::Aws, NARROW, w.aws_name.clone(), m("aws", &w.aws_name)),
        (By::Aws, NARROW, w.aws_other.clone(), None),
        (By::Aws, DATA, w.aws_name.clone(), None),
        (
            By::Secrets,
            NARROW,
            format!("aws:{}", w.aws_name),
            m("aws", &w.aws_name),
        ),
        (By::Secrets, NARROW, format!("aws:{}", w.aws_other), None),
    ];
    for (by, token, what, expect) in cases {
        check(&w, by, token, &what, expect).await;
    }
    w.broker.stop().await;
}

/// What a template's `secret "…"` reads besides secrets (Vault's own endpoints, KV v2 metadata)
/// names no secret, so no grant reaches it through `/v1/secrets/…`, not even `*`:
/// `auth/token/lookup-self` would hand out the broker's own Vault token.
#[tokio::test(flavor = "multi_thread")]
async fn broker_serves_vault_endpoints_and_metadata_reads_to_no_restricted_client() {
    let w = world().await;
    let v2 = w.v2.clone();
    let root = envfile_tests::env::vault_root_token();
    for what in [
        "vault:auth/token/lookup-self".to_owned(),
        "vault:sys/health".to_owned(),
        "vault:sys/policies/acl/default".to_owned(),
        format!("vault:{v2}/metadata/x"),
    ] {
        for (name, token) in [("star", STAR), ("narrow", NARROW), ("prefix", PREFIX)] {
            // Twice: the second may meet the memo of the first.
            for round in 0..2 {
                let r = ask(&w, By::Secrets, token, &what).await;
                assert_eq!(r.status, 403, "{name} {what} round {round}");
                assert!(
                    !contains(&r.body, &root) && !contains(&r.body, "policies"),
                    "{name} {what}: a refusal carried the answer"
                );
            }
        }
    }
    // `*` still reads every secret, and the admin reads the endpoints as templates do.
    check(
        &w,
        By::Secrets,
        STAR,
        &format!("vault:{v2}/x"),
        Some(marker(&v2, "x")),
    )
    .await;
    let r = ask(&w, By::Secrets, TOKEN, "vault:sys/policies/acl/default").await;
    assert_eq!(r.status, 200, "the admin reads sys/");
    w.broker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_vault_refusals_look_like_missing_secrets() {
    let w = world().await;
    let (v1, v2) = (w.v1.clone(), w.v2.clone());
    // Ungranted and existing, ungranted and missing, under a mount that does not exist: one
    // answer, so a restricted client cannot map what exists.
    // A missing secret the client may read answers the same.
    let ungranted = [
        format!("{v2}/data/data/x"),
        format!("{v2}/data/nope"),
        format!("{}/data/x", unique("no-such-mount")),
        format!("{v1}/data/x"),
        format!("{v2}/data/gone"),
    ];
    let mut seen = Vec::new();
    for t in &ungranted {
        let r = ask(&w, By::Vault, NARROW, t).await;
        seen.push((r.status, r.body.clone()));
    }
    assert!(
        seen.windows(2).all(|p| p[0] == p[1]),
        "refusals differ: {:?}",
        seen.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    assert_eq!(seen[0].0, 404, "Vault answers a missing secret 404");
    assert_eq!(
        seen[0].1, br#"{"errors":[]}"#,
        "Vault's body for a missing secret"
    );
    w.broker.stop().await;
}

/// A loopback TCP relay to OpenBao that keeps every byte the broker sends, so a test can count
/// the requests that reached Vault. A fake in the only sense that it exists: OpenBao (unlike
/// Vault) cannot enable an audit device through its API, which would otherwise count them.
struct Relay {
    addr: std::net::SocketAddr,
    sent: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

async fn relay_to(upstream: &str) -> Relay {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = sent.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                continue;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = async move {
                    let mut buf = vec![0u8; 16384];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::join!(up, down);
            });
        }
    });
    Relay { addr, sent }
}

/// What the grant check costs Vault, counted on the wire between the broker and OpenBao: a
/// restricted client sending paths under mounts that do not exist makes no mount lookup per
/// request, only the rate-limited listing of every mount.
#[tokio::test(flavor = "multi_thread")]
async fn broker_identity_lookups_cost_vault_no_call_per_request() {
    let bao = Bao::root();
    let dir = tempfile::tempdir().unwrap();
    let relay = relay_to(&envfile_tests::env::vault_addr()).await;
    let mount = unique("costs-kv2");
    bao.enable_kv(&mount, 2).await;
    bao.kv_put(&mount, 2, "x", &json!({ "m": marker(&mount, "x") }))
        .await;
    std::fs::write(
        dir.path().join("vault-token"),
        envfile_tests::env::vault_root_token(),
    )
    .unwrap();
    std::fs::write(dir.path().join("narrow"), NARROW).unwrap();
    let toml = format!(
        r#"
[default.backends.vault]
kind = "vault"
address = "http://{relay}"
auth = {{ method = "token", token_file = "{d}/vault-token" }}

[default.envfiles.none]
vars.X = {{ value = "1" }}

[[default.broker.clients]]
name = "narrow"
token = "file://{d}/narrow"
refs = ["vault:{mount}/x"]
"#,
        relay = relay.addr,
        d = dir.path().display(),
    );
    let broker = start(setup_from(&toml).await, None).await;
    let tcp = Via::Tcp(broker.tcp);
    let h = [("X-Vault-Token", NARROW)];
    let r = http(tcp.clone(), &format!("/v1/{mount}/data/x"), &h).await;
    assert_eq!(r.status, 200, "{r:?}");
    let unknown: Vec<String> = (0..40).map(|_| unique("nomount")).collect();
    for m in &unknown {
        let r = http(tcp.clone(), &format!("/v1/{m}/data/x"), &h).await;
        assert_eq!(r.status, 404);
        let t = format!("/v1/secrets/vault:{m}%2Fx");
        let r = http(tcp.clone(), &t, &[("X-Envfile-Token", NARROW)]).await;
        assert_eq!(r.status, 403);
    }
    broker.stop().await;

    let sent = String::from_utf8_lossy(&relay.sent.lock().unwrap()).into_owned();
    let requests: Vec<&str> = sent
        .lines()
        .filter(|l| l.starts_with("GET ") || l.starts_with("POST ") || l.starts_with("LIST "))
        .collect();
    assert!(
        !requests
            .iter()
            .any(|r| unknown.iter().any(|m| r.contains(m.as_str()))),
        "a request under an unknown mount reached Vault: {requests:?}"
    );
    let listings = requests
        .iter()
        .filter(|r| r.starts_with("GET /v1/sys/internal/ui/mounts "))
        .count();
    assert!(
        (1..=2).contains(&listings),
        "{listings} mount listings for 81 requests: {requests:?}"
    );
}
