//! Go's `time.ParseInLocation` (sprig's `toDate`) and `time.ParseDuration` (`dateModify`),
//! with Go's error texts (`parsing time "x" as "2006-01-02": cannot parse "x" as "2006"`),
//! since `mustToDate` and `mustDateModify` put them in the template's error.
//!
//! Like Go, the value is matched byte by byte against the layout: names of months and days
//! case-insensitively, numbers by the element's width, a zone name by its shape.

use super::format::{next_std, Std};
use super::{days_in, is_leap, utc, Loc, Time, DAYS, MONTHS};
use std::sync::Arc;

/// Go's `time.quote`: double quotes, `"` and `\` escaped, every byte of a control or non-ASCII
/// character as `\xNN`.
pub(crate) fn quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c < ' ' || !c.is_ascii() {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            } else {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `leadingInt`: the leading digits as a number (None on overflow past 2^63).
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > (1 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > 1 << 63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's `time.atoi`: an optional sign, then digits and nothing else.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (x, rest) = leading_int(body)?;
    if !rest.is_empty() || x > i64::MAX as u64 + u64::from(neg) {
        return None;
    }
    Some(if neg {
        (x as i64).wrapping_neg()
    } else {
        x as i64
    })
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    if !is_digit(s, 0) {
        return None;
    }
    if !is_digit(s, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(s[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

/// Go's `getnum3`: one to three digits (exactly three when `fixed`).
fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && is_digit(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// Go's `lookup`: which name `val` starts with, ASCII letters compared case-insensitively.
fn lookup<'v>(names: &[&str], val: &'v [u8], len: Option<usize>) -> Option<(usize, &'v [u8])> {
    for (i, name) in names.iter().enumerate() {
        let name = &name.as_bytes()[..len.unwrap_or(name.len())];
        if val.len() >= name.len()
            && val[..name.len()].iter().zip(name).all(|(a, b)| {
                a == b || {
                    let (la, lb) = (a | 0x20, b | 0x20);
                    la == lb && la.is_ascii_lowercase()
                }
            })
        {
            return Some((i, &val[name.len()..]));
        }
    }
    None
}

fn cutspace(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b' ').count();
    &s[n..]
}

/// Go's `skip`: the layout's literal text must be in the value (a space matches any run).
fn skip<'v>(mut value: &'v [u8], mut prefix: &[u8]) -> Result<&'v [u8], &'v [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return Err(value);
            }
            prefix = cutspace(prefix);
            value = cutspace(value);
            continue;
        }
        if value.first() != Some(&p) {
            return Err(value);
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Ok(value)
}

/// Go's `parseTimeZone`: how long a zone abbreviation at the start of `value` is.
fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        return Some(3 + parse_signed_offset(&value[3..]));
    }
    if value[0] == b'+' || value[0] == b'-' {
        return Some(parse_signed_offset(value)).filter(|&n| n > 0);
    }
    let upper = value
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: `+N`/`-N` with N at most 12, its length (0 if none).
fn parse_signed_offset(value: &[u8]) -> usize {
    let Some(&sign) = value.first() else {
        return 0;
    };
    if sign != b'-' && sign != b'+' {
        return 0;
    }
    match leading_int(&value[1..]) {
        Some((x, rem)) if rem.len() != value.len() - 1 && x <= 12 => value.len() - rem.len(),
        _ => 0,
    }
}

/// Go's `parseNanoseconds`: a separator then digits, scaled to nanoseconds.
fn parse_nanos(value: &[u8], nbytes: usize) -> Result<i64, Option<&'static str>> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err(None);
    }
    let nbytes = nbytes.min(10);
    let ns = atoi(&value[1..nbytes]).ok_or(None)?;
    if ns < 0 {
        return Err(Some("fractional second"));
    }
    Ok(ns * 10i64.pow((10 - nbytes) as u32))
}

fn std_text(std: Std, layout: &[u8], pre: usize, len: usize) -> &[u8] {
    let _ = std;
    &layout[pre..pre + len]
}

