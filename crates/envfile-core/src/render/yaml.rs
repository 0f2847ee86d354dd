//! `yaml`: a block mapping, every key and value a double-quoted scalar on one line.
//!
//! Double quotes are the one YAML style that can carry any text: nothing is trimmed, folded or
//! typed (`"on"`, `"0x1F"`, `"~"` stay strings), and escapes exist for every character. We
//! escape `"` and `\`, every C0/C1 control character and DEL (line breaks included, so a value
//! never spans lines), and the characters YAML 1.1 readers treat as line breaks or byte-order
//! marks or do not allow in a stream: U+0085, U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF. The rest
//! of Unicode is written as is. Checked against PyYAML's `safe_load` in `tests/render_yaml.rs`.

use super::check;
use super::json::hex2;
use super::sink::{self, Sink};
use super::Format;
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::Yaml;

/// Keys longer than this use YAML's explicit `? key` form: a plain `key: value` line may hold at
/// most 1024 characters before the `:` (YAML 1.1/1.2 "simple keys"), and escapes can quadruple.
const SIMPLE_KEY_MAX: usize = 128;

pub(super) fn render(vars: &[Var]) -> Result<SecretString> {
    let items = check::any_name_texts(FORMAT, vars)?;
    Ok(sink::build(|out| {
        if items.is_empty() {
            out.text("{}\n");
            return;
        }
        for (name, value) in &items {
            write_entry(out, "", name, |out| write_scalar(out, value));
        }
    }))
}

/// One mapping entry at `indent`: `"key": value`, or the explicit form for long keys.
pub(super) fn write_entry(
    out: &mut dyn Sink,
    indent: &str,
    key: &str,
    value: impl FnOnce(&mut dyn Sink),
) {
    out.text(indent);
    if key.len() > SIMPLE_KEY_MAX {
        out.text("? ");
        write_scalar(out, key);
        out.text("\n");
        out.text(indent);
        out.text(": ");
    } else {
        write_scalar(out, key);
        out.text(": ");
    }
    value(out);
    out.text("\n");
}

/// A double-quoted YAML scalar holding exactly `s`.
pub(super) fn write_scalar(out: &mut dyn Sink, s: &str) {
    out.text("\"");
    let mut rest = s;
    while let Some((at, c)) = rest.char_indices().find(|&(_, c)| needs_escape(c)) {
        out.text(&rest[..at]);
        write_escape(out, c);
        rest = &rest[at + c.len_utf8()..];
    }
    out.text(rest);
    out.text("\"");
}

fn needs_escape(c: char) -> bool {
    matches!(c,
        '"' | '\\'
        | '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{2028}' | '\u{2029}'
        | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

fn write_escape(out: &mut dyn Sink, c: char) {
    let short = match c {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        _ => "",
    };
    if !short.is_empty() {
        out.text(short);
        return;
    }
    let code = u32::from(c);
    if let Ok(b) = u8::try_from(code) {
        out.text("\\x");
        out.text(hex2(b).as_str());
    } else {
        // Only BMP characters reach here (see `needs_escape`).
        out.text("\\u");
        out.text(hex2((code >> 8) as u8).as_str());
        out.text(hex2((code & 0xff) as u8).as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    fn scalar(s: &str) -> String {
        let mut out = String::new();
        write_scalar(&mut out, s);
        out
    }

    #[test]
    fn escapes() {
        assert_eq!(scalar("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            scalar("\0\u{7}\t\n\r\u{1b}\u{1}\u{7f}"),
            r#""\0\a\t\n\r\e\x01\x7F""#
        );
        assert_eq!(
            scalar("\u{85}\u{2028}\u{2029}\u{feff}\u{ffff}"),
            r#""\x85\u2028\u2029\uFEFF\uFFFF""#
        );
        assert_eq!(scalar("é 😀 \u{202e}"), "\"é 😀 \u{202e}\"");
    }

    #[test]
    fn mapping_and_long_keys() {
        let long = "K".repeat(200);
        let vars = [
            Var {
                name: "on".into(),
                value: SecretValue::from_str_copy("yes"),
            },
            Var {
                name: long.clone(),
                value: SecretValue::from_str_copy(""),
            },
        ];
        let out = render(&vars).unwrap();
        assert_eq!(
            out.expose(),
            format!("\"on\": \"yes\"\n? \"{long}\"\n: \"\"\n")
        );
        assert_eq!(render(&[]).unwrap().expose(), "{}\n");
    }
}
