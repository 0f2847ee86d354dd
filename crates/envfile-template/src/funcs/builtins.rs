//! Go `text/template`'s builtins: `and or not len index slice eq ne lt le gt ge html js
//! urlquery call` (`print`/`printf`/`println` are in `fmt`). `and` and `or` short-circuit in
//! `exec`; the versions here see evaluated arguments (a pipeline's final value).

use super::{args_n, Def, R};
use crate::value::{TypedInt, Value};
use std::cmp::Ordering;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("and", |a| and_or("and", a, false)),
    Def::new("or", |a| and_or("or", a, true)),
    Def::new("not", |a| {
        let [v] = args_n("not", a)?;
        Ok(Value::Bool(!v.truthy()))
    }),
    Def::new("eq", eq),
    Def::new("ne", |a| {
        let [x, y] = args_n("ne", a)?;
        Ok(Value::Bool(!compare_eq(&x, &y)?))
    }),
    Def::new("lt", |a| ordered("lt", a, |o| o == Ordering::Less)),
    Def::new("le", |a| ordered("le", a, |o| o != Ordering::Greater)),
    Def::new("gt", |a| ordered("gt", a, |o| o == Ordering::Greater)),
    Def::new("ge", |a| ordered("ge", a, |o| o != Ordering::Less)),
    Def::new("len", len),
    Def::new("index", index_fn),
    Def::new("slice", slice),
    Def::new("html", |a| Ok(Value::str(html_escape(&eval_args(&a))))),
    Def::new("js", |a| Ok(Value::str(js_escape(&eval_args(&a))))),
    Def::new("urlquery", |a| Ok(Value::str(query_escape(&eval_args(&a))))),
    Def::new("call", call),
];

