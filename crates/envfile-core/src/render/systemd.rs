//! `systemd`: `NAME="value"` lines for `EnvironmentFile=`.
//!
//! systemd.exec(5), EnvironmentFile=: "a double-quoted value after the `=` can span multiple
//! lines and may contain any character verbatim other than double quote, or backslash, like
//! double-quoted strings in a shell. Backslash followed by any of `"\`$` will preserve that
//! character. Backslash followed by newline is a line continuation, and the newline itself is
//! discarded. Backslash followed by any other character is ignored; both the backslash and the
//! following character are preserved verbatim." (`parse_env_file_internal` in
//! src/basic/env-file.c implements exactly this.) So we escape `"`, `\`, `` ` `` and `$` and
//! write everything else — newlines, CR, tabs included — verbatim inside double quotes.
//!
//! The same page: "The file must be UTF-8 encoded. Valid characters are unicode scalar values
//! other than unicode noncharacters, U+0000 NUL, and U+FEFF unicode byte order mark." systemd
//! skips an assignment whose value breaks this (its UTF-8 check also rejects U+FDD0..U+FDEF
//! and every U+xxFFFE/U+xxFFFF), so those values are errors here rather than a variable that
//! silently goes missing. Names follow `env_name_is_valid`: `[A-Za-z_][A-Za-z0-9_]*`.
//!
//! systemd releases before ~v247 also dropped values holding control characters other than
//! tab; current ones accept them, and that is what we target.

use super::check::{self, NameRule};
use super::sink::{self, Sink};
use super::Format;
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::Systemd;

pub(super) fn render(vars: &[Var]) -> Result<SecretString> {
    let mut items = Vec::with_capacity(vars.len());
    for var in vars {
        check::name(FORMAT, &var.name, NameRule::Posix)?;
        let value = check::text(FORMAT, var)?;
        check::no_nul(FORMAT, &var.name, value)?;
        if let Some((at, c)) = value.char_indices().find(|&(_, c)| refused(c)) {
            let what = if c == '\u{feff}' {
                "U+FEFF (byte order mark)".to_string()
            } else {
                format!("the Unicode noncharacter U+{:04X}", u32::from(c))
            };
            return Err(check::unrepresentable(
                FORMAT,
                &var.name,
                &what,
                at,
                "systemd ignores such an assignment; use --format shell with a wrapper script, \
                 or LoadCredential= for binary secrets",
            ));
        }
        items.push((var.name.as_str(), value));
    }
    Ok(sink::build(|out| {
        for (name, value) in &items {
            out.text(name);
            out.text("=\"");
            write_escaped(out, value);
            out.text("\"\n");
        }
    }))
}

/// Characters systemd's EnvironmentFile= parser does not accept in a value.
fn refused(c: char) -> bool {
    let code = u32::from(c);
    c == '\u{feff}' || (0xfdd0..=0xfdef).contains(&code) || code & 0xfffe == 0xfffe
}

fn write_escaped(out: &mut dyn Sink, value: &str) {
    let mut rest = value;
    while let Some(at) = rest.find(['"', '\\', '`', '$']) {
        out.text(&rest[..at]);
        out.text("\\");
        out.text(&rest[at..at + 1]);
        rest = &rest[at + 1..];
    }
    out.text(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretValue;

    #[test]
    fn escapes_only_what_double_quotes_need() {
        assert!(refused('\u{1fffe}'));
        assert!(refused('\u{fdd0}'));
        assert!(!refused('\u{fffd}'));
        let vars = [Var {
            name: "A".into(),
            value: SecretValue::from_str_copy("$x `y` \"z\" \\ \n'\r\t"),
        }];
        let out = render(&vars).unwrap();
        assert_eq!(out.expose(), "A=\"\\$x \\`y\\` \\\"z\\\" \\\\ \n'\r\t\"\n");
    }
}
