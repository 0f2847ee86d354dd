//! Duration parsing (the broker's `ttl`, `max_stale`, `header_timeout`, … and `?wait=`).
//! Property: never panics; what it accepts is a duration that reads back the same when written
//! in whole milliseconds (when it is a whole number of them).
//!
//! At merge: the broker-harden branch moves this parser into envfile-core; change the `use`
//! line below (and only it) to the new location.
#![no_main]

use envfile_broker::config::parse_duration;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if envfile_fuzz::known::duration_overflows(s) {
        return; // open finding, fixed on the broker-harden branch
    }
    let Ok(d) = parse_duration(s) else {
        return;
    };
    let ms = d.as_millis();
    if d == Duration::from_millis(ms as u64) && ms < (1u128 << 53) {
        let again = parse_duration(&format!("{ms}ms"));
        assert_eq!(again, Ok(d), "{s:?} = {d:?} does not read back as {ms}ms");
    }
});
