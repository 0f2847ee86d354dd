//! The three dotenv dialects, each read back by its real readers from one file per reader
//! (one process each, not one per value): `dotenv` by every python-dotenv release users still
//! run (`dotenv_values(path, interpolate=False)`), `dotenv-node` by npm `dotenv` 16–18 and
//! `node --env-file`, `dotenv-compose` by Docker Compose v2. Every value of the hostile corpus
//! reads back byte-exact, or — for the few a dialect cannot carry — is refused naming the
//! variable; what is refused is part of the spec below.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions, Var};
use render_corpus::readers::{self, Read};
use render_corpus::*;
use std::path::PathBuf;

/// Render each corpus value alone: the refused ones must be exactly `refused` (each error
/// naming its variable, never its value); render the rest into one file.
fn render_corpus_file(format: Format, refused: &[&str]) -> (tempfile::TempDir, PathBuf, Vec<Var>) {
    let mut accepted = Vec::new();
    let mut got_refused = Vec::new();
    for v in vars_where(|_| true) {
        match render(format, std::slice::from_ref(&v), &RenderOptions::default()) {
            Ok(_) => accepted.push(v),
            Err(e) => {
                assert_refused(&e, ErrorKind::Unrepresentable, &format!("`{}`", v.name));
                got_refused.push(v.name);
            }
        }
    }
    assert_eq!(got_refused, refused, "{format}: refused values");
    let (out, _) = render(format, &accepted, &RenderOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, out.expose()).unwrap();
    (dir, path, accepted)
}

/// What `reader` read must be exactly `vars`: the same names (in the same order when the
/// reader keeps file order) and every value byte-exact.
fn assert_read(reader: &str, vars: &[Var], read: &Read, ordered: bool) {
    let mut names: Vec<&str> = read.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    if !ordered {
        names.sort_unstable();
        expected.sort_unstable();
    }
    assert_eq!(names, expected, "{reader}: names differ");
    assert_read_back(reader, vars, |name| {
        read.iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    });
}

const PYTHON_REFUSED: &[&str] = &[
    "V_TRAILING_BACKSLASH_MULTILINE",
    "V_QUOTE_THEN_TRAILING_BACKSLASH",
    "V_HASH_THEN_TRAILING_BACKSLASH",
    "V_SPACE_THEN_TRAILING_BACKSLASH",
];

#[test]
fn dotenv_reads_back_byte_exact_in_every_python_dotenv_release() {
    let (_dir, path, vars) = render_corpus_file(Format::Dotenv, PYTHON_REFUSED);
    for (release, dir) in readers::python_dotenv_releases() {
        let (read, complained) = readers::python_dotenv(&dir, &path);
        let who = format!("python-dotenv {release}");
        // python-dotenv logs "could not parse statement" on stderr for lines it skips.
        assert!(!complained, "{who} complained about the file");
        assert_read(&who, &vars, &read, true);
    }
}

/// Issue 14, item 8: `A="C:\\dir\\"` made python-dotenv 1.2.2 drop `A` and `B`.
#[test]
fn a_trailing_backslash_no_longer_swallows_the_next_variables() {
    let vars = [
        var("A", b"C:\\dir\\"),
        var("B", b"say \"hi\""),
        var("C", b"plain"),
    ];
    let (out, _) = render(Format::Dotenv, &vars, &RenderOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, out.expose()).unwrap();
    for (release, reader_dir) in readers::python_dotenv_releases() {
        let (read, _) = readers::python_dotenv(&reader_dir, &path);
        assert_read(&format!("python-dotenv {release}"), &vars, &read, true);
    }
}

