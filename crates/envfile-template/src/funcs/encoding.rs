//! Encoding functions: consul-template's `base64Encode`/`base64Decode`/`base64URLEncode`/
//! `base64URLDecode`, `toJSON`, `toJSONPretty`, `toUnescapedJSON`, `toUnescapedJSONPretty`.

use super::{args_n, strs_n, Def, R};
use crate::value::{go_fmt_float, go_json_float, Value};
use base64::Engine as _;
use zeroize::Zeroizing;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("base64Encode", |a| encode("base64Encode", a)),
    Def::new("base64URLEncode", |a| encode("base64URLEncode", a)),
    Def::new("base64Decode", |a| decode("base64Decode", a)),
    Def::new("base64URLDecode", |a| decode("base64URLDecode", a)),
    Def::new("toJSON", |a| json("toJSON", a, None, true)),
    Def::new("toJSONPretty", |a| json("toJSONPretty", a, Some(0), true)),
    Def::new("toUnescapedJSON", |a| {
        json("toUnescapedJSON", a, None, false)
    }),
    Def::new("toUnescapedJSONPretty", |a| {
        json("toUnescapedJSONPretty", a, Some(0), false)
    }),
];

fn engine(name: &str) -> &'static base64::engine::GeneralPurpose {
    if name.contains("URL") {
        &base64::engine::general_purpose::URL_SAFE
    } else {
        &base64::engine::general_purpose::STANDARD
    }
}

fn encode(name: &str, args: Vec<Value>) -> R {
    let [s] = strs_n(name, &args)?;
    Ok(Value::str(engine(name).encode(s.as_bytes())))
}

fn decode(name: &str, args: Vec<Value>) -> R {
    let [s] = strs_n(name, &args)?;
    // The input is secret: report only that it failed, not where (Go's message quotes the
    // offset, which hints at content length; keep it plain).
    let bytes = Zeroizing::new(
        engine(name)
            .decode(s.as_bytes())
            .map_err(|_| format!("{name}: argument is not valid base64"))?,
    );
    let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
        let mut b = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut b);
        format!("{name}: decoded value is not UTF-8 text")
    })?;
    Ok(Value::str(text))
}

fn json(name: &str, args: Vec<Value>, indent: Option<usize>, html: bool) -> R {
    let [v] = args_n(name, args)?;
    let mut out = String::new();
    to_json(&v, indent, html, &mut out).map_err(|e| format!("{name}: {e}"))?;
    Ok(Value::str(out))
}

/// Go's `encoding/json` (which `toJSON` uses): sorted keys, HTML-safe escaping (`<`, `>`, `&`,
/// U+2028, U+2029 as `\u…`), `json.Number` text as is. `indent`: `Some(level)` for
/// `json.MarshalIndent(v, "", "  ")`.
pub(crate) fn to_json(
    v: &Value,
    indent: Option<usize>,
    html: bool,
    out: &mut String,
) -> Result<(), String> {
    let nl = |out: &mut String, level: usize| {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    };
    match v {
        Value::Nil | Value::Invalid | Value::NilPointer(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Typed(t) => out.push_str(&t.get().to_string()),
        Value::Float(f) if f.is_finite() => out.push_str(&go_json_float(*f)),
        Value::Float(f) => return Err(format!("json: unsupported value: {}", go_fmt_float(*f))),
        Value::Number(n) => out.push_str(n),
        Value::Str(s) => json_string(s, html, out),
        Value::List(l) | Value::Strings(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = indent {
                    nl(out, level + 1);
                }
                to_json(e, indent.map(|l| l + 1), html, out)?;
            }
            if let Some(level) = indent {
                nl(out, level);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let entries = m.entries();
            if entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            // A `parseYAML` map's keys as the agent's encoding/json names them: strings as
            // they are, integers in decimal, sorted as names; any other key is an error.
            let named: Vec<(std::borrow::Cow<'_, str>, &Value)> = if m.any_keys {
                let mut named = Vec::with_capacity(entries.len());
                for (k, e) in entries.iter() {
                    let name = match crate::value::key_value(k) {
                        Value::Str(_) => std::borrow::Cow::Borrowed(k.as_str()),
                        Value::Int(i) => std::borrow::Cow::Owned(i.to_string()),
                        Value::Typed(t) => std::borrow::Cow::Owned(t.get().to_string()),
                        Value::Number(n) => std::borrow::Cow::Owned(n.to_string()),
                        _ => {
                            return Err("json: unsupported value: jsontext: object member name \
                                        must be a string"
                                .into())
                        }
                    };
                    named.push((name, e));
                }
                named.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                named
            } else {
                entries
                    .iter()
                    .map(|(k, e)| (std::borrow::Cow::Borrowed(k.as_str()), e))
                    .collect()
            };
            out.push('{');
            for (i, (k, e)) in named.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = indent {
                    nl(out, level + 1);
                }
                json_string(k, html, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                to_json(e, indent.map(|l| l + 1), html, out)?;
            }
            if let Some(level) = indent {
                nl(out, level);
            }
            out.push('}');
        }
        Value::Secret(_) => {
            return Err("a secret record cannot be encoded whole; encode its .Data".into())
        }
        Value::Time(t) => out.push_str(&t.json()?),
        Value::Object(o) => to_json(
            &o.marshal(crate::object::Encoding::Json)?,
            indent,
            html,
            out,
        )?,
    }
    Ok(())
}

fn json_string(s: &str, html: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run, s};

    #[test]
    fn json_is_sorted_and_html_safe() {
        let v = j(r#"{"b":"<&>","a":[1,null,{"z":true}],"e":{},"l":[]}"#);
        assert_eq!(
            run("toJSON", vec![v.clone()]),
            r#"{"a":[1,null,{"z":true}],"b":"\u003c\u0026\u003e","e":{},"l":[]}"#
        );
        assert_eq!(
            run("toUnescapedJSON", vec![v]),
            r#"{"a":[1,null,{"z":true}],"b":"<&>","e":{},"l":[]}"#
        );
        assert_eq!(
            run("toJSONPretty", vec![j(r#"{"b":1,"a":[1,2],"e":{}}"#)]),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1,\n  \"e\": {}\n}"
        );
    }

    #[test]
    fn base64_round_trips_and_rejects_other_types() {
        assert_eq!(
            run("base64Encode", vec![j("1")]),
            "ERR: wrong type for value; expected string; got json.Number"
        );
        assert_eq!(run("base64Encode", vec![s("hi\n")]), "aGkK");
        assert_eq!(run("base64Decode", vec![s("aGkK")]), "hi\n");
        assert_eq!(run("base64URLEncode", vec![s("\u{fb}\u{ff}")]), "w7vDvw==");
        assert!(run("base64Decode", vec![s("!!")]).starts_with("ERR: "));
    }
}
