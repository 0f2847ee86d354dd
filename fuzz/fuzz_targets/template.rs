//! The template engine (lexer, parser, evaluator). Property: never panics, never hangs (the
//! run's `-timeout`), stays within bounded memory (the run's `-rss_limit_mb`/`-malloc_limit_mb`),
//! and no error contains a secret's value: every `secret "…"` reads a JSON object whose strings
//! carry a canary, and neither a parse error nor an execution error may show it.
//! The first input byte picks the options (delimiters, `error_on_missing_key`) so that
//! `parse_with` is fuzzed too; the rest is the template. The engine's own limits
//! (`envfile_template::limits`) bound ranges, output and recursion; only calls of the functions
//! that cost seconds by design (key generation, password hashing: [`COSTLY`]) are stepped round.
#![no_main]

use envfile_template::{Options, Template};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const CANARY: &str = "QzSecret7";

/// Functions whose one call costs up to seconds of CPU by design: RSA/DSA key generation and
/// password hashing (scrypt, bcrypt). The engine bounds them by counting each call as a large
/// number of steps (`envfile_template::limits::call_cost`, unit-tested); here a single call
/// would make libFuzzer's timeout measure the `rsa` crate instead of the engine. The `…WithKey`
/// forms (signing with a given key) are fuzzed.
const COSTLY: &[&str] = &[
    "sprig_genPrivateKey",
    "sprig_genCA",
    "sprig_genSelfSignedCert",
    "sprig_genSignedCert",
    "sprig_derivePassword",
    "sprig_bcrypt",
    "sprig_htpasswd",
];

/// Whether `src` names one of [`COSTLY`] (as a whole identifier: `sprig_genCAWithKey` is not).
fn calls_costly(src: &str) -> bool {
    COSTLY.iter().any(|name| {
        src.match_indices(name).any(|(i, _)| {
            !src[i + name.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    let (ld, rd) = match pick % 4 {
        0 | 1 => ("{{", "}}"),
        2 => ("[[", "]]"),
        _ => ("<%", "%>"),
    };
    let options = Options {
        left_delimiter: ld.into(),
        right_delimiter: rd.into(),
        error_on_missing_key: pick & 0x80 != 0,
    };
    if src.contains(CANARY) {
        return; // the template itself may print its own text
    }
    if calls_costly(src) {
        return;
    }
    let t = match Template::parse_with("fuzz.tmpl", src, &options) {
        Ok(t) => t,
        Err(e) => {
            assert!(e.message().starts_with("template fuzz.tmpl:"), "{e}");
            return;
        }
    };
    let mut lookup = |path: &str| -> envfile_core::Result<serde_json::Value> {
        if path.ends_with("missing") {
            return Err(envfile_core::Error::new(
                envfile_core::ErrorKind::NotFound,
                "no such secret (fuzz)",
            ));
        }
        Ok(json!({
            "data": {
                "password": format!("{CANARY}-pw"),
                "port": 5432,
                "nested": { "k": format!("{CANARY}-k"), "list": [format!("{CANARY}-0"), 1, null, true] },
                "empty": "",
            },
            "metadata": { "version": 3 },
            "value": format!("{CANARY}-v"),
        }))
    };
    if let Err(e) = t.render_with(&mut lookup) {
        let shown = format!("{e} {}", e.hint().unwrap_or_default());
        assert!(
            !shown.contains(CANARY),
            "an error shows a secret value: {shown}"
        );
    }
});
