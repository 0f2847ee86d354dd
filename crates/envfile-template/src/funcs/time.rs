//! `timestamp`: the current time in UTC, as RFC 3339 (`2006-01-02T15:04:05Z`), as `unix`
//! seconds, or in a Go layout (`timestamp "2006-01-02"`).

use super::{Def, R};
use crate::value::Value;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) const FUNCS: &[Def] = &[Def::new("timestamp", timestamp)];

fn timestamp(args: Vec<Value>) -> R {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "timestamp: the clock is before 1970".to_owned())?;
    let (secs, nanos) = (now.as_secs() as i64, now.subsec_nanos());
    match args.as_slice() {
        [] => Ok(Value::str(format_go(
            secs,
            nanos,
            "2006-01-02T15:04:05Z07:00",
        ))),
        [f] => {
            let f = super::string_arg(f)?;
            if f == "unix" {
                return Ok(Value::str(secs.to_string()));
            }
            Ok(Value::str(format_go(secs, nanos, f)))
        }
        _ => Err(format!(
            "timestamp: wrong number of arguments, expected 0 or 1, but got {}",
            args.len()
        )),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// Go's `time.Format` for a UTC time: the reference-time tokens, longest first.
pub(crate) fn format_go(secs: i64, nanos: u32, layout: &str) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil(days);
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let month = MONTHS[(mo - 1) as usize];
    let weekday = DAYS[days.rem_euclid(7) as usize];
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let tokens: &[(&str, String)] = &[
        ("January", month.to_owned()),
        ("Monday", weekday.to_owned()),
        ("2006", format!("{y:04}")),
        ("Z07:00", "Z".into()),
        ("Z0700", "Z".into()),
        ("-07:00", "+00:00".into()),
        ("-0700", "+0000".into()),
        ("-07", "+00".into()),
        ("Jan", month[..3].to_owned()),
        ("Mon", weekday[..3].to_owned()),
        ("MST", "UTC".into()),
        (".000000000", format!(".{nanos:09}")),
        (".000000", format!(".{:06}", nanos / 1000)),
        (".000", format!(".{:03}", nanos / 1_000_000)),
        (".999999999", frac9(nanos)),
        ("002", format!("{:03}", day_of_year(y, mo, d))),
        ("01", format!("{mo:02}")),
        ("02", format!("{d:02}")),
        ("_2", format!("{d:>2}")),
        ("03", format!("{h12:02}")),
        ("04", format!("{mi:02}")),
        ("05", format!("{s:02}")),
        ("06", format!("{:02}", y % 100)),
        ("15", format!("{h:02}")),
        ("PM", if h >= 12 { "PM" } else { "AM" }.into()),
        ("pm", if h >= 12 { "pm" } else { "am" }.into()),
        ("1", mo.to_string()),
        ("2", d.to_string()),
        ("3", h12.to_string()),
        ("4", mi.to_string()),
        ("5", s.to_string()),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (tok, val) in tokens {
            if let Some(after) = rest.strip_prefix(tok) {
                out.push_str(val);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn frac9(nanos: u32) -> String {
    let s = format!("{nanos:09}");
    let t = s.trim_end_matches('0');
    if t.is_empty() {
        String::new()
    } else {
        format!(".{t}")
    }
}

fn day_of_year(y: i64, m: u32, d: u32) -> u32 {
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    CUM[(m - 1) as usize] + d + u32::from(leap && m > 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts() {
        // 2024-02-29T13:04:05Z, a Thursday.
        let t = 1_709_211_845;
        assert_eq!(
            format_go(t, 0, "2006-01-02T15:04:05Z07:00"),
            "2024-02-29T13:04:05Z"
        );
        assert_eq!(
            format_go(t, 5_000_000, "Mon Jan _2 3:04PM .000 MST"),
            "Thu Feb 29 1:04PM .005 UTC"
        );
        assert_eq!(
            format_go(t, 0, "Monday, January 2, 2006 (002)"),
            "Thursday, February 29, 2024 (060)"
        );
        assert_eq!(
            format_go(0, 0, "2006-01-02 15:04:05 -0700"),
            "1970-01-01 00:00:00 +0000"
        );
    }

    #[test]
    fn timestamp_forms() {
        let Ok(Value::Str(s)) = timestamp(vec![]) else {
            panic!()
        };
        assert_eq!(s.len(), 20);
        assert!(s.ends_with('Z'));
        let Ok(Value::Str(u)) = timestamp(vec![Value::str("unix")]) else {
            panic!()
        };
        assert!(u.parse::<i64>().unwrap() > 1_700_000_000);
    }
}
