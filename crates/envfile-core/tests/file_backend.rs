//! The file backend's own behaviour beyond the conformance suite: store formats, parse errors
//! (which must say where, and never quote the store), version pins, writes, path resolution.

use envfile_core::file_backend::{version_of, FileBackend, Layout, StoreFormat};
use envfile_core::{config, Backend, Error, ErrorKind, Locator, PutOutcome, SecretValue};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Stands in for secret content in stores; must never appear in an error.
const CANARY: &str = "CANARY-not-a-real-secret-7f3a";

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn store(dir: &Path, name: &str, text: &str) -> FileBackend {
    let p = dir.join(name);
    write(&p, text);
    FileBackend::open("file", &p).unwrap()
}

async fn get(b: &FileBackend, path: &str) -> Result<envfile_core::Fetched, Error> {
    b.get(&Locator::new(path)).await
}

async fn get_text(b: &FileBackend, path: &str) -> String {
    let f = get(b, path)
        .await
        .unwrap_or_else(|e| panic!("get {path}: {e}"));
    f.value.expose_str().expect("utf-8").to_owned()
}

async fn get_err(b: &FileBackend, loc: Locator) -> Error {
    match b.get(&loc).await {
        Ok(f) => panic!("get {} should fail; got {} bytes", loc.path, f.value.len()),
        Err(e) => {
            assert_no_canary(&e);
            e
        }
    }
}

fn assert_no_canary(e: &Error) {
    assert!(
        !e.to_string().contains(CANARY) && !format!("{e:?}").contains(CANARY),
        "error quotes store content (kind {})",
        e.kind()
    );
}

const TOML_STORE: &str = r#"
# top-level strings first, then tables
"app/jwt" = "CANARY-not-a-real-secret-7f3a-jwt"
plain = "line one\nline two"

["afu9/database"]
host = "db.internal"
port = 5432
password = "CANARY-not-a-real-secret-7f3a-pw"
replicas = ["r1", "r2"]

["afu9/database".options]
sslmode = "require"
"#;

#[tokio::test]
async fn toml_store_serves_strings_as_text_and_tables_as_compact_json() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(dir.path(), "s.toml", TOML_STORE);
    assert_eq!(b.layout(), Layout::File(StoreFormat::Toml));
    assert!(get_text(&b, "app/jwt").await == format!("{CANARY}-jwt"));
    assert!(get_text(&b, "plain").await == "line one\nline two");

    let db = get_text(&b, "afu9/database").await;
    assert!(
        !db.contains(": ") && !db.contains('\n'),
        "JSON secrets are compact"
    );
    let v: serde_json::Value = serde_json::from_str(&db).unwrap();
    assert_eq!(v["host"], "db.internal");
    assert_eq!(v["port"], 5432);
    assert_eq!(v["replicas"], serde_json::json!(["r1", "r2"]));
    assert_eq!(v["options"]["sslmode"], "require");
    assert!(v["password"] == format!("{CANARY}-pw"));
}

#[tokio::test]
async fn json_store_serves_strings_and_objects() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(
        dir.path(),
        "s.json",
        r#"{"app/token": "tok-123", "app/db": {"user": "u", "port": 1}}"#,
    );
    assert!(get_text(&b, "app/token").await == "tok-123");
    assert!(get_text(&b, "app/db").await == r#"{"port":1,"user":"u"}"#);
}

#[tokio::test]
async fn version_is_a_content_hash_and_only_the_current_one_can_be_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(dir.path(), "s.toml", "token = \"abc\"\n");
    let f = get(&b, "token").await.unwrap();
    // sha256("abc") starts ba7816bf8f01cfea.
    assert_eq!(f.version.as_deref(), Some("ba7816bf8f01cfea"));
    assert_eq!(
        b.current_version(&Locator::new("token")).await.unwrap(),
        f.version
    );
    assert!(!b.capabilities().cheap_version_probe);

    let pinned = Locator {
        version: Some("ba7816bf8f01cfea".into()),
        ..Locator::new("token")
    };
    assert!(b.get(&pinned).await.unwrap().value.expose_bytes() == b"abc");

    let e = get_err(
        &b,
        Locator {
            version: Some("0000000000000000".into()),
            ..Locator::new("token")
        },
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        e.to_string().contains("keeps only the current version"),
        "{e}"
    );

    let e = get_err(
        &b,
        Locator {
            stage: Some("AWSCURRENT".into()),
            ..Locator::new("token")
        },
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::Unsupported);

    let mut loc = Locator::new("token");
    loc.params.insert("region".into(), "eu-west-1".into());
    assert_eq!(get_err(&b, loc).await.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn edits_to_the_store_show_up_on_the_next_read() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(dir.path(), "s.toml", "token = \"one\"\n");
    let v1 = get(&b, "token").await.unwrap();
    write(&dir.path().join("s.toml"), "token = \"two\"\n");
    let v2 = get(&b, "token").await.unwrap();
    assert!(v2.value.expose_bytes() == b"two");
    assert_ne!(v1.version, v2.version);
    assert_eq!(
        v2.version,
        Some(version_of(&SecretValue::from_str_copy("two")))
    );
}

