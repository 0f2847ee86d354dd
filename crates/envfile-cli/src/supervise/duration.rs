//! Durations on the command line (`500ms`, `10s`, `2m`, `1h`, `1m30s`), read by the one parser
//! every envfile duration goes through ([`envfile_core::duration`]). A bare number is refused:
//! `30` could mean seconds or milliseconds, and a wrong guess turns a poll interval into a
//! tight loop.

use envfile_core::duration::{self, Bare};
use std::time::Duration;

/// Parse a duration for clap.
pub fn parse(text: &str) -> Result<Duration, String> {
    duration::parse(text, Bare::Refuse).map_err(|e| e.to_string())
}

/// A non-zero duration (poll intervals: zero would spin).
pub fn parse_nonzero(text: &str) -> Result<Duration, String> {
    duration::parse_nonzero(text, Bare::Refuse)
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
    fn refuses_bare_numbers_unknown_units_and_overflow() {
        for bad in ["", "30", "s", "10 s", "-1s", "ms10", "10parsecs"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_nonzero("0ms").is_err());
        // Used to saturate silently; now it says what is wrong.
        let e = parse("99999999999999999999h").unwrap_err();
        assert!(e.contains("100 years"), "{e}");
    }
}
