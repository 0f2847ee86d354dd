//! Sprig's dictionary functions (`dict get set unset hasKey pluck keys values pick omit merge
//! mergeOverwrite dig`).
//!
//! Go maps are references: sprig's `set`, `unset`, `merge` and `mergeOverwrite` change the map
//! they are given (nested maps too) and return it, so `{{ $_ := set $d "k" "v" }}{{ $d.k }}`
//! prints `v`. A change that would make a map hold itself (which in Go recurses forever when
//! printed) is an error.
//! `keys` and `values` come in key order; Go's map order is random, so any order is the agent's.

use super::defaults::empty;
use super::{arity, at_least, check_nesting, list_value, str_arg, strings_value, strval};
use crate::funcs::{Def, R};
use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_dict", |a| {
        check_nesting("sprig_dict", a.len() / 2, a.iter().skip(1).step_by(2))?;
        let mut m = BTreeMap::new();
        for pair in a.chunks(2) {
            let v = pair.get(1).cloned().unwrap_or_else(|| Value::str(""));
            m.insert(strval(&pair[0]), v);
        }
        Ok(Value::map(m))
    }),
    Def::new("sprig_get", |a| {
        arity("sprig_get", &a, 2)?;
        let (m, k) = (map_arg(&a[0])?, str_arg(&a[1])?);
        Ok(lookup(&a[0], m, k).unwrap_or_else(|| Value::str("")))
    }),
    Def::new("sprig_set", |a| {
        arity("sprig_set", &a, 3)?;
        let (m, k) = (map_arc(&a[0])?, str_arg(&a[1])?);
        check_nesting("sprig_set", m.entries().len() + 1, [&a[2]])?;
        if m.reachable_from(&a[2]) {
            return Err("set: a map cannot hold itself".into());
        }
        m.entries_mut()?.insert(k.to_owned(), a[2].clone());
        Ok(a[0].clone())
    }),
    Def::new("sprig_unset", |a| {
        arity("sprig_unset", &a, 2)?;
        let (m, k) = (map_arc(&a[0])?, str_arg(&a[1])?);
        m.entries_mut()?.remove(k);
        Ok(a[0].clone())
    }),
    Def::new("sprig_hasKey", |a| {
        arity("sprig_hasKey", &a, 2)?;
        let (m, k) = (map_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::Bool(lookup(&a[0], m, k).is_some()))
    }),
    Def::new("sprig_pluck", |a| {
        at_least("sprig_pluck", &a, 1)?;
        let k = str_arg(&a[0])?;
        let mut out = Vec::new();
        for d in &a[1..] {
            if let Some(v) = map_arg(d)?.entries().get(k) {
                out.push(v.clone());
            }
        }
        check_nesting("sprig_pluck", out.len(), &out)?;
        Ok(list_value(out))
    }),
    Def::new("sprig_keys", |a| {
        let mut out = Vec::new();
        for d in &a {
            out.extend(map_arg(d)?.entries().keys().cloned());
        }
        Ok(strings_value(out))
    }),
    Def::new("sprig_values", |a| {
        arity("sprig_values", &a, 1)?;
        Ok(list_value(
            map_arg(&a[0])?.entries().values().cloned().collect(),
        ))
    }),
    Def::new("sprig_pick", |a| pick_omit("sprig_pick", a, true)),
    Def::new("sprig_omit", |a| pick_omit("sprig_omit", a, false)),
    Def::new("sprig_merge", |a| merge("sprig_merge", a, false)),
    Def::new("sprig_mustMerge", |a| merge("sprig_mustMerge", a, false)),
    Def::new("sprig_mergeOverwrite", |a| {
        merge("sprig_mergeOverwrite", a, true)
    }),
    Def::new("sprig_mustMergeOverwrite", |a| {
        merge("sprig_mustMergeOverwrite", a, true)
    }),
    Def::new("sprig_dig", dig),
];

