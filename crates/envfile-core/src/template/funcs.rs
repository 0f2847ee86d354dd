//! The template functions: Go's builtins that agent templates use, and consul-template's
//! `toJSON`, `base64Encode`/`base64Decode`, `trimSpace`… `secret` lives in `eval`, since it reads
//! the fetched secrets. Every function mirrors the Go one's output, including Go's
//! `%!verb(type=value)` for a bad `printf` verb, so rendered files match the agent's byte for byte.

use super::value::{fmt_v, go_fmt_float, go_json_float, Value};
use base64::Engine as _;
use std::cmp::Ordering;
use zeroize::Zeroizing;

/// Every function name a template may call.
pub(crate) const NAMES: &[&str] = &[
    "and",
    "base64Decode",
    "base64Encode",
    "base64URLDecode",
    "base64URLEncode",
    "eq",
    "ge",
    "gt",
    "index",
    "le",
    "len",
    "lt",
    "ne",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "secret",
    "toJSON",
    "toJSONPretty",
    "toLower",
    "toUpper",
    "trimSpace",
];

pub(crate) fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

type R = Result<Value, String>;

fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

/// A `string` parameter: Go converts nothing, so a `json.Number` is a type error.
fn string_arg(v: &Value) -> Result<&str, String> {
    match v {
        Value::Str(s) => Ok(s.as_str()),
        Value::Nil | Value::Invalid => Err("invalid value; expected string".into()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

/// Call a function other than `secret`. `and`/`or` are evaluated lazily by the caller.
pub(crate) fn call(name: &str, args: Vec<Value>) -> R {
    match name {
        "not" => {
            want_args(name, &args, 1)?;
            Ok(Value::Bool(!args[0].truthy()))
        }
        "and" | "or" => {
            // Reached only with already-evaluated arguments; see eval for short-circuiting.
            let want = name == "or";
            let n = args.len();
            for (i, a) in args.into_iter().enumerate() {
                if a.truthy() == want || i + 1 == n {
                    return Ok(a);
                }
            }
            Err(format!(
                "wrong number of args for {name}: want at least 1 got 0"
            ))
        }
        "eq" => {
            if args.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            for b in &args[1..] {
                if eq(&args[0], b)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        "ne" => {
            want_args(name, &args, 2)?;
            Ok(Value::Bool(!eq(&args[0], &args[1])?))
        }
        "lt" | "le" | "gt" | "ge" => {
            want_args(name, &args, 2)?;
            let ord = compare(&args[0], &args[1])?;
            Ok(Value::Bool(match name {
                "lt" => ord == Ordering::Less,
                "le" => ord != Ordering::Greater,
                "gt" => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        "len" => {
            want_args(name, &args, 1)?;
            let n = match &args[0] {
                Value::Str(s) => s.len(),
                Value::Number(n) => n.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.entries.len(),
                Value::Nil | Value::Invalid => return Err("len of nil pointer".into()),
                other => return Err(format!("len of type {}", other.type_name())),
            };
            Ok(Value::Int(n as i64))
        }
        "index" => {
            let mut it = args.into_iter();
            let mut item = it.next().ok_or_else(|| {
                "wrong number of args for index: want at least 1 got 0".to_owned()
            })?;
            for key in it {
                item = index(&item, &key)?;
            }
            Ok(item)
        }
        "print" => Ok(Value::str(sprint(&args))),
        "println" => {
            let mut out = String::new();
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_v(a, &mut out);
            }
            out.push('\n');
            Ok(Value::str(out))
        }
        "printf" => {
            let (format, rest) = args.split_first().ok_or_else(|| {
                "wrong number of args for printf: want at least 1 got 0".to_owned()
            })?;
            Ok(Value::str(sprintf(string_arg(format)?, rest)?))
        }
        "toJSON" | "toJSONPretty" => {
            want_args(name, &args, 1)?;
            let mut out = String::new();
            let indent = (name == "toJSONPretty").then_some(0);
            to_json(&args[0], indent, &mut out)?;
            Ok(Value::str(out))
        }
        "base64Encode" | "base64URLEncode" => {
            want_args(name, &args, 1)?;
            let s = string_arg(&args[0])?;
            Ok(Value::str(engine(name).encode(s.as_bytes())))
        }
        "base64Decode" | "base64URLDecode" => {
            want_args(name, &args, 1)?;
            let s = string_arg(&args[0])?;
            // The input is secret: report only that it failed, not where (Go's message quotes
            // the offset, which hints at content length; keep it plain).
            let bytes = Zeroizing::new(
                engine(name)
                    .decode(s.as_bytes())
                    .map_err(|_| "argument is not valid base64".to_owned())?,
            );
            let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
                let mut b = e.into_bytes();
                zeroize::Zeroize::zeroize(&mut b);
                "decoded value is not UTF-8 text".to_owned()
            })?;
            Ok(Value::str(text))
        }
        "trimSpace" => {
            want_args(name, &args, 1)?;
            Ok(Value::str(string_arg(&args[0])?.trim_matches(go_space)))
        }
        "toLower" => {
            want_args(name, &args, 1)?;
            Ok(Value::str(string_arg(&args[0])?.to_lowercase()))
        }
        "toUpper" => {
            want_args(name, &args, 1)?;
            Ok(Value::str(string_arg(&args[0])?.to_uppercase()))
        }
        other => Err(format!("function \"{other}\" not defined")),
    }
}

fn engine(name: &str) -> &'static base64::engine::GeneralPurpose {
    if name.contains("URL") {
        &base64::engine::general_purpose::URL_SAFE
    } else {
        &base64::engine::general_purpose::STANDARD
    }
}

/// `unicode.IsSpace`, which `strings.TrimSpace` uses.
fn go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c > '\u{ff}' && c.is_whitespace())
}

/// Go's comparison kinds: `json.Number` is a string kind, so it compares with strings.
#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) | Value::Number(_) => Kind::Str,
        _ => Kind::Other,
    }
}

fn eq(a: &Value, b: &Value) -> Result<bool, String> {
    let nil = |v: &Value| matches!(v, Value::Nil | Value::Invalid);
    if nil(a) || nil(b) {
        return Ok(nil(a) && nil(b));
    }
    let (ka, kb) = (kind(a), kind(b));
    if ka != kb {
        let json_number = |v: &Value| matches!(v, Value::Number(_));
        let number = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_));
        if (json_number(a) && number(b)) || (number(a) && json_number(b)) {
            return Err(
                "incompatible types for comparison (a JSON number is a json.Number, \
                        which compares as a string: write the constant in quotes, e.g. \"5432\")"
                    .into(),
            );
        }
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        _ if ka == Kind::Str => a.as_text() == b.as_text(),
        _ => return Err(format!("non-comparable type {}", a.type_name())),
    })
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    let (ka, kb) = (kind(a), kind(b));
    if ka != kb {
        return Err("incompatible types for comparison".into());
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x
            .partial_cmp(y)
            .ok_or_else(|| "invalid type for comparison".to_owned()),
        _ if ka == Kind::Str => Ok(a.as_text().cmp(&b.as_text())),
        _ => Err("invalid type for comparison".into()),
    }
}

