//! Durations as people write them in configs, query strings and on the command line: `250ms`,
//! `30s`, `5m`, `2h`, `1d`, fractions (`1.5s`) and sums (`1m30s`). One parser for every place
//! envfile reads a duration, so `envfile run --interval`, `[broker] ttl` and `?wait=` agree on
//! what `1m30s` means — and none of them can overflow: every step is checked arithmetic, and a
//! duration longer than [`MAX`] is refused (a deadline `now + d` must stay representable).

use std::fmt;
use std::time::Duration;

/// The longest duration accepted: 100 years. Longer ones are typos, and `Instant + d` panics
/// on overflow, so they are refused here rather than wherever they end up added to a clock.
pub const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Whether a bare number (no unit) is accepted, and as what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bare {
    /// Refused: `30` could mean seconds or milliseconds, and a wrong guess turns a poll
    /// interval into a tight loop (the command line).
    Refuse,
    /// Seconds (the broker's config and `?wait=`, which always took them).
    Seconds,
}

/// Why a duration was refused. Its `Display` names the text and what to write instead; the
/// caller adds the key or parameter it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    text: String,
    why: Why,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Why {
    Syntax,
    Unit(String),
    TooLong,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text is shown shortened: a query parameter can be as long as a request head.
        let mut shown: String = self.text.chars().take(40).collect();
        if shown.len() < self.text.len() {
            shown.push('…');
        }
        match &self.why {
            Why::Syntax => write!(
                f,
                "`{shown}` is not a duration (write a number with a unit: ms, s, m, h or d, \
                 e.g. 500ms, 30s, 5m or 1m30s)"
            ),
            Why::Unit(u) => write!(
                f,
                "`{shown}`: unknown unit `{u}` (use ms, s, m, h or d, e.g. 500ms, 30s, 5m)"
            ),
            Why::TooLong => write!(f, "`{shown}` is longer than the maximum of 100 years"),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parse a duration: one or more `NUMBER UNIT` terms (`1h30m`, `1.5s`), units `ms`, `s`
/// (`sec`, `secs`), `m` (`min`, `mins`), `h`, `d`; with [`Bare::Seconds`] a lone number is
/// seconds. Surrounding whitespace is ignored; none is allowed inside.
pub fn parse(text: &str, bare: Bare) -> Result<Duration, DurationError> {
    let err = |why| DurationError {
        text: text.to_owned(),
        why,
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(err(Why::Syntax));
    }
    // Nanoseconds, in u128 so no sum of in-range terms can wrap before the MAX check.
    let max = MAX.as_nanos();
    let mut total: u128 = 0;
    let mut rest = s;
    let mut terms = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "" if terms == 0 && next.is_empty() && bare == Bare::Seconds => 1_000_000_000,
            "ms" => 1_000_000,
            "s" | "sec" | "secs" => 1_000_000_000,
            "m" | "min" | "mins" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            "" => return Err(err(Why::Syntax)),
            u if u.chars().all(|c| c.is_ascii_alphabetic()) => {
                return Err(err(Why::Unit(u.chars().take(16).collect())))
            }
            _ => return Err(err(Why::Syntax)),
        };
        let nanos = term_nanos(num, scale, max).ok_or_else(|| {
            if is_number(num) {
                err(Why::TooLong)
            } else {
                err(Why::Syntax)
            }
        })?;
        total = total
            .checked_add(nanos)
            .filter(|t| *t <= max)
            .ok_or_else(|| err(Why::TooLong))?;
        rest = next;
        terms += 1;
    }
    // total <= MAX, which fits a u64 of seconds.
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| err(Why::TooLong))?;
    let sub = u32::try_from(total % 1_000_000_000).map_err(|_| err(Why::TooLong))?;
    Ok(Duration::new(secs, sub))
}

