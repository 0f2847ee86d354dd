//! The `.env` reader `envfile import` uses. Property: never panics; its errors name a line and
//! never quote a value; and every binding it reads, written back by the dotenv renderer, reads
//! back the same (reader → renderer → reader is the identity on what was read).
//!
//! Linear time is checked by running with large inputs (`-max_len`) under libFuzzer's
//! `-timeout` (scripts/fuzz sets both); see fuzz/findings/dotenv_read/.
//!
//! At merge: the envfiles branch may move this reader; change the `#[path]` in fuzz/src/lib.rs.
#![no_main]

use envfile_core::{render, Format, RenderOptions, Var};
use envfile_fuzz::dotenv_read;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let bindings = match dotenv_read::parse(text, "fuzz.env") {
        Ok(b) => b,
        Err(e) => {
            let msg = e.message();
            assert!(msg.starts_with("fuzz.env: line "), "{msg}");
            return;
        }
    };
    let vars: Vec<Var> = bindings
        .iter()
        .filter_map(|b| {
            b.value.as_ref().map(|v| Var {
                name: b.key.clone(),
                value: v.clone(),
            })
        })
        .collect();
    // python-dotenv keeps the last of a repeated key; the renderer refuses duplicates.
    let mut seen = std::collections::HashSet::new();
    let mut last: Vec<Var> = vars
        .into_iter()
        .rev()
        .filter(|v| seen.insert(v.name.clone()))
        .collect();
    last.reverse();
    let Ok((out, _)) = render(Format::Dotenv, &last, &RenderOptions::default()) else {
        return; // a name or value the renderer refuses (NUL, a key with odd characters)
    };
    let again = dotenv_read::parse(out.expose(), "rendered.env")
        .unwrap_or_else(|e| panic!("rendered output does not read back: {e}"));
    assert_eq!(again.len(), last.len());
    for (a, v) in again.iter().zip(&last) {
        assert_eq!(a.key, v.name);
        let got = a.value.as_ref().map(|x| x.expose_bytes());
        assert_eq!(got, Some(v.value.expose_bytes()), "value of {}", v.name);
    }
});