fn index(item: &Value, key: &Value) -> R {
    match item {
        Value::Map(m) => match key {
            Value::Str(k) => Ok(m.entries.get(k.as_str()).cloned().unwrap_or(Value::Nil)),
            other => Err(format!(
                "value has type {}; should be string",
                other.type_name()
            )),
        },
        Value::List(l) => match key {
            Value::Int(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| l.get(i))
                .cloned()
                .ok_or_else(|| format!("index out of range: {i}")),
            other => Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )),
        },
        Value::Nil | Value::Invalid => Err("index of untyped nil".into()),
        other => Err(format!("can't index item of type {}", other.type_name())),
    }
}

/// `fmt.Sprint`: a space between operands when neither is a string.
fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !is_string_kind(a) && !is_string_kind(&args[i - 1]) {
            out.push(' ');
        }
        fmt_v(a, &mut out);
    }
    out
}

fn is_string_kind(v: &Value) -> bool {
    matches!(v, Value::Str(_) | Value::Number(_))
}

/// `fmt.Sprintf` for the verbs `%v %s %q %d` and `%%`, with Go's in-band error strings for a bad
/// verb, a missing operand and extra operands.
fn sprintf(format: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !matches!(verb, 'v' | 's' | 'q' | 'd') {
            return Err(format!(
                "printf: the verb %{verb} is not supported (supported: %v %s %q %d %%)"
            ));
        }
        match args.get(next) {
            Some(a) => fmt_verb(verb, a, &mut out),
            None => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(MISSING)");
            }
        }
        next += 1;
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[next..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if matches!(a, Value::Nil | Value::Invalid) {
                out.push_str("<nil>");
            } else {
                out.push_str(a.type_name());
                out.push('=');
                fmt_v(a, &mut out);
            }
        }
        out.push(')');
    }
    Ok(out)
}

