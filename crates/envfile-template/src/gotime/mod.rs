//! Go's `time` package values as the agent's templates see them: a `time.Time` (sprig's `now`,
//! `toDate`, `dateModify`), and what its methods return that prints differently from a plain
//! integer (`time.Month` prints `March`, `time.Weekday` `Monday`, `time.Duration` `1h0m0s`)
//! or names a zone (`*time.Location`).
//!
//! Zones come from the system's tz database exactly as Go's `time.LoadLocation` finds them
//! (`/usr/share/zoneinfo/NAME`, case-sensitive, no `..`): the file is read here and handed to
//! `jiff` for the offset lookups, so envfile and the agent on the same machine agree even where
//! the system's tzdata is older or newer than a bundled copy would be (OpenBao's agent embeds
//! no tzdata of its own). `Local` follows `TZ` as Go's `initLocal` does. Go's `ZONEINFO`
//! variable (a zip of zone files searched first) is not read.
//!
//! jiff rather than chrono-tz: chrono-tz compiles a tzdb snapshot into the binary, which would
//! disagree with the agent whenever the machine's tzdata differs; jiff parses the very TZif
//! file Go reads (including its POSIX rule for times past the last transition).

mod format;
mod methods;
mod parse;

pub(crate) use format::{duration_string, format};
pub(crate) use methods::{call_method, round_duration};
pub(crate) use parse::{parse_duration, parse_in_location};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Seconds from 0001-01-01 (Go's internal epoch) to 1970-01-01.
pub(crate) const UNIX_TO_INTERNAL: i64 = 62_135_596_800;
const NANOS: i64 = 1_000_000_000;

/// A value of one of Go's `time` types.
#[derive(Clone)]
pub(crate) enum TimeValue {
    Time(Time),
    /// `time.Month` (an int kind: `eq .Month 3` holds in March).
    Month(i64),
    /// `time.Weekday` (an int kind; Sunday is 0).
    Weekday(i64),
    /// `time.Duration`, in nanoseconds (an int64 kind).
    Duration(i64),
    /// `*time.Location`, which prints as its name.
    Location(Arc<Loc>),
}

impl TimeValue {
    /// Go's type name (`%T`, error messages).
    pub fn type_name(&self) -> &'static str {
        match self {
            TimeValue::Time(_) => "time.Time",
            TimeValue::Month(_) => "time.Month",
            TimeValue::Weekday(_) => "time.Weekday",
            TimeValue::Duration(_) => "time.Duration",
            TimeValue::Location(_) => "*time.Location",
        }
    }

    /// The integer of an int-kinded value (Month, Weekday, Duration), for comparisons and `%d`.
    pub fn int(&self) -> Option<i64> {
        match self {
            TimeValue::Month(n) | TimeValue::Weekday(n) | TimeValue::Duration(n) => Some(*n),
            _ => None,
        }
    }

    /// What spf13/cast (sprig's `int64`, `add`, `float64`...) makes of it: it knows Month and
    /// Weekday, not Duration or Time (those are 0, as for any type it does not know).
    pub fn cast_int(&self) -> Option<i64> {
        match self {
            TimeValue::Month(n) | TimeValue::Weekday(n) => Some(*n),
            _ => None,
        }
    }

    /// Go's truth: a struct is always true, an integer when non-zero, a pointer when non-nil.
    pub fn truthy(&self) -> bool {
        self.int().is_none_or(|n| n != 0)
    }

    /// What its `String` method returns (`%v`, `%s`, `{{ . }}`).
    pub fn string(&self) -> String {
        match self {
            TimeValue::Time(t) => t.string(),
            TimeValue::Month(m) => match usize::try_from(*m - 1).ok().and_then(|i| MONTHS.get(i)) {
                Some(name) => (*name).to_owned(),
                None => format!("%!Month({m})"),
            },
            TimeValue::Weekday(d) => match usize::try_from(*d).ok().and_then(|i| DAYS.get(i)) {
                Some(name) => (*name).to_owned(),
                None => format!("%!Weekday({d})"),
            },
            TimeValue::Duration(d) => duration_string(*d),
            TimeValue::Location(l) => l.name.clone(),
        }
    }

    /// `%#v`: `Time.GoString`, or the integer of an int kind.
    pub fn go_syntax(&self) -> String {
        match self {
            TimeValue::Time(t) => t.go_string(),
            TimeValue::Location(l) => l.name.clone(),
            other => other.int().unwrap_or_default().to_string(),
        }
    }

    /// `encoding/json`: a time as RFC 3339 with nanoseconds (Go's `MarshalJSON`, which fails
    /// outside years 0..9999), the integer kinds as numbers, a location as `{}`. The error
    /// text is the agent's (its encoding/json names the type `*time.Time`, observed).
    pub fn json(&self) -> Result<String, String> {
        match self {
            TimeValue::Time(t) => {
                let s = format(t, "2006-01-02T15:04:05.999999999Z07:00");
                let fail = |m: &str| {
                    Err(format!(
                        "json: error calling MarshalJSON for type *time.Time: {m}"
                    ))
                };
                if s.as_bytes().get(4) != Some(&b'-') {
                    return fail("year outside of range [0,9999]");
                }
                if !s.ends_with('Z') {
                    let hours = &s.as_bytes()[s.len() - 5..s.len() - 3];
                    let c = s.as_bytes()[s.len() - 6];
                    if c.is_ascii_digit() || (hours[0] - b'0') * 10 + (hours[1] - b'0') >= 24 {
                        return fail("timezone hour outside of range [0,23]");
                    }
                }
                Ok(format!("\"{s}\""))
            }
            TimeValue::Location(_) => Ok("{}".into()),
            other => Ok(other.int().unwrap_or_default().to_string()),
        }
    }

    /// `reflect.DeepEqual` (sprig's `deepEqual`): as `==`, but locations by their content.
    pub fn deep_eq(&self, other: &TimeValue) -> bool {
        match (self, other) {
            (TimeValue::Time(a), TimeValue::Time(b)) => {
                a.sec == b.sec
                    && a.nsec == b.nsec
                    && a.mono == b.mono
                    && Loc::same_zone(&a.loc, &b.loc)
            }
            (TimeValue::Location(a), TimeValue::Location(b)) => Loc::same_zone(a, b),
            (TimeValue::Month(a), TimeValue::Month(b))
            | (TimeValue::Weekday(a), TimeValue::Weekday(b))
            | (TimeValue::Duration(a), TimeValue::Duration(b)) => a == b,
            _ => false,
        }
    }

    /// Go's `==` on two such values (text/template's `eq` on non-basic kinds): a `time.Time`
    /// compares its fields, so the same instant in another zone, or with a monotonic reading,
    /// is not equal; locations compare as pointers.
    pub fn go_eq(&self, other: &TimeValue) -> Option<bool> {
        match (self, other) {
            (TimeValue::Time(a), TimeValue::Time(b)) => Some(
                a.sec == b.sec
                    && a.nsec == b.nsec
                    && a.mono == b.mono
                    && Arc::ptr_eq(&a.loc, &b.loc),
            ),
            (TimeValue::Location(a), TimeValue::Location(b)) => Some(Arc::ptr_eq(a, b)),
            _ => None,
        }
    }
}

