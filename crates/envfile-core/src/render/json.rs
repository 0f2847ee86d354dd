//! `json`: one object, variables in the given order, pretty-printed with two-space indents (one
//! variable per line, so diffs and `jq` both stay readable), ending in a newline.
//!
//! The escaping is written here rather than through serde_json so the value goes straight into
//! the pre-sized output instead of through an intermediate, un-zeroized buffer. JSON strings can
//! carry any Unicode text (NUL as `\u0000`), so only non-UTF-8 values are refused.

use super::check;
use super::sink::{self, Sink};
use super::Format;
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::Json;

pub(super) fn render(vars: &[Var]) -> Result<SecretString> {
    let items = check::any_name_texts(FORMAT, vars)?;
    Ok(sink::build(|out| {
        if items.is_empty() {
            out.text("{}\n");
            return;
        }
        out.text("{\n");
        for (i, (name, value)) in items.iter().enumerate() {
            out.text("  ");
            write_string(out, name);
            out.text(": ");
            write_string(out, value);
            out.text(if i + 1 < items.len() { ",\n" } else { "\n" });
        }
        out.text("}\n");
    }))
}

/// A JSON string literal (RFC 8259 §7): `"` and `\` escaped, control characters as escapes.
pub(super) fn write_string(out: &mut dyn Sink, s: &str) {
    out.text("\"");
    let mut rest = s;
    while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        out.text(&rest[..at]);
        let b = rest.as_bytes()[at];
        match b {
            b'"' => out.text("\\\""),
            b'\\' => out.text("\\\\"),
            b'\n' => out.text("\\n"),
            b'\r' => out.text("\\r"),
            b'\t' => out.text("\\t"),
            0x08 => out.text("\\b"),
            0x0c => out.text("\\f"),
            _ => {
                out.text("\\u00");
                out.text(hex2(b).as_str());
            }
        }
        rest = &rest[at + 1..];
    }
    out.text(rest);
    out.text("\"");
}

/// Two uppercase hex digits (escapes only ever carry control characters, never a whole secret).
pub(super) fn hex2(b: u8) -> HexByte {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    HexByte([DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
}

/// A byte as two hex digits, without allocating.
pub(super) struct HexByte([u8; 2]);

impl HexByte {
    pub(super) fn as_str(&self) -> &str {
        // Both bytes come from the ASCII digit table.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    #[test]
    fn exact_output() {
        let vars = [
            Var {
                name: "B".into(),
                value: SecretValue::from_str_copy("q\"\\\n\u{1}é"),
            },
            Var {
                name: "A".into(),
                value: SecretValue::from_str_copy(""),
            },
        ];
        let out = render(&vars).unwrap();
        assert_eq!(
            out.expose(),
            "{\n  \"B\": \"q\\\"\\\\\\n\\u0001é\",\n  \"A\": \"\"\n}\n"
        );
        assert_eq!(render(&[]).unwrap().expose(), "{}\n");
    }
}
