//! `secret` with envfile references, through a real resolver over the file backend: what `.Data`
//! is for a JSON object (with the `.Data.data` alias), a `#KEY` selection and a text secret, and
//! how a Vault path fails when no `vault` backend is configured.

use envfile_core::file_backend::FileBackend;
use envfile_core::{Backends, Config, ErrorKind, Resolver};
use envfile_template::Template;
use serde_json::json;
use std::sync::Arc;

fn resolver(dir: &tempfile::TempDir) -> Resolver {
    let store = dir.path().join("store.json");
    let data = json!({
        "app/db": { "host": "db.internal", "port": 5432, "password": "pw\"$`\\" },
        "app/token": "tok-123\n",
        "app/nested": { "data": { "inner": "own data key" } },
    });
    std::fs::write(&store, serde_json::to_vec(&data).unwrap()).unwrap();
    let mut backends = Backends::new();
    backends.insert(Arc::new(FileBackend::open("file", &store).unwrap()));
    Resolver::new(backends, &Config::default())
}

async fn render(src: &str) -> envfile_core::Result<String> {
    let dir = tempfile::tempdir().unwrap();
    let r = resolver(&dir);
    let t = Template::parse("t.tmpl", src)?;
    Ok(t.render(&r).await?.expose().to_owned())
}

#[tokio::test]
async fn template_reads_envfile_references() {
    let out = render(
        r#"{{ with secret "file:app/db" }}{{ .Data.host }}:{{ .Data.port }} {{ .Data.data.host }} {{ printf "%q" .Data.data.password }}{{ end }}"#,
    )
    .await
    .unwrap();
    assert!(
        out == r#"db.internal:5432 db.internal "pw\"$`\\""#,
        "len {}",
        out.len()
    );
}

#[tokio::test]
async fn template_data_alias_yields_to_an_own_data_key_and_ranges_without_it() {
    let out = render(
        r#"{{ (secret "file:app/nested").Data.data.inner }}|{{ range $k, $v := (secret "file:app/db").Data }}{{ $k }} {{ end }}"#,
    )
    .await
    .unwrap();
    assert_eq!(out, "own data key|host password port ");
}

#[tokio::test]
async fn template_keyed_and_text_secrets_are_strings() {
    let out = render(
        r#"[{{ (secret "file:app/db#host").Data }}] [{{ (secret "file:app/token").Data | trimSpace }}] {{ len (secret "file:app/token").Data }}"#,
    )
    .await
    .unwrap();
    assert_eq!(out, "[db.internal] [tok-123] 8");
}

#[tokio::test]
async fn template_vault_path_needs_a_vault_backend() {
    let e = render(r#"{{ with secret "kv/data/app" }}{{ .Data.data.x }}{{ end }}"#)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("kind `vault`"), "{e}");
}

#[tokio::test]
async fn template_missing_secret_is_not_found_with_its_reference() {
    let e = render(r#"{{ with secret "file:app/nope" }}x{{ end }}"#)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("app/nope"), "{e}");
}