fn and_or(name: &str, args: Vec<Value>, want: bool) -> R {
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

fn eq(args: Vec<Value>) -> R {
    if args.len() < 2 {
        return Err("missing argument for comparison".into());
    }
    for b in &args[1..] {
        if compare_eq(&args[0], b)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn ordered(name: &str, args: Vec<Value>, test: fn(Ordering) -> bool) -> R {
    let [a, b] = args_n(name, args)?;
    Ok(Value::Bool(test(compare(&a, &b)?)))
}

fn len(args: Vec<Value>) -> R {
    let [v] = args_n("len", args)?;
    let n = match &v {
        Value::Str(s) => s.len(),
        Value::Number(n) => n.len(),
        Value::List(l) | Value::Strings(l) => l.len(),
        Value::Map(m) => m.entries().len(),
        Value::Nil | Value::Invalid => return Err("len of nil pointer".into()),
        // Go's `len` looks through a pointer first.
        Value::Object(o) => {
            let t = o.type_name();
            return Err(format!("len of type {}", t.strip_prefix('*').unwrap_or(t)));
        }
        other => return Err(format!("len of type {}", other.type_name())),
    };
    Ok(Value::Int(n as i64))
}

fn index_fn(args: Vec<Value>) -> R {
    let mut it = args.into_iter();
    let mut item = it
        .next()
        .ok_or_else(|| "wrong number of args for index: want at least 1 got 0".to_owned())?;
    for key in it {
        item = index(&item, &key)?;
    }
    Ok(item)
}

fn int_index(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        // Go's `indexArg`: `int64(v.Uint())` for an unsigned index.
        Value::Typed(t) => Ok(t.as_i64()),
        Value::Nil | Value::Invalid => Err("cannot index slice/array with nil".into()),
        other => Err(format!(
            "cannot index slice/array with type {}",
            other.type_name()
        )),
    }
}

/// `slice x 1 2`: a substring (byte offsets, as Go) or a sub-list.
fn slice(args: Vec<Value>) -> R {
    let mut it = args.into_iter();
    let item = it
        .next()
        .ok_or_else(|| "wrong number of args for slice: want at least 1 got 0".to_owned())?;
    let idx: Vec<i64> = it.map(|v| int_index(&v)).collect::<Result<_, _>>()?;
    let len = match &item {
        Value::Str(s) => s.len(),
        Value::Number(n) => n.len(),
        Value::List(l) | Value::Strings(l) => l.len(),
        Value::Nil | Value::Invalid => return Err("slice of untyped nil".into()),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    if idx.len() == 3 && item.as_text().is_some() {
        return Err("cannot 3-index slice a string".into());
    }
    let cap = len as i64;
    for &i in &idx {
        if i < 0 || i > cap {
            return Err(format!("index out of range: {i}"));
        }
    }
    let lo = idx.first().copied().unwrap_or(0) as usize;
    let hi = idx.get(1).copied().unwrap_or(cap) as usize;
    if lo > hi {
        return Err(format!("invalid slice index: {lo} > {hi}"));
    }
    if let Some(&max) = idx.get(2) {
        if (hi as i64) > max {
            return Err(format!("invalid slice index: {hi} > {max}"));
        }
    }
    match &item {
        Value::List(l) => Ok(Value::List(std::sync::Arc::new(l[lo..hi].to_vec()))),
        Value::Strings(l) => Ok(Value::Strings(std::sync::Arc::new(l[lo..hi].to_vec()))),
        _ => {
            let t = item.as_text().unwrap_or_default();
            let bytes = &t.as_bytes()[lo..hi];
            // A cut inside a character yields invalid UTF-8 in Go; envfile's strings are text.
            String::from_utf8(bytes.to_vec())
                .map(Value::str)
                .map_err(|_| "slice cuts a multi-byte character".to_owned())
        }
    }
}

fn call(args: Vec<Value>) -> R {
    match args.first() {
        None => Err("wrong number of args for call: want at least 1 got 0".into()),
        Some(Value::Nil | Value::Invalid) => Err("call of nil".into()),
        Some(v) => Err(format!("non-function of type {}", v.type_name())),
    }
}

/// `evalArgs`: a lone string as is, else `fmt.Sprint` of the arguments.
fn eval_args(args: &[Value]) -> String {
    match args {
        [Value::Str(s)] => s.to_string(),
        _ => super::fmt::sprint(args),
    }
}

/// `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if c < ' ' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if (c as u32) < 0x80 || super::fmt::go_printable(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's comparison kinds: `json.Number` is a string kind, so it compares with strings.
/// Integers of any signed type are one kind and unsigned ones another; Go compares the two
/// by value (and refuses every other mix).
#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
    Str,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Typed(TypedInt::Int64(_)) => Kind::Int,
        Value::Typed(TypedInt::Uint64(_)) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::Str(_) | Value::Number(_) => Kind::Str,
        _ => Kind::Other,
    }
}

pub(crate) fn compare_eq(a: &Value, b: &Value) -> Result<bool, String> {
    if let (Value::Time(x), Value::Time(y)) = (a, b) {
        if let Some(eq) = x.go_eq(y) {
            return Ok(eq);
        }
    }
    let (a, b) = (&int_kind(a), &int_kind(b));
    let nil = |v: &Value| matches!(v, Value::Nil | Value::Invalid);
    if nil(a) || nil(b) {
        return Ok(nil(a) && nil(b));
    }
    let (ka, kb) = (kind(a), kind(b));
    if let (Some(x), Some(y)) = (a.integer(), b.integer()) {
        return Ok(x == y);
    }
    if ka != kb {
        let json_number = |v: &Value| matches!(v, Value::Number(_));
        let number = |v: &Value| matches!(v, Value::Int(_) | Value::Typed(_) | Value::Float(_));
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
        (Value::Float(x), Value::Float(y)) => x == y,
        _ if ka == Kind::Str => a.as_text() == b.as_text(),
        (Value::Object(x), Value::Object(y)) if x.type_name() == y.type_name() => {
            crate::object::same(x, y)
        }
        _ => return Err(format!("non-comparable type {}", a.type_name())),
    })
}

