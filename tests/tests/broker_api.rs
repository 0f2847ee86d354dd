//! The broker's routes end to end against real servers: the file backend, moto (AWS) and OpenBao
//! (Vault), over TCP and over the unix socket; authentication and grants; single-flight; and
//! the AWS-agent-compatible route read by a Python client written for that agent.

mod broker_support;

use broker_support::*;
use envfile_tests::bao::Bao;
use envfile_tests::env::unique;
use envfile_tests::moto;
use serde_json::json;
use std::sync::Arc;

fn canary() -> &'static str {
    envfile_tests::conformance::canary()
}

struct World {
    dir: tempfile::TempDir,
    aws_name: String,
    aws_arn: String,
    mount: String,
    toml: String,
}

/// A file store, a moto secret and an OpenBao KV v2 secret, and a config over all three.
async fn world(extra: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = json!({
        "app/db": { "host": "db.internal", "password": format!("pw-{}", canary()) },
        "app/token": format!("tok-{}", canary()),
    });
    std::fs::write(dir.path().join("store.json"), store.to_string()).unwrap();
    let aws_name = unique("broker/api");
    let client = moto::sdk_client(moto::REGION);
    let aws_arn = moto::put_secret(
        &client,
        &aws_name,
        json!({ "api_key": format!("ak-{}", canary()), "region": "eu" })
            .to_string()
            .as_bytes(),
    )
    .await;
    let bao = Bao::root();
    let mount = unique("broker-kv");
    bao.enable_kv(&mount, 2).await;
    bao.kv_put(
        &mount,
        2,
        "api",
        &json!({ "database_url": format!("postgres://u:{}@db/x", canary()) }),
    )
    .await;
    let token_file = dir.path().join("vault-token");
    std::fs::write(&token_file, envfile_tests::env::vault_root_token()).unwrap();
    let rest = format!(
        r#"
[default.backends.aws]
kind = "aws"
region = "{region}"
endpoint_url = "{moto}"

[default.backends.vault]
kind = "vault"
address = "{vault}"
auth = {{ method = "token", token_file = "{token_file}" }}

[default.envfiles.app]
vars.DB_HOST = "file:app/db#host"
vars.DB_PASSWORD = "file:app/db#password"
vars.TOKEN = "file:app/token"
vars.API_KEY = "aws:{aws_name}#api_key"
vars.DATABASE_URL = "vault:{mount}/api#database_url"
vars.LOG_LEVEL = {{ value = "INFO" }}

[default.broker]
audit = "{audit}"
{extra}
"#,
        region = moto::REGION,
        moto = envfile_tests::env::moto_url(),
        vault = envfile_tests::env::vault_addr(),
        token_file = token_file.display(),
        audit = dir.path().join("audit.log").display(),
    );
    let toml = file_config(dir.path(), &rest);
    World {
        dir,
        aws_name,
        aws_arn,
        mount,
        toml,
    }
}

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

