//! `timestamp`: the current time in UTC, as RFC 3339 (`2006-01-02T15:04:05Z`), as `unix`
//! seconds, or in a Go layout (`timestamp "2006-01-02"`, formatted by [`crate::gotime`]).

use super::{Def, R};
use crate::gotime::{format, utc, Time};
use crate::value::Value;

pub(crate) const FUNCS: &[Def] = &[Def::new("timestamp", timestamp)];

fn timestamp(args: Vec<Value>) -> R {
    // consul-template: `time.Now().UTC()`, formatted.
    let now = Time::now().in_loc(utc());
    match args.as_slice() {
        [] => Ok(Value::str(format(&now, "2006-01-02T15:04:05Z07:00"))),
        [f] => {
            let f = super::string_arg(f)?;
            if f == "unix" {
                return Ok(Value::str(now.unix_sec().to_string()));
            }
            Ok(Value::str(format(&now, f)))
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

#[cfg(test)]
mod tests {
    use super::*;

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