/// `time.Month`, `time.Weekday` and `time.Duration` compare as the integers they are.
fn int_kind(v: &Value) -> Value {
    match v {
        Value::Time(t) => t.int().map_or_else(|| v.clone(), Value::Int),
        other => other.clone(),
    }
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    let (a, b) = (&int_kind(a), &int_kind(b));
    if let (Some(x), Some(y)) = (a.integer(), b.integer()) {
        return Ok(x.cmp(&y));
    }
    let (ka, kb) = (kind(a), kind(b));
    if ka != kb {
        return Err("incompatible types for comparison".into());
    }
    match (a, b) {
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
            Value::Str(k) => Ok(m.entries().get(k.as_str()).cloned().unwrap_or(Value::Nil)),
            other => Err(format!(
                "value has type {}; should be string",
                other.type_name()
            )),
        },
        Value::List(l) | Value::Strings(l) => match key {
            Value::Int(_) | Value::Typed(_) => {
                let i = int_index(key)?;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| l.get(i))
                    .cloned()
                    .ok_or_else(|| format!("index out of range: {i}"))
            }
            other => Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )),
        },
        Value::Nil | Value::Invalid => Err("index of untyped nil".into()),
        other => Err(format!("can't index item of type {}", other.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run, s};
    use super::*;

    #[test]
    fn integers_of_any_type_compare_by_value() {
        let (i64v, u64v) = (Value::int64, Value::uint64);
        assert_eq!(run("eq", vec![i64v(3), Value::Int(3)]), "true");
        assert_eq!(run("eq", vec![u64v(3), Value::Int(3)]), "true");
        // Go's sign-aware special case: -1 is not 2^64-1.
        assert_eq!(run("eq", vec![u64v(u64::MAX), Value::Int(-1)]), "false");
        assert_eq!(run("lt", vec![Value::Int(-1), u64v(0)]), "true");
        assert_eq!(run("lt", vec![u64v(u64::MAX), i64v(9)]), "false");
        assert_eq!(run("index", vec![j("[1,2,3]"), u64v(2)]), "3");
        assert!(run("eq", vec![i64v(1), Value::Float(1.0)]).starts_with("ERR: incompatible"));
    }

    #[test]
    fn eq_treats_json_numbers_as_strings() {
        assert_eq!(run("eq", vec![j("5432"), s("5432")]), "true");
        assert!(run("eq", vec![j("5432"), Value::Int(5432)])
            .starts_with("ERR: incompatible types for comparison (a JSON number"));
        assert_eq!(run("eq", vec![Value::Nil, s("x")]), "false");
        assert_eq!(run("eq", vec![s("b"), s("a"), s("b")]), "true");
        assert_eq!(run("lt", vec![Value::Int(1), Value::Int(2)]), "true");
        assert_eq!(run("ge", vec![s("a"), s("b")]), "false");
    }

    #[test]
    fn len_index_slice() {
        assert_eq!(run("len", vec![j("[1,2,3]")]), "3");
        assert_eq!(run("len", vec![j("5432")]), "4");
        assert_eq!(
            run("index", vec![j(r#"{"a":[1,"x"]}"#), s("a"), Value::Int(1)]),
            "x"
        );
        assert_eq!(run("index", vec![j("{}"), s("nope")]), "<nil>");
        assert_eq!(
            run("index", vec![j("[1]"), Value::Int(3)]),
            "ERR: index out of range: 3"
        );
        assert_eq!(
            run("slice", vec![s("hello"), Value::Int(1), Value::Int(3)]),
            "el"
        );
        assert_eq!(run("slice", vec![j("[1,2,3]"), Value::Int(1)]), "[2 3]");
        assert_eq!(
            run("slice", vec![s("ab"), Value::Int(3)]),
            "ERR: index out of range: 3"
        );
    }

    #[test]
    fn escapers_match_go() {
        assert_eq!(
            run("html", vec![s("<a href='x'>&\"")]),
            "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"
        );
        assert_eq!(
            run("js", vec![s("a'b\"c<=>&\n\\")]),
            "a\\'b\\\"c\\u003C\\u003D\\u003E\\u0026\\u000A\\\\"
        );
        assert_eq!(
            run("urlquery", vec![s("a b&c=d/é")]),
            "a+b%26c%3Dd%2F%C3%A9"
        );
        assert_eq!(run("html", vec![Value::Int(1), Value::Int(2)]), "1 2");
    }

    #[test]
    fn not_and_or() {
        assert_eq!(run("not", vec![j("0")]), "false");
        assert_eq!(run("and", vec![Value::Int(1), s(""), Value::Int(2)]), "");
        assert_eq!(run("or", vec![s(""), Value::Int(2)]), "2");
        assert_eq!(
            run("call", vec![s("x")]),
            "ERR: non-function of type string"
        );
    }
}
