//! The methods a template can call on Go's time values (`{{ now.Year }}`,
//! `{{ $t.Format "2006" }}`, `{{ ($t.Sub $u).Hours }}`), with Go's argument rules: a
//! `time.Duration` parameter takes an integer constant (nanoseconds) or a Duration, a
//! `time.Time` parameter only a time.

use super::{format, local, utc, Time, TimeValue};
use crate::value::Value;

fn want(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    crate::funcs::want_args(name, args, n)
}

fn wrong(expected: &str, v: &Value) -> String {
    match v {
        Value::Nil | Value::Invalid => format!("invalid value; expected {expected}"),
        other => format!(
            "wrong type for value; expected {expected}; got {}",
            other.type_name()
        ),
    }
}

fn duration_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Time(TimeValue::Duration(d)) => Ok(*d),
        other => Err(wrong("time.Duration", other)),
    }
}

fn time_arg(v: &Value) -> Result<&Time, String> {
    match v {
        Value::Time(TimeValue::Time(t)) => Ok(t),
        other => Err(wrong("time.Time", other)),
    }
}

fn int_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(wrong("int", other)),
    }
}

fn time(t: Time) -> Value {
    Value::Time(TimeValue::Time(t))
}

/// `RECEIVER.NAME ARGS`.
pub(crate) fn call_method(recv: &TimeValue, name: &str, args: Vec<Value>) -> Result<Value, String> {
    match recv {
        TimeValue::Time(t) => time_method(t, name, args),
        TimeValue::Duration(d) => duration_method(*d, name, args),
        TimeValue::Month(_) | TimeValue::Weekday(_) | TimeValue::Location(_)
            if name == "String" =>
        {
            want(name, &args, 0)?;
            Ok(Value::str(recv.string()))
        }
        other => Err(format!(
            "can't evaluate field {name} in type {}",
            other.type_name()
        )),
    }
}

fn time_method(t: &Time, name: &str, args: Vec<Value>) -> Result<Value, String> {
    let n = match name {
        "Format" | "Add" | "Sub" | "Before" | "After" | "Equal" | "Compare" | "Truncate"
        | "Round" | "In" => 1,
        "AddDate" => 3,
        _ => 0,
    };
    // Methods Go has that return two or three results: text/template cannot call them.
    if let Some(results) = match name {
        "Zone" | "ZoneBounds" | "ISOWeek" | "MarshalJSON" | "MarshalText" | "MarshalBinary"
        | "GobEncode" => Some(2),
        "Date" | "Clock" => Some(3),
        _ => None,
    } {
        return Err(format!(
            "can't call method/function \"{name}\" with {results} results"
        ));
    }
    if name == "AppendFormat" {
        return Err(format!(
            "{name} on a time.Time is not supported by envfile yet"
        ));
    }
    want(name, &args, n)?;
    let c = || t.civil();
    Ok(match name {
        "Unix" => Value::int64(t.unix_sec()),
        "UnixMilli" => Value::int64(wide(t, 1_000)),
        "UnixMicro" => Value::int64(wide(t, 1_000_000)),
        "UnixNano" => Value::int64(wide(t, 1_000_000_000)),
        "Year" => Value::Int(c().year),
        "Month" => Value::Time(TimeValue::Month(c().month.into())),
        "Day" => Value::Int(c().day.into()),
        "Hour" => Value::Int(c().hour.into()),
        "Minute" => Value::Int(c().min.into()),
        "Second" => Value::Int(c().sec.into()),
        "Nanosecond" => Value::Int(t.nanos().into()),
        "YearDay" => Value::Int(c().yday.into()),
        "Weekday" => Value::Time(TimeValue::Weekday(c().weekday as i64)),
        "IsZero" => Value::Bool(t.is_zero()),
        "IsDST" => Value::Bool(t.loc().is_dst(t.unix_sec())),
        "String" => Value::str(t.string()),
        "GoString" => Value::str(t.go_string()),
        "UTC" => time(t.in_loc(utc())),
        "Local" => time(t.in_loc(local())),
        "Location" => Value::Time(TimeValue::Location(t.loc().clone())),
        "In" => match &args[0] {
            Value::Time(TimeValue::Location(l)) => time(t.in_loc(l.clone())),
            other => return Err(wrong("*time.Location", other)),
        },
        "Format" => {
            let out = format(t, crate::funcs::string_arg(&args[0])?);
            // A layout expands at most threefold; still, no result past the output limit.
            if out.len() > crate::limits::MAX_OUTPUT {
                return Err("Format: the result would exceed the output size limit".into());
            }
            Value::str(out)
        }
        "Add" => time(t.add(duration_arg(&args[0])?)),
        "Sub" => Value::Time(TimeValue::Duration(t.sub(time_arg(&args[0])?))),
        "Before" => Value::Bool(t.cmp(time_arg(&args[0])?).is_lt()),
        "After" => Value::Bool(t.cmp(time_arg(&args[0])?).is_gt()),
        "Equal" => Value::Bool(t.cmp(time_arg(&args[0])?).is_eq()),
        "Compare" => Value::Int(t.cmp(time_arg(&args[0])?) as i64),
        "Truncate" => time(t.truncate_round(duration_arg(&args[0])?, false)),
        "Round" => time(t.truncate_round(duration_arg(&args[0])?, true)),
        "AddDate" => {
            let (y, m, d) = (int_arg(&args[0])?, int_arg(&args[1])?, int_arg(&args[2])?);
            let c = c();
            time(Time::date(
                c.year.wrapping_add(y),
                i64::from(c.month).wrapping_add(m),
                i64::from(c.day).wrapping_add(d),
                c.hour.into(),
                c.min.into(),
                c.sec.into(),
                c.nsec.into(),
                t.loc().clone(),
            ))
        }
        other => {
            return Err(format!("can't evaluate field {other} in type time.Time"));
        }
    })
}

