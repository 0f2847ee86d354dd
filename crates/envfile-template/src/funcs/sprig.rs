//! Sprig functions, which consul-template exposes with a `sprig_` prefix. This file holds the
//! string helpers agent templates use most; the rest of sprig comes as further entries here.

use super::{args_n, strs_n, Def};
use crate::value::Value;
use base64::Engine as _;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("sprig_upper", |a| {
        let [s] = strs_n("sprig_upper", &a)?;
        Ok(Value::str(s.to_uppercase()))
    }),
    Def::new("sprig_lower", |a| {
        let [s] = strs_n("sprig_lower", &a)?;
        Ok(Value::str(s.to_lowercase()))
    }),
    Def::new("sprig_trim", |a| {
        let [s] = strs_n("sprig_trim", &a)?;
        Ok(Value::str(s.trim_matches(super::strings::go_space)))
    }),
    Def::new("sprig_trimPrefix", |a| {
        let [p, s] = strs_n("sprig_trimPrefix", &a)?;
        Ok(Value::str(s.strip_prefix(p).unwrap_or(s)))
    }),
    Def::new("sprig_trimSuffix", |a| {
        let [p, s] = strs_n("sprig_trimSuffix", &a)?;
        Ok(Value::str(s.strip_suffix(p).unwrap_or(s)))
    }),
    Def::new("sprig_replace", |a| {
        let [old, new, s] = strs_n("sprig_replace", &a)?;
        Ok(Value::str(if old.is_empty() {
            s.to_owned()
        } else {
            s.replace(old, new)
        }))
    }),
    Def::new("sprig_contains", |a| {
        let [sub, s] = strs_n("sprig_contains", &a)?;
        Ok(Value::Bool(s.contains(sub)))
    }),
    Def::new("sprig_hasPrefix", |a| {
        let [p, s] = strs_n("sprig_hasPrefix", &a)?;
        Ok(Value::Bool(s.starts_with(p)))
    }),
    Def::new("sprig_hasSuffix", |a| {
        let [p, s] = strs_n("sprig_hasSuffix", &a)?;
        Ok(Value::Bool(s.ends_with(p)))
    }),
    Def::new("sprig_b64enc", |a| {
        let [s] = strs_n("sprig_b64enc", &a)?;
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
        ))
    }),
    Def::new("sprig_quote", |a| Ok(Value::str(quote_all(&a, false)))),
    Def::new("sprig_squote", |a| Ok(Value::str(quote_all(&a, true)))),
    Def::new("sprig_default", |a| {
        let (default, given) = a.split_first().ok_or_else(|| {
            "wrong number of args for sprig_default: want at least 1 got 0".to_owned()
        })?;
        Ok(match given.first() {
            Some(v) if !empty(v) => v.clone(),
            _ => default.clone(),
        })
    }),
    Def::new("sprig_empty", |a| {
        let [v] = args_n("sprig_empty", a)?;
        Ok(Value::Bool(empty(&v)))
    }),
    Def::new("sprig_ternary", |a| {
        let [t, f, c] = args_n("sprig_ternary", a)?;
        match c {
            Value::Bool(true) => Ok(t),
            Value::Bool(false) => Ok(f),
            other => Err(format!(
                "wrong type for value; expected bool; got {}",
                other.type_name()
            )),
        }
    }),
];

/// Sprig's `empty`: Go's zero values (a JSON number is a non-empty string).
fn empty(v: &Value) -> bool {
    !v.truthy()
}

/// `quote`/`squote`: each non-nil argument as text (`%v`), quoted, joined by spaces.
fn quote_all(args: &[Value], single: bool) -> String {
    let mut parts = Vec::new();
    for a in args {
        if matches!(a, Value::Nil | Value::Invalid) {
            continue;
        }
        let mut text = String::new();
        crate::value::fmt_v(a, &mut text);
        if single {
            parts.push(format!("'{text}'"));
        } else {
            let mut q = String::new();
            super::fmt::go_quote(&text, &mut q);
            parts.push(q);
        }
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run, s};
    use crate::value::Value;

    #[test]
    fn strings_and_defaults() {
        assert_eq!(run("sprig_upper", vec![s("ab")]), "AB");
        assert_eq!(run("sprig_replace", vec![s("a"), s("b"), s("aXa")]), "bXb");
        assert_eq!(run("sprig_hasPrefix", vec![s("a"), s("abc")]), "true");
        assert_eq!(
            run("sprig_quote", vec![s("a\"b"), Value::Nil, j("1")]),
            "\"a\\\"b\" \"1\""
        );
        assert_eq!(run("sprig_squote", vec![s("a")]), "'a'");
        assert_eq!(run("sprig_default", vec![s("d"), s("")]), "d");
        assert_eq!(run("sprig_default", vec![s("d"), j("0")]), "0");
        assert_eq!(run("sprig_default", vec![s("d")]), "d");
        assert_eq!(
            run("sprig_ternary", vec![s("y"), s("n"), Value::Bool(false)]),
            "n"
        );
        assert_eq!(run("sprig_empty", vec![j("[]")]), "true");
    }
}
