//! Sprig's list functions. They take any Go slice (a JSON array, a `[]string`) and mostly
//! return a new `[]interface {}`; on a non-list the plain name panics and the `must` name
//! returns an error, both with the same text (`Cannot find first on type string`).

use super::reflect::{deep_equal, kind_name};
use super::{arity, at_least, check_nesting, int_arg, is_nil, list_value, to_int64};
use crate::funcs::{Def, R};
use crate::value::Value;
use std::sync::Arc;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_list", |a| {
        check_nesting("sprig_list", a.len(), &a)?;
        Ok(list_value(a))
    }),
    Def::new("sprig_tuple", |a| {
        check_nesting("sprig_tuple", a.len(), &a)?;
        Ok(list_value(a))
    }),
    Def::new("sprig_append", |a| push("sprig_append", a)),
    Def::new("sprig_push", |a| push("sprig_push", a)),
    Def::new("sprig_mustAppend", |a| push("sprig_mustAppend", a)),
    Def::new("sprig_mustPush", |a| push("sprig_mustPush", a)),
    Def::new("sprig_prepend", |a| prepend("sprig_prepend", a)),
    Def::new("sprig_mustPrepend", |a| prepend("sprig_mustPrepend", a)),
    Def::new("sprig_first", |a| first("sprig_first", a)),
    Def::new("sprig_mustFirst", |a| first("sprig_mustFirst", a)),
    Def::new("sprig_last", |a| last("sprig_last", a)),
    Def::new("sprig_mustLast", |a| last("sprig_mustLast", a)),
    Def::new("sprig_rest", |a| rest("sprig_rest", a)),
    Def::new("sprig_mustRest", |a| rest("sprig_mustRest", a)),
    Def::new("sprig_initial", |a| initial("sprig_initial", a)),
    Def::new("sprig_mustInitial", |a| initial("sprig_mustInitial", a)),
    Def::new("sprig_reverse", |a| reverse("sprig_reverse", a)),
    Def::new("sprig_mustReverse", |a| reverse("sprig_mustReverse", a)),
    Def::new("sprig_uniq", |a| uniq("sprig_uniq", a)),
    Def::new("sprig_mustUniq", |a| uniq("sprig_mustUniq", a)),
    Def::new("sprig_without", |a| without("sprig_without", a)),
    Def::new("sprig_mustWithout", |a| without("sprig_mustWithout", a)),
    Def::new("sprig_has", |a| has("sprig_has", a)),
    Def::new("sprig_mustHas", |a| has("sprig_mustHas", a)),
    Def::new("sprig_compact", |a| compact("sprig_compact", a)),
    Def::new("sprig_mustCompact", |a| compact("sprig_mustCompact", a)),
    Def::new("sprig_slice", |a| slice("sprig_slice", a)),
    Def::new("sprig_mustSlice", |a| slice("sprig_mustSlice", a)),
    Def::new("sprig_chunk", |a| chunk("sprig_chunk", a)),
    Def::new("sprig_mustChunk", |a| chunk("sprig_mustChunk", a)),
    Def::new("sprig_concat", concat),
];

/// The elements of a slice argument, or sprig's error naming the function's verb and the kind.
fn elems<'a>(v: &'a Value, what: &str) -> Result<&'a Arc<Vec<Value>>, String> {
    match v {
        Value::List(l) | Value::Strings(l) => Ok(l),
        other => Err(format!("{what} {}", kind_name(other)?)),
    }
}

fn push(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 2)?;
    let l = elems(&a[0], "Cannot push on type")?;
    check_nesting(name, l.len() + 1, [&a[1]])?;
    let mut l = l.to_vec();
    l.push(a[1].clone());
    Ok(list_value(l))
}

fn prepend(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 2)?;
    let l = elems(&a[0], "Cannot prepend on type")?;
    check_nesting(name, l.len() + 1, [&a[1]])?;
    let mut out = Vec::with_capacity(l.len() + 1);
    out.push(a[1].clone());
    out.extend(l.iter().cloned());
    Ok(list_value(out))
}

fn first(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 1)?;
    Ok(elems(&a[0], "Cannot find first on type")?
        .first()
        .cloned()
        .unwrap_or(Value::Nil))
}

fn last(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 1)?;
    Ok(elems(&a[0], "Cannot find last on type")?
        .last()
        .cloned()
        .unwrap_or(Value::Nil))
}

fn rest(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 1)?;
    let l = elems(&a[0], "Cannot find rest on type")?;
    Ok(list_value(l.iter().skip(1).cloned().collect()))
}

fn initial(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 1)?;
    let l = elems(&a[0], "Cannot find initial on type")?;
    Ok(list_value(l[..l.len().saturating_sub(1)].to_vec()))
}

fn reverse(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 1)?;
    let l = elems(&a[0], "Cannot find reverse on type")?;
    Ok(list_value(l.iter().rev().cloned().collect()))
}

fn uniq(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 1)?;
    let l = elems(&a[0], "Cannot find uniq on type")?;
    let mut out: Vec<Value> = Vec::new();
    for v in l.iter() {
        if !out.iter().any(|o| deep_equal(o, v)) {
            out.push(v.clone());
        }
    }
    Ok(list_value(out))
}