/// `UnixMilli`/`UnixMicro`/`UnixNano`: Go's int64 arithmetic (wrapping outside its range).
fn wide(t: &Time, per_sec: i64) -> i64 {
    t.unix_sec()
        .wrapping_mul(per_sec)
        .wrapping_add(i64::from(t.nanos()) / (1_000_000_000 / per_sec))
}

fn duration_method(d: i64, name: &str, args: Vec<Value>) -> Result<Value, String> {
    let n = usize::from(matches!(name, "Round" | "Truncate"));
    if !matches!(
        name,
        "Hours"
            | "Minutes"
            | "Seconds"
            | "Milliseconds"
            | "Microseconds"
            | "Nanoseconds"
            | "String"
            | "Round"
            | "Truncate"
            | "Abs"
    ) {
        return Err(format!("can't evaluate field {name} in type time.Duration"));
    }
    want(name, &args, n)?;
    let split = |unit: i64| (d / unit) as f64 + (d % unit) as f64 / unit as f64;
    let dur = |v: i64| Value::Time(TimeValue::Duration(v));
    Ok(match name {
        "Hours" => Value::Float(split(3_600_000_000_000)),
        "Minutes" => Value::Float(split(60_000_000_000)),
        "Seconds" => Value::Float(split(1_000_000_000)),
        "Milliseconds" => Value::int64(d / 1_000_000),
        "Microseconds" => Value::int64(d / 1_000),
        "Nanoseconds" => Value::int64(d),
        "String" => Value::str(super::duration_string(d)),
        "Abs" => dur(if d == i64::MIN { i64::MAX } else { d.abs() }),
        "Truncate" => {
            let m = duration_arg(&args[0])?;
            dur(if m <= 0 { d } else { d - d % m })
        }
        _ => dur(round_duration(d, duration_arg(&args[0])?)),
    })
}

/// Go's `Duration.Round`: halfway rounds away from zero, saturating.
pub(crate) fn round_duration(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let half = |r: i64| (r as u64).wrapping_add(r as u64) < m as u64;
    let mut r = d % m;
    if d < 0 {
        r = -r;
        if half(r) {
            return d + r;
        }
        return d.checked_sub(m - r).unwrap_or(i64::MIN);
    }
    if half(r) {
        return d - r;
    }
    d.checked_add(m - r).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> TimeValue {
        TimeValue::Time(Time::unix(1_700_000_000, 250_000_000, utc()))
    }

    fn e(v: Result<Value, String>) -> String {
        v.err().expect("an error")
    }

    fn s(v: Result<Value, String>) -> String {
        let mut out = String::new();
        crate::value::fmt_v(&v.unwrap(), &mut out);
        out
    }

    #[test]
    fn time_methods() {
        let t = t();
        assert_eq!(s(call_method(&t, "Year", vec![])), "2023");
        assert_eq!(s(call_method(&t, "Month", vec![])), "November");
        assert_eq!(s(call_method(&t, "Weekday", vec![])), "Tuesday");
        assert_eq!(s(call_method(&t, "YearDay", vec![])), "318");
        assert_eq!(s(call_method(&t, "UnixMilli", vec![])), "1700000000250");
        assert_eq!(
            s(call_method(&t, "GoString", vec![])),
            "time.Date(2023, time.November, 14, 22, 13, 20, 250000000, time.UTC)"
        );
        assert_eq!(
            s(call_method(&t, "Add", vec![Value::Int(3_600_000_000_000)])),
            "2023-11-14 23:13:20.25 +0000 UTC"
        );
        assert_eq!(
            s(call_method(
                &t,
                "AddDate",
                vec![Value::Int(0), Value::Int(3), Value::Int(17)]
            )),
            "2024-03-02 22:13:20.25 +0000 UTC"
        );
        let TimeValue::Time(inner) = &t else {
            unreachable!()
        };
        let earlier = Value::Time(TimeValue::Time(inner.add(-3_600_000_000_000)));
        assert_eq!(s(call_method(&t, "Sub", vec![earlier.clone()])), "1h0m0s");
        assert_eq!(s(call_method(&t, "After", vec![earlier.clone()])), "true");
        assert_eq!(s(call_method(&t, "Compare", vec![earlier])), "1");
        assert_eq!(
            e(call_method(&t, "Zone", vec![])),
            "can't call method/function \"Zone\" with 2 results"
        );
        assert_eq!(
            e(call_method(&t, "Sub", vec![Value::Int(1)])),
            "wrong type for value; expected time.Time; got int"
        );
        assert_eq!(
            e(call_method(&t, "Format", vec![])),
            "wrong number of args for Format: want 1 got 0"
        );
        assert_eq!(
            e(call_method(&t, "Nope", vec![])),
            "can't evaluate field Nope in type time.Time"
        );
    }

    #[test]
    fn duration_methods() {
        let d = TimeValue::Duration(5_400_000_000_000);
        assert_eq!(s(call_method(&d, "Hours", vec![])), "1.5");
        assert_eq!(s(call_method(&d, "Minutes", vec![])), "90");
        assert_eq!(
            s(call_method(
                &d,
                "Round",
                vec![Value::Int(3_600_000_000_000)]
            )),
            "2h0m0s"
        );
        assert_eq!(round_duration(-1_500, 1_000), -2_000);
        assert_eq!(round_duration(i64::MAX, 1_000_000_000), i64::MAX);
    }
}