/// `m[k]`, where (as for `.data` in the engine) the absent key `data` of a secret from a backend
/// without KV v2's nesting is the map itself, so `get .Data "data"` works for every backend.
fn lookup(whole: &Value, m: &Map, k: &str) -> Option<Value> {
    match m.entries().get(k) {
        Some(v) => Some(v.clone()),
        None if m.data_alias && k == "data" => Some(whole.clone()),
        None => None,
    }
}

/// A `map[string]interface{}` parameter.
fn map_arg(v: &Value) -> Result<&Map, String> {
    map_arc(v).map(|m| &**m)
}

/// The same, shared: the map a function changes in place.
fn map_arc(v: &Value) -> Result<&Arc<Map>, String> {
    match v {
        Value::Map(m) if !m.any_keys => Ok(m),
        Value::Nil | Value::Invalid => {
            Err("invalid value; expected map[string]interface {}".into())
        }
        other => Err(format!(
            "wrong type for value; expected map[string]interface {{}}; got {}",
            other.type_name()
        )),
    }
}

fn pick_omit(name: &str, a: Vec<Value>, keep: bool) -> R {
    at_least(name, &a, 1)?;
    let m = map_arg(&a[0])?;
    let mut keys = Vec::with_capacity(a.len() - 1);
    for k in &a[1..] {
        keys.push(str_arg(k)?);
    }
    let entries = m
        .entries()
        .iter()
        .filter(|(k, _)| keys.contains(&k.as_str()) == keep)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Value::map(entries))
}

/// mergo's map merge: keys missing from (or empty in) the destination are filled from the
/// source, nested maps merge recursively; `overwrite` lets the source win every key.
fn merge(name: &str, a: Vec<Value>, overwrite: bool) -> R {
    at_least(name, &a, 1)?;
    let dst = map_arc(&a[0])?;
    for src in &a[1..] {
        let sm = map_arc(src)?;
        if Arc::ptr_eq(dst, sm) {
            continue;
        }
        if dst.reachable_from(src) {
            return Err(format!("{name}: a map cannot be merged into itself"));
        }
        // The source's entries are copied first (cheap: values are shared) so no lock on it
        // is held while the destination is written.
        let snapshot = sm.entries().clone();
        merge_into(&mut *dst.entries_mut()?, &snapshot, overwrite, 0)?;
    }
    Ok(a[0].clone())
}

fn merge_into(
    dst: &mut BTreeMap<String, Value>,
    src: &BTreeMap<String, Value>,
    overwrite: bool,
    depth: usize,
) -> Result<(), String> {
    if depth > crate::limits::MAX_DEPTH {
        return Err("merge: maps nested too deeply".into());
    }
    for (k, sv) in src {
        match dst.get_mut(k) {
            None => {
                dst.insert(k.clone(), sv.clone());
            }
            Some(dv) => match (&*dv, sv) {
                (Value::Map(dm), Value::Map(sm)) => {
                    if Arc::ptr_eq(dm, sm) {
                        continue;
                    }
                    if dm.reachable_from(sv) {
                        return Err("merge: a map cannot be merged into itself".into());
                    }
                    let snapshot = sm.entries().clone();
                    merge_into(&mut *dm.entries_mut()?, &snapshot, overwrite, depth + 1)?;
                }
                _ if overwrite || empty(dv) => *dv = sv.clone(),
                _ => {}
            },
        }
    }
    Ok(())
}

/// `dig KEY... DEFAULT DICT`: the value at the path of keys, or DEFAULT where a key is missing.
fn dig(a: Vec<Value>) -> R {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let n = a.len();
    let mut cur_value = &a[n - 1];
    let mut cur = map_arg(cur_value).map_err(|_| conversion(cur_value))?;
    let default = &a[n - 2];
    let mut step_value;
    let keys = &a[..n - 2];
    for (i, k) in keys.iter().enumerate() {
        let k = match k {
            Value::Str(s) => s.as_str(),
            other => {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not string",
                    other.type_name()
                ))
            }
        };
        let Some(step) = lookup(cur_value, cur, k) else {
            return Ok(default.clone());
        };
        if i + 1 == keys.len() {
            return Ok(step);
        }
        step_value = step;
        cur_value = &step_value;
        cur = match cur_value {
            Value::Map(m) => m,
            other => return Err(conversion(other)),
        };
    }
    Ok(default.clone())
}

