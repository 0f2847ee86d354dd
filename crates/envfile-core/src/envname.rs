//! Environment variable names: what a shell, `env`, Docker and systemd all accept.

/// Whether `name` is a portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
///
/// POSIX allows more in `environ`, but `sh` cannot `export` anything else and most env-file
/// readers reject it, so we hold every name to the shell's rule.
pub(crate) fn is_valid(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `name` is not valid, for messages (assumes `!is_valid(name)`).
pub(crate) fn why_invalid(name: &str) -> &'static str {
    match name.chars().next() {
        None => "it is empty",
        Some(c) if c.is_ascii_digit() => "it starts with a digit",
        _ => "it may only hold ASCII letters, digits and `_`",
    }
}

/// A prefix for generated names must itself be a name, or empty.
pub(crate) fn is_valid_prefix(prefix: &str) -> bool {
    prefix.is_empty() || is_valid(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_shell_names_only() {
        for ok in ["A", "_", "_A1", "DATABASE_URL", "lower_case", "x9"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A.B", "A B", "É", "A=B", "$A"] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert_eq!(why_invalid("1A"), "it starts with a digit");
        assert_eq!(why_invalid(""), "it is empty");
        assert!(is_valid_prefix("") && is_valid_prefix("APP_") && !is_valid_prefix("9_"));
    }
}