#[tokio::test]
async fn toml_syntax_errors_name_file_line_and_column_without_quoting_content() {
    let cases = [
        // (store, line of the error)
        (format!("ok = \"x\"\npassword = {CANARY}\n"), 2),
        (format!("ok = \"x\"\n\n\"k\" = \"{CANARY}\n"), 3),
        (format!("a = \"{CANARY}\"\na = \"{CANARY}\"\n"), 2),
        (format!("\"k\" = \"{CANARY}\\q\"\n"), 1),
        (format!("app/db = \"{CANARY}\"\n"), 1),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (text, line)) in cases.iter().enumerate() {
        let name = format!("bad{i}.toml");
        let b = store(dir.path(), &name, text);
        let e = get_err(&b, Locator::new("ok")).await;
        assert_eq!(e.kind(), ErrorKind::Config, "case {i}");
        let msg = e.to_string();
        assert!(msg.contains(&name), "case {i}: names the file: {msg}");
        assert!(
            msg.contains(&format!("line {line}, column")),
            "case {i}: {msg}"
        );
        assert!(!e.is_retryable());
    }
}

#[tokio::test]
async fn json_errors_name_the_position_and_never_quote_content() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(
        dir.path(),
        "bad.json",
        &format!("{{\n  \"a\": \"{CANARY}\",\n  oops\n}}"),
    );
    let e = get_err(&b, Locator::new("a")).await;
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        e.to_string().contains("bad.json") && e.to_string().contains("line 3, column"),
        "{e}"
    );

    // A store that is JSON but not an object: serde_json would quote the value; we must not.
    let b = store(dir.path(), "str.json", &format!("\"{CANARY}\""));
    let e = get_err(&b, Locator::new("a")).await;
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("must hold a JSON object"), "{e}");
}

#[tokio::test]
async fn a_value_that_is_neither_string_nor_table_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(dir.path(), "s.toml", "\"app/port\" = 8080\nok = \"x\"\n");
    let e = get_err(&b, Locator::new("app/port")).await;
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        e.to_string().contains("`app/port`") && e.to_string().contains("integer"),
        "{e}"
    );
    // The rest of the store is still usable.
    assert!(get_text(&b, "ok").await == "x");

    let b = store(dir.path(), "s.json", r#"{"flag": true}"#);
    assert_eq!(
        get_err(&b, Locator::new("flag")).await.kind(),
        ErrorKind::Config
    );
}

#[tokio::test]
async fn not_found_names_the_store_and_suggests_near_names() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(dir.path(), "s.toml", TOML_STORE);
    let e = get_err(&b, Locator::new("afu9/databse")).await;
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(!e.is_retryable());
    let msg = e.to_string();
    assert!(
        msg.contains("`afu9/databse`") && msg.contains("s.toml"),
        "{msg}"
    );
    assert!(e.hint().unwrap().contains("afu9/database"), "{msg}");

    let e = get_err(&b, Locator::new("nothing-like-it-at-all")).await;
    assert!(e.hint().unwrap().contains("other secret"), "{e}");
}

#[tokio::test]
async fn a_missing_store_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let b = FileBackend::open("file", dir.path().join("absent.toml")).unwrap();
    let e = get_err(&b, Locator::new("x")).await;
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("absent.toml") && e.to_string().contains("does not exist"));
}

