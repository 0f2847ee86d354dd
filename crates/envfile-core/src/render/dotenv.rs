//! `dotenv`: `NAME='value'` / `NAME="value"` lines in the dialect of python-dotenv read with
//! interpolation off (`dotenv_values(path, interpolate=False)`).
//!
//! How python-dotenv (1.x, `dotenv/parser.py`) reads a value, and so how we write one:
//! - single quotes: everything up to the closing `'` is literal, newlines included, except that
//!   `\\` and `\'` are decoded. We use them only for values with no `'`, `\`, CR or LF, which
//!   then read back the same in every dotenv dialect we know of, and are not expanded by readers
//!   that expand `$VAR` in double quotes (docker compose, bash-like loaders).
//! - double quotes: `\\ \' \" \a \b \f \n \r \t \v` are decoded, any other byte is literal. We
//!   escape `\`, `"`, LF and CR, so every backslash we write starts one of those escapes and
//!   every value keeps to one line.
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
        if value.contains("${") {
            warnings.push(Warning {
                var: var.name.clone(),
                message: format!(
                    "the value of `{}` contains `${{`: readers that interpolate (python-dotenv's \
                     default, docker compose) would expand it; read the file with interpolation off",
                    var.name
                ),
            });
        }
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

fn write_value(out: &mut dyn Sink, value: &str) {
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

    fn one(value: &str) -> String {
        let var = Var {
            name: "A".into(),
            value: SecretValue::from_str_copy(value),
        };
        render(&[var], &mut vec![]).unwrap().expose().to_string()
    }

    #[test]
    fn plain_values_are_single_quoted_and_literal() {
        assert_eq!(one("p$ss \"w\" #x"), "A='p$ss \"w\" #x'\n");
        assert_eq!(one(""), "A=''\n");
    }

    #[test]
    fn quotes_backslashes_and_line_breaks_are_double_quoted_escapes() {
        assert_eq!(one("it's"), "A=\"it's\"\n");
        assert_eq!(one("a\\b\"c\r\nd"), "A=\"a\\\\b\\\"c\\r\\nd\"\n");
    }
}
