//! `shell` output sourced by real shells (bash, bash --posix, dash, sh) reads back byte-exact,
//! and is exported to child processes.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions};
use render_corpus::*;
use std::process::Command;

fn shells() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("bash", vec![]),
        ("bash", vec!["--posix"]),
        ("dash", vec![]),
        ("sh", vec![]),
    ]
}

#[test]
fn every_value_sources_back_byte_exact_in_every_shell() {
    let vars = vars_where(|_| true);
    let (out, warnings) = render(Format::Shell, &vars, &RenderOptions::default()).unwrap();
    assert!(warnings.is_empty());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("env.sh"), out.expose()).unwrap();
    // The child is a new process: it sees only what `export` put in the environment.
    let mut child = String::new();
    for v in &vars {
        child.push_str(&format!("printf %s \"${0}\" > out/{0}\n", v.name));
    }
    std::fs::write(dir.path().join("child.sh"), child).unwrap();

    for (shell, flags) in shells() {
        let label = format!("{shell} {}", flags.join(" "))
            .trim_end()
            .to_string();
        let out_dir = dir.path().join("out");
        let _ = std::fs::remove_dir_all(&out_dir);
        std::fs::create_dir(&out_dir).unwrap();
        let status = Command::new(shell)
            .args(&flags)
            .arg("-c")
            .arg(format!(
                "set -eu; . ./env.sh; exec {shell} {} ./child.sh",
                flags.join(" ")
            ))
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .unwrap_or_else(|e| panic!("{label} must be installed to test shell output: {e}"));
        assert!(
            status.status.success() && status.stderr.is_empty(),
            "{label}: sourcing failed ({}), {} bytes on stderr",
            status.status,
            status.stderr.len()
        );
        assert_read_back(&label, &vars, |name| std::fs::read(out_dir.join(name)).ok());
    }
}

#[test]
fn nul_is_refused_naming_the_variable() {
    let mut value = MARKER.as_bytes().to_vec();
    value.push(0);
    let vars = [var("OK", b"fine"), var("HAS_NUL", &value)];
    let err = render(Format::Shell, &vars, &RenderOptions::default()).unwrap_err();
    assert_refused(&err, ErrorKind::Unrepresentable, "HAS_NUL");
    assert!(err.message().contains(&format!("byte {}", MARKER.len())));
}

#[test]
fn non_utf8_is_refused_naming_the_variable() {
    let mut value = MARKER.as_bytes().to_vec();
    value.extend_from_slice(&[0xff, 0xfe]);
    let err = render(
        Format::Shell,
        &[var("BIN", &value)],
        &RenderOptions::default(),
    )
    .unwrap_err();
    assert_refused(&err, ErrorKind::NotUtf8, "BIN");
}

#[test]
fn names_a_shell_cannot_assign_are_refused() {
    for bad in ["1A", "A-B", "A.B", "A B", "", "A=B", "Ä"] {
        let err = render(Format::Shell, &[var(bad, b"x")], &RenderOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
    }
}

#[test]
fn a_name_twice_is_refused() {
    let vars = [var("A", b"1"), var("B", b"2"), var("A", b"3")];
    let err = render(Format::Shell, &vars, &RenderOptions::default()).unwrap_err();
    assert_refused(&err, ErrorKind::InvalidName, "`A`");
}
