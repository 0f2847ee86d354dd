//! The reference parser. Property: every accepted reference
//! - displays as what was written, and that parses to the same `Reference`;
//! - has a canonical spelling that parses back to the same backend, locator and key (as a
//!   canonical reference) and is its own canonical spelling;
//!
//! and every refused one is an `InvalidRef` error quoting the input.
#![no_main]

use envfile_core::{ErrorKind, RefForm, Reference};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let r = match Reference::parse(s) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidRef, "{s:?}: {e}");
            assert_eq!(e.reference(), Some(s), "{s:?}: the error must quote it");
            return;
        }
    };
    assert_eq!(r.raw, s);
    let shown = r.to_string();
    let again =
        Reference::parse(&shown).unwrap_or_else(|e| panic!("{s:?} displays as {shown:?}: {e}"));
    assert_eq!(again, r, "{s:?} displays as {shown:?}");

    let c = r.canonical();
    let back = Reference::parse(&c).unwrap_or_else(|e| panic!("{s:?} -> {c:?}: {e}"));
    assert_eq!(back.form, RefForm::Canonical, "{s:?} -> {c:?}");
    assert_eq!(back.backend.as_str(), r.backend.as_str(), "{s:?} -> {c:?}");
    assert_eq!(back.locator, r.locator, "{s:?} -> {c:?}");
    assert_eq!(back.key, r.key, "{s:?} -> {c:?}");
    assert_eq!(
        back.canonical(),
        c,
        "{s:?}: canonical spelling is not a fixed point"
    );
});