/// The integer verbs of Go's `fmt`.
fn int_verb(verb: char) -> bool {
    matches!(verb, 'd' | 'b' | 'o' | 'O' | 'c' | 'U')
}

/// `printf` of a Month, Weekday or Duration under a verb other than the string ones: the
/// integer, or Go's `%!f(time.Duration=18367123456789)` (a bad verb shows the raw integer).
pub(crate) fn fmt_int_kind(
    t: &TimeValue,
    i: i64,
    verb: char,
    out: &mut String,
    int: impl Fn(i64, char, &mut String),
) {
    if int_verb(verb) {
        return int(i, verb, out);
    }
    out.push_str(&format!("%!{verb}({}=", t.type_name()));
    int(i, 'v', out);
    out.push(')');
}

/// `printf` of a `time.Time` under a verb other than the string ones: Go prints the struct's
/// fields `{wall ext loc}`. Only a UTC time's are knowable (its `loc` is nil; any other is a
/// memory address), so None for the others.
pub(crate) fn fmt_struct(
    t: &TimeValue,
    verb: char,
    out: &mut String,
    int: impl Fn(i64, char, &mut String),
) -> Option<()> {
    let TimeValue::Time(t) = t else {
        return None;
    };
    if !Arc::ptr_eq(&t.loc, &utc()) || t.mono.is_some() {
        return None;
    }
    out.push('{');
    for (value, ty) in [(i64::from(t.nsec), "uint64"), (t.sec, "int64")] {
        if int_verb(verb) {
            int(value, verb, out);
        } else {
            out.push_str(&format!("%!{verb}({ty}={value})"));
        }
        out.push(' ');
    }
    if matches!(verb, 'd' | 'b' | 'o') {
        out.push('0');
    } else {
        out.push_str(&format!("%!{verb}(*time.Location=<nil>)"));
    }
    out.push('}');
    Some(())
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

pub(crate) const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A Go `time.Time`: an instant, the location it is shown in, and the monotonic clock reading
/// `time.Now` attaches (nanoseconds since the process started; printed as `m=+1.5`).
#[derive(Clone)]
pub(crate) struct Time {
    /// Seconds since 0001-01-01 UTC, wrapping as Go's int64 does.
    sec: i64,
    nsec: u32,
    loc: Arc<Loc>,
    mono: Option<i64>,
}

/// A time's civil fields in its zone.
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub nsec: u32,
    /// 1-based day of the year.
    pub yday: u32,
    /// Sunday is 0.
    pub weekday: usize,
    pub abbr: String,
    pub offset: i32,
}

