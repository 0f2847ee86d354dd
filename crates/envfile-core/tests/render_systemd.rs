//! `systemd` EnvironmentFile= output, checked byte for byte against the parsing rules of
//! systemd.exec(5) / src/basic/env-file.c (no systemd to read it back here), plus what it refuses.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions};
use render_corpus::*;

fn systemd(vars: &[envfile_core::Var]) -> String {
    let (out, warnings) = render(Format::Systemd, vars, &RenderOptions::default()).unwrap();
    assert!(warnings.is_empty());
    out.expose().to_string()
}

#[test]
fn exact_output() {
    let vars = [
        var("PLAIN", b"hunter2"),
        var("EMPTY", b""),
        // `"`, `\`, backtick and `$` are the characters systemd unescapes after a backslash.
        var("SPECIAL", b"say \"hi\" $HOME `id` C:\\dir\\"),
        // Single quotes, `#`, `%`, spaces and tabs are literal inside double quotes.
        var("LITERAL", b"  it's # 100% \t "),
        // A newline (and CR) inside double quotes is kept: the value spans lines.
        var("MULTILINE", b"-----BEGIN-----\r\nabc\n-----END-----\n"),
        var("UNICODE", "🔑 שלום e\u{301} \u{2028}".as_bytes()),
    ];
    assert_eq!(
        systemd(&vars),
        concat!(
            "PLAIN=\"hunter2\"\n",
            "EMPTY=\"\"\n",
            "SPECIAL=\"say \\\"hi\\\" \\$HOME \\`id\\` C:\\\\dir\\\\\"\n",
            "LITERAL=\"  it's # 100% \t \"\n",
            "MULTILINE=\"-----BEGIN-----\r\nabc\n-----END-----\n\"\n",
            "UNICODE=\"🔑 שלום e\u{301} \u{2028}\"\n",
        )
    );
}

/// Undo the escaping the way systemd's DOUBLE_QUOTE_VALUE state does, to check the corpus.
fn systemd_unquote(line_value: &str) -> String {
    let mut out = String::new();
    let mut chars = line_value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\' | '`' | '$')) => out.push(n),
                Some('\n') => {}
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_corpus_unquotes_to_itself_under_systemds_double_quote_rules() {
    let vars = vars_where(|v| {
        std::str::from_utf8(v).is_ok_and(|s| {
            !s.chars().any(|c| {
                c == '\u{feff}'
                    || (0xfdd0..=0xfdef).contains(&u32::from(c))
                    || u32::from(c) & 0xfffe == 0xfffe
            })
        })
    });
    let out = systemd(&vars);
    let mut rest = out.as_str();
    for v in &vars {
        let prefix = format!("{}=\"", v.name);
        assert!(
            rest.starts_with(&prefix),
            "{}: line does not start with NAME=\"",
            v.name
        );
        rest = &rest[prefix.len()..];
        // The closing quote is the first `"` not preceded by an escaping backslash.
        let bytes = rest.as_bytes();
        let mut i = 0;
        while bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        let value = systemd_unquote(&rest[..i]);
        if let Some(d) = difference(v.value.expose_bytes(), value.as_bytes()) {
            panic!("{}: {d}", v.name);
        }
        assert!(rest[i..].starts_with("\"\n"));
        rest = &rest[i + 2..];
    }
    assert!(rest.is_empty());
}

#[test]
fn values_systemd_would_drop_are_refused_naming_the_variable() {
    for (bad, kind) in [
        (&b"\0"[..], ErrorKind::Unrepresentable),
        ("\u{feff}".as_bytes(), ErrorKind::Unrepresentable),
        ("\u{fffe}".as_bytes(), ErrorKind::Unrepresentable),
        ("\u{10ffff}".as_bytes(), ErrorKind::Unrepresentable),
        ("\u{fdd5}".as_bytes(), ErrorKind::Unrepresentable),
        (&b"\xff"[..], ErrorKind::NotUtf8),
    ] {
        let mut value = MARKER.as_bytes().to_vec();
        value.extend_from_slice(bad);
        let vars = [var("OK", b"x"), var("BAD", &value)];
        let err = render(Format::Systemd, &vars, &RenderOptions::default()).unwrap_err();
        assert_refused(&err, kind, "`BAD`");
    }
}

#[test]
fn names_systemd_rejects_are_refused() {
    for bad in ["A.B", "A-B", "1A", "A B", ""] {
        let err = render(
            Format::Systemd,
            &[var(bad, b"x")],
            &RenderOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
    }
}