fn without(name: &str, a: Vec<Value>) -> R {
    at_least(name, &a, 1)?;
    let l = elems(&a[0], "Cannot find without on type")?;
    let omit = &a[1..];
    Ok(list_value(
        l.iter()
            .filter(|v| !omit.iter().any(|o| deep_equal(o, v)))
            .cloned()
            .collect(),
    ))
}

fn has(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 2)?;
    if is_nil(&a[1]) {
        return Ok(Value::Bool(false));
    }
    let l = elems(&a[1], "Cannot find has on type")?;
    Ok(Value::Bool(l.iter().any(|v| deep_equal(&a[0], v))))
}

fn compact(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 1)?;
    let l = elems(&a[0], "Cannot compact on type")?;
    Ok(list_value(
        l.iter()
            .filter(|v| !super::defaults::empty(v))
            .cloned()
            .collect(),
    ))
}

/// `slice LIST [START [END]]`: the same slice type back; an empty list gives nil.
fn slice(name: &str, a: Vec<Value>) -> R {
    at_least(name, &a, 1)?;
    let l = elems(&a[0], "list should be type of slice or array but")?;
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    let start = a.get(1).map_or(0, to_int64);
    let end = a.get(2).map_or(l.len() as i64, to_int64);
    if start < 0 || end < start || end > l.len() as i64 {
        return Err("reflect: slice index out of range".into());
    }
    let part = l[start as usize..end as usize].to_vec();
    Ok(match &a[0] {
        Value::Strings(_) => Value::Strings(Arc::new(part)),
        _ => list_value(part),
    })
}

fn chunk(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 2)?;
    let size = int_arg(&a[0])?;
    let l = elems(&a[1], "Cannot chunk type")?;
    if size <= 0 {
        return Err(format!("{name}: the chunk size must be positive"));
    }
    // The chunks nest the elements one level deeper.
    check_nesting(name, l.len(), l.iter())?;
    Ok(list_value(
        l.chunks(size as usize)
            .map(|c| list_value(c.to_vec()))
            .collect(),
    ))
}

fn concat(a: Vec<Value>) -> R {
    let mut out = Vec::new();
    for v in &a {
        match v {
            Value::List(l) | Value::Strings(l) => {
                check_nesting("sprig_concat", out.len() + l.len(), [])?;
                out.extend(l.iter().cloned());
            }
            other => return Err(format!("Cannot concat type {} as list", kind_name(other)?)),
        }
    }
    Ok(list_value(out))
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{j, run, s};
    use crate::value::Value;

    #[test]
    fn list_functions_match_the_agent() {
        // Expected values are bao agent 2.7.2's output.
        let l = || j("[1,2,3]");
        assert_eq!(run("sprig_first", vec![j("[]")]), "<nil>");
        assert_eq!(run("sprig_rest", vec![l()]), "[2 3]");
        assert_eq!(run("sprig_initial", vec![l()]), "[1 2]");
        assert_eq!(run("sprig_last", vec![l()]), "3");
        assert_eq!(run("sprig_uniq", vec![j(r#"[1,2,1,"1"]"#)]), "[1 2 1]");
        assert_eq!(run("sprig_without", vec![j("[1,2,3,2]"), j("2")]), "[1 3]");
        assert_eq!(run("sprig_has", vec![j("2"), j("[1,2]")]), "true");
        assert_eq!(run("sprig_has", vec![j("1"), Value::Nil]), "false");
        assert_eq!(
            run("sprig_compact", vec![j(r#"[0,"",null,1,false,"a",[]]"#)]),
            "[0 1 a]"
        );
        assert_eq!(
            run(
                "sprig_slice",
                vec![j("[1,2,3,4]"), Value::Int(1), Value::Int(3)]
            ),
            "[2 3]"
        );
        assert_eq!(
            run("sprig_slice", vec![j("[1,2,3,4]"), Value::Int(2)]),
            "[3 4]"
        );
        assert_eq!(run("sprig_concat", vec![j("[1]"), j("[2,3]")]), "[1 2 3]");
        assert_eq!(run("sprig_reverse", vec![l()]), "[3 2 1]");
        assert_eq!(run("sprig_append", vec![j("[1]"), Value::Int(2)]), "[1 2]");
        assert_eq!(run("sprig_prepend", vec![j("[1]"), Value::Int(0)]), "[0 1]");
        assert_eq!(run("sprig_chunk", vec![Value::Int(2), l()]), "[[1 2] [3]]");
    }

    #[test]
    fn non_lists_fail_with_sprigs_text() {
        assert_eq!(
            run("sprig_first", vec![s("x")]),
            "ERR: Cannot find first on type string"
        );
        assert_eq!(
            run("sprig_append", vec![j("{}"), s("x")]),
            "ERR: Cannot push on type map"
        );
        assert_eq!(
            run("sprig_concat", vec![j("[1]"), s("x")]),
            "ERR: Cannot concat type string as list"
        );
        assert_eq!(
            run("sprig_slice", vec![j("[1]"), Value::Int(0), Value::Int(5)]),
            "ERR: reflect: slice index out of range"
        );
    }
}
