//! Writes to Vault against the real OpenBao dev server: `envfile import … --to vault:… --as-json
//! NAME` on KV v1 and v2 (plan, create, unchanged, update, read back through `render`), and the
//! backend's `put` itself (created / updated / unchanged, non-objects refused with a hint).

use envfile_core::{Backend, ErrorKind, PutOutcome, SecretValue};
use envfile_tests::bao::{envfile_in, settings, Bao};
use envfile_tests::conformance::secret_text;
use envfile_tests::env::{unique, vault_addr, vault_root_token};
use envfile_vault::{AuthConfig, VaultBackend};
use serde_json::{json, Value};
use std::process::Output;

/// Succeeds and leaks none of `secrets`; returns stdout.
fn ok(out: &Output, what: &str, secrets: &[&str]) -> String {
    for (i, s) in secrets.iter().enumerate() {
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(s),
                "{what}: secret #{i} leaked into the output"
            );
        }
    }
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The secret's data as Vault stores it, and its KV v2 version.
async fn stored(bao: &Bao, mount: &str, version: u8, name: &str) -> (u16, Value, Option<u64>) {
    let api = match version {
        2 => format!("{mount}/data/{name}"),
        _ => format!("{mount}/{name}"),
    };
    let (status, body) = bao.call("GET", &api, None).await;
    match version {
        2 => (
            status,
            body["data"]["data"].clone(),
            body["data"]["metadata"]["version"].as_u64(),
        ),
        _ => (status, body["data"].clone(), None),
    }
}

fn same_data(got: &Value, want: &Value, what: &str) {
    let (g, w) = (got.as_object(), want.as_object());
    assert!(
        g.is_some() && g == w,
        "{what}: stored data differs (keys {:?}, want {:?})",
        g.map(|m| m.keys().collect::<Vec<_>>()),
        w.map(|m| m.keys().collect::<Vec<_>>())
    );
}

#[tokio::test]
async fn vault_import_as_json_round_trips_on_kv1_and_kv2() {
    let bao = Bao::root();
    for version in [2u8, 1] {
        let mount = unique(&format!("imp-kv{version}"));
        bao.enable_kv(&mount, version).await;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("token"), vault_root_token()).unwrap();
        std::fs::write(
            d.join("envfile.toml"),
            format!(
                r#"[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "token", token_file = "token" }}

[default.envfiles.app]
expand = [ {{ ref = "vault:{mount}/app/config" }} ]
"#,
                addr = vault_addr()
            ),
        )
        .unwrap();
        let db = secret_text("db");
        let odd = format!("p@ss w0rd $HOME \"q\" {}", secret_text("odd"));
        let multi = format!("line one\nline two {}", secret_text("multi"));
        std::fs::write(
            d.join("app.env"),
            format!(
                "# the app's settings\nDATABASE_URL={db}\nODD='{odd}'\nMULTI=\"{}\"\n",
                multi.replace('\n', "\\n")
            ),
        )
        .unwrap();
        let secrets = [db.as_str(), odd.as_str(), multi.as_str()];
        let want = json!({ "DATABASE_URL": db, "ODD": odd, "MULTI": multi });
        let target = format!("{mount}/app/config");
        let to = format!("vault:{mount}/app/");
        let import = |apply: bool| {
            let mut args = vec!["import", "app.env", "--to", &to, "--as-json", "config"];
            if apply {
                args.push("--apply");
            }
            envfile_in(d, &args)
        };

        // The plan writes nothing.
        let out = ok(&import(false), "plan", &secrets);
        assert!(out.contains(&format!("create     {target}")), "{out}");
        assert!(out.contains("Nothing was written"), "{out}");
        assert_eq!(stored(&bao, &mount, version, "app/config").await.0, 404);

        let out = ok(&import(true), "apply", &secrets);
        assert!(out.contains(&format!("created    {target}")), "{out}");
        let (status, data, ver) = stored(&bao, &mount, version, "app/config").await;
        assert_eq!(status, 200, "KV v{version}");
        same_data(&data, &want, &format!("KV v{version} after create"));
        assert_eq!(ver, (version == 2).then_some(1));

        // Same file again: nothing written (no new KV v2 version).
        let out = ok(&import(true), "re-apply", &secrets);
        assert!(out.contains(&format!("unchanged  {target}")), "{out}");
        assert_eq!(stored(&bao, &mount, version, "app/config").await.2, ver);

        // One value changes: an update, and the app sees the new value.
        let db2 = secret_text("db2");
        std::fs::write(
            d.join("app.env"),
            format!(
                "DATABASE_URL={db2}\nODD='{odd}'\nMULTI=\"{}\"\n",
                multi.replace('\n', "\\n")
            ),
        )
        .unwrap();
        let out = ok(&import(true), "update", &[&db2, &odd, &multi]);
        assert!(out.contains(&format!("updated    {target}")), "{out}");
        let (_, data, ver) = stored(&bao, &mount, version, "app/config").await;
        let want2 = json!({ "DATABASE_URL": db2, "ODD": odd, "MULTI": multi });
        same_data(&data, &want2, &format!("KV v{version} after update"));
        assert_eq!(ver, (version == 2).then_some(2));

        let rendered = ok(
            &envfile_in(d, &["render", "app", "--format", "json"]),
            "render",
            &[],
        );
        let got: Value = serde_json::from_str(&rendered).expect("rendered JSON");
        same_data(&got, &want2, &format!("KV v{version} rendered"));

        // One secret per key cannot be stored in KV: refused at plan time, pointing at --as-json.
        let out = envfile_in(d, &["import", "app.env", "--to", &to]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("--as-json"), "{stderr}");
        assert_eq!(
            stored(&bao, &mount, version, "app/DATABASE_URL").await.0,
            404
        );
    }
}