impl Time {
    /// `time.Unix(sec, nsec)`, in `loc`.
    pub fn unix(sec: i64, nsec: i64, loc: Arc<Loc>) -> Time {
        let (sec, nsec) = (
            sec.wrapping_add(nsec.div_euclid(NANOS)),
            nsec.rem_euclid(NANOS),
        );
        Time {
            sec: sec.wrapping_add(UNIX_TO_INTERNAL),
            nsec: nsec as u32,
            loc,
            mono: None,
        }
    }

    /// `time.Now()`: the wall clock in `Local`, with the monotonic reading.
    pub fn now() -> Time {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut t = Time::unix(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            i64::from(d.subsec_nanos()),
            local(),
        );
        // Go counts from its runtime's start, and never reports 0.
        let elapsed = process_start().elapsed().as_nanos();
        t.mono = Some(i64::try_from(elapsed).unwrap_or(i64::MAX).max(1));
        t
    }

    /// Go's zero `time.Time{}`: 0001-01-01 00:00:00 UTC.
    pub fn zero() -> Time {
        Time {
            sec: 0,
            nsec: 0,
            loc: utc(),
            mono: None,
        }
    }

    pub fn unix_sec(&self) -> i64 {
        self.sec.wrapping_sub(UNIX_TO_INTERNAL)
    }

    pub fn nanos(&self) -> u32 {
        self.nsec
    }

    pub fn loc(&self) -> &Arc<Loc> {
        &self.loc
    }

    /// `t.In(loc)` (also `UTC`, `Local`): the monotonic reading is dropped, as in Go.
    pub fn in_loc(&self, loc: Arc<Loc>) -> Time {
        Time {
            loc,
            mono: None,
            ..self.clone()
        }
    }

    pub fn strip_mono(&self) -> Time {
        Time {
            mono: None,
            ..self.clone()
        }
    }

    pub fn is_zero(&self) -> bool {
        self.sec == 0 && self.nsec == 0
    }

