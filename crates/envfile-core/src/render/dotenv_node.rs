//! `dotenv-node`: a `.env` that npm `dotenv` (`dotenv.parse`/`config`, 16.x–18.x) and Node's own
//! `node --env-file` read as the same bytes.
//!
//! Neither reader has an escape for a quote or a backslash, so each value goes in the one kind of
//! quote it does not contain:
//! - npm `dotenv` matches `'…'`, `` `…` `` or `"…"` (newlines included), and in `"…"` only turns
//!   `\n` and `\r` into LF and CR; everything else is literal. Its regex takes `\'` (or `` \` ``,
//!   `\"`) as an escaped quote when searching for the closing one, so a value ending in a
//!   backslash cannot be quoted at all.
//! - `node --env-file` ends a quoted value at the first matching quote and in `"…"` turns `\n`
//!   into LF; it drops every CR of the file, and npm `dotenv` turns a raw CR into LF, so a CR
//!   cannot be carried.
//!
//! So: `'value'` when the value has no `'`, else `` `value` `` when it has no backtick, else
//! `"value"` when it has no `"` and no literal `\n` or `\r`; line breaks stay raw inside the
//! quotes. A value ending in a backslash is written unquoted when both readers take it verbatim
//! (one line, no `#`, no quote first, no whitespace at either end). Anything else is refused,
//! naming the variable.

use super::check::{self, NameRule};
use super::dotenv::warn_interpolation;
use super::sink::{self, Sink};
use super::{Format, Warning};
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::DotenvNode;

/// How one value is written.
#[derive(Clone, Copy)]
enum Form {
    Quoted(char),
    Bare,
}

pub(super) fn render(vars: &[Var], warnings: &mut Vec<Warning>) -> Result<SecretString> {
    let mut items = Vec::with_capacity(vars.len());
    for var in vars {
        check::name(FORMAT, &var.name, NameRule::Dotted)?;
        let value = check::text(FORMAT, var)?;
        check::no_nul(FORMAT, &var.name, value)?;
        let form = form(&var.name, value)?;
        warn_interpolation(FORMAT, &var.name, value, warnings);
        items.push((var.name.as_str(), value, form));
    }
    Ok(sink::build(|out: &mut dyn Sink| {
        for (name, value, form) in &items {
            out.text(name);
            out.text("=");
            match form {
                Form::Bare => out.text(value),
                Form::Quoted(q) => {
                    let mut buf = [0u8; 4];
                    let q = q.encode_utf8(&mut buf);
                    out.text(q);
                    out.text(value);
                    out.text(q);
                }
            }
            out.text("\n");
        }
    }))
}

fn form(name: &str, value: &str) -> Result<Form> {
    if let Some(at) = value.find('\r') {
        return Err(check::unrepresentable(
            FORMAT,
            name,
            "a carriage return, which `node --env-file` drops and npm dotenv reads as a newline",
            at,
            HINT,
        ));
    }
    if value.ends_with('\\') {
        return if bare_reads_back(value) {
            Ok(Form::Bare)
        } else {
            Err(check::unrepresentable(
                FORMAT,
                name,
                "a trailing backslash, which npm dotenv reads as escaping the closing quote, \
                 and the value cannot be written unquoted either (it holds a line break or `#`, \
                 starts with a quote, or starts with whitespace)",
                value.len() - 1,
                HINT,
            ))
        };
    }
    if !value.contains('\'') {
        Ok(Form::Quoted('\''))
    } else if !value.contains('`') {
        Ok(Form::Quoted('`'))
    } else if !value.contains('"') && !value.contains("\\n") && !value.contains("\\r") {
        Ok(Form::Quoted('"'))
    } else if bare_reads_back(value) {
        Ok(Form::Bare)
    } else {
        Err(check::unrepresentable(
            FORMAT,
            name,
            "`'`, a backtick and `\"` (or a literal `\\n`), and neither npm dotenv nor \
             `node --env-file` has an escape for a quote",
            0,
            HINT,
        ))
    }
}

const HINT: &str = "use `--format dotenv` and python-dotenv, `--format json`, or store the \
                    value base64-encoded and decode it in the app";

/// Whitespace either reader trims from an unquoted value: JavaScript's `trim()` (Unicode
/// White_Space without U+0085, plus U+FEFF) and Node's own trimming (a subset).
fn js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// `KEY=value` unquoted: npm dotenv takes `[^#\r\n]+` and trims it; node takes the line up to
/// the first `#` and trims it; both see a leading quote as a quoted value.
fn bare_reads_back(value: &str) -> bool {
    let (Some(first), Some(last)) = (value.chars().next(), value.chars().next_back()) else {
        return false;
    };
    !matches!(first, '\'' | '"' | '`')
        && !js_space(first)
        && !js_space(last)
        && !value.contains(['\n', '\r', '#'])
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
    fn each_value_takes_a_quote_it_does_not_contain() {
        assert_eq!(one("a \"b\" $c\nd").unwrap(), "A='a \"b\" $c\nd'\n");
        assert_eq!(one("it's").unwrap(), "A=`it's`\n");
        assert_eq!(one("'`").unwrap(), "A=\"'`\"\n");
        assert_eq!(one("C:\\dir\\").unwrap(), "A=C:\\dir\\\n");
        assert_eq!(one("").unwrap(), "A=''\n");
    }

    #[test]
    fn what_neither_reader_can_carry_is_refused() {
        for bad in ["'`\"", "'`\\n", "a\rb", " x\\", "a#b\\", "'\\"] {
            let err = one(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Unrepresentable, "{bad:?}");
            assert!(err.message().contains("`A`"));
        }
    }
}
