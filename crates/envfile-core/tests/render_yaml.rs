//! `yaml` output loaded by PyYAML's `safe_load` is a mapping of strings, in order, byte-exact.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions};
use render_corpus::*;

// Read as bytes: PyYAML detects the encoding itself, and text mode would translate CRs.
const READ: &str = "\
import yaml
doc = yaml.safe_load(open(sys.argv[1], 'rb'))
pairs = [[k, v.encode('utf-8').hex() if isinstance(v, str) else repr(type(v))] for k, v in doc.items()]
json.dump({'pairs': pairs}, open(sys.argv[2], 'w'))";

fn read_back(vars: &[envfile_core::Var]) {
    let (out, warnings) = render(Format::Yaml, vars, &RenderOptions::default()).unwrap();
    assert!(warnings.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.yaml");
    std::fs::write(&path, out.expose()).unwrap();
    let result = run_python(READ, &path);
    // A non-string comes back as its type name, which is not hex: it counts as missing.
    assert_pairs_read_back("yaml", vars, &result["pairs"]);
}

#[test]
fn every_value_loads_back_byte_exact_with_pyyaml() {
    let mut vars = vars_where(|_| true);
    // YAML can carry NUL (as `\0`), unlike environment variables.
    vars.push(var("V_NUL", b"a\0b"));
    read_back(&vars);
}

#[test]
fn odd_names_are_quoted_keys() {
    let long = "K".repeat(2000);
    let vars = [
        var("true", b"1"),
        var("null", b"2"),
        var("123", b"3"),
        var("a: b", b"4"),
        var("- x", b"5"),
        var("tab\there\u{2028}", b"6"),
        var(&long, b"7"),
    ];
    read_back(&vars);
}

#[test]
fn empty_is_an_empty_mapping() {
    let (out, _) = render(Format::Yaml, &[], &RenderOptions::default()).unwrap();
    assert_eq!(out.expose(), "{}\n");
}

#[test]
fn non_utf8_is_refused_naming_the_variable() {
    let mut bin = MARKER.as_bytes().to_vec();
    bin.push(0x80);
    let err = render(Format::Yaml, &[var("B", &bin)], &RenderOptions::default()).unwrap_err();
    assert_refused(&err, ErrorKind::NotUtf8, "`B`");
}