    /// The zone abbreviation and offset in effect.
    pub fn zone(&self) -> (String, i32) {
        self.loc.lookup(self.unix_sec())
    }

    /// The civil fields in the time's own zone.
    pub fn civil(&self) -> Civil {
        let (abbr, offset) = self.zone();
        let local = i128::from(self.unix_sec()) + i128::from(offset);
        let days = local.div_euclid(86_400) as i64;
        let sod = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let yday = (days - days_from_civil(year, 1, 1) + 1) as u32;
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            min: sod / 60 % 60,
            sec: sod % 60,
            nsec: self.nsec,
            yday,
            weekday: (days + 4).rem_euclid(7) as usize,
            abbr,
            offset,
        }
    }

    /// `t.Add(d)`: keeps the monotonic reading while it stays in Go's range for it.
    pub fn add(&self, d: i64) -> Time {
        let mut dsec = d / NANOS;
        let mut nsec = i64::from(self.nsec) + d % NANOS;
        if nsec >= NANOS {
            dsec += 1;
            nsec -= NANOS;
        } else if nsec < 0 {
            dsec -= 1;
            nsec += NANOS;
        }
        let sec = self.sec.wrapping_add(dsec);
        let mono = self.mono.and_then(|m| {
            // Go keeps wall seconds since 1885 in 33 bits while a reading is attached.
            const WALL_1885: i64 = 59_453_308_800;
            let wall = sec.wrapping_sub(WALL_1885);
            let te = m.wrapping_add(d);
            let overflow = (d < 0 && te > m) || (d > 0 && te < m);
            ((0..1 << 33).contains(&wall) && !overflow).then_some(te)
        });
        Time {
            sec,
            nsec: nsec as u32,
            loc: self.loc.clone(),
            mono,
        }
    }

    /// `t.Sub(u)` as a saturated `time.Duration`; by the monotonic readings when both have one.
    pub fn sub(&self, u: &Time) -> i64 {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.saturating_sub(b);
        }
        let d = (i128::from(self.sec) - i128::from(u.sec)) * i128::from(NANOS)
            + i128::from(self.nsec)
            - i128::from(u.nsec);
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Ordering for `Before`, `After`, `Equal`, `Compare` (monotonic when both have a reading).
    pub fn cmp(&self, u: &Time) -> std::cmp::Ordering {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.cmp(&b);
        }
        (self.sec, self.nsec).cmp(&(u.sec, u.nsec))
    }

    /// Go's `Time.String`: the default layout, then ` m=±S.NNNNNNNNN` with a monotonic reading.
    pub fn string(&self) -> String {
        let mut s = format(self, "2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let m = m.unsigned_abs();
            s.push_str(&format!(
                " m={sign}{}.{:09}",
                m / NANOS as u64,
                m % NANOS as u64
            ));
        }
        s
    }

    /// Go's `Time.GoString` (`%#v`): `time.Date(2009, time.February, 13, 23, 31, 30, 0, time.UTC)`.
    pub fn go_string(&self) -> String {
        let c = self.civil();
        let loc = if Arc::ptr_eq(&self.loc, &utc()) {
            "time.UTC".to_owned()
        } else if Arc::ptr_eq(&self.loc, &local()) {
            "time.Local".to_owned()
        } else {
            format!("time.Location({})", parse::quote(self.loc.name.as_bytes()))
        };
        format!(
            "time.Date({}, time.{}, {}, {}, {}, {}, {}, {loc})",
            c.year,
            MONTHS[c.month as usize - 1],
            c.day,
            c.hour,
            c.min,
            c.sec,
            c.nsec
        )
    }

    /// `t.Truncate(d)` / `t.Round(d)`: multiples of `d` since the zero time; the monotonic
    /// reading is dropped.
    pub fn truncate_round(&self, d: i64, round: bool) -> Time {
        let t = self.strip_mono();
        if d <= 0 {
            return t;
        }
        let total = i128::from(self.sec) * i128::from(NANOS) + i128::from(self.nsec);
        let r = total.rem_euclid(i128::from(d)) as i64;
        if round && (r as u64).wrapping_add(r as u64) >= d as u64 {
            t.add(d - r)
        } else {
            t.add(-r)
        }
    }

    /// Go's `time.Date(y, m, d, h, min, s, ns, loc)`, normalizing out-of-range fields, and
    /// resolving a wall time in a gap or overlap the way Go does.
    #[allow(clippy::too_many_arguments)]
    pub fn date(
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        min: i64,
        sec: i64,
        nsec: i64,
        loc: Arc<Loc>,
    ) -> Time {
        let (year, month, day, hour, min, sec, nsec) = (
            i128::from(year),
            i128::from(month) - 1,
            i128::from(day),
            i128::from(hour),
            i128::from(min),
            i128::from(sec),
            i128::from(nsec),
        );
        let year = year + month.div_euclid(12);
        let month = month.rem_euclid(12) + 1;
        let total_ns = ((((day - 1) * 24 + hour) * 60 + min) * 60 + sec) * i128::from(NANOS) + nsec;
        let days_from_year = days_from_civil_wide(year, month as u32, 1);
        let secs = total_ns.div_euclid(i128::from(NANOS));
        let nsec = total_ns.rem_euclid(i128::from(NANOS));
        let wall = days_from_year * 86_400 + secs;
        let wrap = |v: i128| v as i64; // Go's int64 arithmetic wraps.
        let mut unix = wrap(wall);
        let (_, off) = loc.lookup(unix);
        if off != 0 {
            let (_, off2) = loc.lookup(unix.wrapping_sub(i64::from(off)));
            unix = unix.wrapping_sub(i64::from(off2));
        }
        Time::unix(unix, nsec as i64, loc)
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    crate::funcs::time::civil(days)
}

pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil_wide(i128::from(y), m, d) as i64
}

fn days_from_civil_wide(y: i128, m: u32, d: u32) -> i128 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i128::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i128::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

pub(crate) fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn process_start() -> &'static std::time::Instant {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now)
}

/// A Go `*time.Location`.
pub(crate) struct Loc {
    /// What `Location.String` prints.
    pub name: String,
    kind: LocKind,
}

enum LocKind {
    Utc,
    /// `time.FixedZone(abbr, offset)`, as parsing makes for an offset no known zone has.
    Fixed(String, i32),
    Zone {
        tz: jiff::tz::TimeZone,
        /// The file's local time types (abbreviation, offset), for parsing a zone name.
        types: Vec<(String, i32)>,
    },
}

/// Seconds in 400 Gregorian years: zone rules repeat with this period, which brings instants
/// outside jiff's range (years -9999..9999) into it without changing their offset.
const CYCLE: i64 = 146_097 * 86_400;

impl Loc {
    /// Go's `time.FixedZone`: a new location, except that an unnamed whole-hour offset from
    /// -12 to +14 hours is one shared location (so `eq` sees two parses of `+05:00` as equal).
    pub fn fixed(abbr: &str, offset: i32) -> Arc<Loc> {
        let make = |abbr: &str, offset: i32| {
            Arc::new(Loc {
                name: abbr.to_owned(),
                kind: LocKind::Fixed(abbr.to_owned(), offset),
            })
        };
        if abbr.is_empty() && (-12 * 3600..=14 * 3600).contains(&offset) && offset % 3600 == 0 {
            static SHARED: OnceLock<Vec<Arc<Loc>>> = OnceLock::new();
            let shared = SHARED.get_or_init(|| (-12..=14).map(|h| make("", h * 3600)).collect());
            return shared[(offset / 3600 + 12) as usize].clone();
        }
        make(abbr, offset)
    }

