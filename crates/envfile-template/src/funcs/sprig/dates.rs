//! Sprig's date functions, on Go `time.Time` values ([`crate::gotime`]): `now`, `date
//! dateInZone date_in_zone htmlDate htmlDateInZone` (Go reference layouts, any zone Go's
//! `time.LoadLocation` finds; one it cannot find is UTC, as sprig falls back), `toDate
//! mustToDate` (Go's `time.ParseInLocation` in `Local`), `unixEpoch`, `dateModify
//! mustDateModify` (Go duration strings), `ago`, `duration durationRound`.
//!
//! A date argument is taken as sprig's type switch takes it: a `time.Time`, or an integer as
//! Unix seconds; anything else (a string, a `json.Number`) means now.

use super::{arity, str_arg};
use crate::funcs::{Def, R};
use crate::gotime::{self, local, Time, TimeValue};
use crate::value::{TypedInt, Value};

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
        Ok(time(Time::now()))
    }),
    Def::new("sprig_duration", |a| {
        arity("sprig_duration", &a, 1)?;
        // Sprig reads a string or an int64 (as sprig's own arithmetic returns); anything else
        // (an `int` constant, a JSON number, a time.Duration) is 0 seconds.
        let n = match &a[0] {
            Value::Str(s) => s.parse::<i64>().unwrap_or(0),
            Value::Typed(TypedInt::Int64(i)) => *i,
            _ => 0,
        };
        Ok(Value::str(duration_string(n.wrapping_mul(1_000_000_000))))
    }),
    Def::new("sprig_durationRound", |a| {
        arity("sprig_durationRound", &a, 1)?;
        // A string is parsed; an int64 is nanoseconds (any other integer type is 0, see
        // duration); a time is the time since it.
        let d = match &a[0] {
            Value::Str(s) => gotime::parse_duration(s).unwrap_or(0),
            Value::Typed(TypedInt::Int64(i)) => *i,
            Value::Time(TimeValue::Time(t)) => Time::now().sub(t),
            _ => 0,
        };
        Ok(Value::str(duration_round(d)))
    }),
    Def::new("sprig_toDate", |a| {
        arity("sprig_toDate", &a, 2)?;
        // A value that does not parse is Go's zero time.
        let t = gotime::parse_in_location(str_arg(&a[0])?, str_arg(&a[1])?, &local())
            .unwrap_or_else(|_| Time::zero());
        Ok(time(t))
    }),
    Def::new("sprig_mustToDate", |a| {
        arity("sprig_mustToDate", &a, 2)?;
        Ok(time(gotime::parse_in_location(
            str_arg(&a[0])?,
            str_arg(&a[1])?,
            &local(),
        )?))
    }),
    Def::new("sprig_unixEpoch", |a| {
        arity("sprig_unixEpoch", &a, 1)?;
        Ok(Value::str(time_arg(&a[0])?.unix_sec().to_string()))
    }),
    Def::new("sprig_dateModify", |a| {
        date_modify("sprig_dateModify", a, false)
    }),
    Def::new("sprig_date_modify", |a| {
        date_modify("sprig_date_modify", a, false)
    }),
    Def::new("sprig_mustDateModify", |a| {
        date_modify("sprig_mustDateModify", a, true)
    }),
    Def::new("sprig_must_date_modify", |a| {
        date_modify("sprig_must_date_modify", a, true)
    }),
    Def::new("sprig_ago", |a| {
        arity("sprig_ago", &a, 1)?;
        let t = match &a[0] {
            Value::Time(TimeValue::Time(t)) => t.clone(),
            // Unix seconds as an `int` or `int64`; any other type is now.
            Value::Int(i) | Value::Typed(TypedInt::Int64(i)) => Time::unix(*i, 0, local()),
            _ => Time::now(),
        };
        let since = Time::now().sub(&t);
        Ok(Value::str(duration_string(gotime::round_duration(
            since,
            1_000_000_000,
        ))))
    }),
];

fn time(t: Time) -> Value {
    Value::Time(TimeValue::Time(t))
}

/// A parameter typed `time.Time`.
fn time_arg(v: &Value) -> Result<&Time, String> {
    match v {
        Value::Time(TimeValue::Time(t)) => Ok(t),
        Value::Nil | Value::Invalid => Err("invalid value; expected time.Time".into()),
        other => Err(format!(
            "wrong type for value; expected time.Time; got {}",
            other.type_name()
        )),
    }
}

/// Sprig's `dateModify`: a bad duration leaves the date as it is (`mustDateModify`: the error).
fn date_modify(name: &str, a: Vec<Value>, must: bool) -> R {
    arity(name, &a, 2)?;
    let d = str_arg(&a[0])?;
    let t = time_arg(&a[1])?;
    match gotime::parse_duration(d) {
        Ok(d) => Ok(time(t.add(d))),
        Err(e) if must => Err(e),
        Err(_) => Ok(time(t.clone())),
    }
}

/// Sprig's `dateInZone`: the date (a time, Unix seconds, or now) in `zone`, formatted.
fn date_in_zone(layout: &str, date: &Value, zone: &str) -> R {
    let t = match date {
        Value::Time(TimeValue::Time(t)) => t.clone(),
        // Unix seconds as an `int` or `int64` (a `uint64` is now).
        Value::Int(i) | Value::Typed(TypedInt::Int64(i)) => Time::unix(*i, 0, local()),
        _ => Time::now(),
    };
    // Sprig ignores LoadLocation's error and uses UTC.
    let loc = gotime::load_location(zone).unwrap_or_else(gotime::utc);
    let out = gotime::format(&t.in_loc(loc), layout);
    super::check_size("date", out.len())?;
    Ok(Value::str(out))
}

