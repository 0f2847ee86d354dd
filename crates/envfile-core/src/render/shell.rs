//! `shell`: `export NAME='value'` lines for `.` / `source` in sh, bash and dash.
//!
//! Inside single quotes a POSIX shell takes every byte literally — `$`, backticks, backslashes,
//! newlines, CR — except the closing `'`. A quote in the value is written as `'\''`: close the
//! quotes, an escaped quote, reopen. That is the whole escaping, and it holds in every POSIX shell.

use super::check::{self, NameRule};
use super::sink::{self, Sink};
use super::{Format, Warning};
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::Shell;

/// Names bash keeps read-only: `export UID=…` fails when sourced, and the variable keeps bash's value.
const BASH_READONLY: [&str; 6] = [
    "BASHOPTS",
    "BASH_VERSINFO",
    "EUID",
    "PPID",
    "SHELLOPTS",
    "UID",
];

pub(super) fn render(vars: &[Var], warnings: &mut Vec<Warning>) -> Result<SecretString> {
    let mut items = Vec::with_capacity(vars.len());
    for var in vars {
        check::name(FORMAT, &var.name, NameRule::Posix)?;
        let value = check::text(FORMAT, var)?;
        check::no_nul(FORMAT, &var.name, value)?;
        if BASH_READONLY.contains(&var.name.as_str()) {
            warnings.push(Warning {
                var: var.name.clone(),
                message: format!(
                    "`{}` is read-only in bash: sourcing this file in bash fails on this line",
                    var.name
                ),
            });
        }
        items.push((var.name.as_str(), value));
    }
    Ok(sink::build(|out| {
        for (name, value) in &items {
            out.text("export ");
            out.text(name);
            out.text("=");
            write_quoted(out, value);
            out.text("\n");
        }
    }))
}

fn write_quoted(out: &mut dyn Sink, value: &str) {
    out.text("'");
    let mut parts = value.split('\'');
    if let Some(first) = parts.next() {
        out.text(first);
    }
    for part in parts {
        out.text("'\\''");
        out.text(part);
    }
    out.text("'");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    fn var(name: &str, value: &[u8]) -> Var {
        Var {
            name: name.into(),
            value: SecretValue::new(value.to_vec()),
        }
    }

    #[test]
    fn quotes_are_closed_escaped_and_reopened() {
        let out = render(
            &[var("A", b"it's"), var("B", b""), var("C", b"'")],
            &mut vec![],
        )
        .unwrap();
        assert_eq!(
            out.expose(),
            "export A='it'\\''s'\nexport B=''\nexport C=''\\'''\n"
        );
    }

    #[test]
    fn readonly_bash_names_warn() {
        let mut warnings = vec![];
        render(&[var("UID", b"1")], &mut warnings).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].var, "UID");
    }
}
