//! `dotenv`: `NAME='value'` / `NAME="value"` lines in the dialect of python-dotenv read with
//! interpolation off (`dotenv_values(path, interpolate=False)`), written so that every release
//! users still run reads the same bytes: 1.0.x, 1.1.x and 1.2.0–1.2.2 (whose quoted-value
//! regex is `"((?:\\"|[^"])*)"`) as well as 1.2.3 and later (`"((?:\\.|[^"\\])*)"`).
//!
//! How python-dotenv (`dotenv/parser.py`) reads a value, and so how we write one:
//! - single quotes: everything up to the closing `'` is literal, newlines included, except that
//!   `\\` and `\'` are decoded. We use them only for values with no `'`, `\`, CR or LF, which
//!   then read back the same in every dotenv dialect we know of, and are not expanded by readers
//!   that expand `$VAR` in double quotes (docker compose, bash-like loaders).
//! - double quotes: `\\ \' \" \a \b \f \n \r \t \v` are decoded, any other byte is literal. We
//!   escape `\`, `"`, LF and CR, so every backslash we write starts one of those escapes and
//!   every value keeps to one line.
//! - a value ending in a backslash cannot be quoted: releases before 1.2.3 take the `\"` (or
//!   `\'`) that would end it as an escaped quote and run on to the next quote in the file,
//!   swallowing the variables after it. Such a value is written unquoted (literal up to the end
//!   of the line, minus a ` #comment` and trailing whitespace) when that reads back exactly, and
//!   refused otherwise.
//!
//! CR must be escaped, never written raw: Python opens the file in text mode, which turns a raw
//! CR or CRLF into LF before the parser sees it.
//!
//! python-dotenv expands `${NAME}` in every kind of value when interpolation is on (its default),
//! and so do other readers: a value holding `${` gets a warning.

use super::check::{self, NameRule};
use super::sink::{self, Sink};
use super::{Format, Warning};
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::Dotenv;

pub(super) fn render(vars: &[Var], warnings: &mut Vec<Warning>) -> Result<SecretString> {
    let mut items = Vec::with_capacity(vars.len());
    for var in vars {
        check::name(FORMAT, &var.name, NameRule::Dotted)?;
        let value = check::text(FORMAT, var)?;
        check::no_nul(FORMAT, &var.name, value)?;
        if value.ends_with('\\') && !bare_reads_back(value) {
            return Err(check::unrepresentable(
                FORMAT,
                &var.name,
                "a trailing backslash, which python-dotenv before 1.2.3 reads as escaping the \
                 closing quote, and the value cannot be written unquoted either (it holds a line \
                 break, starts with a quote or whitespace, or has whitespace before a `#`)",
                value.len() - 1,
                "store the value without the trailing backslash (or base64-encoded), or render \
                 it as `--format json` or `--format shell`",
            ));
        }
        warn_interpolation(FORMAT, &var.name, value, warnings);
        items.push((var.name.as_str(), value));
    }
    Ok(sink::build(|out| {
        for (name, value) in &items {
            out.text(name);
            out.text("=");
            write_value(out, value);
            out.text("\n");
        }
    }))
}

/// Warn that a reader which interpolates would expand `${` in this value.
pub(super) fn warn_interpolation(
    format: Format,
    name: &str,
    value: &str,
    warnings: &mut Vec<Warning>,
) {
    if value.contains("${") {
        warnings.push(Warning {
            var: name.to_owned(),
            message: format!(
                "the value of `{name}` contains `${{`: readers that interpolate (python-dotenv's \
                 default, dotenv-expand, docker compose) would expand it; read the {format} \
                 file with interpolation off"
            ),
        });
    }
}

/// Whitespace as Python's `str.isspace()` and the `\s` of its `re` module see it: Unicode
/// White_Space plus the four information separators U+001C–U+001F.
pub(crate) fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Whether `KEY=value` with the value unquoted reads back as `value` in python-dotenv: the
/// reader takes the rest of the line, cuts `\s+#.*` and strips trailing whitespace, skips
/// whitespace after `=`, and treats a leading quote as the start of a quoted value.
fn bare_reads_back(value: &str) -> bool {
    let (Some(first), Some(last)) = (value.chars().next(), value.chars().next_back()) else {
        return false;
    };
    if matches!(first, '\'' | '"') || py_space(first) || py_space(last) {
        return false;
    }
    if value.contains(['\n', '\r']) {
        return false;
    }
    let mut prev_space = false;
    for c in value.chars() {
        if c == '#' && prev_space {
            return false;
        }
        prev_space = py_space(c);
    }
    true
}

fn write_value(out: &mut dyn Sink, value: &str) {
    if value.ends_with('\\') {
        // Checked by `bare_reads_back` in `render`.
        out.text(value);
        return;
    }
    if !value.contains(['\'', '\\', '\r', '\n']) {
        out.text("'");
        out.text(value);
        out.text("'");
        return;
    }
    out.text("\"");
    let mut rest = value;
    while let Some(at) = rest.find(['\\', '"', '\n', '\r']) {
        out.text(&rest[..at]);
        out.text(match rest.as_bytes()[at] {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'\n' => "\\n",
            _ => "\\r",
        });
        rest = &rest[at + 1..];
    }
    out.text(rest);
    out.text("\"");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    fn one(value: &str) -> Result<String> {
        let var = Var {
            name: "A".into(),
            value: SecretValue::from_str_copy(value),
        };
        Ok(render(&[var], &mut vec![])?.expose().to_string())
    }

    #[test]
    fn plain_values_are_single_quoted_and_literal() {
        assert_eq!(one("p$ss \"w\" #x").unwrap(), "A='p$ss \"w\" #x'\n");
        assert_eq!(one("").unwrap(), "A=''\n");
    }

    #[test]
    fn quotes_backslashes_and_line_breaks_are_double_quoted_escapes() {
        assert_eq!(one("it's").unwrap(), "A=\"it's\"\n");
        assert_eq!(one("a\\b\"c\r\nd").unwrap(), "A=\"a\\\\b\\\"c\\r\\nd\"\n");
    }

    #[test]
    fn a_trailing_backslash_is_written_unquoted_or_refused() {
        // Quoted, python-dotenv <= 1.2.2 would read `\\"` as `\` + an escaped quote.
        assert_eq!(one("C:\\dir\\").unwrap(), "A=C:\\dir\\\n");
        assert_eq!(one("#x \\").unwrap(), "A=#x \\\n");
        for bad in [
            "a\nb\\",
            " x\\",
            "'x\\",
            "\"x\\",
            "a #b\\",
            "a\u{a0}#b\\",
            "a\u{1c}#\\",
        ] {
            let err = one(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Unrepresentable, "{bad:?}");
            assert!(err.message().contains("`A`"));
        }
    }
}
