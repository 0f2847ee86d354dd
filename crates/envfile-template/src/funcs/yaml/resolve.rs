//! What a plain YAML scalar means to gopkg.in/yaml.v2 (YAML 1.1 rules): `yes`/`on`/`off` are
//! booleans, `~` and the empty string null, `0x1F`, `0o17`, `017` and `1_000` integers,
//! `2024-01-02` a timestamp (decoded as its text), `<<` a merge key. The encoder quotes a string
//! exactly when it would read back as something else, so both directions share this.

/// What a plain scalar resolves to.
#[derive(Debug, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (Go's `uint64`).
    Uint(u64),
    Float(f64),
    /// A timestamp: yaml.v2 decodes it into an `interface{}` as its text.
    Timestamp,
    /// The merge key `<<`.
    Merge,
    Str,
}

/// yaml.v2's `resolve("", s)`.
pub(crate) fn resolve(s: &str) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        "<<" => return Resolved::Merge,
        _ => {}
    }
    match first {
        b'.' => match parse_float(s) {
            Some(f) => Resolved::Float(f),
            None => Resolved::Str,
        },
        b'+' | b'-' | b'0'..=b'9' => {
            if is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain = s.replace('_', "");
            if let Some(i) = parse_int_base0(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = parse_uint_base0(&plain) {
                return Resolved::Uint(u);
            }
            if yaml_style_float(&plain) {
                if let Some(f) = parse_float(&plain) {
                    return Resolved::Float(f);
                }
            }
            if let Some(bin) = plain.strip_prefix("0b") {
                if let Ok(i) = i64::from_str_radix(bin, 2) {
                    if !bin.starts_with(['+', '-']) {
                        return Resolved::Int(i);
                    }
                }
                if let Ok(u) = u64::from_str_radix(bin, 2) {
                    if !bin.starts_with('+') {
                        return Resolved::Uint(u);
                    }
                }
            } else if let Some(bin) = plain.strip_prefix("-0b") {
                if !bin.starts_with(['+', '-']) {
                    if let Ok(i) = i64::from_str_radix(&format!("-{bin}"), 2) {
                        return Resolved::Int(i);
                    }
                }
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

/// Whether the encoder may write `s` unquoted (it reads back as the same string).
pub(crate) fn resolves_to_str(s: &str) -> bool {
    resolve(s) == Resolved::Str
}

/// YAML 1.1 base-60 floats (`1:20`, `190:20:30.15`): yaml.v2 does not parse them but quotes them.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&c) = b.first() else { return false };
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let mut i = usize::from(c == b'+' || c == b'-');
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && i < start + 2 && b[i].is_ascii_digit() {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            2 => return false,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first().is_some_and(|c| *c == b'+' || *c == b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat(s, 64)` for decimal text: None on a syntax error or out of range.
fn parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    // Rust also reads `inf`/`nan` spellings that cannot reach here with YAML's hints, and
    // Go's hexadecimal floats are not decimal: keep to digits, sign, point and exponent.
    if !lower
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// `strconv.ParseInt(s, 0, 64)`.
fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint_base0(body)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            Some((u as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)` (no sign).
fn parse_uint_base0(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (radix, digits) = if b.first() == Some(&b'0') && b.len() > 1 {
        match b[1] {
            b'x' | b'X' => (16, &s[2..]),
            b'o' | b'O' => (8, &s[2..]),
            b'b' | b'B' => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// yaml.v2's `parseTimestamp`: `YYYY-M-D`, optionally followed by `T`/`t`/space and `h:m:s`
/// with an optional fraction and (not after a space) `Z` or `±hh:mm`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let num = |i: &mut usize| -> Option<u32> {
        let start = *i;
        if !b.get(*i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        *i += 1;
        if b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        std::str::from_utf8(&b[start..*i]).ok()?.parse().ok()
    };
    let year: u32 = s[..4].parse().unwrap_or(0);
    let Some(month) = num(&mut i) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i) else { return false };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    let (Some(h), true, Some(m), true, Some(sec)) = (
        num(&mut i),
        b.get(i) == Some(&b':') && {
            i += 1;
            true
        },
        num(&mut i),
        b.get(i) == Some(&b':') && {
            i += 1;
            true
        },
        num(&mut i),
    ) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if sep == b' ' {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let z = &b[i + 1..];
            z.len() == 5
                && z[2] == b':'
                && z[..2].iter().all(u8::is_ascii_digit)
                && z[3..].iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_scalars() {
        assert_eq!(resolve("yes"), Resolved::Bool(true));
        assert_eq!(resolve("Off"), Resolved::Bool(false));
        assert_eq!(resolve(""), Resolved::Null);
        assert_eq!(resolve("0x1F"), Resolved::Int(31));
        assert_eq!(resolve("017"), Resolved::Int(15));
        assert_eq!(resolve("1_000"), Resolved::Int(1000));
        assert_eq!(resolve("08"), Resolved::Float(8.0));
        assert_eq!(resolve("-0b11"), Resolved::Int(-3));
        assert_eq!(resolve("18446744073709551615"), Resolved::Uint(u64::MAX));
        assert_eq!(resolve(".5"), Resolved::Float(0.5));
        assert_eq!(resolve("1e400"), Resolved::Str);
        assert_eq!(resolve("2024-01-02"), Resolved::Timestamp);
        assert_eq!(resolve("2024-1-2T3:04:05.5Z"), Resolved::Timestamp);
        assert_eq!(resolve("2024-02-30"), Resolved::Str);
        assert_eq!(resolve("12ab"), Resolved::Str);
        assert_eq!(resolve("Yes please"), Resolved::Str);
        assert!(is_base60_float("12:30"));
        assert!(is_base60_float("190:20:30.15"));
        assert!(!is_base60_float("12:60"));
        assert!(!is_base60_float("a:1"));
    }
}