#[tokio::test]
async fn vault_import_put_reports_created_updated_unchanged() {
    let bao = Bao::root();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, vault_root_token()).unwrap();
    let backend = VaultBackend::new(settings(AuthConfig::Token {
        token_file: Some(token_file),
    }))
    .expect("backend");
    assert!(backend.capabilities().write && backend.capabilities().json_only);

    for version in [2u8, 1] {
        let mount = unique(&format!("put-kv{version}"));
        bao.enable_kv(&mount, version).await;
        let path = format!("{mount}/svc/creds");
        let v1 = json!({ "user": "svc", "password": secret_text("pw") });
        let put = |v: &Value| SecretValue::from_string(v.to_string());
        assert_eq!(
            backend.put(&path, &put(&v1)).await.unwrap(),
            PutOutcome::Created
        );
        // Key order and formatting do not matter: the same object is unchanged.
        let reordered = json!({ "password": v1["password"], "user": "svc" });
        assert_eq!(
            backend.put(&path, &put(&reordered)).await.unwrap(),
            PutOutcome::Unchanged
        );
        let v2 = json!({ "user": "svc", "password": secret_text("pw2"), "port": 5432 });
        assert_eq!(
            backend.put(&path, &put(&v2)).await.unwrap(),
            PutOutcome::Updated
        );
        let (_, data, _) = stored(&bao, &mount, version, "svc/creds").await;
        same_data(&data, &v2, &format!("KV v{version}"));

        // On KV v2 the `data/` form of the path writes the same secret.
        if version == 2 {
            let data_form = format!("{mount}/data/svc/creds");
            assert_eq!(
                backend.put(&data_form, &put(&v2)).await.unwrap(),
                PutOutcome::Unchanged
            );
        }

        for not_object in ["plain text", "[1,2]", "\"s\"", "{not json"] {
            let err = backend
                .put(&path, &SecretValue::from_str_copy(not_object))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotJson, "{err}");
            assert!(
                err.hint().unwrap_or_default().contains("--as-json"),
                "{err}"
            );
        }
        let (_, data, _) = stored(&bao, &mount, version, "svc/creds").await;
        same_data(&data, &v2, "a refused write leaves the secret as it was");
    }

    // A token that may only read gets a denial naming the capabilities to add.
    let mount = unique("put-ro");
    bao.enable_kv(&mount, 2).await;
    bao.kv_put(&mount, 2, "x", &json!({ "a": "1" })).await;
    let policy = unique("put-ro");
    bao.put_policy(
        &policy,
        &format!("path \"{mount}/data/x\" {{ capabilities = [\"read\"] }}\n"),
    )
    .await;
    let token = bao.create_token(&[&policy], json!({ "ttl": "1h" })).await;
    let ro_file = dir.path().join("ro");
    std::fs::write(&ro_file, &token).unwrap();
    let ro = VaultBackend::new(settings(AuthConfig::Token {
        token_file: Some(ro_file),
    }))
    .expect("backend");
    let err = ro
        .put(
            &format!("{mount}/x"),
            &SecretValue::from_string(json!({ "a": "2" }).to_string()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let hint = err.hint().unwrap_or_default();
    assert!(
        hint.contains("`create` and `update`") && hint.contains(&format!("{mount}/data/x")),
        "{hint}"
    );
}
