//! Config loading. Property: never panics, and no error echoes a literal value: every string
//! in a `vars` entry (a reference, which may be a mistyped secret, or a `{ value = … }` literal)
//! and every backend setting other than `kind` carries a canary, and no error may contain it.
//!
//! The input is either TOML text as is (for the parser and the odd shapes), or a config built
//! from structured pieces with the canary woven into every literal.
#![no_main]

use arbitrary::Arbitrary;
use envfile_core::config::load_str;
use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;

const CANARY: &str = "QzCanary7";

#[derive(Debug)]
enum Input {
    Raw(String),
    Built(Built),
}

#[derive(Arbitrary, Debug)]
struct Built {
    profile: Option<Word>,
    backends: Vec<(Word, Word, Vec<(Word, Lit)>)>,
    envfiles: Vec<(Word, Vec<(Word, VarShape)>, Vec<Word>, Vec<(Lit, Word)>)>,
    secrets: Vec<(Lit, Vec<Word>)>,
    extra: String,
}

/// A key: mostly short and ASCII, sometimes anything.
#[derive(Arbitrary, Debug)]
struct Word(String);

/// Text placed around the canary.
#[derive(Arbitrary, Debug)]
struct Lit(String, String);

#[derive(Arbitrary, Debug)]
enum VarShape {
    Ref(Lit),
    Literal(Lit),
    LiteralExtra(Lit, Word),
    Number(i64),
    Table(Vec<(Word, Lit)>),
    Array(Vec<Lit>),
}

/// A TOML basic string holding exactly `s` (also a valid quoted key). Written here rather than
/// by the `toml` crate, whose writer (toml_write 0.1) overflows on 256 quotes in a row
/// (findings/config_load/toml-write-quote-run-overflow; envfile's file store had the same bug).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key(w: &Word) -> String {
    quoted(&w.0)
}

fn secret(l: &Lit) -> String {
    quoted(&format!("{}{CANARY}{}", l.0, l.1))
}

fn plain(l: &Lit) -> String {
    quoted(&format!("{}{}", l.0, l.1))
}

fn build(b: &Built) -> String {
    let mut t = String::new();
    let p = b
        .profile
        .as_ref()
        .map_or("default".to_owned(), |w| w.0.clone());
    let p = quoted(&p);
    for (name, kind, settings) in &b.backends {
        let _ = writeln!(t, "[{p}.backends.{}]\nkind = {}", key(name), key(kind));
        for (k, v) in settings {
            let _ = writeln!(t, "{} = {}", key(k), secret(v));
        }
    }
    for (name, vars, required, expand) in &b.envfiles {
        let _ = writeln!(t, "[{p}.envfiles.{}]", key(name));
        let req: Vec<String> = required.iter().map(key).collect();
        let _ = writeln!(t, "required = [{}]", req.join(", "));
        let ex: Vec<String> = expand
            .iter()
            .map(|(r, prefix)| format!("{{ ref = {}, prefix = {} }}", plain(r), key(prefix)))
            .collect();
        let _ = writeln!(t, "expand = [{}]", ex.join(", "));
        for (var, shape) in vars {
            let v = match shape {
                VarShape::Ref(l) => secret(l),
                VarShape::Literal(l) => format!("{{ value = {} }}", secret(l)),
                VarShape::LiteralExtra(l, k) => {
                    format!("{{ value = {}, {} = {} }}", secret(l), key(k), secret(l))
                }
                VarShape::Number(n) => n.to_string(),
                VarShape::Table(kv) => {
                    let kv: Vec<String> = kv
                        .iter()
                        .map(|(k, l)| format!("{} = {}", key(k), secret(l)))
                        .collect();
                    format!("{{ {} }}", kv.join(", "))
                }
                VarShape::Array(a) => {
                    let a: Vec<String> = a.iter().map(secret).collect();
                    format!("[{}]", a.join(", "))
                }
            };
            let _ = writeln!(t, "vars.{} = {v}", key(var));
        }
    }
    for (r, keys) in &b.secrets {
        let k: Vec<String> = keys.iter().map(key).collect();
        let _ = writeln!(
            t,
            "[{p}.secrets.{}]\nrequired_keys = [{}]",
            plain(r),
            k.join(", ")
        );
    }
    t.push_str(&b.extra);
    t
}

fuzz_target!(|data: &[u8]| {
    // First byte even: the rest is TOML text as is; odd: structured pieces.
    let input = match data.split_first() {
        Some((b, rest)) if b % 2 == 0 => Input::Raw(String::from_utf8_lossy(rest).into_owned()),
        Some((_, rest)) => match Built::arbitrary_take_rest(arbitrary::Unstructured::new(rest)) {
            Ok(b) => Input::Built(b),
            Err(_) => return,
        },
        None => return,
    };
    let (text, profile) = match &input {
        Input::Raw(s) => (s.clone(), None),
        Input::Built(b) => (build(b), b.profile.as_ref().map(|w| w.0.clone())),
    };
    // The canary only counts where the builder put it, never in `extra` or raw text.
    let woven = match &input {
        Input::Raw(_) => false,
        Input::Built(b) => !b.extra.contains(CANARY) && !text_keys_hold_canary(b),
    };
    let profile = profile.or_else(|| Some("default".to_owned()));
    if let Err(e) = load_str(&text, profile.as_deref()) {
        let shown = format!("{e} {}", e.hint().unwrap_or_default());
        if woven {
            assert!(
                !shown.contains(CANARY),
                "an error echoes a literal value:\n{shown}\n--- config:\n{text}"
            );
        }
    }
});

fn text_keys_hold_canary(b: &Built) -> bool {
    let w = |w: &Word| w.0.contains(CANARY);
    b.profile.as_ref().is_some_and(w)
        || b.backends
            .iter()
            .any(|(n, k, s)| w(n) || w(k) || s.iter().any(|(k, _)| w(k)))
        || b.envfiles.iter().any(|(n, vars, req, ex)| {
            w(n) || vars.iter().any(|(v, s)| {
                w(v) || matches!(s, VarShape::LiteralExtra(_, k) if w(k))
                    || matches!(s, VarShape::Table(kv) if kv.iter().any(|(k, _)| w(k)))
            }) || req.iter().any(w)
                || ex
                    .iter()
                    .any(|(r, p)| w(p) || r.0.contains(CANARY) || r.1.contains(CANARY))
        })
        || b.secrets
            .iter()
            .any(|(r, k)| r.0.contains(CANARY) || r.1.contains(CANARY) || k.iter().any(w))
}