    /// `reflect.DeepEqual` of two locations: the same one, or the same zone data.
    fn same_zone(a: &Arc<Loc>, b: &Arc<Loc>) -> bool {
        Arc::ptr_eq(a, b)
            || (a.name == b.name
                && match (&a.kind, &b.kind) {
                    (LocKind::Utc, LocKind::Utc) => true,
                    (LocKind::Fixed(x, o), LocKind::Fixed(y, p)) => x == y && o == p,
                    (LocKind::Zone { tz: x, .. }, LocKind::Zone { tz: y, .. }) => x == y,
                    _ => false,
                })
    }

    /// The abbreviation and offset in effect at `unix`.
    pub fn lookup(&self, unix: i64) -> (String, i32) {
        let (abbr, offset, _) = self.info(unix);
        (abbr, offset)
    }

    /// Whether daylight saving time is in effect at `unix`.
    pub fn is_dst(&self, unix: i64) -> bool {
        self.info(unix).2
    }

    fn info(&self, unix: i64) -> (String, i32, bool) {
        match &self.kind {
            LocKind::Utc => ("UTC".into(), 0, false),
            LocKind::Fixed(a, o) => (a.clone(), *o, false),
            LocKind::Zone { tz, .. } => {
                let mut u = i128::from(unix);
                let (min, max) = (
                    i128::from(jiff::Timestamp::MIN.as_second()) + 86_400,
                    i128::from(jiff::Timestamp::MAX.as_second()) - 86_400,
                );
                if u < min {
                    u += (min - u + i128::from(CYCLE) - 1) / i128::from(CYCLE) * i128::from(CYCLE);
                } else if u > max {
                    u -= (u - max + i128::from(CYCLE) - 1) / i128::from(CYCLE) * i128::from(CYCLE);
                }
                let Ok(ts) = jiff::Timestamp::from_second(u as i64) else {
                    return ("UTC".into(), 0, false);
                };
                let info = tz.to_offset_info(ts);
                (
                    info.abbreviation().to_owned(),
                    info.offset().seconds(),
                    info.dst().is_dst(),
                )
            }
        }
    }

    /// Go's `Location.lookupName`: the offset of the zone called `name` at about `unix` (the
    /// one in effect then, else any with that name).
    pub fn lookup_name(&self, name: &str, unix: i64) -> Option<i32> {
        let LocKind::Zone { types, .. } = &self.kind else {
            return match &self.kind {
                LocKind::Fixed(a, o) if a == name => Some(*o),
                _ => None,
            };
        };
        for (abbr, off) in types {
            if abbr == name {
                let (n, o) = self.lookup(unix.wrapping_sub(i64::from(*off)));
                if n == *abbr {
                    return Some(o);
                }
            }
        }
        types.iter().find(|(a, _)| a == name).map(|(_, o)| *o)
    }
}

pub(crate) fn utc() -> Arc<Loc> {
    static UTC: OnceLock<Arc<Loc>> = OnceLock::new();
    UTC.get_or_init(|| {
        Arc::new(Loc {
            name: "UTC".into(),
            kind: LocKind::Utc,
        })
    })
    .clone()
}

/// Go's `time.Local`, from `TZ` as `initLocal` reads it: unset is `/etc/localtime`, empty is
/// UTC, `:NAME` or `NAME` a zone file (an absolute path as is), and anything unloadable UTC.
pub(crate) fn local() -> Arc<Loc> {
    static LOCAL: OnceLock<Arc<Loc>> = OnceLock::new();
    LOCAL
        .get_or_init(|| local_from(std::env::var("TZ").ok().as_deref()))
        .clone()
}

fn local_from(tz: Option<&str>) -> Arc<Loc> {
    let loaded = match tz {
        None => read_zone("/etc/localtime", "Local"),
        Some(tz) => {
            let tz = tz.strip_prefix(':').unwrap_or(tz);
            if tz.starts_with('/') {
                let name = if tz == "/etc/localtime" { "Local" } else { tz };
                read_zone(tz, name)
            } else if !tz.is_empty() && tz != "UTC" {
                load_from_sources(tz)
            } else {
                None
            }
        }
    };
    loaded.map(Arc::new).unwrap_or_else(|| {
        Arc::new(Loc {
            name: "UTC".into(),
            kind: LocKind::Utc,
        })
    })
}

