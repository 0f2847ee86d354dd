//! Duration parsing: the one parser in `envfile_core::duration` that the broker's `ttl`,
//! `max_stale`, `header_timeout`, `?wait=` and the CLI's `--interval` all use.
//! Property: never panics (checked arithmetic, no `from_secs_f64`); what it accepts is at most
//! `MAX`, and reads back the same when written in whole milliseconds (when it is a whole number
//! of them); `Bare::Refuse` accepts exactly what `Bare::Seconds` accepts minus lone numbers;
//! `parse_nonzero` is `parse` without zero; a refusal's message is bounded (it shows a
//! shortened text, as a `?wait=` value can be as long as a request head).
#![no_main]

use envfile_core::duration::{parse, parse_nonzero, Bare, MAX};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let secs = parse(s, Bare::Seconds);
    let refuse = parse(s, Bare::Refuse);
    match (&secs, &refuse) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{s:?}: Bare changes a duration with a unit"),
        (Ok(_), Err(_)) => {
            let t = s.trim();
            assert!(
                !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
                "{s:?}: refused with Bare::Refuse but it is not a lone number"
            );
        }
        (Err(_), Ok(d)) => panic!("{s:?}: Bare::Refuse accepts {d:?}, Bare::Seconds does not"),
        (Err(_), Err(_)) => {}
    }
    for bare in [Bare::Seconds, Bare::Refuse] {
        match parse(s, bare) {
            Ok(d) => {
                assert!(d <= MAX, "{s:?} = {d:?} is longer than MAX");
                assert_eq!(parse_nonzero(s, bare).is_ok(), !d.is_zero(), "{s:?}");
                let ms = d.as_millis();
                if d == Duration::from_millis(ms as u64) {
                    let again = parse(&format!("{ms}ms"), Bare::Refuse);
                    assert_eq!(again, Ok(d), "{s:?} = {d:?} does not read back as {ms}ms");
                }
            }
            Err(e) => {
                let shown = e.to_string();
                assert!(shown.len() < 400, "an unbounded message: {shown}");
                assert!(parse_nonzero(s, bare).is_err(), "{s:?}");
            }
        }
    }
});