fn bad_verb(verb: char, v: &Value, out: &mut String) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if matches!(v, Value::Nil | Value::Invalid) {
        out.push_str("<nil>");
    } else {
        out.push_str(v.type_name());
        out.push('=');
        fmt_v(v, out);
    }
    out.push(')');
}

/// One operand under a verb; composites apply the verb to each element, as `fmt` does (a nil
/// element prints `<nil>` whatever the verb).
fn fmt_verb(verb: char, v: &Value, out: &mut String) {
    fmt_verb_at(verb, v, out, 0)
}

fn fmt_verb_at(verb: char, v: &Value, out: &mut String, depth: usize) {
    match (verb, v) {
        (_, Value::Nil | Value::Invalid) if depth > 0 => out.push_str("<nil>"),
        ('v', _) => fmt_v(v, out),
        (_, Value::List(l)) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_verb_at(verb, e, out, depth + 1);
            }
            out.push(']');
        }
        (_, Value::Map(m)) => {
            out.push_str("map[");
            for (i, (k, e)) in m.entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_verb(verb, &Value::str(k.clone()), out);
                out.push(':');
                fmt_verb_at(verb, e, out, depth + 1);
            }
            out.push(']');
        }
        ('s', Value::Str(_) | Value::Number(_)) => out.push_str(v.as_text().unwrap_or_default()),
        ('q', Value::Str(_) | Value::Number(_)) => go_quote(v.as_text().unwrap_or_default(), out),
        ('q', Value::Int(i)) => match u32::try_from(*i).ok().and_then(char::from_u32) {
            Some(c) => {
                out.push('\'');
                match c {
                    '\'' => out.push_str("\\'"),
                    '"' => out.push('"'),
                    _ => {
                        let mut q = String::new();
                        go_quote(c.encode_utf8(&mut [0; 4]), &mut q);
                        out.push_str(&q[1..q.len() - 1]);
                    }
                }
                out.push('\'');
            }
            None => out.push_str("'\u{fffd}'"),
        },
        ('d', Value::Int(i)) => out.push_str(&i.to_string()),
        _ => bad_verb(verb, v, out),
    }
}

/// `strconv.Quote`: Go escapes for `"`, `\`, the named control characters, and `\xNN`/`\uNNNN`/
/// `\UNNNNNNNN` for other non-printable characters. Printable non-ASCII stays as is.
pub(crate) fn go_quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
}

/// An approximation of Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and
/// the ASCII space) without Unicode category tables: controls, non-ASCII spaces, format
/// characters, surrogates, private use and noncharacters are not printable.
fn go_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
            | 0x202a..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb
            | 0xe000..=0xf8ff | 0xf0000..=0x10ffff | 0xfdd0..=0xfdef)
        || (u & 0xfffe) == 0xfffe)
}

/// Go's `encoding/json` (which `toJSON` uses): sorted keys, HTML-safe escaping (`<`, `>`, `&`,
/// U+2028, U+2029 as `\u…`), `json.Number` text as is. `indent`: `Some(level)` for
/// `json.MarshalIndent(v, "", "  ")`.
fn to_json(v: &Value, indent: Option<usize>, out: &mut String) -> Result<(), String> {
    let nl = |out: &mut String, level: usize| {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    };
    match v {
        Value::Nil | Value::Invalid => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) if f.is_finite() => out.push_str(&go_json_float(*f)),
        Value::Float(f) => {
            return Err(format!(
                "error calling toJSON: json: unsupported value: {}",
                go_fmt_float(*f)
            ))
        }
        Value::Number(n) => out.push_str(n),
        Value::Str(s) => json_string(s, out),
        Value::List(l) => {
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
                to_json(e, indent.map(|l| l + 1), out)?;
            }
            if let Some(level) = indent {
                nl(out, level);
            }
            out.push(']');
        }
        Value::Map(m) => {
            if m.entries.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, e)) in m.entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = indent {
                    nl(out, level + 1);
                }
                json_string(k, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                to_json(e, indent.map(|l| l + 1), out)?;
            }
            if let Some(level) = indent {
                nl(out, level);
            }
            out.push('}');
        }
        Value::Secret(_) => {
            return Err("a secret record cannot be encoded whole; encode its .Data".into())
        }
    }
    Ok(())
}

