//! Go's reference-time layouts (`Mon Jan 2 15:04:05 MST 2006`): the chunker both `Format` and
//! `Parse` walk, and `Time.Format`. Element by element as Go's `nextStdChunk` finds them, so a
//! layout means the same thing to envfile as to the agent (`_2006` is `_` then the year, `.000`
//! before a digit is literal, `Z07:00` prints `Z` at UTC).

use super::{Time, DAYS, MONTHS};

/// One layout element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Std {
    LongMonth,         // January
    Month,             // Jan
    NumMonth,          // 1
    ZeroMonth,         // 01
    LongWeekDay,       // Monday
    WeekDay,           // Mon
    Day,               // 2
    UnderDay,          // _2
    ZeroDay,           // 02
    UnderYearDay,      // __2
    ZeroYearDay,       // 002
    Hour,              // 15
    Hour12,            // 3
    ZeroHour12,        // 03
    Minute,            // 4
    ZeroMinute,        // 04
    Second,            // 5
    ZeroSecond,        // 05
    LongYear,          // 2006
    Year,              // 06
    PM,                // PM
    Pm,                // pm
    TZ,                // MST
    Iso8601Tz,         // Z0700
    Iso8601SecTz,      // Z070000
    Iso8601ShortTz,    // Z07
    Iso8601ColonTz,    // Z07:00
    Iso8601ColonSecTz, // Z07:00:00
    NumTz,             // -0700
    NumSecTz,          // -070000
    NumShortTz,        // -07
    NumColonTz,        // -07:00
    NumColonSecTz,     // -07:00:00
    /// `.000` / `,000` (exactly n digits), with its separator.
    Frac0(u8, usize),
    /// `.999` / `,999` (up to n digits, trailing zeros dropped).
    Frac9(u8, usize),
}

