//! `dotenv` output read back by python-dotenv (`dotenv_values(path, interpolate=False)`, the
//! dialect we target) is byte-exact, and values holding `${` come with a warning.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions};
use render_corpus::*;

const READ: &str = "\
import dotenv
values = dotenv.dotenv_values(sys.argv[1], interpolate=False)
pairs = [[k, None if v is None else v.encode('utf-8').hex()] for k, v in values.items()]
json.dump({'pairs': pairs}, open(sys.argv[2], 'w'))";

#[test]
fn every_value_reads_back_byte_exact_with_python_dotenv() {
    let vars = vars_where(|_| true);
    let (out, _) = render(Format::Dotenv, &vars, &RenderOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, out.expose()).unwrap();

    let result = run_python(READ, &path);
    // python-dotenv logs "could not parse statement" on stderr for lines it skips.
    assert!(
        result.get("__stderr_bytes__").is_none(),
        "python-dotenv complained about the file"
    );
    assert_pairs_read_back("dotenv", &vars, &result["pairs"]);
}

#[test]
fn values_holding_dollar_brace_warn_by_name() {
    let vars = vars_where(|_| true);
    let (_, warnings) = render(Format::Dotenv, &vars, &RenderOptions::default()).unwrap();
    let mut warned: Vec<&str> = warnings.iter().map(|w| w.var.as_str()).collect();
    let mut expected: Vec<&str> = vars
        .iter()
        .filter(|v| v.value.expose_bytes().windows(2).any(|w| w == b"${"))
        .map(|v| v.name.as_str())
        .collect();
    warned.sort_unstable();
    expected.sort_unstable();
    assert!(expected.contains(&"V_BRACE") && expected.contains(&"V_BIG_64K"));
    assert_eq!(warned, expected);

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

#[test]
fn nul_and_non_utf8_are_refused_naming_the_variable() {
    let mut nul = MARKER.as_bytes().to_vec();
    nul.push(0);
    let err = render(Format::Dotenv, &[var("N", &nul)], &RenderOptions::default()).unwrap_err();
    assert_refused(&err, ErrorKind::Unrepresentable, "`N`");

    let mut bin = MARKER.as_bytes().to_vec();
    bin.push(0xc0);
    let err = render(Format::Dotenv, &[var("B", &bin)], &RenderOptions::default()).unwrap_err();
    assert_refused(&err, ErrorKind::NotUtf8, "`B`");
}

#[test]
fn names_dotenv_cannot_carry_are_refused() {
    for bad in ["A B", "A=B", "#A", "'A'", "\"A\"", "", "A\nB", "1A"] {
        let err = render(Format::Dotenv, &[var(bad, b"x")], &RenderOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
    }
    // Dots and dashes are fine for dotenv readers.
    render(
        Format::Dotenv,
        &[var("app.db-url", b"x")],
        &RenderOptions::default(),
    )
    .unwrap();
}
