//! Shared by the `render_*` tests: a hostile corpus of values, the real readers (python-dotenv,
//! PyYAML) run through `$ENVFILE_TEST_PYTHON`, and comparisons that report where two byte
//! strings differ without printing either.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod readers;

use envfile_core::{SecretValue, Var};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A value no corpus entry contains by accident: error messages must never include it.
pub const MARKER: &str = "s3cr3t-MARKER-value";

/// Values that break naive escaping. Every one is valid UTF-8 without NUL; each test adds the
/// entries its format refuses or only it can carry.
pub fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let text: &[(&str, &str)] = &[
        ("PLAIN", "hunter2"),
        ("EMPTY", ""),
        ("SINGLE_QUOTE", "it's"),
        ("ONLY_SINGLE_QUOTE", "'"),
        ("SINGLE_QUOTES", "''''"),
        ("WRAPPED_SINGLE", "'quoted'"),
        ("DOUBLE_QUOTE", "say \"hi\""),
        ("ONLY_DOUBLE_QUOTE", "\""),
        ("WRAPPED_DOUBLE", "\"quoted\""),
        ("MIXED_QUOTES", "'\"'\"\"'"),
        ("DOLLAR", "$HOME $1 $$ $? $"),
        ("BRACE", "${HOME} ${X:-default} ${"),
        ("BACKTICK", "`id` $(id) $((1+1))"),
        ("BACKSLASH", "a\\b\\\\c\\n\\t\\x41\\u0041"),
        ("TRAILING_BACKSLASH", "ends with \\"),
        ("ONLY_BACKSLASH", "\\"),
        ("TWO_BACKSLASHES", "\\\\"),
        ("BACKSLASH_QUOTES", "\\'\\\"\\`\\$"),
        ("HASH", "# not a comment"),
        ("INLINE_HASH", "value # comment"),
        ("EQUALS", "a=b==c="),
        ("LEADING_SPACES", "   lead"),
        ("TRAILING_SPACES", "trail   "),
        ("ONLY_SPACES", "   "),
        ("TABS", "\tx\t"),
        ("NEWLINE", "line1\nline2"),
        ("TRAILING_NEWLINE", "x\n"),
        ("LEADING_NEWLINE", "\nx"),
        ("ONLY_NEWLINES", "\n\n"),
        ("CR", "a\rb"),
        ("CRLF", "a\r\nb\r\n"),
        ("TRAILING_CR", "x\r"),
        ("EMOJI", "🔑😀👍🏽"),
        ("RTL", "שלום עולם \u{202e}abc\u{202c}"),
        ("COMBINING", "e\u{301}a\u{308}\u{20dd}"),
        ("LINE_SEPARATORS", "a\u{2028}b\u{2029}c\u{85}d"),
        // YAML folds whitespace around line breaks, and 1.1 readers count these as breaks.
        (
            "LINE_SEPARATORS_SPACED",
            "a \u{2028} b \u{2029} c \u{85} d \u{2028}",
        ),
        ("BOM", "\u{feff}bom"),
        ("CONTROL", "\u{1}\u{7}\u{8}\u{b}\u{c}\u{1b}[31m\u{7f}\u{9f}"),
        ("NONCHARACTER", "\u{fffe}\u{ffff}\u{1fffe}\u{fdd0}"),
        ("EXPORT_PREFIX", "export FOO=bar"),
        ("SHELL_INJECTION", "'; rm -rf / #"),
        ("HEREDOC", "EOF\n'EOF'\n"),
        ("GLOB", "* ? [a-z] ~"),
        ("JSON", "{\"a\": [1, \"x\"], \"b\": null}"),
        ("YAML_LOOKALIKE", "- item: &a *a !tag %x"),
        ("YAML_BOOL", "yes"),
        ("YAML_NULL", "~"),
        ("NUMBER", "0x1F"),
        ("PEM", "-----BEGIN KEY-----\nMIIB+/=\n-----END KEY-----\n"),
        ("PERCENT", "%h %i %% %n"),
        ("SEMICOLON", "a;b&&c||d|e>f<g"),
        // Whitespace only some readers strip (Python's `\s` adds U+001C-U+001F, JavaScript's
        // `trim()` adds U+FEFF and leaves out U+0085).
        ("NBSP", "\u{a0}nbsp\u{a0}"),
        ("VERTICAL_TAB", "\u{b}vt\u{b}"),
        ("UNICODE_SPACES", "\u{3000}\u{2007}x\u{1c}\u{85}\u{205f}"),
        ("SPACE_BEFORE_HASH_NBSP", "a\u{a0}#b"),
        // Backslashes that end a value or sit before a quote: readers that search for the
        // closing quote with `\\"|[^"]` take them for an escaped quote.
        ("WINDOWS_PATH", "C:\\dir\\"),
        ("BACKSLASH_BEFORE_QUOTE_END", "say \\\"hi\\\""),
        ("BACKSLASH_NEWLINE", "a\\\nb"),
        ("TRAILING_BACKSLASH_MULTILINE", "a\nb\\"),
        ("QUOTE_THEN_TRAILING_BACKSLASH", "\"x\\"),
        ("HASH_THEN_TRAILING_BACKSLASH", "a #b\\"),
        ("SPACE_THEN_TRAILING_BACKSLASH", " x\\"),
        ("BACKTICKS", "`x` ``"),
        ("ALL_QUOTES", "'`\""),
        ("ALL_QUOTES_INSIDE", "x ' ` \" y"),
        ("ALL_QUOTES_LITERAL_N", "'`\\n"),
        ("DOUBLE_DOLLAR", "$$ \\$x $${y}"),
        ("LITERAL_ESCAPES", "\\n\\r\\t\\0\\x41\\101"),
    ];
    let mut out: Vec<(&'static str, Vec<u8>)> = text
        .iter()
        .map(|(n, v)| (*n, v.as_bytes().to_vec()))
        .collect();
    out.push(("BIG_64K", big(64 * 1024)));
    out
}

