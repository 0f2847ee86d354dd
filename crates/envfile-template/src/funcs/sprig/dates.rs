//! Sprig's date functions that work on Unix seconds and strings: `date dateInZone htmlDate
//! htmlDateInZone` (Go reference layouts: `2006-01-02 15:04:05`), `duration durationRound`,
//! and `now`. A date argument that is not an integer means "now", as in sprig.
//!
//! envfile has no Go `time.Time` value yet, so the functions that take or return one as a value
//! (`toDate mustToDate unixEpoch dateModify mustDateModify ago`) are refused by name, and zones
//! other than UTC (and `Local` when the system zone is UTC) are refused rather than guessed.

use super::{arity, not_supported, str_arg};
use crate::funcs::{Def, R};
use crate::value::Value;
use std::time::{SystemTime, UNIX_EPOCH};

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_date", |a| {
        arity("sprig_date", &a, 2)?;
        date_in_zone(str_arg(&a[0])?, &a[1], "Local")
    }),
    Def::new("sprig_date_in_zone", |a| {
        arity("sprig_date_in_zone", &a, 3)?;
        date_in_zone(str_arg(&a[0])?, &a[1], str_arg(&a[2])?)
    }),
    Def::new("sprig_dateInZone", |a| {
        arity("sprig_dateInZone", &a, 3)?;
        date_in_zone(str_arg(&a[0])?, &a[1], str_arg(&a[2])?)
    }),
    Def::new("sprig_htmlDate", |a| {
        arity("sprig_htmlDate", &a, 1)?;
        date_in_zone("2006-01-02", &a[0], "Local")
    }),
    Def::new("sprig_htmlDateInZone", |a| {
        arity("sprig_htmlDateInZone", &a, 2)?;
        date_in_zone("2006-01-02", &a[0], str_arg(&a[1])?)
    }),
    Def::new("sprig_now", |a| {
        arity("sprig_now", &a, 0)?;
        // Go prints a time.Time with its monotonic reading (`m=+SECONDS` since process start).
        let (secs, nanos) = now();
        let t = format(secs, nanos, "2006-01-02 15:04:05.999999999 -0700 MST");
        let mono = process_start().elapsed();
        Ok(Value::str(format!(
            "{t} m=+{}.{:09}",
            mono.as_secs(),
            mono.subsec_nanos()
        )))
    }),
    Def::new("sprig_duration", |a| {
        arity("sprig_duration", &a, 1)?;
        // Sprig reads a string or an int64; anything else (a JSON number) is 0 seconds. envfile
        // has one integer type: it is taken as the int64 sprig's own arithmetic returns (Go
        // gives "0s" for an `int` constant, which a working template does not rely on).
        let n = match &a[0] {
            Value::Str(s) => s.parse::<i64>().unwrap_or(0),
            Value::Int(i) => *i,
            _ => 0,
        };
        Ok(Value::str(duration_string(n.wrapping_mul(1_000_000_000))))
    }),
    Def::new("sprig_durationRound", |a| {
        arity("sprig_durationRound", &a, 1)?;
        // A string is parsed; an integer is taken as an int64 of nanoseconds (see duration).
        let d = match &a[0] {
            Value::Str(s) => parse_duration(s).unwrap_or(0),
            Value::Int(i) => *i,
            _ => 0,
        };
        Ok(Value::str(duration_round(d)))
    }),
    Def::new("sprig_toDate", |_| Err(refuse("sprig_toDate"))),
    Def::new("sprig_mustToDate", |_| Err(refuse("sprig_mustToDate"))),
    Def::new("sprig_unixEpoch", |_| Err(refuse("sprig_unixEpoch"))),
    Def::new("sprig_dateModify", |_| Err(refuse("sprig_dateModify"))),
    Def::new("sprig_date_modify", |_| Err(refuse("sprig_date_modify"))),
    Def::new("sprig_mustDateModify", |_| {
        Err(refuse("sprig_mustDateModify"))
    }),
    Def::new("sprig_must_date_modify", |_| {
        Err(refuse("sprig_must_date_modify"))
    }),
    Def::new("sprig_ago", |_| Err(refuse("sprig_ago"))),
];

