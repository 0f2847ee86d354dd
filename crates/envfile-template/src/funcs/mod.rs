//! The template function library. Each family lives in its own module and exports a `FUNCS`
//! table; [`FAMILIES`] lists the tables, so adding a family is one new file and one line here.
//!
//! Every function mirrors the Go one the agent runs (Go's builtins, consul-template's library,
//! sprig) including its output for odd inputs, so rendered files match the agent's byte for byte.
//! Functions that need the render's state (`secret`, `scratch`, `executeTemplate`) are declared
//! here too, so the parser knows them, and evaluated in `exec`.

mod builtins;
mod collections;
mod crypto;
mod encoding;
mod env;
pub(crate) mod files;
pub(crate) mod fmt;
mod math;
mod parsing;
pub(crate) mod pki;
mod sprig;
mod strings;
pub(crate) mod time;
mod toml;
mod vault;
mod yaml;

use crate::value::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A function's result: the value, or Go's error text (the caller adds "error calling NAME: ").
pub(crate) type R = Result<Value, String>;

/// A function's implementation.
pub(crate) type Func = fn(Vec<Value>) -> R;

/// One named function.
pub(crate) struct Def {
    pub name: &'static str,
    pub f: Func,
}

impl Def {
    pub(crate) const fn new(name: &'static str, f: Func) -> Self {
        Self { name, f }
    }
}

/// The functions that change a map in place (Go maps are references). A template that calls
/// none of them cannot change the secrets it reads, so a render may share cached values.
pub(crate) const MUTATING: &[&str] = &[
    "sprig_set",
    "sprig_unset",
    "sprig_merge",
    "sprig_mergeOverwrite",
    "mergeMap",
    "mergeMapWithOverride",
];

/// Functions `exec` evaluates because they need the render's state.
const STATEFUL: &[Def] = &[
    Def::new("executeTemplate", |_| {
        Err("internal: evaluated by the executor".into())
    }),
    Def::new("scratch", |_| {
        Err("internal: evaluated by the executor".into())
    }),
    Def::new("writeToFile", |_| {
        Err("internal: evaluated by the executor".into())
    }),
];

/// The function families, in lookup order.
const FAMILIES: &[&[Def]] = &[
    STATEFUL,
    builtins::FUNCS,
    fmt::FUNCS,
    strings::FUNCS,
    encoding::FUNCS,
    collections::FUNCS,
    math::FUNCS,
    parsing::FUNCS,
    time::FUNCS,
    crypto::FUNCS,
    env::FUNCS,
    sprig::FUNCS,
    vault::FUNCS,
    yaml::FUNCS,
    toml::FUNCS,
];

fn table() -> &'static HashMap<&'static str, Func> {
    static TABLE: OnceLock<HashMap<&'static str, Func>> = OnceLock::new();
    TABLE.get_or_init(|| {
        FAMILIES
            .iter()
            .flat_map(|fam| fam.iter())
            .map(|d| (d.name, d.f))
            .collect()
    })
}

/// Whether a template may call `name`.
pub(crate) fn exists(name: &str) -> bool {
    table().contains_key(name)
}

/// Why a function consul-template defines is not available, for the parse error.
pub(crate) fn unsupported(name: &str) -> Option<String> {
    vault::unsupported(name).or_else(|| env::refused(name))
}

/// Every function a template may call, sorted (for `--help` and error hints).
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = table().keys().copied().collect();
    v.sort_unstable();
    v
}

/// The implementation of a library function; None for the ones `exec` evaluates.
pub(crate) fn lookup(name: &str) -> Option<Func> {
    if STATEFUL.iter().any(|d| d.name == name) || matches!(name, "secret" | "secrets" | "pkiCert") {
        return None;
    }
    table().get(name).copied()
}

/// Call a function by name (tests; `exec` calls through the pointer the parser looked up).
#[cfg(test)]
pub(crate) fn call(name: &str, args: Vec<Value>) -> R {
    match table().get(name) {
        Some(f) => f(args),
        None => Err(format!("function \"{name}\" not defined")),
    }
}

/// Go's arity check for a function of `n` parameters.
pub(crate) fn want_args(name: &str, args: &[Value], n: usize) -> Result<(), String> {
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
pub(crate) fn string_arg(v: &Value) -> Result<&str, String> {
    match v {
        Value::Str(s) => Ok(s.as_str()),
        Value::Nil | Value::Invalid => Err("invalid value; expected string".into()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

/// Unpack exactly `N` arguments.
pub(crate) fn args_n<const N: usize>(name: &str, args: Vec<Value>) -> Result<[Value; N], String> {
    want_args(name, &args, N)?;
    Ok(args
        .try_into()
        .unwrap_or_else(|_| unreachable!("length checked")))
}

/// Unpack exactly `N` string arguments.
pub(crate) fn strs_n<'a, const N: usize>(
    name: &str,
    args: &'a [Value],
) -> Result<[&'a str; N], String> {
    want_args(name, args, N)?;
    let mut out = [""; N];
    for (o, a) in out.iter_mut().zip(args) {
        *o = string_arg(a)?;
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;

    pub fn j(s: &str) -> Value {
        Value::from_json(&serde_json::from_str(s).unwrap())
    }

    pub fn s(v: &str) -> Value {
        Value::str(v)
    }

    /// Call and print the result as `%v`, or `ERR: message`.
    pub fn run(name: &str, args: Vec<Value>) -> String {
        match call(name, args) {
            Ok(v) => {
                let mut out = String::new();
                crate::value::fmt_v(&v, &mut out);
                out
            }
            Err(e) => format!("ERR: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_across_families() {
        let total: usize = FAMILIES.iter().map(|f| f.len()).sum();
        assert_eq!(total, table().len(), "a function is defined twice");
    }

    #[test]
    fn unknown_function_is_not_defined() {
        assert!(!exists("nope"));
        assert_eq!(
            call("nope", vec![]).err().unwrap(),
            "function \"nope\" not defined"
        );
    }
}