/// The next element of `layout`: (literal prefix length, element, element length), or None
/// when the rest is literal.
pub(super) fn next_std(layout: &[u8]) -> Option<(usize, Std, usize)> {
    let at = |i: usize, s: &str| layout[i..].starts_with(s.as_bytes());
    for i in 0..layout.len() {
        let found = match layout[i] {
            b'J' if at(i, "January") => Some((Std::LongMonth, 7)),
            b'J' if at(i, "Jan") => Some((Std::Month, 3)),
            b'M' if at(i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if at(i, "Mon") => Some((Std::WeekDay, 3)),
            b'M' if at(i, "MST") => Some((Std::TZ, 3)),
            b'0' if layout.get(i + 1).is_some_and(|c| (b'1'..=b'6').contains(c)) => Some((
                [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(layout[i + 1] - b'1')],
                2,
            )),
            b'0' if at(i, "002") => Some((Std::ZeroYearDay, 3)),
            b'1' if at(i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if at(i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if at(i, "_2") => {
                if at(i, "_2006") {
                    // A literal `_`, then the year.
                    return Some((i + 1, Std::LongYear, 4));
                }
                Some((Std::UnderDay, 2))
            }
            b'_' if at(i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if at(i, "PM") => Some((Std::PM, 2)),
            b'p' if at(i, "pm") => Some((Std::Pm, 2)),
            b'-' => [
                ("-070000", Std::NumSecTz),
                ("-07:00:00", Std::NumColonSecTz),
                ("-0700", Std::NumTz),
                ("-07:00", Std::NumColonTz),
                ("-07", Std::NumShortTz),
            ]
            .into_iter()
            .find(|(p, _)| at(i, p))
            .map(|(p, s)| (s, p.len())),
            b'Z' => [
                ("Z070000", Std::Iso8601SecTz),
                ("Z07:00:00", Std::Iso8601ColonSecTz),
                ("Z0700", Std::Iso8601Tz),
                ("Z07:00", Std::Iso8601ColonTz),
                ("Z07", Std::Iso8601ShortTz),
            ]
            .into_iter()
            .find(|(p, _)| at(i, p))
            .map(|(p, s)| (s, p.len())),
            c @ (b'.' | b',') if matches!(layout.get(i + 1), Some(b'0' | b'9')) => {
                let digit = layout[i + 1];
                let mut j = i + 1;
                while layout.get(j) == Some(&digit) {
                    j += 1;
                }
                // `.000` followed by a digit is not a fraction (`.0001` is literal).
                if layout.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    let n = j - (i + 1);
                    let std = if digit == b'0' {
                        Std::Frac0(c, n)
                    } else {
                        Std::Frac9(c, n)
                    };
                    Some((std, j - i))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return Some((i, std, len));
        }
    }
    None
}

/// Go's `appendInt(b, x, width)`: a sign, then at least `width` digits.
pub(super) fn push_int(out: &mut String, x: i64, width: usize) {
    if x < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", x.unsigned_abs()));
}

/// Go's `Time.Format`.
pub(crate) fn format(t: &Time, layout: &str) -> String {
    let c = t.civil();
    let mut out = String::with_capacity(layout.len() + 10);
    let mut rest = layout.as_bytes();
    while let Some((pre, std, len)) = next_std(rest) {
        // The prefix ends before an ASCII element byte, so it is whole UTF-8.
        out.push_str(&String::from_utf8_lossy(&rest[..pre]));
        rest = &rest[pre + len..];
        let h12 = match c.hour % 12 {
            0 => 12,
            h => h,
        };
        match std {
            // The sign of a negative year is not repeated in its last two digits.
            Std::Year => push_int(&mut out, c.year.abs() % 100, 2),
            Std::LongYear => push_int(&mut out, c.year, 4),
            Std::Month => out.push_str(&MONTHS[c.month as usize - 1][..3]),
            Std::LongMonth => out.push_str(MONTHS[c.month as usize - 1]),
            Std::NumMonth => push_int(&mut out, c.month.into(), 0),
            Std::ZeroMonth => push_int(&mut out, c.month.into(), 2),
            Std::WeekDay => out.push_str(&DAYS[c.weekday][..3]),
            Std::LongWeekDay => out.push_str(DAYS[c.weekday]),
            Std::Day => push_int(&mut out, c.day.into(), 0),
            Std::UnderDay => {
                if c.day < 10 {
                    out.push(' ');
                }
                push_int(&mut out, c.day.into(), 0);
            }
            Std::ZeroDay => push_int(&mut out, c.day.into(), 2),
            Std::UnderYearDay => {
                if c.yday < 100 {
                    out.push(' ');
                    if c.yday < 10 {
                        out.push(' ');
                    }
                }
                push_int(&mut out, c.yday.into(), 0);
            }
            Std::ZeroYearDay => push_int(&mut out, c.yday.into(), 3),
            Std::Hour => push_int(&mut out, c.hour.into(), 2),
            Std::Hour12 => push_int(&mut out, h12.into(), 0),
            Std::ZeroHour12 => push_int(&mut out, h12.into(), 2),
            Std::Minute => push_int(&mut out, c.min.into(), 0),
            Std::ZeroMinute => push_int(&mut out, c.min.into(), 2),
            Std::Second => push_int(&mut out, c.sec.into(), 0),
            Std::ZeroSecond => push_int(&mut out, c.sec.into(), 2),
            Std::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
            Std::TZ => {
                if c.abbr.is_empty() {
                    // No name: Go prints the offset as -0700.
                    let zone = c.offset / 60;
                    out.push(if zone < 0 { '-' } else { '+' });
                    let zone = i64::from(zone.abs());
                    push_int(&mut out, zone / 60, 2);
                    push_int(&mut out, zone % 60, 2);
                } else {
                    out.push_str(&c.abbr);
                }
            }
            Std::Frac0(sep, n) | Std::Frac9(sep, n) => {
                let trim = matches!(std, Std::Frac9(..));
                if trim && (n == 0 || c.nsec == 0) {
                    continue;
                }
                let digits = format!("{:09}", c.nsec);
                let mut frac = &digits[..n.min(9)];
                if trim {
                    frac = frac.trim_end_matches('0');
                    if frac.is_empty() {
                        continue;
                    }
                }
                out.push(char::from(sep));
                out.push_str(frac);
            }
            tz => push_offset(&mut out, tz, c.offset),
        }
    }
    out.push_str(&String::from_utf8_lossy(rest));
    out
}

/// The numeric zone elements (`-0700`, `Z07:00`, ...).
fn push_offset(out: &mut String, std: Std, offset: i32) {
    use Std::*;
    let iso = matches!(
        std,
        Iso8601Tz | Iso8601SecTz | Iso8601ShortTz | Iso8601ColonTz | Iso8601ColonSecTz
    );
    if iso && offset == 0 {
        out.push('Z');
        return;
    }
    // Minutes truncate toward zero, as Go's `offset / 60`: an offset of -30 s prints `+00:00`.
    let mut zone = offset / 60;
    let mut abs = offset;
    if zone < 0 {
        out.push('-');
        zone = -zone;
        abs = -abs;
    } else {
        out.push('+');
    }
    push_int(out, i64::from(zone / 60), 2);
    if matches!(
        std,
        Iso8601ColonTz | NumColonTz | Iso8601ColonSecTz | NumColonSecTz
    ) {
        out.push(':');
    }
    if !matches!(std, NumShortTz | Iso8601ShortTz) {
        push_int(out, i64::from(zone % 60), 2);
    }
    if matches!(
        std,
        Iso8601SecTz | NumSecTz | NumColonSecTz | Iso8601ColonSecTz
    ) {
        if matches!(std, NumColonSecTz | Iso8601ColonSecTz) {
            out.push(':');
        }
        push_int(out, i64::from(abs % 60), 2);
    }
}

/// Go's `Duration.String` (`1h2m3s`, `1.5s`, `250ms`, `0s`).
pub(crate) fn duration_string(d: i64) -> String {
    let sign = if d < 0 { "-" } else { "" };
    let u = d.unsigned_abs();
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
    let (mut u, frac) = split_frac(u, 9);
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

#[cfg(test)]
mod tests {
    use super::super::{load_location, utc, Loc, Time};
    use super::*;

    fn f(secs: i64, nanos: i64, layout: &str) -> String {
        format(&Time::unix(secs, nanos, utc()), layout)
    }

    #[test]
    fn every_layout_element() {
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
            (
                "-0700 -07:00 -07 -070000 -07:00:00 pm",
                "+0000 +00:00 +00 +000000 +00:00:00 pm",
            ),
            // `.000` before a digit is literal, and then `01` is the month.
            ("05.000 05.999 05,00 .0001", "30.000 30 30,00 .0002"),
            ("_2006 x 1 01 03", "_2009 x 2 02 11"),
            ("Z0700 Z07 Z070000 Z07:00:00", "Z Z Z Z"),
        ] {
            assert_eq!(f(t, 0, layout), want, "{layout}");
        }
        assert_eq!(f(0, 120_000_000, "15:04:05.999999999"), "00:00:00.12");
        assert_eq!(f(0, 5, ".999 .000000000000"), " .000000005");
        assert_eq!(f(-1, 0, "2006-01-02 15:04:05"), "1969-12-31 23:59:59");
        // Years outside 0..9999 keep all digits and a sign.
        assert_eq!(f(300_000_000_000, 0, "2006 06"), "11476 76");
        assert_eq!(f(-70_000_000_000, 0, "2006 06"), "-0249 49");
        assert_eq!(f(-62_135_596_800, 0, "2006-01-02"), "0001-01-01");
        assert_eq!(f(-62_135_596_801, 0, "2006-01-02"), "0000-12-31");
    }

    #[test]
    fn zones_in_layouts() {
        let t = |z: &str| Time::unix(1_700_000_000, 0, load_location(z).unwrap());
        let l = "2006-01-02 15:04 MST -07:00 Z0700";
        assert_eq!(
            format(&t("Asia/Kolkata"), l),
            "2023-11-15 03:43 IST +05:30 +0530"
        );
        assert_eq!(
            format(&t("America/New_York"), l),
            "2023-11-14 17:13 EST -05:00 -0500"
        );
        assert_eq!(
            format(&t("Australia/Lord_Howe"), l),
            "2023-11-15 09:13 +11 +11:00 +1100"
        );
        let lmt = Time::unix(
            -5_000_000_000,
            0,
            load_location("America/New_York").unwrap(),
        );
        assert_eq!(format(&lmt, "MST -07:00:00 -07:00"), "LMT -04:56:02 -04:56");
        let nameless = Time::unix(0, 0, Loc::fixed("", -30));
        assert_eq!(
            format(&nameless, "MST -07:00 Z07:00"),
            "+0000 +00:00 +00:00"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration_string(95_000_000_000), "1m35s");
        assert_eq!(duration_string(3_600_000_000_000), "1h0m0s");
        assert_eq!(duration_string(-61_000_000_000), "-1m1s");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(1_500_000_000), "1.5s");
        assert_eq!(duration_string(i64::MIN), "-2562047h47m16.854775808s");
    }
}