fn refuse(name: &str) -> String {
    not_supported(name, "it takes or returns a Go time.Time value")
}

fn process_start() -> &'static std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now)
}

fn now() -> (i64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_nanos(),
    )
}

/// Whether the system's local zone is UTC (Go's `Local` then prints as UTC).
fn local_is_utc() -> bool {
    match std::env::var("TZ") {
        Ok(tz) => matches!(tz.as_str(), "" | "UTC" | "Etc/UTC" | ":UTC" | "UTC0"),
        Err(_) => match std::fs::canonicalize("/etc/localtime") {
            Ok(p) => {
                let p = p.to_string_lossy();
                p.ends_with("/UTC") || p.ends_with("/UCT") || p.ends_with("/Zulu")
            }
            // No zone file: Go uses UTC.
            Err(_) => true,
        },
    }
}

fn date_in_zone(layout: &str, date: &Value, zone: &str) -> R {
    let (secs, nanos) = match date {
        Value::Int(i) => (*i, 0),
        _ => now(),
    };
    let utc = match zone {
        "" | "UTC" => true,
        "Local" => local_is_utc(),
        // Go falls back to UTC for a zone it cannot load.
        z => !zone_exists(z),
    };
    if !utc {
        return Err(not_supported(
            "time zones other than UTC",
            &format!("zone {zone:?}"),
        ));
    }
    Ok(Value::str(format(secs, nanos, layout)))
}

fn zone_exists(z: &str) -> bool {
    !z.contains("..")
        && !z.starts_with('/')
        && std::path::Path::new("/usr/share/zoneinfo")
            .join(z)
            .is_file()
}

use crate::funcs::time::{civil, MONTHS};

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Go's `Time.Format` for a UTC time.
fn format(secs: i64, nanos: u32, layout: &str) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    let (hour, min, sec) = (sod / 3600, (sod / 60) % 60, sod % 60);
    let weekday = (days + 4).rem_euclid(7) as usize;
    let yday = {
        let (y0, _, _) = (year, 1, 1);
        let jan1 = days_from_civil(y0, 1, 1);
        days - jan1 + 1
    };
    let b = layout.as_bytes();
    let mut out = String::with_capacity(layout.len() + 8);
    let mut i = 0;
    let at = |i: usize, s: &str| layout[i..].starts_with(s);
    while i < b.len() {
        let c = b[i];
        let (n, text): (usize, String) = match c {
            b'J' if at(i, "January") => (7, MONTHS[month as usize - 1].into()),
            b'J' if at(i, "Jan") => (3, MONTHS[month as usize - 1][..3].into()),
            b'M' if at(i, "Monday") => (6, DAYS[weekday].into()),
            b'M' if at(i, "Mon") => (3, DAYS[weekday][..3].into()),
            b'M' if at(i, "MST") => (3, "UTC".into()),
            b'0' if at(i, "002") => (3, format!("{yday:03}")),
            b'0' if b.get(i + 1).is_some_and(|d| (b'1'..=b'6').contains(d)) => match b[i + 1] {
                b'1' => (2, format!("{month:02}")),
                b'2' => (2, format!("{day:02}")),
                b'3' => (2, format!("{:02}", twelve(hour))),
                b'4' => (2, format!("{min:02}")),
                b'5' => (2, format!("{sec:02}")),
                _ => (2, format!("{:02}", year.rem_euclid(100))),
            },
            b'1' if at(i, "15") => (2, format!("{hour:02}")),
            b'1' => (1, month.to_string()),
            b'2' if at(i, "2006") => (4, year_text(year)),
            b'2' => (1, day.to_string()),
            b'_' if at(i, "_2006") => (5, format!("_{}", year_text(year))),
            b'_' if at(i, "_2") => (2, format!("{day:>2}")),
            b'_' if at(i, "__2") => (3, format!("{yday:>3}")),
            b'3' => (1, twelve(hour).to_string()),
            b'4' => (1, min.to_string()),
            b'5' => (1, sec.to_string()),
            b'P' if at(i, "PM") => (2, if hour >= 12 { "PM" } else { "AM" }.into()),
            b'p' if at(i, "pm") => (2, if hour >= 12 { "pm" } else { "am" }.into()),
            b'-' | b'Z' => {
                let z = c == b'Z';
                let rest = &layout[i + 1..];
                let found = ["070000", "07:00:00", "0700", "07:00", "07"]
                    .into_iter()
                    .find(|p| rest.starts_with(p));
                match found {
                    Some(p) if z => (p.len() + 1, "Z".into()),
                    Some(p) => (p.len() + 1, format!("+{}", p.replace('7', "0"))),
                    None => (1, (c as char).to_string()),
                }
            }
            b'.' | b',' if b.get(i + 1).is_some_and(|d| *d == b'0' || *d == b'9') => {
                let digit = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == digit {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    (1, (c as char).to_string())
                } else {
                    let width = (j - i - 1).min(9);
                    let digits = format!("{nanos:09}");
                    let mut frac = digits[..width].to_owned();
                    if digit == b'9' {
                        frac = frac.trim_end_matches('0').to_owned();
                    }
                    let text = if frac.is_empty() {
                        String::new()
                    } else {
                        format!("{}{frac}", c as char)
                    };
                    (j - i, text)
                }
            }
            _ => {
                // A literal: copy one whole character.
                let ch = layout[i..].chars().next().unwrap_or(' ');
                (ch.len_utf8(), ch.to_string())
            }
        };
        out.push_str(&text);
        i += n;
    }
    out
}

