//! Sprig's defaults and JSON functions: `default empty coalesce all any ternary compact`,
//! `toJson toPrettyJson toRawJson fromJson` (and their `must` forms), `deepCopy`.
//!
//! "Empty" is Go's zero value: nil, false, 0, and empty strings, lists and maps. A JSON number
//! is a `json.Number` (a string), so `0` read from a secret is not empty.

use super::{arity, at_least, bool_arg, is_nil, str_arg};
use crate::funcs::encoding::to_json;
use crate::funcs::{Def, R};
use crate::value::Value;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_default", |a| {
        at_least("sprig_default", &a, 1)?;
        Ok(match a.get(1) {
            Some(given) if !empty(given) => given.clone(),
            _ => a[0].clone(),
        })
    }),
    Def::new("sprig_empty", |a| {
        arity("sprig_empty", &a, 1)?;
        Ok(Value::Bool(empty(&a[0])))
    }),
    Def::new("sprig_coalesce", |a| {
        Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
    }),
    Def::new("sprig_all", |a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    }),
    Def::new("sprig_any", |a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    }),
    Def::new("sprig_ternary", |a| {
        arity("sprig_ternary", &a, 3)?;
        let pick = bool_arg(&a[2])?;
        Ok(if pick { a[0].clone() } else { a[1].clone() })
    }),
    Def::new("sprig_toJson", |a| {
        json_out("sprig_toJson", a, None, true, false)
    }),
    Def::new("sprig_mustToJson", |a| {
        json_out("sprig_mustToJson", a, None, true, true)
    }),
    Def::new("sprig_toPrettyJson", |a| {
        json_out("sprig_toPrettyJson", a, Some(0), true, false)
    }),
    Def::new("sprig_mustToPrettyJson", |a| {
        json_out("sprig_mustToPrettyJson", a, Some(0), true, true)
    }),
    Def::new("sprig_toRawJson", |a| {
        json_out("sprig_toRawJson", a, None, false, false)
    }),
    Def::new("sprig_mustToRawJson", |a| {
        json_out("sprig_mustToRawJson", a, None, false, true)
    }),
    Def::new("sprig_fromJson", |a| {
        arity("sprig_fromJson", &a, 1)?;
        Ok(from_json(str_arg(&a[0])?).unwrap_or(Value::Nil))
    }),
    Def::new("sprig_mustFromJson", |a| {
        arity("sprig_mustFromJson", &a, 1)?;
        from_json(str_arg(&a[0])?)
    }),
    // envfile's values are immutable and shared, so a copy is the value itself.
    Def::new("sprig_deepCopy", |a| {
        arity("sprig_deepCopy", &a, 1)?;
        Ok(a[0].clone())
    }),
    Def::new("sprig_mustDeepCopy", |a| {
        arity("sprig_mustDeepCopy", &a, 1)?;
        if is_nil(&a[0]) {
            return Err("copy: cannot copy nil".into());
        }
        Ok(a[0].clone())
    }),
];

/// Sprig's `empty`: Go's zero value test.
pub(super) fn empty(v: &Value) -> bool {
    !v.truthy()
}

/// `json.Marshal` (or `MarshalIndent(v, "", "  ")`, or an encoder without HTML escaping); the
/// plain forms print an empty string where Go's encoder fails.
fn json_out(name: &str, a: Vec<Value>, indent: Option<usize>, html: bool, must: bool) -> R {
    arity(name, &a, 1)?;
    let mut out = String::new();
    match to_json(&a[0], indent, html, &mut out) {
        Ok(()) => Ok(Value::str(out)),
        Err(e) if must => Err(e),
        Err(_) => Ok(Value::str("")),
    }
}

/// `json.Unmarshal` into an `interface{}`: numbers are `float64` (unlike secret data, which the
/// agent decodes as `json.Number`).
fn from_json(s: &str) -> R {
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(convert(&v))
}

fn convert(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::Array(a) => super::list_value(a.iter().map(convert).collect()),
        serde_json::Value::Object(o) => {
            Value::map(o.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
        }
        other => Value::from_json(other),
    }
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{j, run, s};
    use crate::value::Value;

    #[test]
    fn defaults_follow_go_zero_values() {
        // Expected values are bao agent 2.7.2's output.
        assert_eq!(run("sprig_default", vec![s("d"), s("")]), "d");
        assert_eq!(run("sprig_default", vec![s("d"), Value::Int(0)]), "d");
        assert_eq!(run("sprig_default", vec![s("d")]), "d");
        assert_eq!(run("sprig_default", vec![s("d"), j("0")]), "0");
        assert_eq!(run("sprig_empty", vec![Value::Int(0)]), "true");
        assert_eq!(run("sprig_empty", vec![s("0")]), "false");
        assert_eq!(
            run("sprig_coalesce", vec![s(""), Value::Int(0), s("x")]),
            "x"
        );
        assert_eq!(run("sprig_coalesce", vec![s("")]), "<nil>");
        assert_eq!(
            run("sprig_ternary", vec![s("y"), s("n"), Value::Bool(true)]),
            "y"
        );
        assert_eq!(
            run("sprig_ternary", vec![s("y"), s("n"), s("true")]),
            "ERR: wrong type for value; expected bool; got string"
        );
        assert_eq!(run("sprig_all", vec![Value::Int(1), s("")]), "false");
        assert_eq!(run("sprig_any", vec![Value::Int(0), s("a")]), "true");
    }

    #[test]
    fn json_round_trips_like_encoding_json() {
        let v = j(r#"{"a":"<&>","b":[1,1.5,null]}"#);
        assert_eq!(
            run("sprig_toJson", vec![v.clone()]),
            r#"{"a":"\u003c\u0026\u003e","b":[1,1.5,null]}"#
        );
        assert_eq!(
            run("sprig_toRawJson", vec![v]),
            r#"{"a":"<&>","b":[1,1.5,null]}"#
        );
        assert_eq!(
            run("sprig_toPrettyJson", vec![j(r#"{"a":[1]}"#)]),
            "{\n  \"a\": [\n    1\n  ]\n}"
        );
        assert_eq!(
            run("sprig_fromJson", vec![s(r#"{"a":1000000,"b":[1,2.5]}"#)]),
            "map[a:1e+06 b:[1 2.5]]"
        );
        assert_eq!(run("sprig_fromJson", vec![s("bad")]), "<nil>");
        assert!(run("sprig_mustFromJson", vec![s("bad")]).starts_with("ERR: "));
        assert_eq!(run("sprig_toJson", vec![Value::Float(f64::NAN)]), "");
    }
}
