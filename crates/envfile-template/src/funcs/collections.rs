//! Collection functions from consul-template: `in contains containsAll containsAny containsNone
//! containsNotAll explodeMap mergeMap mergeMapWithOverride loop`.

use super::{args_n, Def, R};
use crate::limits::MAX_RANGE;
use crate::value::{Map, TypedInt, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("in", |a| {
        let [l, v] = args_n("in", a)?;
        Ok(Value::Bool(contained(&l, &v)))
    }),
    Def::new("contains", |a| {
        let [v, l] = args_n("contains", a)?;
        Ok(Value::Bool(contained(&l, &v)))
    }),
    Def::new("containsAll", |a| some("containsAll", a, true, true)),
    Def::new("containsAny", |a| some("containsAny", a, false, false)),
    Def::new("containsNone", |a| some("containsNone", a, true, false)),
    Def::new("containsNotAll", |a| some("containsNotAll", a, false, true)),
    Def::new("explodeMap", explode_map),
    Def::new("mergeMap", |a| merge("mergeMap", a, false)),
    Def::new("mergeMapWithOverride", |a| {
        merge("mergeMapWithOverride", a, true)
    }),
    Def::new("loop", looping),
];

/// consul-template's `in`: a list holds an element of the same kind and value (a JSON number
/// and a string differ: Go compares their types); a string contains a substring.
fn contained(l: &Value, v: &Value) -> bool {
    match l {
        Value::List(items) | Value::Strings(items) => items.iter().any(|e| match (e, v) {
            // Signed integers of any type match by value; unsigned ones never match.
            (Value::Int(_) | Value::Typed(TypedInt::Int64(_)), Value::Int(_))
            | (
                Value::Int(_) | Value::Typed(TypedInt::Int64(_)),
                Value::Typed(TypedInt::Int64(_)),
            ) => e.integer() == v.integer(),
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a.as_str() == b.as_str(),
            (Value::Number(a), Value::Number(b)) => a == b,
            _ => false,
        }),
        Value::Str(s) => matches!(v, Value::Str(x) if s.contains(x.as_str())),
        Value::Number(s) => matches!(v, Value::Number(x) if s.contains(&**x)),
        _ => false,
    }
}

/// `containsAll`/`Any`/`None`/`NotAll V L`: `V` must be a `[]interface {}` (a JSON array).
fn some(name: &str, args: Vec<Value>, ret_true: bool, invert: bool) -> R {
    let [v, l] = args_n(name, args)?;
    let items = match &v {
        Value::List(items) => items,
        other => {
            return Err(format!(
                "wrong type for value; expected []interface {{}}; got {}",
                other.type_name()
            ))
        }
    };
    for e in items.iter() {
        if contained(&l, e) != invert {
            return Ok(Value::Bool(!ret_true));
        }
    }
    Ok(Value::Bool(ret_true))
}

fn map_arg<'a>(name: &str, v: &'a Value) -> Result<&'a Map, String> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(format!(
            "{name}: wrong type for value; expected map[string]interface {{}}; got {}",
            other.type_name()
        )),
    }
}

fn new_map(entries: BTreeMap<String, Value>) -> Value {
    Value::Map(Arc::new(Map::new(entries, false)))
}

/// `explodeMap`: keys with `/` become nested maps (`a/b: 1` → `a: {b: 1}`).
fn explode_map(args: Vec<Value>) -> R {
    let [m] = args_n("explodeMap", args)?;
    let m = map_arg("explodeMap", &m)?;
    let mut out = BTreeMap::new();
    for (k, v) in m.entries().iter() {
        explode_into(&mut out, k, v.clone())?;
    }
    Ok(new_map(out))
}

fn explode_into(m: &mut BTreeMap<String, Value>, k: &str, v: Value) -> Result<(), String> {
    let Some((top, rest)) = k.split_once('/') else {
        if !k.is_empty() {
            m.insert(k.to_owned(), v);
        }
        return Ok(());
    };
    let slot = m
        .entry(top.to_owned())
        .or_insert_with(|| new_map(BTreeMap::new()));
    let Value::Map(nested) = slot else {
        return Err(format!(
            "explodeMap: not a map: {top:?} already has a value"
        ));
    };
    let mut entries = nested.entries().clone();
    explode_into(&mut entries, rest, v)?;
    *slot = new_map(entries);
    Ok(())
}

/// Go's `mergo` zero values: such a destination value is filled from the source.
fn is_empty(v: &Value) -> bool {
    !v.truthy() && !matches!(v, Value::Number(_))
}

