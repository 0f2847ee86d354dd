//! The template engine against the golden files `bao agent` rendered (tests/fixtures/templates),
//! without a server: each `secret "MOUNT/…"` is answered from `secrets.json` in the shape the
//! agent sees (`{data, metadata: {version: 1}}` on the KV v2 mount `ml-incident`, the object
//! itself on the KV v1 mount `kv1`). The end-to-end comparison with a live agent is
//! tests/tests/template_agent.rs; this one runs in `cargo test` and pins the goldens.

use envfile_core::{Error, ErrorKind};
use envfile_template::Template;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/templates"
);

fn secrets() -> Value {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("secrets.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `.Data` for a Vault path, as the agent builds it from a fresh (version 1) KV v2 secret.
fn lookup(all: &Value, path: &str) -> Result<Value, Error> {
    let not_found = || Error::new(ErrorKind::NotFound, "no such secret").with_reference(path);
    let (mount, rest) = path.split_once('/').ok_or_else(not_found)?;
    match mount {
        "ml-incident" => {
            let name = rest.strip_prefix("data/").unwrap_or(rest);
            let data = all["ml-incident"].get(name).ok_or_else(not_found)?;
            Ok(json!({ "data": data, "metadata": { "version": 1 } }))
        }
        "kv1" => all["kv1"].get(rest).cloned().ok_or_else(not_found),
        _ => Err(not_found()),
    }
}

fn templates(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmpl"))
        .collect();
    v.sort();
    v
}

fn render(path: &Path, all: &Value) -> Result<String, Error> {
    let t = Template::from_file(path)?;
    t.render_with(&mut |p: &str| lookup(all, p))
        .map(|s| s.expose().to_owned())
}

#[test]
fn template_goldens_match_the_agent_output() {
    let all = secrets();
    let tmpls = templates(Path::new(FIXTURES));
    assert!(tmpls.len() >= 8, "fixtures missing");
    let mut failures = Vec::new();
    let mut checked = 0;
    for t in &tmpls {
        let name = t.file_stem().unwrap().to_string_lossy().into_owned();
        // Fixtures without a committed golden are compared with the live agent only
        // (tests/tests/template_agent.rs).
        let Ok(golden) = std::fs::read(t.with_extension("golden")) else {
            continue;
        };
        checked += 1;
        match render(t, &all) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(got) if got.as_bytes() != golden.as_slice() => {
                let at = got
                    .bytes()
                    .zip(golden.iter().copied())
                    .position(|(a, b)| a != b)
                    .unwrap_or(got.len().min(golden.len()));
                let line = golden[..at.min(golden.len())]
                    .iter()
                    .filter(|&&c| c == b'\n')
                    .count()
                    + 1;
                failures.push(format!(
                    "{name}: lengths {} vs golden {}, first difference at byte {at} (line {line})",
                    got.len(),
                    golden.len()
                ));
            }
            Ok(_) => {}
        }
    }
    assert!(checked >= 8, "goldens missing: {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn template_fixtures_the_agent_rejects_are_errors_with_a_location() {
    let all = secrets();
    for t in templates(&Path::new(FIXTURES).join("fail")) {
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        // Fixtures with agent options (`NAME.opts`), and the data-model ones (`dm-…`: deleted
        // or destroyed versions that only the live server has), run in the live test only.
        if t.with_extension("opts").exists() || name.starts_with("dm-") {
            continue;
        }
        match render(&t, &all) {
            Ok(_) => panic!("{name} rendered; the agent rejects it"),
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains(&format!("{name}:1:")), "{name}: {msg}");
                assert_eq!(e.kind(), ErrorKind::Config, "{name}");
            }
        }
    }
}
