//! `dotenv-compose`: an `env_file:` (or `--env-file`) for Docker Compose v2, whose reader is
//! compose-go's `dotenv` package.
//!
//! Every value is double-quoted. In `"…"` compose-go decodes `\\`, `\"`, `\n`, `\r` (and other
//! C escapes) and then interpolates `$NAME` / `${NAME}`, where `\$` stands for a literal `$`.
//! We escape `\`, `"`, `$`, LF and CR; every other character, tabs and Unicode included, is
//! literal. Single quotes would avoid interpolation but cannot end in a backslash (`\'` is an
//! escaped quote there), and unquoted values lose ` #…` and trailing whitespace, so neither is
//! used. Any UTF-8 text without NUL is carried.

use super::check::{self, NameRule};
use super::sink::{self, Sink};
use super::Format;
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::DotenvCompose;

pub(super) fn render(vars: &[Var]) -> Result<SecretString> {
    let mut items = Vec::with_capacity(vars.len());
    for var in vars {
        check::name(FORMAT, &var.name, NameRule::Dotted)?;
        let value = check::text(FORMAT, var)?;
        check::no_nul(FORMAT, &var.name, value)?;
        items.push((var.name.as_str(), value));
    }
    Ok(sink::build(|out: &mut dyn Sink| {
        for (name, value) in &items {
            out.text(name);
            out.text("=\"");
            let mut rest = *value;
            while let Some(at) = rest.find(['\\', '"', '$', '\n', '\r']) {
                out.text(&rest[..at]);
                out.text(match rest.as_bytes()[at] {
                    b'\\' => "\\\\",
                    b'"' => "\\\"",
                    b'$' => "\\$",
                    b'\n' => "\\n",
                    _ => "\\r",
                });
                rest = &rest[at + 1..];
            }
            out.text(rest);
            out.text("\"\n");
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    #[test]
    fn everything_is_double_quoted_with_dollar_escaped() {
        let var = Var {
            name: "A".into(),
            value: SecretValue::from_str_copy("${X} \"q\" C:\\dir\\\r\n"),
        };
        let out = render(&[var]).unwrap();
        assert_eq!(out.expose(), "A=\"\\${X} \\\"q\\\" C:\\\\dir\\\\\\r\\n\"\n");
    }
}