#[tokio::test(flavor = "multi_thread")]
async fn broker_every_route_answers_over_tcp_and_the_socket_from_file_aws_and_vault() {
    let w = world("").await;
    let b = start(setup_from(&w.toml).await, None).await;
    wait_ready(&b).await;

    // The env file, over both listeners: same bytes, same strong ETag.
    let tcp = b.get("/v1/envfiles/app").await;
    assert_eq!(tcp.status, 200, "{tcp:?}");
    let etag = tcp.header("etag").expect("etag").to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let sock = b.get_unix("/v1/envfiles/app").await;
    assert_eq!(sock.status, 200, "{sock:?}");
    assert!(sock.body == tcp.body, "socket and TCP bodies differ");
    assert_eq!(sock.header("etag"), Some(etag.as_str()));
    let dotenv = tcp.text();
    for line in ["DB_HOST='db.internal'", "LOG_LEVEL='INFO'"] {
        assert!(dotenv.lines().any(|l| l == line), "missing line {line}");
    }
    assert!(
        contains(&tcp.body, &format!("ak-{}", canary())),
        "aws value missing"
    );
    assert!(
        contains(&tcp.body, &format!("postgres://u:{}@db/x", canary())),
        "vault value missing"
    );

    // Other formats; JSON reads back to the same values.
    let j = b.get("/v1/envfiles/app?format=json").await;
    assert_eq!(j.status, 200);
    assert_eq!(j.header("content-type"), Some("application/json"));
    let v = j.json();
    assert!(
        v["TOKEN"] == json!(format!("tok-{}", canary())),
        "TOKEN differs"
    );
    assert!(
        v["DB_PASSWORD"] == json!(format!("pw-{}", canary())),
        "DB_PASSWORD differs"
    );
    assert_ne!(
        j.header("etag"),
        Some(etag.as_str()),
        "ETag is per rendering"
    );
    assert_eq!(b.get("/v1/envfiles/app?format=nope").await.status, 400);

    // Conditional GET.
    let nm = http(
        Via::Tcp(b.tcp),
        "/v1/envfiles/app",
        &[("X-Envfile-Token", TOKEN), ("If-None-Match", &etag)],
    )
    .await;
    assert_eq!(nm.status, 304);
    assert!(nm.body.is_empty());

    // Secrets by reference, percent-encoded.
    let s = b
        .get(&format!("/v1/secrets/{}", enc("file:app/db#host")))
        .await;
    assert_eq!(s.status, 200, "{s:?}");
    let sj = s.json();
    assert_eq!(sj["value"], "db.internal");
    assert!(sj["version"].is_string() && sj["fetched_at"].is_string());
    let s = b
        .get(&format!(
            "/v1/secrets/{}",
            enc(&format!("aws:{}", w.aws_name))
        ))
        .await;
    assert_eq!(s.status, 200, "{s:?}");
    let sj = s.json();
    assert_eq!(sj["keys"]["region"], "eu");
    assert!(sj["keys"]["api_key"] == json!(format!("ak-{}", canary())));
    let s = b
        .get_unix(&format!(
            "/v1/secrets/{}",
            enc(&format!("vault:{}/api#database_url", w.mount))
        ))
        .await;
    assert_eq!(s.status, 200, "{s:?}");
    assert!(s.json()["value"] == json!(format!("postgres://u:{}@db/x", canary())));
    let missing = b
        .get(&format!("/v1/secrets/{}", enc("file:app/nope")))
        .await;
    assert_eq!(missing.status, 404);
    let bad = b
        .get(&format!("/v1/secrets/{}", enc("file:app/db#a#b")))
        .await;
    assert!(bad.status == 400 || bad.status == 404, "{bad:?}");

    // The AWS agent route, with the agent's header.
    let a = http(
        Via::Tcp(b.tcp),
        &format!("/secretsmanager/get?secretId={}", enc(&w.aws_name)),
        &[("X-Aws-Parameters-Secrets-Token", TOKEN)],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    let aj = a.json();
    assert_eq!(aj["Name"], w.aws_name.as_str());
    assert_eq!(aj["VersionStages"], json!(["AWSCURRENT"]));
    assert!(aj["SecretString"]
        .as_str()
        .is_some_and(|s| s.contains("api_key")));
    let by_arn = http(
        Via::Tcp(b.tcp),
        &format!("/secretsmanager/get?secretId={}", enc(&w.aws_arn)),
        &[("X-Aws-Parameters-Secrets-Token", TOKEN)],
    )
    .await;
    assert_eq!(by_arn.status, 200, "{by_arn:?}");
    assert_eq!(by_arn.json()["ARN"], w.aws_arn.as_str());
    assert_eq!(by_arn.json()["Name"], w.aws_name.as_str());
    let nf = http(
        Via::Tcp(b.tcp),
        "/secretsmanager/get?secretId=does-not-exist-anywhere",
        &[("X-Aws-Parameters-Secrets-Token", TOKEN)],
    )
    .await;
    assert_eq!(nf.status, 400);
    assert_eq!(nf.json()["__type"], "ResourceNotFoundException");

    // The Vault KV route, with Vault's header.
    let vresp = http(
        Via::Tcp(b.tcp),
        &format!("/v1/{}/data/api", w.mount),
        &[("X-Vault-Token", TOKEN)],
    )
    .await;
    assert_eq!(vresp.status, 200, "{vresp:?}");
    let vj = vresp.json();
    assert!(vj["data"]["data"]["database_url"] == json!(format!("postgres://u:{}@db/x", canary())));
    assert_eq!(vj["data"]["metadata"]["version"], 1);
    assert_eq!(vj["lease_duration"], 0);
    let vmissing = http(
        Via::Tcp(b.tcp),
        &format!("/v1/{}/data/nope", w.mount),
        &[("X-Vault-Token", TOKEN)],
    )
    .await;
    assert_eq!(vmissing.status, 404);

    // Health, readiness, metrics.
    assert_eq!(http(Via::Tcp(b.tcp), "/healthz", &[]).await.status, 200);
    assert_eq!(http(Via::Tcp(b.tcp), "/readyz", &[]).await.status, 200);
    let m = b.get("/metrics").await;
    assert_eq!(m.status, 200);
    let mt = m.text();
    assert!(
        mt.contains("envfile_broker_requests_total{route=\"envfile\",status=\"200\"}"),
        "{mt}"
    );
    assert!(
        mt.contains("envfile_broker_requests_total{route=\"envfile\",status=\"304\"} 1"),
        "{mt}"
    );
    assert!(mt.contains("envfile_broker_cache_hits_total"), "{mt}");
    assert!(
        mt.contains("envfile_broker_backend_calls_total{backend=\"aws\""),
        "{mt}"
    );
    assert!(mt.contains("envfile_broker_staleness_seconds"), "{mt}");
    assert_eq!(http(Via::Tcp(b.tcp), "/metrics", &[]).await.status, 401);

    b.stop().await;

    // The audit log has access and refresh lines and never a value.
    let audit = std::fs::read(w.dir.path().join("audit.log")).unwrap();
    assert!(
        !contains(&audit, canary()),
        "a secret value reached the audit log"
    );
    let lines: Vec<serde_json::Value> = audit
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("audit JSON line"))
        .collect();
    assert!(lines.iter().any(|l| l["event"] == "access"
        && l["envfile"] == "app"
        && l["outcome"] == "ok"
        && l["principal"] == "token:admin"));
    assert!(lines.iter().any(|l| l["event"] == "access"
        && l["principal"]
            .as_str()
            .is_some_and(|p| p.starts_with("uid:"))));
    assert!(lines
        .iter()
        .any(|l| l["event"] == "refresh" && l["backend"] == "aws"));
    assert!(lines
        .iter()
        .all(|l| l["time"].is_string() && l["latency_ms"].is_number()));
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_tokens_grants_proxies_and_methods_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("store.json"),
        json!({ "shared/x": "sx", "private/y": "py" }).to_string(),
    )
    .unwrap();
    let reader_token = "reader-token-0123456789abcdef";
    std::fs::write(dir.path().join("reader"), format!("{reader_token}\n")).unwrap();
    let me = libc_getuid();
    let other_uid = if me == 65534 { 65533 } else { 65534 };
    let rest = format!(
        r#"
[default.envfiles.a]
vars.X = "file:shared/x"
[default.envfiles.b]
vars.Y = "file:private/y"

[[default.broker.clients]]
name = "reader"
token = "file://{reader}"
envfiles = ["a"]
refs = ["file:shared/*"]

[[default.broker.clients]]
name = "someone-else"
uid = {other_uid}
envfiles = ["a", "b"]
refs = ["*"]
"#,
        reader = dir.path().join("reader").display()
    );
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    wait_ready(&b).await;
    let tcp = Via::Tcp(b.tcp);

    // Missing token 401, wrong token 403, admin token fine.
    assert_eq!(http(tcp.clone(), "/v1/envfiles/a", &[]).await.status, 401);
    let wrong = http(
        tcp.clone(),
        "/v1/envfiles/a",
        &[("X-Envfile-Token", "not-the-token-at-all-0000")],
    )
    .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(b.get("/v1/envfiles/a").await.status, 200);
    assert_eq!(b.get("/v1/envfiles/b").await.status, 200);

    // The reader's grants; a refusal looks the same whether or not the thing exists.
    let as_reader = |t: &'static str| {
        let tcp = tcp.clone();
        async move {
            http(
                tcp,
                t,
                &[("X-Envfile-Token", "reader-token-0123456789abcdef")],
            )
            .await
        }
    };
    assert_eq!(as_reader("/v1/envfiles/a").await.status, 200);
    let denied_b = as_reader("/v1/envfiles/b").await;
    let denied_ghost = as_reader("/v1/envfiles/ghost").await;
    assert_eq!(denied_b.status, 403);
    assert_eq!(denied_ghost.status, 403);
    assert!(
        denied_b.body == denied_ghost.body,
        "403 bodies reveal existence"
    );
    assert_eq!(as_reader("/v1/secrets/file:shared%2Fx").await.status, 200);
    let denied_y = as_reader("/v1/secrets/file:private%2Fy").await;
    let denied_none = as_reader("/v1/secrets/file:private%2Fnothing").await;
    let denied_backend = as_reader("/v1/secrets/nobackend:z").await;
    assert_eq!(denied_y.status, 403);
    assert_eq!(denied_none.status, 403);
    assert_eq!(denied_backend.status, 403);
    assert!(denied_y.body == denied_none.body && denied_y.body == denied_backend.body);
    // A grant-listed secret read once must not leak to a client without the grant via the memo.
    assert_eq!(b.get("/v1/secrets/file:private%2Fy").await.status, 200);
    assert_eq!(as_reader("/v1/secrets/file:private%2Fy").await.status, 403);

    // Proxies and non-GET methods are refused even with a good token.
    let xff = http(
        tcp.clone(),
        "/v1/envfiles/a",
        &[("X-Envfile-Token", TOKEN), ("X-Forwarded-For", "10.0.0.1")],
    )
    .await;
    assert_eq!(xff.status, 400);
    for m in ["POST", "PUT", "DELETE"] {
        let r = raw(
            tcp.clone(),
            m,
            "/v1/envfiles/a",
            &[("X-Envfile-Token", TOKEN), ("Content-Length", "0")],
        )
        .await;
        assert_eq!(r.status, 405, "{m}");
    }
    let body = raw(
        tcp.clone(),
        "GET",
        "/v1/envfiles/a",
        &[("X-Envfile-Token", TOKEN), ("Content-Length", "5")],
    )
    .await;
    assert_eq!(body.status, 413);

    // Socket: grants list another uid only, so this process's uid is refused.
    assert_eq!(b.get_unix("/v1/envfiles/a").await.status, 403);
    assert_eq!(b.get_unix("/healthz").await.status, 200);
    b.stop().await;

    // Socket grants that name this uid allow exactly what they list.
    let rest = format!(
        r#"
[default.envfiles.a]
vars.X = "file:shared/x"
[default.envfiles.b]
vars.Y = "file:private/y"
[[default.broker.clients]]
name = "me"
uid = {me}
envfiles = ["a"]
"#
    );
    let b = start(setup_from(&file_config(dir.path(), &rest)).await, None).await;
    wait_ready(&b).await;
    assert_eq!(b.get_unix("/v1/envfiles/a").await.status, 200);
    assert_eq!(b.get_unix("/v1/envfiles/b").await.status, 403);
    assert_eq!(b.get_unix("/v1/secrets/file:shared%2Fx").await.status, 403);
    // The socket's mode defaults to 0660.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&b.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    b.stop().await;
}

