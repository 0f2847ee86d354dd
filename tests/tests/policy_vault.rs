//! `envfile policy --for vault` against the real OpenBao dev server: the printed policy, written
//! to the server as is, gives a token exactly what the env file needs — `envfile render` works
//! with it and is denied for anything else. That is the least-privilege claim, proven.

use envfile_tests::bao::{envfile_in, Bao};
use envfile_tests::conformance::secret_text;
use envfile_tests::env::{unique, vault_addr};
use serde_json::json;
use std::process::Output;

fn stdout_ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// The `path "…"` stanzas of a policy, in order.
fn policy_paths(hcl: &str) -> Vec<String> {
    hcl.lines()
        .filter_map(|l| l.strip_prefix("path \""))
        .filter_map(|l| l.split_once('"').map(|(p, _)| p.to_owned()))
        .collect()
}

struct Setup {
    bao: Bao,
    dir: tempfile::TempDir,
    v2: String,
    v1: String,
    values: [String; 4],
}

/// A KV v2 and a KV v1 mount, the env file `api` reading three secrets across them (with and
/// without `data/`, one version-pinned), and `other` reading a sibling `api` must not reach.
/// The backend reads its token from `token`, which starts as the root token.
async fn setup() -> Setup {
    let bao = Bao::root();
    let v2 = unique("pol-kv2");
    let v1 = unique("pol-kv1");
    bao.enable_kv(&v2, 2).await;
    bao.enable_kv(&v1, 1).await;
    let values = [
        secret_text("jwt"),
        secret_text("db"),
        secret_text("legacy"),
        secret_text("pinned-v1"),
    ];
    bao.kv_put(&v2, 2, "prod/api", &json!({ "jwt": values[3] }))
        .await;
    bao.kv_put(
        &v2,
        2,
        "prod/api",
        &json!({ "jwt": values[0], "db": values[1] }),
    )
    .await;
    bao.kv_put(&v2, 2, "prod/other", &json!({ "x": secret_text("other") }))
        .await;
    bao.kv_put(&v1, 1, "legacy/db", &json!({ "password": values[2] }))
        .await;
    bao.kv_put(
        &v1,
        1,
        "legacy/other",
        &json!({ "x": secret_text("other") }),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("token"),
        envfile_tests::env::vault_root_token(),
    )
    .unwrap();
    let config = format!(
        r#"[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "token", token_file = "token" }}

[default.envfiles.api]
vars.JWT = "vault:{v2}/data/prod/api#jwt"
vars.DB = "vault:{v2}/prod/api#db"
vars.OLD_JWT = "vault:{v2}/prod/api?version=1#jwt"
vars.PASSWORD = "vault:{v1}/legacy/db#password"
vars.LEVEL = {{ value = "info" }}

[default.envfiles.other]
vars.X = "vault:{v2}/prod/other#x"
vars.Y = "vault:{v1}/legacy/other#x"
"#,
        addr = vault_addr()
    );
    std::fs::write(dir.path().join("envfile.toml"), config).unwrap();
    Setup {
        bao,
        dir,
        v2,
        v1,
        values,
    }
}