use gotime::duration_string;

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
    fn dates_in_zones() {
        for (layout, date, zone, want) in [
            (
                "2006-01-02 15:04:05 MST",
                Value::Int(1_700_000_000),
                "UTC",
                "2023-11-14 22:13:20 UTC",
            ),
            (
                "2006-01-02 15:04 MST",
                Value::Int(1_700_000_000),
                "Asia/Kolkata",
                "2023-11-15 03:43 IST",
            ),
            (
                "15:04 -07:00",
                Value::Int(1_700_000_000),
                "Australia/Lord_Howe",
                "09:13 +11:00",
            ),
            ("2006", Value::Int(0), "Not/AZone", "1970"),
            ("2006", Value::Int(0), "america/new_york", "1970"),
            (
                "15:04 MST",
                Value::Int(1_615_705_199),
                "America/New_York",
                "01:59 EST",
            ),
            (
                "15:04 MST",
                Value::Int(1_615_705_200),
                "America/New_York",
                "03:00 EDT",
            ),
        ] {
            assert_eq!(
                run("sprig_dateInZone", vec![s(layout), date, s(zone)]),
                want
            );
        }
        assert_eq!(
            run(
                "sprig_htmlDateInZone",
                vec![Value::Int(86_400 * 365), s("UTC")]
            ),
            "1971-01-01"
        );
    }

    #[test]
    fn to_date_and_modify() {
        let d = run("sprig_toDate", vec![s("2006-01-02"), s("2021-03-04")]);
        assert!(d.starts_with("2021-03-04 00:00:00 "), "{d}");
        assert_eq!(
            run("sprig_toDate", vec![s("2006-01-02"), s("x")]),
            "0001-01-01 00:00:00 +0000 UTC"
        );
        let err = crate::funcs::call("sprig_mustToDate", vec![s("2006-01-02"), s("x")]);
        assert_eq!(
            err.err().unwrap(),
            "parsing time \"x\" as \"2006-01-02\": cannot parse \"x\" as \"2006\""
        );
        let t = crate::funcs::call(
            "sprig_toDate",
            vec![s("2006-01-02 MST"), s("2021-03-04 UTC")],
        )
        .unwrap();
        assert_eq!(run("sprig_unixEpoch", vec![t.clone()]), "1614816000");
        assert_eq!(
            run("sprig_dateModify", vec![s("-1.5h"), t.clone()]),
            "2021-03-03 22:30:00 +0000 UTC"
        );
        assert_eq!(
            run("sprig_dateModify", vec![s("1d"), t.clone()]),
            "2021-03-04 00:00:00 +0000 UTC"
        );
        let err = crate::funcs::call("sprig_mustDateModify", vec![s("1d"), t]);
        assert_eq!(
            err.err().unwrap(),
            "time: unknown unit \"d\" in duration \"1d\""
        );
        let err = crate::funcs::call("sprig_unixEpoch", vec![s("x")]);
        assert_eq!(
            err.err().unwrap(),
            "wrong type for value; expected time.Time; got string"
        );
    }

    #[test]
    fn ago_and_now() {
        // 2000-01-01 is more than 20 years ago: hours, minutes and whole seconds.
        let a = run("sprig_ago", vec![Value::Int(946_684_800)]);
        assert!(
            regex::Regex::new(r"^\d{6,}h\d{1,2}m\d{1,2}s$")
                .unwrap()
                .is_match(&a),
            "{a}"
        );
        let n = run("sprig_now", vec![]);
        let re = regex::Regex::new(
            r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? [+-]\d{4} \S+ m=\+\d+\.\d{9}$",
        )
        .unwrap();
        assert!(re.is_match(&n), "{n}");
        assert_eq!(run("sprig_durationRound", vec![s("2h10m")]), "2h");
    }

    #[test]
    fn durations() {
        assert_eq!(run("sprig_duration", vec![s("95")]), "1m35s");
        assert_eq!(run("sprig_duration", vec![s("3600")]), "1h0m0s");
        assert_eq!(run("sprig_duration", vec![s("-61")]), "-1m1s");
        assert_eq!(
            run("sprig_duration", vec![crate::funcs::test_util::j("95")]),
            "0s"
        );
        assert_eq!(
            run("sprig_durationRound", vec![Value::int64(5_000_000_001)]),
            "5s"
        );
        // sprig switches on the Go type: only an int64 is read, an `int` is 0.
        assert_eq!(run("sprig_duration", vec![Value::int64(95)]), "1m35s");
        assert_eq!(run("sprig_duration", vec![Value::Int(95)]), "0s");
        assert_eq!(
            run("sprig_durationRound", vec![Value::Int(5_000_000_001)]),
            "0s"
        );
        assert_eq!(run("sprig_durationRound", vec![s("-3d")]), "0s");
        assert_eq!(run("sprig_durationRound", vec![s("900h")]), "1mo");
        assert_eq!(run("sprig_durationRound", vec![s("1.5s")]), "1s");
    }
}