fn libc_getuid() -> u32 {
    // Through /proc, so the tests need no libc dependency.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .expect("uid")
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_two_hundred_concurrent_misses_make_one_backend_call() {
    moto::dummy_credentials_in_env();
    let name = unique("broker/flight");
    moto::put_secret(
        &moto::sdk_client(moto::REGION),
        &name,
        b"single-flight-value",
    )
    .await;
    let toml = format!(
        "[default.backends.aws]\nkind = \"aws\"\nregion = \"{}\"\nendpoint_url = \"{}\"\n",
        moto::REGION,
        envfile_tests::env::moto_url()
    );
    let mut setup = setup_from(&toml).await;
    let real = setup
        .backends
        .select(&envfile_core::BackendSel::Named("aws".into()))
        .unwrap();
    let counting = Counting::wrap(real);
    let mut backends = envfile_core::Backends::new();
    backends.insert(counting.clone());
    setup.backends = backends;
    let b = Arc::new(start(setup, None).await);
    let target = format!("/v1/secrets/{}", enc(&format!("aws:{name}")));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let b = b.clone();
        let t = target.clone();
        tasks.push(tokio::spawn(async move { b.get(&t).await }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status, 200, "{r:?}");
        bodies.push(r.json()["value"].clone());
    }
    assert!(bodies.iter().all(|v| v == "single-flight-value"));
    assert_eq!(
        counting.reads(),
        1,
        "200 concurrent misses made {} backend reads",
        counting.reads()
    );
    Arc::try_unwrap(b).ok().expect("sole owner").stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_a_python_client_written_for_the_aws_agent_reads_the_same_fields_as_get_secret_value(
) {
    moto::dummy_credentials_in_env();
    let name = unique("broker/agent");
    let arn = moto::put_secret(
        &moto::sdk_client(moto::REGION),
        &name,
        json!({ "user": "svc", "password": format!("p-{}", canary()) })
            .to_string()
            .as_bytes(),
    )
    .await;
    let toml = format!(
        "[default.backends.aws]\nkind = \"aws\"\nregion = \"{}\"\nendpoint_url = \"{}\"\n",
        moto::REGION,
        envfile_tests::env::moto_url()
    );
    let b = start(setup_from(&toml).await, None).await;
    // The agent's documented client: urllib, the token header, json.loads, read SecretString.
    // boto3 (installed with moto) gives the reference answer. Only field names are printed.
    let script = r#"
import json, sys, urllib.parse, urllib.request
import boto3
port, token, name, arn, endpoint, region = sys.argv[1:]
def agent(secret_id):
    url = f"http://127.0.0.1:{port}/secretsmanager/get?secretId={urllib.parse.quote(secret_id, safe='')}"
    req = urllib.request.Request(url, headers={"X-Aws-Parameters-Secrets-Token": token})
    return json.loads(urllib.request.urlopen(req).read())
sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region,
                  aws_access_key_id="test", aws_secret_access_key="test")
real = sm.get_secret_value(SecretId=name)
bad = []
for got, asked in ((agent(name), "name"), (agent(arn), "arn")):
    for k in ("Name", "VersionId", "SecretString", "VersionStages"):
        if got.get(k) != real.get(k):
            bad.append(f"{asked}:{k}")
    if not isinstance(got.get("CreatedDate"), str):
        bad.append(f"{asked}:CreatedDate")
    json.loads(got["SecretString"])["password"]
if agent(arn).get("ARN") != real["ARN"]:
    bad.append("arn:ARN")
print("MISMATCH " + ",".join(bad) if bad else "SAME")
"#;
    let out = tokio::process::Command::new(envfile_tests::env::python())
        .arg("-c")
        .arg(script)
        .arg(b.tcp.port().to_string())
        .arg(TOKEN)
        .arg(&name)
        .arg(&arn)
        .arg(envfile_tests::env::moto_url())
        .arg(moto::REGION)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains(canary()) && !stderr.contains(canary()));
    assert!(out.status.success(), "python failed: {stderr}");
    assert_eq!(stdout.trim(), "SAME");
    b.stop().await;
}