#[tokio::test]
async fn directory_store_reads_nested_and_binary_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("afu9/nested")).unwrap();
    write(&root.join("afu9/database"), r#"{"host":"h"}"#);
    std::fs::write(root.join("afu9/nested/key.bin"), [0xff, 0x00, 0xfe]).unwrap();
    write(&root.join(".hidden-temp"), "x");
    let b = FileBackend::open("file", root).unwrap();
    assert_eq!(b.layout(), Layout::Dir);
    assert!(get_text(&b, "afu9/database").await == r#"{"host":"h"}"#);
    let bin = get(&b, "afu9/nested/key.bin").await.unwrap();
    assert!(bin.value.expose_bytes() == [0xff, 0x00, 0xfe]);

    // A directory is not a secret; the hint lists what is inside.
    let e = get_err(&b, Locator::new("afu9/nested")).await;
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.hint().unwrap().contains("afu9/nested/key.bin"), "{e}");

    let e = get_err(&b, Locator::new("afu9/databse")).await;
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        e.to_string().contains(&root.display().to_string()),
        "names the directory: {e}"
    );
    assert!(e.hint().unwrap().contains("afu9/database"), "{e}");

    // Below a file is not found, not an I/O error.
    let e = get_err(&b, Locator::new("afu9/database/host")).await;
    assert_eq!(e.kind(), ErrorKind::NotFound);

    for escape in [
        "../outside",
        "/etc/passwd",
        "afu9//database",
        "./afu9/database",
    ] {
        let e = get_err(&b, Locator::new(escape)).await;
        assert_eq!(e.kind(), ErrorKind::InvalidRef, "{escape}");
    }
}

#[tokio::test]
async fn writes_need_writable_and_report_created_updated_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    write(
        &path,
        "# keep this comment\n\"app/a\" = \"old\"  \n\n[\"app/t\"]\nk = \"v\"\n",
    );
    let ro = FileBackend::open("file", &path).unwrap();
    let e = ro
        .put("x", &SecretValue::from_str_copy("v"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.hint().unwrap().contains("writable = true"));
    assert!(!ro.capabilities().write);

    let b = FileBackend::open("file", &path).unwrap().writable(true);
    assert!(b.capabilities().write);
    let put = |p: &'static str, v: &'static str| {
        let b = &b;
        async move { b.put(p, &SecretValue::from_str_copy(v)).await.unwrap() }
    };
    assert_eq!(put("app/a", "old").await, PutOutcome::Unchanged);
    assert_eq!(
        put("app/a", "new \"quoted\"\nline").await,
        PutOutcome::Updated
    );
    assert_eq!(put("app/new", "fresh").await, PutOutcome::Created);
    // A table secret compares by its JSON text, and can be replaced by a string.
    assert_eq!(put("app/t", r#"{"k":"v"}"#).await, PutOutcome::Unchanged);
    assert_eq!(put("app/t", "now text").await, PutOutcome::Updated);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# keep this comment\n"),
        "comments survive a write:\n{text}"
    );
    assert!(get_text(&b, "app/a").await == "new \"quoted\"\nline");
    assert!(get_text(&b, "app/new").await == "fresh");
    assert!(get_text(&b, "app/t").await == "now text");
    let reparsed: toml::Table = text.parse().unwrap();
    assert_eq!(reparsed.len(), 3);

    let e = b
        .put("bin", &SecretValue::new(vec![0xff, 0xfe]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    // No temp files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "s.toml")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn writes_create_files_0600_and_keep_the_mode_of_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let new_store = dir.path().join("new.json");
    let b = FileBackend::open("file", &new_store)
        .unwrap()
        .writable(true);
    let v = SecretValue::from_str_copy("v");
    assert_eq!(b.put("a/b", &v).await.unwrap(), PutOutcome::Created);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&new_store), 0o600);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&new_store).unwrap()).unwrap();
    assert_eq!(m["a/b"], "v");

    let shared = dir.path().join("shared.toml");
    write(&shared, "a = \"1\"\n");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).unwrap();
    let b = FileBackend::open("file", &shared).unwrap().writable(true);
    assert_eq!(b.put("a", &v).await.unwrap(), PutOutcome::Updated);
    assert_eq!(mode(&shared), 0o640);

    let root = dir.path().join("tree");
    std::fs::create_dir(&root).unwrap();
    let b = FileBackend::open("file", &root).unwrap().writable(true);
    let bin = SecretValue::new(vec![0, 0xff, 10]);
    assert_eq!(
        b.put("deep/er/key", &bin).await.unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        b.put("deep/er/key", &bin).await.unwrap(),
        PutOutcome::Unchanged
    );
    assert_eq!(mode(&root.join("deep/er/key")), 0o600);
    assert_eq!(mode(&root.join("deep/er")), 0o700);
    assert!(get(&b, "deep/er/key").await.unwrap().value == bin);
    assert_eq!(
        b.put("../escape", &bin).await.unwrap_err().kind(),
        ErrorKind::InvalidRef
    );
}

