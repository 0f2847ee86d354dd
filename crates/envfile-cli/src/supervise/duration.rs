//! Durations on the command line: `500ms`, `10s`, `2m`, `1h`, or sums like `1m30s`.

use std::time::Duration;

/// Parse a duration for clap. A bare number is refused: `30` could mean seconds or
/// milliseconds, and a wrong guess turns a poll interval into a tight loop.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("invalid duration `{text}`: use a number with a unit (ms, s, m, h), e.g. 500ms, 10s, 2m or 1m30s")
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = total.saturating_add(part);
    }
    Ok(total)
}

/// A non-zero duration (poll intervals: zero would spin).
pub fn parse_nonzero(text: &str) -> Result<Duration, String> {
    match parse(text)? {
        d if d.is_zero() => Err(format!("`{text}` must be longer than zero")),
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_sums() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_bare_numbers_and_unknown_units() {
        for bad in ["", "30", "s", "10 s", "1.5s", "10sec", "-1s", "ms10"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_nonzero("0ms").is_err());
    }
}
