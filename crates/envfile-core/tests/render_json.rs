//! `json` output parses (serde_json and Python's json) to the same strings, in order.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions};
use render_corpus::*;

#[test]
fn every_value_parses_back_byte_exact() {
    let mut vars = vars_where(|_| true);
    vars.push(var("V_NUL", b"a\0b"));
    vars.push(var("quoted \"name\"\n", b"x"));
    let (out, warnings) = render(Format::Json, &vars, &RenderOptions::default()).unwrap();
    assert!(warnings.is_empty());
    assert!(out.expose().ends_with("}\n"));

    let parsed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(out.expose()).expect("valid JSON");
    assert_eq!(parsed.len(), vars.len());
    assert_read_back("json (serde_json)", &vars, |name| {
        parsed
            .get(name)
            .and_then(|v| v.as_str())
            .map(|s| s.as_bytes().to_vec())
    });

    // serde_json's map does not keep order here: check it with Python's ordered pairs.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.json");
    std::fs::write(&path, out.expose()).unwrap();
    let result = run_python(
        "pairs = json.load(open(sys.argv[1], 'rb'), object_pairs_hook=lambda kv: kv)\n\
         json.dump({'names': [k for k, _ in pairs]}, open(sys.argv[2], 'w'))",
        &path,
    );
    let names: Vec<&str> = result["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let expected: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, expected);
}

#[test]
fn exact_shape() {
    let vars = [var("B", b"2"), var("A", b"1")];
    let (out, _) = render(Format::Json, &vars, &RenderOptions::default()).unwrap();
    assert_eq!(out.expose(), "{\n  \"B\": \"2\",\n  \"A\": \"1\"\n}\n");
    let (out, _) = render(Format::Json, &[], &RenderOptions::default()).unwrap();
    assert_eq!(out.expose(), "{}\n");
}

#[test]
fn non_utf8_is_refused_naming_the_variable() {
    let mut bin = MARKER.as_bytes().to_vec();
    bin.push(0xff);
    let err = render(Format::Json, &[var("B", &bin)], &RenderOptions::default()).unwrap_err();
    assert_refused(&err, ErrorKind::NotUtf8, "`B`");
}
