//! Parsing functions from consul-template: `parseBool parseInt parseUint parseFloat parseJSON`.
//! An empty string parses to the zero value (`false`, `0`, an empty map), as consul-template
//! does. Errors do not quote the input: it is usually a secret.

use super::{strs_n, Def};
use crate::value::{Map, Value};
use std::sync::Arc;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("parseBool", |a| {
        let [s] = strs_n("parseBool", &a)?;
        Ok(Value::Bool(match s {
            "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            _ => return Err("parseBool: strconv.ParseBool: invalid syntax".into()),
        }))
    }),
    Def::new("parseInt", |a| {
        let [s] = strs_n("parseInt", &a)?;
        if s.is_empty() {
            return Ok(Value::int64(0));
        }
        go_int(s)
            .map(Value::int64)
            .ok_or_else(|| "parseInt: strconv.ParseInt: invalid syntax or out of range".into())
    }),
    Def::new("parseUint", |a| {
        let [s] = strs_n("parseUint", &a)?;
        if s.is_empty() {
            return Ok(Value::uint64(0));
        }
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse::<u64>().ok())
            .flatten()
            .map(Value::uint64)
            .ok_or_else(|| "parseUint: strconv.ParseUint: invalid syntax or out of range".into())
    }),
    Def::new("parseFloat", |a| {
        let [s] = strs_n("parseFloat", &a)?;
        if s.is_empty() {
            return Ok(Value::Float(0.0));
        }
        go_float(s)
            .map(Value::Float)
            .ok_or_else(|| "parseFloat: strconv.ParseFloat: invalid syntax".into())
    }),
    Def::new("parseJSON", |a| {
        let [s] = strs_n("parseJSON", &a)?;
        if s.is_empty() {
            return Ok(Value::map(Default::default()));
        }
        let j: serde_json::Value = serde_json::from_str(s).map_err(|e| {
            format!(
                "parseJSON: invalid JSON at line {} column {}",
                e.line(),
                e.column()
            )
        })?;
        Ok(from_json_float(&j))
    }),
];

/// `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits.
fn go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `strconv.ParseFloat(s, 64)` for decimal input (and Go's `Inf`/`NaN` spellings).
fn go_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let special = ["inf", "infinity", "nan"]
        .iter()
        .any(|w| body.eq_ignore_ascii_case(w));
    let plain = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !(special || plain) || body.is_empty() {
        return None;
    }
    if special && body.eq_ignore_ascii_case("nan") && body.len() != s.len() {
        return None;
    }
    s.parse().ok()
}

/// JSON as `json.Unmarshal` into `interface{}` sees it: numbers are `float64`.
pub(crate) fn from_json_float(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::Array(a) => {
            Value::List(Arc::new(a.iter().map(from_json_float).collect()))
        }
        serde_json::Value::Object(o) => Value::Map(Arc::new(Map::new(
            o.iter()
                .map(|(k, v)| (k.clone(), from_json_float(v)))
                .collect(),
            false,
        ))),
        other => Value::from_json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run, s};

    #[test]
    fn scalars() {
        assert_eq!(run("parseBool", vec![s("True")]), "true");
        assert_eq!(run("parseBool", vec![s("")]), "false");
        assert!(run("parseBool", vec![s("yes")]).starts_with("ERR"));
        assert_eq!(run("parseInt", vec![s("-42")]), "-42");
        assert!(run("parseInt", vec![s("1_0")]).starts_with("ERR"));
        assert!(run("parseInt", vec![s("99999999999999999999")]).starts_with("ERR"));
        assert_eq!(run("parseUint", vec![s("42")]), "42");
        assert!(run("parseUint", vec![s("-1")]).starts_with("ERR"));
        assert_eq!(run("parseFloat", vec![s("1.5e3")]), "1500");
        assert_eq!(run("parseFloat", vec![s("1e21")]), "1e+21");
        assert!(run("parseInt", vec![j("1")]).contains("expected string"));
    }

    #[test]
    fn json_numbers_become_floats() {
        assert_eq!(
            run(
                "parseJSON",
                vec![s(r#"{"a":[1,2.5,"x",null],"b":{"c":true}}"#)]
            ),
            "map[a:[1 2.5 x <nil>] b:map[c:true]]"
        );
        assert_eq!(run("parseJSON", vec![s("")]), "map[]");
        assert!(run("parseJSON", vec![s("{")]).starts_with("ERR: parseJSON"));
    }
}