#[test]
fn dotenv_node_reads_back_byte_exact_in_npm_dotenv_and_node_env_file() {
    let (_dir, path, vars) = render_corpus_file(
        Format::DotenvNode,
        &[
            "V_CR",
            "V_CRLF",
            "V_TRAILING_CR",
            "V_TRAILING_BACKSLASH_MULTILINE",
            "V_QUOTE_THEN_TRAILING_BACKSLASH",
            "V_HASH_THEN_TRAILING_BACKSLASH",
            "V_SPACE_THEN_TRAILING_BACKSLASH",
            "V_ALL_QUOTES",
            "V_ALL_QUOTES_LITERAL_N",
            "V_BIG_64K",
        ],
    );
    for (who, read) in readers::npm_dotenv(&path) {
        assert_read(&who, &vars, &read, true);
    }
    // Node sets the variables in the process environment, whose order is its own.
    assert_read(
        "node --env-file",
        &vars,
        &readers::node_env_file(&path),
        false,
    );
}

#[test]
fn dotenv_compose_reads_back_byte_exact_in_docker_compose() {
    let (_dir, path, vars) = render_corpus_file(Format::DotenvCompose, &[]);
    assert_read("docker compose", &vars, &readers::compose(&path), false);
}

#[test]
fn values_holding_dollar_brace_warn_by_name_where_the_reader_would_expand_them() {
    let vars = vars_where(|v| !v.contains(&b'\r') && !v.ends_with(b"\\"));
    let mut expected: Vec<&str> = vars
        .iter()
        .filter(|v| v.value.expose_bytes().windows(2).any(|w| w == b"${"))
        .map(|v| v.name.as_str())
        .collect();
    expected.sort_unstable();
    assert!(expected.contains(&"V_BRACE") && expected.contains(&"V_DOUBLE_DOLLAR"));
    for format in [Format::Dotenv, Format::DotenvNode] {
        let vars: Vec<Var> = vars
            .iter()
            .filter(|v| render(format, std::slice::from_ref(v), &RenderOptions::default()).is_ok())
            .cloned()
            .collect();
        let (_, warnings) = render(format, &vars, &RenderOptions::default()).unwrap();
        let mut warned: Vec<&str> = warnings.iter().map(|w| w.var.as_str()).collect();
        warned.sort_unstable();
        let want: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|n| vars.iter().any(|v| v.name == *n))
            .collect();
        assert_eq!(warned, want, "{format}");
    }
    // Compose escapes `$`, so nothing is expanded and nothing to warn about.
    let (_, warnings) = render(Format::DotenvCompose, &vars, &RenderOptions::default()).unwrap();
    assert!(warnings.is_empty());

    let secret = format!("${{{MARKER}}}");
    let (_, warnings) = render(
        Format::Dotenv,
        &[var("TPL", secret.as_bytes())],
        &RenderOptions::default(),
    )
    .unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("TPL") && !warnings[0].message.contains("MARKER"));
}

const DIALECTS: [Format; 3] = [Format::Dotenv, Format::DotenvNode, Format::DotenvCompose];

#[test]
fn nul_and_non_utf8_are_refused_naming_the_variable() {
    for format in DIALECTS {
        let mut nul = MARKER.as_bytes().to_vec();
        nul.push(0);
        let err = render(format, &[var("N", &nul)], &RenderOptions::default()).unwrap_err();
        assert_refused(&err, ErrorKind::Unrepresentable, "`N`");

        let mut bin = MARKER.as_bytes().to_vec();
        bin.push(0xc0);
        let err = render(format, &[var("B", &bin)], &RenderOptions::default()).unwrap_err();
        assert_refused(&err, ErrorKind::NotUtf8, "`B`");
    }
}

#[test]
fn names_dotenv_cannot_carry_are_refused() {
    for format in DIALECTS {
        for bad in ["A B", "A=B", "#A", "'A'", "\"A\"", "", "A\nB", "1A"] {
            let err = render(format, &[var(bad, b"x")], &RenderOptions::default()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidName, "{format} {bad:?}");
        }
        // Dots and dashes are fine for dotenv readers.
        render(
            format,
            &[var("app.db-url", b"x")],
            &RenderOptions::default(),
        )
        .unwrap();
    }
}