fn json_string(s: &str, out: &mut String) {
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
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Value {
        Value::from_json(&serde_json::from_str(s).unwrap())
    }

    fn text(v: R) -> String {
        match v.unwrap() {
            Value::Str(s) => s.to_string(),
            _ => panic!("not a string"),
        }
    }

    #[test]
    fn printf_matches_go_for_json_numbers() {
        let args = vec![
            Value::str("%v %d %s %q|%d"),
            j("5432"),
            j("5432"),
            j("0.5"),
            j("\"\""),
            Value::Int(7),
        ];
        assert_eq!(
            text(call("printf", args)),
            "5432 %!d(json.Number=5432) 0.5 \"\"|7"
        );
        assert_eq!(
            text(call("printf", vec![Value::str("%s %s"), Value::str("a")])),
            "a %!s(MISSING)"
        );
        assert_eq!(
            text(call(
                "printf",
                vec![Value::str("x"), Value::Int(1), Value::Nil]
            )),
            "x%!(EXTRA int=1, <nil>)"
        );
        assert_eq!(
            text(call(
                "printf",
                vec![Value::str("%v|%s"), Value::Nil, Value::Nil]
            )),
            "<nil>|%!s(<nil>)"
        );
    }

    #[test]
    fn quote_escapes_like_strconv() {
        let mut out = String::new();
        go_quote("a\"b\\c\n\t\x01é\u{a0}\u{200b}", &mut out);
        assert_eq!(out, r#""a\"b\\c\n\t\x01é\u00a0\u200b""#);
    }

    #[test]
    fn json_is_sorted_and_html_safe() {
        let v = j(r#"{"b":"<&>","a":[1,null,{"z":true}],"e":{},"l":[]}"#);
        assert_eq!(
            text(call("toJSON", vec![v.clone()])),
            r#"{"a":[1,null,{"z":true}],"b":"\u003c\u0026\u003e","e":{},"l":[]}"#
        );
        assert_eq!(
            text(call("toJSONPretty", vec![j(r#"{"b":1,"a":[1,2],"e":{}}"#)])),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1,\n  \"e\": {}\n}"
        );
    }

    #[test]
    fn eq_treats_json_numbers_as_strings() {
        assert!(matches!(
            call("eq", vec![j("5432"), Value::str("5432")]),
            Ok(Value::Bool(true))
        ));
        assert!(call("eq", vec![j("5432"), Value::Int(5432)])
            .err()
            .unwrap()
            .starts_with("incompatible types for comparison (a JSON number"));
        assert!(matches!(
            call("eq", vec![Value::Nil, Value::str("x")]),
            Ok(Value::Bool(false))
        ));
        assert!(matches!(
            call(
                "eq",
                vec![Value::str("b"), Value::str("a"), Value::str("b")]
            ),
            Ok(Value::Bool(true))
        ));
    }

    #[test]
    fn string_functions_reject_other_types() {
        assert_eq!(
            call("base64Encode", vec![j("1")]).err().unwrap(),
            "wrong type for value; expected string; got json.Number"
        );
        assert_eq!(text(call("base64Encode", vec![Value::str("hi\n")])), "aGkK");
        assert_eq!(text(call("base64Decode", vec![Value::str("aGkK")])), "hi\n");
        assert!(call("base64Decode", vec![Value::str("!!")]).is_err());
        assert_eq!(text(call("trimSpace", vec![Value::str("\t x \n")])), "x");
    }

    #[test]
    fn len_and_index() {
        assert!(matches!(call("len", vec![j("[1,2,3]")]), Ok(Value::Int(3))));
        assert!(matches!(call("len", vec![j("5432")]), Ok(Value::Int(4))));
        assert!(matches!(
            call(
                "index",
                vec![j(r#"{"a":[1,"x"]}"#), Value::str("a"), Value::Int(1)]
            ),
            Ok(Value::Str(_))
        ));
        assert!(matches!(
            call("index", vec![j("{}"), Value::str("nope")]),
            Ok(Value::Nil)
        ));
        assert_eq!(
            call("index", vec![j("[1]"), Value::Int(3)]).err().unwrap(),
            "index out of range: 3"
        );
    }
}