#[tokio::test]
async fn policy_vault_token_with_the_printed_policy_renders_api_and_nothing_else() {
    let s = setup().await;
    let dir = s.dir.path();
    let hcl = stdout_ok(
        &envfile_in(dir, &["policy", "--for", "vault", "api"]),
        "policy",
    );
    // KV v2 gets `data/` exactly once (whether the reference had it or not), KV v1 none; the
    // version pin needs no extra path, and no metadata without --version-probes.
    assert_eq!(
        policy_paths(&hcl),
        // Sorted: `pol-kv1-…` before `pol-kv2-…`.
        vec![
            format!("{}/legacy/db", s.v1),
            format!("{}/data/prod/api", s.v2)
        ],
        "{hcl}"
    );
    assert_eq!(hcl.matches("capabilities = [\"read\"]").count(), 2, "{hcl}");
    assert!(hcl.contains("--version-probes"), "{hcl}");

    let name = unique("envfile-api");
    s.bao.put_policy(&name, &hcl).await;
    let token = s.bao.create_token(&[&name], json!({ "ttl": "1h" })).await;
    std::fs::write(dir.join("token"), &token).unwrap();

    let out = envfile_in(dir, &["render", "api", "--format", "json"]);
    let text = stdout_ok(&out, "render api with the policy's token");
    let got: serde_json::Value = serde_json::from_str(&text).expect("rendered JSON");
    let want = [
        ("JWT", &s.values[0]),
        ("DB", &s.values[1]),
        ("PASSWORD", &s.values[2]),
        ("OLD_JWT", &s.values[3]),
    ];
    for (var, value) in want {
        assert!(
            got[var].as_str() == Some(value.as_str()),
            "{var} differs from the seeded value"
        );
    }

    let out = envfile_in(dir, &["render", "other", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "render other: {stderr}");
    assert!(out.stdout.is_empty(), "nothing is rendered on failure");
    for denied in [
        format!("{}/data/prod/other", s.v2),
        format!("{}/legacy/other", s.v1),
    ] {
        assert!(
            stderr.contains(&format!("`read` on `{denied}`")),
            "both denials are reported with their policy line: {stderr}"
        );
    }
    assert!(!stderr.contains(&token), "the token leaked");

    // Without --version-probes the token cannot read KV v2 metadata (probes fall back to reads).
    let limited = s.bao.with_token(&token);
    let (status, _) = limited
        .call("GET", &format!("{}/metadata/prod/api", s.v2), None)
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn policy_vault_version_probes_add_kv2_metadata_only() {
    let s = setup().await;
    let dir = s.dir.path();
    let hcl = stdout_ok(
        &envfile_in(dir, &["policy", "--for", "vault", "--version-probes"]),
        "policy",
    );
    let paths = policy_paths(&hcl);
    for want in [
        format!("{}/data/prod/api", s.v2),
        format!("{}/metadata/prod/api", s.v2),
        format!("{}/data/prod/other", s.v2),
        format!("{}/metadata/prod/other", s.v2),
        format!("{}/legacy/db", s.v1),
        format!("{}/legacy/other", s.v1),
    ] {
        assert!(paths.contains(&want), "missing {want}:\n{hcl}");
    }
    // KV v1 has no metadata endpoint; nothing else is granted.
    assert_eq!(paths.len(), 6, "{hcl}");

    let name = unique("envfile-probes");
    s.bao.put_policy(&name, &hcl).await;
    let token = s.bao.create_token(&[&name], json!({ "ttl": "1h" })).await;
    let limited = s.bao.with_token(&token);
    let body = limited
        .ok("GET", &format!("{}/metadata/prod/api", s.v2), None)
        .await;
    assert_eq!(body["data"]["current_version"], 2);
    // Read-only: the policy grants no writes.
    let (status, _) = limited
        .call(
            "POST",
            &format!("{}/data/prod/api", s.v2),
            Some(json!({ "data": { "x": "y" } })),
        )
        .await;
    assert_eq!(status, 403);
}

#[test]
fn policy_vault_offline_assumes_kv2_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on the discard port: `--offline` must not contact the server.
    std::fs::write(
        dir.path().join("envfile.toml"),
        r#"[default.backends.vault]
kind = "vault"
address = "http://127.0.0.1:9"

[default.envfiles.api]
vars.A = "vault:app/prod/api#a"
vars.B = "vault:app/data/prod/api#b"
vars.C = "ref+vault://team/db#/password"
"#,
    )
    .unwrap();
    let out = envfile_in(
        dir.path(),
        &["policy", "--for", "vault", "--offline", "--version-probes"],
    );
    let hcl = stdout_ok(&out, "policy --offline");
    assert!(
        hcl.lines()
            .any(|l| l.starts_with('#') && l.contains("--offline") && l.contains("KV v2")),
        "the assumption is stated in a comment:\n{hcl}"
    );
    assert_eq!(
        policy_paths(&hcl),
        vec![
            "app/data/prod/api",
            "app/metadata/prod/api",
            "team/data/db",
            "team/metadata/db"
        ],
        "{hcl}"
    );

    // Online, the same config needs the server: the error says `--offline` is the way out.
    let out = envfile_in(dir.path(), &["policy", "--for", "vault"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("--offline"), "{stderr}");
}