/// A value of exactly `len` bytes mixing everything hostile.
pub fn big(len: usize) -> Vec<u8> {
    let unit = "ab'c\"d$e\\f`g\nh\ri\tj${k}é#=".as_bytes();
    let mut v: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
    // Never end in the middle of `é`.
    while std::str::from_utf8(&v).is_err() {
        v.pop();
        v.push(b'z');
    }
    v
}

/// The corpus entries whose value satisfies `keep`, as variables named `V_<LABEL>`.
pub fn vars_where(keep: impl Fn(&[u8]) -> bool) -> Vec<Var> {
    corpus()
        .into_iter()
        .filter(|(_, v)| keep(v))
        .map(|(n, v)| var(&format!("V_{n}"), &v))
        .collect()
}

/// One variable.
pub fn var(name: &str, value: &[u8]) -> Var {
    Var {
        name: name.to_string(),
        value: SecretValue::new(value.to_vec()),
    }
}

/// Where `got` differs from `want`, described without their content.
pub fn difference(want: &[u8], got: &[u8]) -> Option<String> {
    if want == got {
        return None;
    }
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    Some(format!(
        "expected {} bytes, got {}, first difference at byte {at}",
        want.len(),
        got.len()
    ))
}

/// Check the `pairs` a READ script wrote (`[[name, hex value], …]` in file order; a value that
/// is not hex, such as `null` or a type name, counts as missing): the names must be `vars`'
/// names in order, and every value must read back byte-exact.
pub fn assert_pairs_read_back(format: &str, vars: &[Var], pairs: &serde_json::Value) {
    let pairs = pairs.as_array().expect("pairs is an array");
    let names: Vec<&str> = pairs.iter().map(|p| p[0].as_str().unwrap()).collect();
    let expected: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, expected, "{format}: names or their order differ");
    assert_read_back(format, vars, |name| {
        let p = pairs.iter().find(|p| p[0] == name)?;
        let s = p[1].as_str()?;
        s.bytes().all(|b| b.is_ascii_hexdigit()).then(|| unhex(s))
    });
}

/// Compare every variable with what a reader produced (`None`: the reader did not have it);
/// panic listing each mismatch by name and offset only.
pub fn assert_read_back(format: &str, vars: &[Var], got: impl Fn(&str) -> Option<Vec<u8>>) {
    let mut problems = Vec::new();
    for v in vars {
        match got(&v.name) {
            None => problems.push(format!("{}: missing", v.name)),
            Some(bytes) => {
                if let Some(d) = difference(v.value.expose_bytes(), &bytes) {
                    problems.push(format!("{}: {d}", v.name));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{format}: {} of {} values did not read back byte-exact:\n  {}",
        problems.len(),
        vars.len(),
        problems.join("\n  ")
    );
}

/// The Python with python-dotenv and PyYAML that `scripts/test` provides.
pub fn python() -> PathBuf {
    match std::env::var_os("ENVFILE_TEST_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "ENVFILE_TEST_PYTHON is not set: run these tests through `scripts/test -p envfile-core` \
             (it installs python-dotenv and PyYAML under .tools/ and sets it)"
        ),
    }
}

/// Run `script` (which gets `file` and an output path as argv[1], argv[2] and writes JSON
/// there) and return the parsed JSON. Exceptions are reduced to their type and position by the
/// wrapper, since parser messages can quote the input.
pub fn run_python(script: &str, file: &Path) -> serde_json::Value {
    let wrapper = format!(
        "import json, sys\n\
         try:\n{}\n\
         except Exception as e:\n    \
             mark = getattr(e, 'problem_mark', None)\n    \
             where = f' at line {{mark.line + 1}} column {{mark.column + 1}}' if mark else ''\n    \
             print(type(e).__name__ + ': ' + str(getattr(e, 'problem', '')) + where, file=sys.stderr)\n    \
             sys.exit(3)\n",
        script
            .lines()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let out_path = file.with_extension("readback.json");
    let output = Command::new(python())
        .arg("-c")
        .arg(&wrapper)
        .arg(file)
        .arg(&out_path)
        .output()
        .expect("run python");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the python reader failed ({}): {}",
        output.status,
        stderr.lines().last().unwrap_or("")
    );
    let text = std::fs::read_to_string(&out_path).expect("python wrote its result");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("python wrote JSON");
    if !stderr.is_empty() {
        value["__stderr_bytes__"] = serde_json::Value::from(stderr.len());
    }
    value
}

/// Decode the hex strings the python side writes (hex keeps the comparison byte-exact).
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Assert an error names `var`, has `kind`, and shows no value (checked with [`MARKER`]).
pub fn assert_refused(err: &envfile_core::Error, kind: envfile_core::ErrorKind, var: &str) {
    let shown = format!("{err} {err:?}");
    assert_eq!(err.kind(), kind, "wrong kind for {var}: {}", err.message());
    assert!(
        shown.contains(var),
        "error does not name {var}: {}",
        err.message()
    );
    assert!(!shown.contains("MARKER"), "error shows the value");
}