#[test]
fn layout_is_detected_from_the_path_or_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let e = FileBackend::open("file", dir.path().join("no-such-thing")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("no-such-thing"));
    let yaml = dir.path().join("s.yaml");
    write(&yaml, "a: b\n");
    let e = FileBackend::open("file", &yaml).unwrap_err();
    assert!(e.to_string().contains(".toml or .json"), "{e}");
}

#[test]
fn debug_shows_name_and_path_only() {
    let dir = tempfile::tempdir().unwrap();
    let b = store(dir.path(), "s.toml", TOML_STORE);
    let dbg = format!("{b:?}");
    assert!(
        dbg.contains("file") && dbg.contains("s.toml") && !dbg.contains(CANARY),
        "{dbg}"
    );
}

// ---- config: path resolution and strictness --------------------------------------------------

#[test]
fn relative_path_resolves_against_the_config_files_directory() {
    let dir = tempfile::tempdir().unwrap();
    let conf_dir = dir.path().join("conf");
    std::fs::create_dir(&conf_dir).unwrap();
    write(&conf_dir.join("secrets.toml"), "a = \"1\"\n");
    let conf = conf_dir.join("envfile.toml");
    write(
        &conf,
        "[default.backends.file]\nkind = \"file\"\npath = \"secrets.toml\"\nwritable = true\n",
    );
    let cfg = config::load(Some(&conf), None).unwrap();
    let b = FileBackend::from_config("file", &cfg).unwrap();
    assert_eq!(b.path(), conf_dir.join("secrets.toml"));
    assert!(b.capabilities().write);
}

#[test]
fn without_a_config_file_relative_paths_are_relative_to_the_working_directory() {
    let cfg = config::load_str(
        "[default.backends.mine]\nkind = \"file\"\npath = \"some/store\"\nformat = \"json\"\n",
        None,
    )
    .unwrap();
    let b = FileBackend::from_config("mine", &cfg).unwrap();
    assert_eq!(
        b.path(),
        std::env::current_dir().unwrap().join("some/store")
    );
    assert_eq!(b.layout(), Layout::File(StoreFormat::Json));
    assert!(!b.capabilities().write, "stores are read-only unless asked");
}

#[test]
fn unknown_settings_are_a_config_error() {
    let cfg = config::load_str(
        "[default.backends.file]\nkind = \"file\"\npath = \"s.toml\"\npaht = \"typo\"\n",
        None,
    )
    .unwrap();
    let e = FileBackend::from_config("file", &cfg).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("paht"), "{e}");
}

/// Found by the `config_load` fuzz target: toml_edit's writer counts a run of quotes in a `u8`,
/// so a value with 256 quotes in a row panicked (debug) or could be written in a spelling the
/// value breaks out of (release). The store writes every value as an escaped basic string.
#[tokio::test]
async fn long_runs_of_quotes_and_control_characters_are_written_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    write(&path, "# comment\n\"app/a\" = \"old\" # trailing\n");
    let b = FileBackend::open("file", &path).unwrap().writable(true);
    let values = [
        "\"".repeat(300),
        "'".repeat(300),
        format!("{}\n{}\r\n\t\u{7f}\u{1}\\", "\"".repeat(257), "'''"),
        "\"\"\"".to_owned(),
    ];
    for (i, v) in values.iter().enumerate() {
        for name in ["app/a", "app/new"] {
            let name = format!("{name}{i}");
            b.put(&name, &SecretValue::from_str_copy(v)).await.unwrap();
            assert!(get_text(&b, &name).await == *v, "value {i} read back");
        }
        b.put("app/a", &SecretValue::from_str_copy(v))
            .await
            .unwrap();
        assert!(get_text(&b, "app/a").await == *v, "value {i} in place");
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# comment\n\"app/a\" = \""),
        "{}",
        text.len()
    );
    assert!(text.contains("# trailing"), "the value's comment survives");
    let reparsed: toml::Table = text.parse().unwrap();
    assert_eq!(reparsed.len(), 1 + 2 * values.len());
}
