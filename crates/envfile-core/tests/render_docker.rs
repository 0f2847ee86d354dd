//! `docker` (`docker run --env-file`) output: no quoting, so exact bytes for what it can carry
//! and an error naming the variable for what it cannot.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions};
use render_corpus::*;

#[test]
fn exact_output_is_the_value_verbatim() {
    let vars = [
        var("PLAIN", b"hunter2"),
        var("EMPTY", b""),
        // Docker keeps everything after the first `=`: quotes, `#`, `$`, `=`, backslashes,
        // leading and trailing whitespace.
        var("HOSTILE", b" it's \"x\" # $HOME ${X} `id` a=b \\ \t "),
        var("UNICODE", "🔑 שלום \u{2028}\u{85}".as_bytes()),
        var("app.db-url", b"postgres://u:p@h/db"),
        // One quote at one end only is kept by every docker version.
        var("HALF_QUOTED", b"'abc"),
    ];
    let (out, warnings) = render(Format::Docker, &vars, &RenderOptions::default()).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(
        out.expose(),
        concat!(
            "PLAIN=hunter2\n",
            "EMPTY=\n",
            "HOSTILE= it's \"x\" # $HOME ${X} `id` a=b \\ \t \n",
            "UNICODE=🔑 שלום \u{2028}\u{85}\n",
            "app.db-url=postgres://u:p@h/db\n",
            "HALF_QUOTED='abc\n",
        )
    );
}

#[test]
fn the_single_line_corpus_renders_verbatim() {
    let vars = vars_where(|v| {
        std::str::from_utf8(v).is_ok()
            && !v.contains(&b'\n')
            && !v.contains(&b'\r')
            && !(v.len() >= 2 && (v[0] == b'"' || v[0] == b'\'') && v[0] == v[v.len() - 1])
            && v.len() < 60 * 1024
    });
    assert!(vars.len() > 30);
    let (out, _) = render(Format::Docker, &vars, &RenderOptions::default()).unwrap();
    let mut lines = out.expose().split_terminator('\n');
    for v in &vars {
        let line = lines.next().expect("one line per variable");
        let (name, value) = line.split_once('=').expect("NAME=value");
        assert_eq!(name, v.name);
        if let Some(d) = difference(v.value.expose_bytes(), value.as_bytes()) {
            panic!("{}: {d}", v.name);
        }
    }
    assert!(lines.next().is_none());
}

#[test]
fn values_docker_cannot_carry_are_refused_naming_the_variable() {
    for bad in [
        &b"line1\nline2"[..],
        b"trailing newline\n",
        b"a\rb",
        b"\r\n",
        b"nul\0",
        b"\"wrapped\"",
        b"'wrapped'",
        b"''",
    ] {
        let value = [MARKER.as_bytes(), bad].concat();
        // Quote-wrapping is judged on the whole value, so put the marker inside the quotes.
        let value = if bad[0] == b'"' || bad[0] == b'\'' {
            [&bad[..1], MARKER.as_bytes(), &bad[1..]].concat()
        } else {
            value
        };
        let vars = [var("FINE", b"x"), var("BAD", &value)];
        let err = render(Format::Docker, &vars, &RenderOptions::default()).unwrap_err();
        assert_refused(&err, ErrorKind::Unrepresentable, "`BAD`");
    }
    let err = render(
        Format::Docker,
        &[var("BIN", &[0xff, 0xfe])],
        &RenderOptions::default(),
    )
    .unwrap_err();
    assert_refused(&err, ErrorKind::NotUtf8, "`BIN`");
}

#[test]
fn lines_longer_than_docker_reads_are_refused() {
    // bufio.Scanner's default limit: 64 KiB including the newline.
    let name = "V";
    let fits = vec![b'x'; 64 * 1024 - 1 - name.len() - 1];
    render(
        Format::Docker,
        &[var(name, &fits)],
        &RenderOptions::default(),
    )
    .unwrap();
    let too_long = vec![b'x'; fits.len() + 1];
    let err = render(
        Format::Docker,
        &[var(name, &too_long)],
        &RenderOptions::default(),
    )
    .unwrap_err();
    assert_refused(&err, ErrorKind::Unrepresentable, "`V`");
    let err = render(
        Format::Docker,
        &[var("BIG", &big(64 * 1024))],
        &RenderOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unrepresentable);
}

#[test]
fn names_docker_would_misread_are_refused() {
    for bad in ["A B", "A=B", "#A", " A", "A\tB", ""] {
        let err = render(Format::Docker, &[var(bad, b"x")], &RenderOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
    }
}