fn twelve(hour: i64) -> i64 {
    match hour % 12 {
        0 => 12,
        h => h,
    }
}

/// Go's `2006`: at least four digits, a sign for negative years.
fn year_text(y: i64) -> String {
    if y < 0 {
        format!("-{:04}", -y)
    } else {
        format!("{y:04}")
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Go's `Duration.String` (`1h2m3s`, `1.5s`, `250ms`, `0s`).
pub(super) fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < 1_000_000_000 {
        let (unit, prec) = match u {
            0 => return "0s".into(),
            1..=999 => ("ns", 0),
            1_000..=999_999 => ("µs", 3),
            _ => ("ms", 6),
        };
        let (int, frac) = split_frac(u, prec);
        return format!("{sign}{int}{frac}{unit}");
    }
    let (secs, frac) = split_frac(u, 9);
    u = secs;
    let s = u % 60;
    u /= 60;
    let mut out = format!("{s}{frac}s");
    if u > 0 {
        out = format!("{}m{out}", u % 60);
        u /= 60;
        if u > 0 {
            out = format!("{u}h{out}");
        }
    }
    format!("{sign}{out}")
}

/// `v / 10^prec` and its fraction as `.ddd` without trailing zeros (empty when zero).
fn split_frac(v: u64, prec: u32) -> (u64, String) {
    let p = 10u64.pow(prec);
    let frac = v % p;
    if frac == 0 {
        return (v / p, String::new());
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (v / p, format!(".{}", digits.trim_end_matches('0')))
}

/// Go's `time.ParseDuration` (`1h30m`, `1.5s`, `-2m`, `300ms`); None where Go errs.
fn parse_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int: u128 = if int_len > 0 {
            rest[..int_len].parse().ok()?
        } else {
            0
        };
        rest = &rest[int_len..];
        let mut frac = "";
        if let Some(r) = rest.strip_prefix('.') {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            frac = &r[..n];
            rest = &r[n..];
            if int_len == 0 && n == 0 {
                return None;
            }
        } else if int_len == 0 {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let mut v = int.checked_mul(unit)?;
        if !frac.is_empty() {
            let digits = &frac[..frac.len().min(18)];
            let f: u128 = digits.parse().ok()?;
            v += f * unit / 10u128.pow(digits.len() as u32);
        }
        total = total.checked_add(v)?;
    }
    let limit = if neg { 1u128 << 63 } else { (1u128 << 63) - 1 };
    if total > limit {
        return None;
    }
    let t = total as i128;
    i64::try_from(if neg { -t } else { t }).ok()
}

/// Sprig's `durationRound`: the largest whole unit (`y mo d h m s`, 365 and 30-day years and
/// months) the magnitude exceeds.
fn duration_round(d: i64) -> String {
    let u = d.unsigned_abs();
    const S: u64 = 1_000_000_000;
    for (unit, name) in [
        (S * 3600 * 24 * 365, "y"),
        (S * 3600 * 24 * 30, "mo"),
        (S * 3600 * 24, "d"),
        (S * 3600, "h"),
        (S * 60, "m"),
        (S, "s"),
    ] {
        if u > unit {
            return format!("{}{name}", u / unit);
        }
    }
    "0s".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::test_util::{run, s};

    #[test]
    fn go_layouts() {
        // 2009-02-13 23:31:30 UTC, a Friday, day 44.
        let t = 1_234_567_890;
        for (layout, want) in [
            ("2006-01-02 15:04:05", "2009-02-13 23:31:30"),
            (
                "Mon Jan _2 3:4:5 PM MST 2006",
                "Fri Feb 13 11:31:30 PM UTC 2009",
            ),
            (
                "Monday, January 2, 06 002 __2",
                "Friday, February 13, 09 044  44",
            ),
            ("2006-01-02T15:04:05Z07:00", "2009-02-13T23:31:30Z"),
            ("-0700 -07:00 -07 pm", "+0000 +00:00 +00 pm"),
            ("05.000 05.999 05,00", "30.000 30 30,00"),
            ("_2006 x", "_2009 x"),
        ] {
            assert_eq!(format(t, 0, layout), want, "{layout}");
        }
        assert_eq!(format(0, 120_000_000, "15:04:05.999999999"), "00:00:00.12");
        assert_eq!(format(-1, 0, "2006-01-02 15:04:05"), "1969-12-31 23:59:59");
        assert_eq!(
            run("sprig_dateInZone", vec![s("2006"), Value::Int(0), s("UTC")]),
            "1970"
        );
        assert_eq!(
            run(
                "sprig_htmlDateInZone",
                vec![Value::Int(86_400 * 365), s("UTC")]
            ),
            "1971-01-01"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(run("sprig_duration", vec![s("95")]), "1m35s");
        assert_eq!(run("sprig_duration", vec![s("3600")]), "1h0m0s");
        assert_eq!(run("sprig_duration", vec![s("0")]), "0s");
        assert_eq!(run("sprig_duration", vec![s("-61")]), "-1m1s");
        assert_eq!(run("sprig_duration", vec![Value::Int(95)]), "1m35s");
        assert_eq!(
            run("sprig_duration", vec![crate::funcs::test_util::j("95")]),
            "0s"
        );
        assert_eq!(
            run("sprig_durationRound", vec![Value::Int(5_000_000_001)]),
            "5s"
        );
        assert_eq!(run("sprig_durationRound", vec![s("2h10m")]), "2h");
        assert_eq!(run("sprig_durationRound", vec![s("-3d")]), "0s");
        assert_eq!(run("sprig_durationRound", vec![s("900h")]), "1mo");
        assert_eq!(run("sprig_durationRound", vec![s("1.5s")]), "1s");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(1_500_000_000), "1.5s");
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration(".5s"), Some(500_000_000));
        assert_eq!(parse_duration("5"), None);
    }

    #[test]
    fn now_has_gos_shape() {
        let n = run("sprig_now", vec![]);
        let re = regex::Regex::new(
            r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? \+0000 UTC m=\+\d+\.\d{9}$",
        )
        .unwrap();
        assert!(re.is_match(&n), "{n}");
    }
}
