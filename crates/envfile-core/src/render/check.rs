//! Checks shared by the renderers (which names a format can carry, values as text) and the
//! errors they raise. Errors name the variable and a byte offset, never the value.

use super::Format;
use crate::error::{Error, ErrorKind, Result};
use crate::resolver::Var;
use std::collections::HashSet;

/// Which variable names a format can carry.
#[derive(Debug, Clone, Copy)]
pub(super) enum NameRule {
    /// `[A-Za-z_][A-Za-z0-9_]*`: what sh, bash, dash and systemd accept.
    Posix,
    /// `[A-Za-z_][A-Za-z0-9_.-]*`: line-based env files whose readers split on `=` and whitespace.
    Dotted,
    /// Any non-empty name (the format quotes it).
    Any,
}

impl NameRule {
    fn accepts(self, name: &str) -> bool {
        let mut chars = name.chars();
        let Some(first) = chars.next() else {
            return false;
        };
        match self {
            NameRule::Posix => {
                (first.is_ascii_alphabetic() || first == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            }
            NameRule::Dotted => {
                (first.is_ascii_alphabetic() || first == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            }
            NameRule::Any => true,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            NameRule::Posix => "a letter or `_` followed by letters, digits and `_`",
            NameRule::Dotted => "a letter or `_` followed by letters, digits, `_`, `.` and `-`",
            NameRule::Any => "a non-empty name",
        }
    }
}

/// A variable name as it can be shown in a message: escaped and cut short, since a name that
/// fails validation may hold anything.
pub fn shown(name: &str) -> String {
    let escaped: String = name.escape_debug().collect();
    if escaped.chars().count() > 80 {
        let cut: String = escaped.chars().take(80).collect();
        format!("{cut}…")
    } else {
        escaped
    }
}

/// Refuse a name `format` cannot carry.
pub(super) fn name(format: Format, name: &str, rule: NameRule) -> Result<()> {
    if rule.accepts(name) {
        return Ok(());
    }
    Err(invalid_name(
        format,
        name,
        &format!("must be {}", rule.describe()),
    ))
}

/// An [`ErrorKind::InvalidName`] error for `name` in `format`.
pub(super) fn invalid_name(format: Format, name: &str, rule: &str) -> Error {
    Error::new(
        ErrorKind::InvalidName,
        format!(
            "variable name `{}` cannot be written as {format}: a name {rule}",
            shown(name)
        ),
    )
    .with_hint("rename the variable in the env file's `vars` (or the `expand` prefix/case)")
}

/// Refuse the same name twice: most formats would keep only one, silently.
pub(super) fn unique(format: Format, vars: &[Var]) -> Result<()> {
    let mut seen = HashSet::with_capacity(vars.len());
    for var in vars {
        if !seen.insert(var.name.as_str()) {
            return Err(Error::new(
                ErrorKind::InvalidName,
                format!(
                    "variable `{}` appears twice; {format} output would keep only one of them",
                    shown(&var.name)
                ),
            )
            .with_hint("give each variable one definition (check `vars` against `expand`)"));
        }
    }
    Ok(())
}

/// The value as UTF-8 text, or a [`ErrorKind::NotUtf8`] error naming the variable.
pub(super) fn text(format: Format, var: &Var) -> Result<&str> {
    var.value.expose_str().ok_or_else(|| {
        let at = std::str::from_utf8(var.value.expose_bytes())
            .err()
            .map_or(0, |e| e.valid_up_to());
        Error::new(
            ErrorKind::NotUtf8,
            format!(
                "variable `{}` cannot be written as {format}: its value is not UTF-8 (invalid byte at offset {at})",
                shown(&var.name)
            ),
        )
        .with_hint("binary values fit only `--format k8s-secret`; otherwise store the value base64-encoded and decode it in the app")
    })
}

/// Each variable as `(name, text)`, in order, for formats that accept any name.
pub(super) fn any_name_texts(format: Format, vars: &[Var]) -> Result<Vec<(&str, &str)>> {
    vars.iter()
        .map(|var| {
            name(format, &var.name, NameRule::Any)?;
            Ok((var.name.as_str(), text(format, var)?))
        })
        .collect()
}

/// An [`ErrorKind::Unrepresentable`] error: `what` (e.g. "a newline") at byte `at` of the value.
pub(super) fn unrepresentable(
    format: Format,
    var: &str,
    what: &str,
    at: usize,
    hint: &str,
) -> Error {
    Error::new(
        ErrorKind::Unrepresentable,
        format!(
            "variable `{}` cannot be written as {format}: its value contains {what} (at byte {at})",
            shown(var)
        ),
    )
    .with_hint(hint.to_string())
}

/// Refuse a NUL byte: no environment variable can hold one (the C environment is NUL-terminated).
pub(super) fn no_nul(format: Format, var: &str, value: &str) -> Result<()> {
    match value.bytes().position(|b| b == 0) {
        None => Ok(()),
        Some(at) => Err(unrepresentable(
            format,
            var,
            "a NUL byte, which no environment variable can hold",
            at,
            "remove the NUL from the secret, or store it base64-encoded and decode it in the app",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert!(NameRule::Posix.accepts("_A1"));
        assert!(!NameRule::Posix.accepts("1A"));
        assert!(!NameRule::Posix.accepts("A.B"));
        assert!(!NameRule::Posix.accepts(""));
        assert!(NameRule::Dotted.accepts("a.b-c"));
        assert!(!NameRule::Dotted.accepts("-a"));
        assert!(!NameRule::Dotted.accepts("A B"));
        assert!(!NameRule::Dotted.accepts("A=B"));
        assert!(NameRule::Any.accepts("any thing"));
        assert!(!NameRule::Any.accepts(""));
    }

    #[test]
    fn shown_names_are_escaped_and_short() {
        assert_eq!(shown("A\nB"), "A\\nB");
        assert_eq!(shown(&"x".repeat(200)).chars().count(), 81);
    }
}