fn conversion(v: &Value) -> String {
    match v {
        Value::Nil | Value::Invalid => {
            "interface conversion: interface {} is nil, not map[string]interface {}".into()
        }
        other => format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            other.type_name()
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{j, run, s};

    #[test]
    fn data_alias_reaches_non_kv2_secrets() {
        use crate::value::{Map, Value};
        use std::sync::Arc;
        let flat = || {
            Value::Map(Arc::new(Map::new(
                [("pw".to_owned(), s("x"))].into_iter().collect(),
                true,
            )))
        };
        assert_eq!(run("sprig_get", vec![flat(), s("data")]), "map[pw:x]");
        assert_eq!(run("sprig_hasKey", vec![flat(), s("data")]), "true");
        assert_eq!(
            run("sprig_dig", vec![s("data"), s("pw"), s("-"), flat()]),
            "x"
        );
        assert_eq!(
            run("sprig_hasKey", vec![j(r#"{"pw":1}"#), s("data")]),
            "false"
        );
    }

    #[test]
    fn dict_functions_match_the_agent() {
        // Expected values are bao agent 2.7.2's output.
        assert_eq!(
            run("sprig_dict", vec![s("a"), j("1"), s("b")]),
            "map[a:1 b:]"
        );
        assert_eq!(
            run("sprig_set", vec![j(r#"{"a":1}"#), s("c"), j("3")]),
            "map[a:1 c:3]"
        );
        assert_eq!(
            run("sprig_unset", vec![j(r#"{"a":1,"b":2}"#), s("a")]),
            "map[b:2]"
        );
        assert_eq!(run("sprig_get", vec![j(r#"{"a":1}"#), s("zz")]), "");
        assert_eq!(run("sprig_hasKey", vec![j(r#"{"a":1}"#), s("a")]), "true");
        assert_eq!(
            run(
                "sprig_merge",
                vec![
                    j(r#"{"a":"","n":{"x":1}}"#),
                    j(r#"{"a":"s","b":2,"n":{"y":2,"x":9}}"#)
                ]
            ),
            "map[a:s b:2 n:map[x:1 y:2]]"
        );
        assert_eq!(
            run(
                "sprig_mergeOverwrite",
                vec![
                    j(r#"{"a":"d","n":{"x":1}}"#),
                    j(r#"{"a":"","b":2,"n":{"y":2,"x":9}}"#)
                ]
            ),
            "map[a: b:2 n:map[x:9 y:2]]"
        );
        assert_eq!(
            run("sprig_keys", vec![j(r#"{"b":1,"a":2}"#), j(r#"{"c":3}"#)]),
            "[a b c]"
        );
        assert_eq!(run("sprig_values", vec![j(r#"{"b":1,"a":2}"#)]), "[2 1]");
        assert_eq!(
            run(
                "sprig_pluck",
                vec![s("a"), j(r#"{"a":1}"#), j(r#"{"b":2}"#), j(r#"{"a":3}"#)]
            ),
            "[1 3]"
        );
        assert_eq!(
            run("sprig_pick", vec![j(r#"{"a":1,"b":2}"#), s("a"), s("z")]),
            "map[a:1]"
        );
        assert_eq!(
            run("sprig_omit", vec![j(r#"{"a":1,"b":2}"#), s("a")]),
            "map[b:2]"
        );
        let d = || j(r#"{"a":{"b":5}}"#);
        assert_eq!(run("sprig_dig", vec![s("a"), s("b"), s("def"), d()]), "5");
        assert_eq!(run("sprig_dig", vec![s("a"), s("x"), s("def"), d()]), "def");
        assert_eq!(
            run("sprig_dig", vec![s("a"), s("b"), s("c"), s("def"), d()]),
            "ERR: interface conversion: interface {} is json.Number, not map[string]interface {}"
        );
        assert_eq!(
            run("sprig_get", vec![s("x"), s("a")]),
            "ERR: wrong type for value; expected map[string]interface {}; got string"
        );
    }
}