/// `mergeMap DST SRC` (mergo.Map): keys missing or empty in DST come from SRC, nested maps
/// merge; with override, SRC's scalars replace DST's. As in consul-template, DST itself is
/// changed (a Go map is a reference) and returned.
fn merge(name: &str, args: Vec<Value>, overwrite: bool) -> R {
    let [dst_v, src_v] = args_n(name, args)?;
    let (Value::Map(dst), Value::Map(src)) = (&dst_v, &src_v) else {
        map_arg(name, &dst_v)?;
        map_arg(name, &src_v)?;
        return Err(format!("{name}: expected two maps"));
    };
    if !Arc::ptr_eq(dst, src) && dst.reachable_from(&src_v) {
        return Err(format!("{name}: a map cannot be merged into itself"));
    }
    let merged = merge_maps(&dst.entries(), &src.entries(), overwrite);
    *dst.entries_mut()? = merged;
    Ok(dst_v)
}

fn merge_maps(
    dst: &BTreeMap<String, Value>,
    src: &BTreeMap<String, Value>,
    overwrite: bool,
) -> BTreeMap<String, Value> {
    let mut out = dst.clone();
    for (k, s) in src {
        if matches!(s, Value::Nil) {
            continue;
        }
        match (out.get(k), s) {
            (Some(Value::Map(d)), Value::Map(sm)) => {
                let merged = merge_maps(&d.entries(), &sm.entries(), overwrite);
                out.insert(k.clone(), new_map(merged));
            }
            (Some(d), Value::Map(_) | Value::List(_)) if !is_empty(d) => {}
            (Some(d), _) if !overwrite && !is_empty(d) => {}
            _ => {
                out.insert(k.clone(), s.clone());
            }
        }
    }
    out
}

fn loop_bound(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        // Go's `v.Int()`, or `int64(v.Uint())`.
        Value::Typed(t) => Ok(t.as_i64()),
        Value::Str(s) if s.is_empty() => Ok(0),
        Value::Str(s) => s
            .parse()
            .map_err(|_| "loop: argument is not a base-10 integer".to_owned()),
        other => Err(format!("loop: bad argument type: {}", other.type_name())),
    }
}

/// `loop N` or `loop START STOP`: the integers from START (0) up to STOP.
fn looping(args: Vec<Value>) -> R {
    let (start, stop) = match args.as_slice() {
        [n] => (0, loop_bound(n)?),
        [a, b] => (loop_bound(a)?, loop_bound(b)?),
        _ => {
            return Err(format!(
                "loop: wrong number of arguments, expected 1 or 2, but got {}",
                args.len()
            ))
        }
    };
    let n = stop.saturating_sub(start);
    if n > MAX_RANGE {
        return Err(format!("loop: {n} iterations, more than {MAX_RANGE}"));
    }
    Ok(Value::List(Arc::new(
        // The agent's loop sends `int64`s down a channel.
        (start..stop).map(Value::int64).collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run, s};
    use crate::value::Value::Int;

    #[test]
    fn membership_compares_types() {
        assert_eq!(run("in", vec![j(r#"["a","b"]"#), s("b")]), "true");
        assert_eq!(run("in", vec![j("[1,2]"), Int(1)]), "false");
        assert_eq!(run("contains", vec![s("ell"), s("hello")]), "true");
        assert_eq!(
            run(
                "containsAll",
                vec![j(r#"["a","b"]"#), j(r#"["a","b","c"]"#)]
            ),
            "true"
        );
        assert_eq!(
            run("containsAny", vec![j(r#"["x","b"]"#), j(r#"["a","b"]"#)]),
            "true"
        );
        assert_eq!(
            run("containsNone", vec![j(r#"["x"]"#), j(r#"["a"]"#)]),
            "true"
        );
        assert_eq!(
            run("containsNotAll", vec![j(r#"["a","x"]"#), j(r#"["a"]"#)]),
            "true"
        );
    }

    #[test]
    fn maps() {
        assert_eq!(
            run("explodeMap", vec![j(r#"{"a/b":1,"a/c":"x","d":true}"#)]),
            "map[a:map[b:1 c:x] d:true]"
        );
        assert_eq!(
            run(
                "mergeMap",
                vec![
                    j(r#"{"a":1,"e":"","m":{"x":1}}"#),
                    j(r#"{"a":2,"b":3,"e":"f","m":{"y":2}}"#)
                ]
            ),
            "map[a:1 b:3 e:f m:map[x:1 y:2]]"
        );
        assert_eq!(
            run(
                "mergeMapWithOverride",
                vec![j(r#"{"a":1}"#), j(r#"{"a":2}"#)]
            ),
            "map[a:2]"
        );
    }

    #[test]
    fn loops_are_bounded() {
        assert_eq!(run("loop", vec![Int(3)]), "[0 1 2]");
        assert_eq!(run("loop", vec![Int(5), s("8")]), "[5 6 7]");
        assert!(run("loop", vec![Int(1_000_000_000_000)]).contains("more than"));
    }
}