/// Go's `time.LoadLocation`; None where Go returns an error.
pub(crate) fn load_location(name: &str) -> Option<Arc<Loc>> {
    match name {
        "" | "UTC" => return Some(utc()),
        "Local" => return Some(local()),
        _ => {}
    }
    if name.contains("..") || name.starts_with(['/', '\\']) {
        return None;
    }
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Loc>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
    {
        return hit.clone();
    }
    let loaded = load_from_sources(name).map(Arc::new);
    let mut c = cache.lock().unwrap_or_else(PoisonError::into_inner);
    // Bounded: a template looping over made-up names must not grow it without end.
    if c.len() < 512 {
        c.insert(name.to_owned(), loaded.clone());
    }
    loaded
}

/// The directories Go's `loadLocation` searches on Unix, in order.
const ZONE_SOURCES: &[&str] = &[
    "/usr/share/zoneinfo/",
    "/usr/share/lib/zoneinfo/",
    "/usr/lib/locale/TZ/",
    "/etc/zoneinfo/",
];

fn load_from_sources(name: &str) -> Option<Loc> {
    ZONE_SOURCES
        .iter()
        .find_map(|dir| read_zone(&format!("{dir}{name}"), name))
}

/// A TZif file as a location called `name`; None if unreadable or not TZif.
fn read_zone(path: &str, name: &str) -> Option<Loc> {
    use std::io::Read;
    // Go reads at most 10 MB of a zone file; real ones are a few KB.
    let mut data = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(10 << 20)
        .read_to_end(&mut data)
        .ok()?;
    let tz = jiff::tz::TimeZone::tzif(name, &data).ok()?;
    Some(Loc {
        name: name.to_owned(),
        kind: LocKind::Zone {
            tz,
            types: tzif_types(&data).unwrap_or_default(),
        },
    })
}