/// Parse a duration that must be longer than zero (poll intervals: zero would spin).
pub fn parse_nonzero(text: &str, bare: Bare) -> Result<Duration, String> {
    match parse(text, bare) {
        Ok(d) if d.is_zero() => Err(format!("`{}` must be longer than zero", text.trim())),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

fn is_number(num: &str) -> bool {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(num.ends_with('.'))
}

/// `num` (`12`, `1.5`) times `scale` nanoseconds, or `None` when it is not a number or the
/// product exceeds `max`. Fractions finer than a nanosecond are dropped.
fn term_nanos(num: &str, scale: u128, max: u128) -> Option<u128> {
    if !is_number(num) {
        return None;
    }
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    // Leading zeros cannot make a number larger; longer digit strings overflow u128 anyway.
    let int = int.trim_start_matches('0');
    if int.len() > 30 {
        return None;
    }
    let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos = whole.checked_mul(scale)?;
    // Each fractional digit d at position i adds d * scale / 10^(i+1).
    let mut div: u128 = 10;
    for b in frac.bytes().take(20) {
        let d = u128::from(b - b'0');
        nanos = nanos.checked_add(d.checked_mul(scale)? / div)?;
        div = div.checked_mul(10)?;
    }
    (nanos <= max).then_some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Duration {
        parse(s, Bare::Refuse).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn units_fractions_and_sums() {
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("10s"), Duration::from_secs(10));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("1d"), Duration::from_secs(86_400));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("1h1m1s1ms"), Duration::from_millis(3_661_001));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("0.25m"), Duration::from_secs(15));
        assert_eq!(ok(" 30secs "), Duration::from_secs(30));
        assert_eq!(ok("5mins"), Duration::from_secs(300));
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("36500d"), MAX);
    }

    #[test]
    fn bare_numbers_only_when_asked() {
        assert!(parse("30", Bare::Refuse).is_err());
        assert_eq!(parse("30", Bare::Seconds), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2.5", Bare::Seconds), Ok(Duration::from_millis(2500)));
        // A bare number is a whole duration, never a term of a sum.
        assert!(parse("1m30", Bare::Seconds).is_err());
    }

    #[test]
    fn garbage_is_refused_with_the_text() {
        for bad in [
            "",
            "s",
            "10 s",
            "-1s",
            "ms10",
            "1..5s",
            ".5s",
            "5.s",
            "5 parsecs",
            "1e3s",
            "NaN",
            "inf",
            "1s-",
        ] {
            let e = parse(bad, Bare::Seconds).expect_err(bad);
            assert!(e.to_string().contains(bad.trim()), "{bad:?}: {e}");
        }
        let e = parse("5 parsecs", Bare::Refuse).unwrap_err().to_string();
        assert!(e.contains("5 parsecs"), "{e}");
        let e = parse("5parsecs", Bare::Refuse).unwrap_err().to_string();
        assert!(e.contains("unknown unit `parsecs`"), "{e}");
    }

    #[test]
    fn overflow_is_an_error_never_a_panic() {
        for huge in [
            "99999999999999999999",
            "99999999999999999999s",
            "18446744073709551616ms",
            "340282366920938463463374607431768211456d",
            "36501d",
            "36500d1ms",
            "99999999999999999999999999999999999999999999999999h",
            "20000000000000000000d20000000000000000000d",
        ] {
            let e = parse(huge, Bare::Seconds).expect_err(huge);
            assert!(
                e.to_string().contains("100 years") || e.to_string().contains("not a duration"),
                "{huge}: {e}"
            );
        }
        // Long texts are shortened in the message.
        let long = "9".repeat(10_000) + "s";
        let e = parse(&long, Bare::Refuse).unwrap_err().to_string();
        assert!(e.len() < 200, "{e}");
    }

    #[test]
    fn nonzero() {
        assert!(parse_nonzero("0ms", Bare::Refuse).is_err());
        assert_eq!(
            parse_nonzero("1ms", Bare::Refuse),
            Ok(Duration::from_millis(1))
        );
    }
}