/// Go's `time.ParseInLocation(layout, value, loc)`.
pub(crate) fn parse_in_location(layout: &str, value: &str, loc: &Arc<Loc>) -> Result<Time, String> {
    let (alayout, avalue) = (layout.as_bytes(), value.as_bytes());
    let err = |layout_elem: &[u8], value_elem: &[u8], msg: &str| {
        if msg.is_empty() {
            format!(
                "parsing time {} as {}: cannot parse {} as {}",
                quote(avalue),
                quote(alayout),
                quote(value_elem),
                quote(layout_elem)
            )
        } else {
            format!("parsing time {}{msg}", quote(avalue))
        }
    };
    let (mut layout, mut value) = (alayout, avalue);
    let (mut am, mut pm) = (false, false);
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut z: Option<Arc<Loc>> = None;
    let mut zone_offset: i64 = -1;
    let mut zone_name: Vec<u8> = Vec::new();
    loop {
        let chunk = next_std(layout);
        let pre = chunk.map_or(layout.len(), |c| c.0);
        value = skip(value, &layout[..pre]).map_err(|v| err(&layout[..pre], v, ""))?;
        let Some((pre, std, len)) = chunk else {
            if !value.is_empty() {
                return Err(err(b"", value, &format!(": extra text: {}", quote(value))));
            }
            break;
        };
        let stdstr = std_text(std, layout, pre, len);
        layout = &layout[pre + len..];
        let hold = value;
        let mut range: Option<&'static str> = None;
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    let p = value.get(..2)?;
                    value = &value[2..];
                    year = atoi(p)?;
                    year += if year >= 69 { 1900 } else { 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !is_digit(value, 0) {
                        return None;
                    }
                    year = atoi(&value[..4])?;
                    value = &value[4..];
                }
                Std::Month | Std::LongMonth => {
                    let len = (std == Std::Month).then_some(3);
                    let (m, rest) = lookup(&MONTHS, value, len)?;
                    month = m as i64 + 1;
                    value = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                    (month, value) = (m, rest);
                    if !(1..=12).contains(&month) {
                        range = Some("month");
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let len = (std == Std::WeekDay).then_some(3);
                    value = lookup(&DAYS, value, len)?.1;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.first() == Some(&b' ') {
                        value = &value[1..];
                    }
                    (day, value) = getnum(value, std == Std::ZeroDay)?;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                            value = &value[1..];
                        }
                    }
                    (yday, value) = getnum3(value, std == Std::ZeroYearDay)?;
                }
                Std::Hour => {
                    (hour, value) = getnum(value, false)?;
                    if !(0..24).contains(&hour) {
                        range = Some("hour");
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    (hour, value) = getnum(value, std == Std::ZeroHour12)?;
                    if !(0..=12).contains(&hour) {
                        range = Some("hour");
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    (min, value) = getnum(value, std == Std::ZeroMinute)?;
                    if !(0..60).contains(&min) {
                        range = Some("minute");
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    (sec, value) = getnum(value, std == Std::ZeroSecond)?;
                    if !(0..60).contains(&sec) {
                        range = Some("second");
                        return Some(());
                    }
                    // A fraction in the value that the layout does not ask for is read too.
                    if value.len() >= 2 && matches!(value[0], b'.' | b',') && is_digit(value, 1) {
                        if matches!(
                            next_std(layout),
                            Some((_, Std::Frac0(..) | Std::Frac9(..), _))
                        ) {
                            return Some(());
                        }
                        let mut n = 2;
                        while is_digit(value, n) {
                            n += 1;
                        }
                        match parse_nanos(value, n) {
                            Ok(ns) => nsec = ns,
                            Err(Some(r)) => range = Some(r),
                            Err(None) => return None,
                        }
                        value = &value[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    let p = value.get(..2)?;
                    value = &value[2..];
                    let (pm_text, am_text): (&[u8], &[u8]) = if std == Std::PM {
                        (b"PM", b"AM")
                    } else {
                        (b"pm", b"am")
                    };
                    if p == pm_text {
                        pm = true;
                    } else if p == am_text {
                        am = true;
                    } else {
                        return None;
                    }
                }
                Std::Iso8601Tz
                | Std::Iso8601ShortTz
                | Std::Iso8601ColonTz
                | Std::Iso8601SecTz
                | Std::Iso8601ColonSecTz
                    if value.first() == Some(&b'Z') =>
                {
                    value = &value[1..];
                    z = Some(utc());
                }
                Std::Iso8601Tz
                | Std::Iso8601ShortTz
                | Std::Iso8601ColonTz
                | Std::Iso8601SecTz
                | Std::Iso8601ColonSecTz
                | Std::NumTz
                | Std::NumShortTz
                | Std::NumColonTz
                | Std::NumSecTz
                | Std::NumColonSecTz => {
                    let v = value;
                    let (sign, hh, mm, ss, rest): (u8, &[u8], &[u8], &[u8], &[u8]) = match std {
                        Std::Iso8601ColonTz | Std::NumColonTz => {
                            if v.len() < 6 || v[3] != b':' {
                                return None;
                            }
                            (v[0], &v[1..3], &v[4..6], b"00", &v[6..])
                        }
                        Std::NumShortTz | Std::Iso8601ShortTz => {
                            if v.len() < 3 {
                                return None;
                            }
                            (v[0], &v[1..3], b"00", b"00", &v[3..])
                        }
                        Std::Iso8601ColonSecTz | Std::NumColonSecTz => {
                            if v.len() < 9 || v[3] != b':' || v[6] != b':' {
                                return None;
                            }
                            (v[0], &v[1..3], &v[4..6], &v[7..9], &v[9..])
                        }
                        Std::Iso8601SecTz | Std::NumSecTz => {
                            if v.len() < 7 {
                                return None;
                            }
                            (v[0], &v[1..3], &v[3..5], &v[5..7], &v[7..])
                        }
                        _ => {
                            if v.len() < 5 {
                                return None;
                            }
                            (v[0], &v[1..3], &v[3..5], b"00", &v[5..])
                        }
                    };
                    value = rest;
                    let hr = getnum(hh, true)?.0;
                    let mi = getnum(mm, true)?.0;
                    let se = getnum(ss, true)?.0;
                    if hr > 24 {
                        range = Some("time zone offset hour");
                    }
                    if mi > 60 {
                        range = Some("time zone offset minute");
                    }
                    if se > 60 {
                        range = Some("time zone offset second");
                    }
                    zone_offset = (hr * 60 + mi) * 60 + se;
                    match sign {
                        b'+' => {}
                        b'-' => zone_offset = -zone_offset,
                        _ => return None,
                    }
                }
                Std::TZ => {
                    if value.starts_with(b"UTC") {
                        z = Some(utc());
                        value = &value[3..];
                        return Some(());
                    }
                    let n = parse_time_zone(value)?;
                    zone_name = value[..n].to_vec();
                    value = &value[n..];
                }
                Std::Frac0(_, n) => {
                    let ndigit = 1 + n;
                    if value.len() < ndigit {
                        return None;
                    }
                    match parse_nanos(value, ndigit) {
                        Ok(ns) => nsec = ns,
                        Err(Some(r)) => range = Some(r),
                        Err(None) => return None,
                    }
                    value = &value[ndigit..];
                }
                Std::Frac9(..) => {
                    if value.len() < 2 || !matches!(value[0], b'.' | b',') || !is_digit(value, 1) {
                        return Some(());
                    }
                    let mut i = 0;
                    while is_digit(value, i + 1) {
                        i += 1;
                    }
                    match parse_nanos(value, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err(Some(r)) => range = Some(r),
                        Err(None) => return None,
                    }
                    value = &value[1 + i..];
                }
            }
            Some(())
        })();
        if let Some(r) = range {
            return Err(err(stdstr, value, &format!(": {r} out of range")));
        }
        if ok.is_none() {
            return Err(err(stdstr, hold, ""));
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (mut m, mut d) = (0i64, 0i64);
        if is_leap(year) {
            if yday == 31 + 29 {
                (m, d) = (2, 29);
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(err(b"", value, ": day-of-year out of range"));
        }
        if m == 0 {
            const BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
            m = (yday - 1) / 31 + 1;
            if BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - BEFORE[m as usize - 1];
        }
        if month >= 0 && month != m {
            return Err(err(b"", value, ": day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(err(b"", value, ": day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > i64::from(days_in(month as u32, year)) {
        return Err(err(b"", value, ": day out of range"));
    }
    if let Some(z) = z {
        return Ok(Time::date(year, month, day, hour, min, sec, nsec, z));
    }
    let zone_name = String::from_utf8_lossy(&zone_name).into_owned();
    if zone_offset != -1 {
        let t = Time::date(year, month, day, hour, min, sec, nsec, utc())
            .add(-zone_offset * 1_000_000_000);
        // The local zone, if it had this offset (and name) then; else a fixed zone.
        let (name, offset) = loc.lookup(t.unix_sec());
        if i64::from(offset) == zone_offset && (zone_name.is_empty() || name == zone_name) {
            return Ok(t.in_loc(loc.clone()));
        }
        return Ok(t.in_loc(Loc::fixed(&zone_name, zone_offset as i32)));
    }
    if !zone_name.is_empty() {
        let t = Time::date(year, month, day, hour, min, sec, nsec, utc());
        if let Some(offset) = loc.lookup_name(&zone_name, t.unix_sec()) {
            return Ok(t
                .add(-i64::from(offset) * 1_000_000_000)
                .in_loc(loc.clone()));
        }
        let mut offset = 0;
        if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            offset = atoi(&zone_name.as_bytes()[3..]).unwrap_or(0) * 3600;
        }
        return Ok(t.in_loc(Loc::fixed(&zone_name, offset as i32)));
    }
    Ok(Time::date(
        year,
        month,
        day,
        hour,
        min,
        sec,
        nsec,
        loc.clone(),
    ))
}

/// Go's `time.ParseDuration`, with its error texts.
pub(crate) fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig.as_bytes()));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let pl = s.len();
        let (v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = pl != s.len();
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let pl = s.len();
            // Go's `leadingFraction`: digits past what fits are read but ignored.
            let mut overflow = false;
            let mut i = 0;
            while i < s.len() && s[i].is_ascii_digit() {
                if !overflow {
                    if f > (i64::MAX as u64) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[i] - b'0');
                        if y > 1 << 63 {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            s = &s[i..];
            post = pl != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                quote(orig.as_bytes())
            ));
        }
        let u = &s[..i];
        s = &s[i..];
        let unit: u64 = match u {
            b"ns" => 1,
            // `µs` (U+00B5) and `μs` (U+03BC), as UTF-8.
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(u),
                    quote(orig.as_bytes())
                ))
            }
        };
        if v > (1u64 << 63) / unit {
            return Err(invalid());
        }
        let mut v = v * unit;
        if f > 0 {
            // Go computes the fraction in float64.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        // Go's uint64 wraps here (a second 2^63 component); so does this.
        d = d.wrapping_add(v);
        if d > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(d as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(layout: &str, value: &str) -> Result<String, String> {
        parse_in_location(layout, value, &utc()).map(|t| t.string())
    }

    #[test]
    fn parses_like_go() {
        assert_eq!(
            p("2006-01-02", "2021-03-04").unwrap(),
            "2021-03-04 00:00:00 +0000 UTC"
        );
        assert_eq!(
            p("2006-01-02T15:04:05Z07:00", "2021-03-04T05:06:07.25+05:30").unwrap(),
            "2021-03-04 05:06:07.25 +0530 +0530"
        );
        assert_eq!(
            p("Jan _2 06 3:04PM MST", "MAR  4 21 5:06pm EST").unwrap_err(),
            "parsing time \"MAR  4 21 5:06pm EST\" as \"Jan _2 06 3:04PM MST\": cannot parse \
             \"pm EST\" as \"PM\""
        );
        assert_eq!(
            p("Jan _2 06 3:04PM MST", "MAR  4 21 5:06PM EST").unwrap(),
            "2021-03-04 17:06:00 +0000 EST"
        );
        assert_eq!(
            p("2006-01-02 MST", "2021-03-04 GMT+3").unwrap(),
            // Go keeps the instant read as UTC and only shows it in the made-up zone.
            "2021-03-04 03:00:00 +0300 GMT+3"
        );
        assert_eq!(
            p("002 2006", "060 2024").unwrap(),
            "2024-02-29 00:00:00 +0000 UTC"
        );
        assert_eq!(
            p("2006-01-02", "x").unwrap_err(),
            "parsing time \"x\" as \"2006-01-02\": cannot parse \"x\" as \"2006\""
        );
        assert_eq!(
            p("2006-01-02", "2021-02-30").unwrap_err(),
            "parsing time \"2021-02-30\": day out of range"
        );
        assert_eq!(
            p("2006-01-02", "2021-13-01").unwrap_err(),
            "parsing time \"2021-13-01\": month out of range"
        );
        assert_eq!(
            p("2006", "2021 ").unwrap_err(),
            "parsing time \"2021 \": extra text: \" \""
        );
        assert_eq!(
            p("15:04:05", "1:2:3").unwrap_err(),
            "parsing time \"1:2:3\" as \"15:04:05\": cannot parse \"2:3\" as \"04\""
        );
        assert_eq!(
            p("15:04:05", "01:02:03,5").unwrap(),
            "0000-01-01 01:02:03.5 +0000 UTC"
        );
        assert_eq!(
            p("2006", "é").unwrap_err(),
            "parsing time \"\\xc3\\xa9\" as \"2006\": cannot parse \"\\xc3\\xa9\" as \"2006\""
        );
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-1.5h"), Ok(-5_400_000_000_000));
        assert_eq!(parse_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_duration("1µs"), Ok(1_000));
        assert_eq!(parse_duration("1h2m3.5s"), Ok(3_723_500_000_000));
        assert_eq!(parse_duration("+0"), Ok(0));
        assert_eq!(
            parse_duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            parse_duration("3d").unwrap_err(),
            "time: unknown unit \"d\" in duration \"3d\""
        );
        assert_eq!(
            parse_duration("").unwrap_err(),
            "time: invalid duration \"\""
        );
        assert_eq!(
            parse_duration("9999999999h").unwrap_err(),
            "time: invalid duration \"9999999999h\""
        );
        assert_eq!(parse_duration("-2562047h47m16.854775808s"), Ok(i64::MIN));
        assert_eq!(
            parse_duration("-9223372036854775808ns9223372036854775808ns"),
            Ok(0)
        );
    }
}