/// The local time types of a TZif file (its last data block: v2+ when present).
fn tzif_types(data: &[u8]) -> Option<Vec<(String, i32)>> {
    let header = |d: &[u8]| -> Option<[usize; 6]> {
        if d.get(..4)? != b"TZif" {
            return None;
        }
        let mut c = [0usize; 6];
        for (i, v) in c.iter_mut().enumerate() {
            let b = d.get(20 + 4 * i..24 + 4 * i)?;
            *v = u32::from_be_bytes(b.try_into().ok()?) as usize;
        }
        Some(c) // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    };
    let [isut, isstd, leap, time, typ, chr] = header(data)?;
    let mut block = data;
    let mut time_size = 4;
    let v1_len = 44 + time * 4 + time + typ * 6 + chr + leap * 8 + isstd + isut;
    if data.get(4).is_some_and(|v| *v >= b'2') {
        block = data.get(v1_len..)?;
        time_size = 8;
    }
    let [_, _, leap2, time, typ, chr] = header(block)?;
    let _ = leap2;
    let types_at = 44 + time * time_size + time;
    let chars_at = types_at + typ * 6;
    let chars = block.get(chars_at..chars_at + chr)?;
    let mut out = Vec::with_capacity(typ);
    for i in 0..typ {
        let t = block.get(types_at + i * 6..types_at + i * 6 + 6)?;
        let off = i32::from_be_bytes(t[..4].try_into().ok()?);
        let idx = usize::from(t[5]);
        let rest = chars.get(idx..)?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        out.push((String::from_utf8_lossy(&rest[..end]).into_owned(), off));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_load_as_go_finds_them() {
        let ny = load_location("America/New_York").expect("system tzdata");
        // 2021-03-14 06:59:59 UTC is 01:59:59 EST; a second later it is 03:00:00 EDT.
        assert_eq!(ny.lookup(1_615_705_199), ("EST".into(), -5 * 3600));
        assert_eq!(ny.lookup(1_615_705_200), ("EDT".into(), -4 * 3600));
        assert_eq!(ny.lookup_name("EDT", 1_615_705_200), Some(-4 * 3600));
        // Go's lookup is case-sensitive and refuses `..` and absolute names.
        assert!(load_location("america/new_york").is_none());
        assert!(load_location("../zoneinfo/UTC").is_none());
        assert!(load_location("/etc/localtime").is_none());
        assert!(load_location("America").is_none());
        assert!(load_location("zone.tab").is_none());
        let kolkata = load_location("Asia/Kolkata").unwrap();
        assert_eq!(kolkata.lookup(1_700_000_000), ("IST".into(), 19_800));
        // Far outside jiff's range the 400-year cycle gives the same rule.
        let far = 1_700_000_000 + 100 * CYCLE;
        assert_eq!(ny.lookup(far).1, ny.lookup(1_700_000_000).1);
    }

    #[test]
    fn local_follows_tz_like_go() {
        assert_eq!(local_from(Some("")).name, "UTC");
        assert_eq!(local_from(Some("UTC")).name, "UTC");
        assert_eq!(local_from(Some("No/Such")).name, "UTC");
        let l = local_from(Some(":Asia/Kolkata"));
        assert_eq!(l.name, "Asia/Kolkata");
        assert_eq!(l.lookup(0).1, 19_800);
        let p = local_from(Some("/usr/share/zoneinfo/Europe/Paris"));
        assert_eq!(p.name, "/usr/share/zoneinfo/Europe/Paris");
        assert_eq!(local_from(None).name, "Local");
    }

    #[test]
    fn time_strings_like_go() {
        let t = Time::unix(1_234_567_890, 120_000_000, utc());
        assert_eq!(t.string(), "2009-02-13 23:31:30.12 +0000 UTC");
        assert_eq!(Time::zero().string(), "0001-01-01 00:00:00 +0000 UTC");
        assert!(Time::zero().is_zero());
        let mut m = t.clone();
        m.mono = Some(-1_500_000_000);
        assert_eq!(
            m.string(),
            "2009-02-13 23:31:30.12 +0000 UTC m=-1.500000000"
        );
        assert_eq!(TimeValue::Month(3).string(), "March");
        assert_eq!(TimeValue::Month(13).string(), "%!Month(13)");
        assert_eq!(TimeValue::Weekday(1).string(), "Monday");
        assert_eq!(TimeValue::Duration(3_600 * NANOS).string(), "1h0m0s");
    }

    #[test]
    fn date_normalizes_and_resolves_gaps_like_go() {
        let ny = load_location("America/New_York").unwrap();
        // 02:30 on the spring-forward day does not exist: Go's two lookups land on 01:30 EST.
        let t = Time::date(2021, 3, 14, 2, 30, 0, 0, ny.clone());
        assert_eq!(t.string(), "2021-03-14 01:30:00 -0500 EST");
        // 01:30 on the fall-back day happens twice: Go takes the first (EDT).
        let t = Time::date(2021, 11, 7, 1, 30, 0, 0, ny);
        assert_eq!(t.string(), "2021-11-07 01:30:00 -0400 EDT");
        let t = Time::date(2021, 14, 32, 25, 0, 0, 0, utc());
        assert_eq!(t.string(), "2022-03-05 01:00:00 +0000 UTC");
    }

    #[test]
    fn round_truncate_add_sub() {
        let t = Time::unix(1_700_000_000, 600_000_000, utc());
        assert_eq!(t.truncate_round(NANOS, true).unix_sec(), 1_700_000_001);
        assert_eq!(t.truncate_round(NANOS, false).unix_sec(), 1_700_000_000);
        assert_eq!(
            t.truncate_round(3600 * NANOS, false).string(),
            "2023-11-14 22:00:00 +0000 UTC"
        );
        let u = t.add(-90 * NANOS);
        assert_eq!(t.sub(&u), 90 * NANOS);
        let before = Time::unix(-1, 500_000_000, utc());
        assert_eq!(before.truncate_round(NANOS, false).unix_sec(), -1);
    }
}
