//! Sprig's reflection functions: `typeOf` (Go's `%T`), `kindOf` (`reflect.Kind`), their `Is`
//! tests and `deepEqual`.
//!
//! Integers report their Go type (see [`crate::value::TypedInt`]): a constant is `int`, a sprig
//! arithmetic result `int64`, `parseUint` a `uint64`.

use super::{arity, str_arg};
use crate::funcs::Def;
use crate::value::Value;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_typeOf", |a| {
        arity("sprig_typeOf", &a, 1)?;
        Ok(Value::str(a[0].type_name()))
    }),
    Def::new("sprig_typeIs", |a| {
        arity("sprig_typeIs", &a, 2)?;
        Ok(Value::Bool(str_arg(&a[0])? == a[1].type_name()))
    }),
    Def::new("sprig_typeIsLike", |a| {
        arity("sprig_typeIsLike", &a, 2)?;
        let (want, t) = (str_arg(&a[0])?, a[1].type_name());
        Ok(Value::Bool(want == t || t.strip_prefix('*') == Some(want)))
    }),
    Def::new("sprig_kindOf", |a| {
        arity("sprig_kindOf", &a, 1)?;
        Ok(Value::str(kind(&a[0])))
    }),
    Def::new("sprig_kindIs", |a| {
        arity("sprig_kindIs", &a, 2)?;
        Ok(Value::Bool(str_arg(&a[0])? == kind(&a[1])))
    }),
    Def::new("sprig_deepEqual", |a| {
        arity("sprig_deepEqual", &a, 2)?;
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    }),
];

/// `reflect.ValueOf(v).Kind().String()`.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Nil | Value::Invalid => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Typed(t) => t.type_name(),
        Value::Float(_) => "float64",
        Value::Number(_) | Value::Str(_) => "string",
        Value::List(_) | Value::Strings(_) => "slice",
        Value::Map(_) => "map",
        Value::Secret(_) | Value::NilPointer(_) => "ptr",
        Value::Time(crate::gotime::TimeValue::Time(_)) => "struct",
        Value::Time(crate::gotime::TimeValue::Duration(_)) => "int64",
        Value::Time(crate::gotime::TimeValue::Location(_)) => "ptr",
        Value::Time(_) => "int",
        Value::Object(o) if o.is_pointer() => "ptr",
        Value::Object(_) => "struct",
    }
}

/// `reflect.TypeOf(v).Kind()` as sprig's error messages print it; on nil Go dereferences a nil
/// type and panics with this text.
pub(super) fn kind_name(v: &Value) -> Result<&'static str, String> {
    match v {
        Value::Nil | Value::Invalid => {
            Err("runtime error: invalid memory address or nil pointer dereference".into())
        }
        other => Ok(kind(other)),
    }
}

/// `reflect.DeepEqual`: same Go type and equal contents.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil | Value::Invalid, Value::Nil | Value::Invalid) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Typed(x), Value::Typed(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x.as_str() == y.as_str(),
        (Value::List(x), Value::List(y)) | (Value::Strings(x), Value::Strings(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.entries().len() == y.entries().len()
                && x.entries()
                    .iter()
                    .all(|(k, v)| y.entries().get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Secret(x), Value::Secret(y)) => std::sync::Arc::ptr_eq(x, y),
        (Value::Time(x), Value::Time(y)) => x.deep_eq(y),
        (Value::Object(x), Value::Object(y)) => crate::object::deep_equal(x, y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{j, run, s};
    use crate::value::Value;

    #[test]
    fn types_and_kinds_print_as_go_does() {
        // Expected values are bao agent 2.7.2's output.
        assert_eq!(run("sprig_typeOf", vec![j("[]")]), "[]interface {}");
        assert_eq!(
            run("sprig_typeOf", vec![j("{}")]),
            "map[string]interface {}"
        );
        assert_eq!(run("sprig_typeOf", vec![Value::Float(1.5)]), "float64");
        assert_eq!(run("sprig_typeOf", vec![Value::Nil]), "<nil>");
        assert_eq!(run("sprig_typeOf", vec![j("5")]), "json.Number");
        assert_eq!(run("sprig_kindOf", vec![Value::Nil]), "invalid");
        assert_eq!(run("sprig_kindOf", vec![j("[]")]), "slice");
        assert_eq!(run("sprig_kindOf", vec![j("5")]), "string");
        assert_eq!(run("sprig_kindIs", vec![s("map"), j("{}")]), "true");
        assert_eq!(run("sprig_typeIs", vec![s("int"), Value::Int(1)]), "true");
        assert_eq!(run("sprig_typeIsLike", vec![s("string"), s("a")]), "true");
        assert_eq!(run("sprig_deepEqual", vec![j("[1,2]"), j("[1,2]")]), "true");
        assert_eq!(
            run("sprig_deepEqual", vec![j("[1,2]"), j("[1,\"2\"]")]),
            "false"
        );
        assert_eq!(run("sprig_deepEqual", vec![j("1"), Value::Int(1)]), "false");
    }
}
