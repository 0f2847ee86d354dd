//! Go values with methods and unexported fields that some functions return: sprig's
//! `*semver.Version` (and the `semver.Version` its `Inc*`/`Set*` methods return) and the
//! `certificate` struct of the key and certificate generators. The engine reaches them only
//! through [`GoObject`], so each kind's Go behaviour (its methods, how `fmt` prints it, how the
//! encoders marshal it) lives beside the function that makes it, and the value model needs
//! one variant for all of them.

use crate::value::Value;
use std::any::Any;

/// Why `.NAME ARGS` on an object failed.
pub(crate) enum CallError {
    /// No field or method of that name: Go's "can't evaluate field NAME in type T".
    NoSuchField,
    /// A template-level error (arity, argument type), printed as is.
    Plain(String),
    /// The method ran and returned an error: printed `error calling NAME: …`, as Go does.
    Calling(String),
}

/// The encoders that marshal an object.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Json,
    Yaml,
    Toml,
}

/// A Go value of a named type the template can hold but not build.
pub(crate) trait GoObject: Send + Sync {
    /// Go's type name, as `%T` prints it (`*semver.Version`).
    fn type_name(&self) -> &'static str;
    /// `.NAME` (a field or a method) with the call's arguments.
    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, CallError>;
    /// What its `String()` method returns, for a type that has one (`%v %s %q %x %X`).
    fn stringer(&self) -> Option<String>;
    /// Whether the value is a pointer (`%v` then prints `&{…}` when there is no `String`).
    fn is_pointer(&self) -> bool;
    /// The struct's fields in declaration order, as `fmt` prints them (`{a b}`).
    fn fields(&self) -> Vec<(&'static str, Value)>;
    /// `%#v`: Go syntax with the type name and every field, unexported ones too.
    fn go_syntax(&self) -> String;
    /// The value an encoder marshals in its place (`MarshalJSON`/`MarshalText`, or the struct's
    /// exported fields as a map), or an error naming why it cannot.
    fn marshal(&self, enc: Encoding) -> Result<Value, String>;
    /// For the functions that take this kind back (`genSignedCert … $ca`).
    fn as_any(&self) -> &dyn Any;
}

/// Go's `==` on two objects: pointers are equal when they are the same pointer; struct values
/// when their types and every field are (the Go syntax prints all of them).
pub(crate) fn same(a: &std::sync::Arc<dyn GoObject>, b: &std::sync::Arc<dyn GoObject>) -> bool {
    if a.is_pointer() || b.is_pointer() {
        return a.type_name() == b.type_name() && std::sync::Arc::ptr_eq(a, b);
    }
    a.type_name() == b.type_name() && a.go_syntax() == b.go_syntax()
}

/// `reflect.DeepEqual`: pointers are followed, so equal contents are enough.
pub(crate) fn deep_equal(
    a: &std::sync::Arc<dyn GoObject>,
    b: &std::sync::Arc<dyn GoObject>,
) -> bool {
    a.type_name() == b.type_name() && a.go_syntax() == b.go_syntax()
}

/// `v` with every object inside it replaced by what it marshals to (maps and lists copied).
pub(crate) fn marshal_deep(v: &Value, enc: Encoding, depth: usize) -> Result<Value, String> {
    if depth > crate::limits::MAX_DEPTH {
        return Err(format!(
            "the value nests more than {} deep",
            crate::limits::MAX_DEPTH
        ));
    }
    if !has_object(v, 0) {
        return Ok(v.clone());
    }
    Ok(match v {
        Value::Object(o) => marshal_deep(&o.marshal(enc)?, enc, depth + 1)?,
        Value::List(l) => Value::List(std::sync::Arc::new(
            l.iter()
                .map(|e| marshal_deep(e, enc, depth + 1))
                .collect::<Result<_, _>>()?,
        )),
        Value::Map(m) => {
            let copy = (**m).clone();
            {
                let mut entries = copy.entries_mut()?;
                for e in entries.values_mut() {
                    *e = marshal_deep(e, enc, depth + 1)?;
                }
            }
            Value::Map(std::sync::Arc::new(copy))
        }
        other => other.clone(),
    })
}

/// Whether `v` is or holds an object (bounded like the encoders).
fn has_object(v: &Value, depth: usize) -> bool {
    depth <= crate::limits::MAX_DEPTH
        && match v {
            Value::Object(_) => true,
            Value::List(l) => l.iter().any(|e| has_object(e, depth + 1)),
            Value::Map(m) => m.entries().values().any(|e| has_object(e, depth + 1)),
            _ => false,
        }
}

/// `want` arguments exactly, with Go's arity error for method `name`.
pub(crate) fn want_args(name: &str, args: &[Value], want: usize) -> Result<(), CallError> {
    if args.len() == want {
        Ok(())
    } else {
        Err(CallError::Plain(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        )))
    }
}
