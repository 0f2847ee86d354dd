//! The values a template computes with, modelled on what Go's `text/template` sees when Vault
//! Agent (consul-template) renders: JSON decoded with `UseNumber` into `map[string]interface{}`.
//!
//! That decides the printing and comparison rules users already depend on: maps print and range
//! in sorted key order, a JSON number is a `json.Number` (a *string* kind: `eq .port "5432"` is
//! true, `printf "%d" .port` is a bad verb, and `0` is truthy), and JSON null or a missing key
//! prints `<no value>` at the top of an action but `<nil>` inside a map or slice.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};
use zeroize::Zeroizing;

/// A string that may hold (part of) a secret: zeroized when the last reference drops.
pub(crate) type SecretText = Arc<Zeroizing<String>>;

/// A template value.
#[derive(Clone)]
pub(crate) enum Value {
    /// JSON null, a missing map key (consul-template runs Go templates with
    /// `missingkey=zero`), or a Go nil. A field of it is an error, as in Go.
    Nil,
    /// A typed nil pointer (`.Auth` of a plain read is a nil `*api.SecretAuth`): prints `<nil>`
    /// where an untyped nil prints `<no value>`; the name is its Go type.
    NilPointer(&'static str),
    /// Go's invalid value: the template's root data (the agent executes with nil data). Every
    /// field of it is itself, so `{{ $.X.Y }}` prints `<no value>` rather than failing.
    Invalid,
    /// A boolean.
    Bool(bool),
    /// A Go `int`: an integer constant from the template text, `len`, a range index, and what
    /// most functions return.
    Int(i64),
    /// An integer of another Go type (`int64`, `uint64`): see [`TypedInt`]. `int` keeps its
    /// own variant rather than a kind field because it is nearly every integer a template sees
    /// (some 150 places build or match one), and because Go refuses the other types wherever a
    /// function takes an `int`, so those places are right to reject this variant.
    Typed(TypedInt),
    /// A floating-point constant from the template text.
    Float(f64),
    /// A JSON number, kept as text like Go's `json.Number`.
    Number(Arc<str>),
    /// A string.
    Str(SecretText),
    /// A JSON array (Go's `[]interface {}`).
    List(Arc<Vec<Value>>),
    /// A `[]string`, as `split` returns: every element is a `Str`. Go keeps the two apart
    /// (`join` takes only this one).
    Strings(Arc<Vec<Value>>),
    /// A JSON object (keys sorted byte-wise, as Go sorts `map[string]…` keys).
    Map(Arc<Map>),
    /// What `secret` returns: the agent's secret record.
    Secret(Arc<SecretRecord>),
    /// A value of Go's `time` package (`time.Time`, `time.Duration`...): see [`crate::gotime`].
    Time(crate::gotime::TimeValue),
    /// A Go value with methods that a function returned (`sprig_semver`'s `*semver.Version`,
    /// the generators' certificate): see [`crate::object`].
    Object(Arc<dyn crate::object::GoObject>),
}

/// An integer whose Go type is not `int`. The type shows in `printf "%T"`, sprig's `typeOf`
/// and `kindOf`, `%#v` (unsigned prints as hex), and in the functions that switch on it (sprig's
/// `duration` reads an `int64` and takes any other integer as 0); `eq` and `lt` compare it with
/// any integer by value, as Go's templates do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TypedInt {
    /// sprig's arithmetic (`add sub mul div mod max min add1 int64 toDecimal`), consul-template's
    /// math, `parseInt` and `loop`.
    Int64(i64),
    /// `parseUint`, consul-template's math on unsigned operands, semver's `.Major .Minor
    /// .Patch`, and yaml.v2 integers above 2^63−1.
    Uint64(u64),
}

impl TypedInt {
    /// Go's name of the type (also its `reflect.Kind`).
    pub fn type_name(self) -> &'static str {
        match self {
            TypedInt::Int64(_) => "int64",
            TypedInt::Uint64(_) => "uint64",
        }
    }

    /// The value, exactly.
    pub fn get(self) -> i128 {
        match self {
            TypedInt::Int64(i) => i128::from(i),
            TypedInt::Uint64(u) => i128::from(u),
        }
    }

    /// Go's `reflect.Value.Int()` or `int64(v.Uint())`: an unsigned value above 2^63−1 wraps.
    pub fn as_i64(self) -> i64 {
        match self {
            TypedInt::Int64(i) => i,
            TypedInt::Uint64(u) => u as i64,
        }
    }

    pub fn is_unsigned(self) -> bool {
        matches!(self, TypedInt::Uint64(_))
    }
}

/// The fields of the agent's `*dependency.Secret` that envfile fills: `.Data`, and the lease
/// (`.LeaseID`, `.LeaseDuration`, `.Renewable`) when the backend reports one. `.Warnings` is an
/// empty list and `.Auth`/`.WrapInfo` are nil, as on a plain read.
pub(crate) struct SecretRecord {
    pub data: Value,
    pub lease_id: String,
    pub lease_duration: i64,
    pub renewable: bool,
    /// The read's request id (Vault's envelope), when the backend reported one.
    pub request_id: Option<String>,
}

impl SecretRecord {
    /// A record for `data` without a lease.
    pub fn plain(data: Value) -> Self {
        Self {
            data,
            lease_id: String::new(),
            lease_duration: 0,
            renewable: false,
            request_id: None,
        }
    }

    /// `.NAME` of the record.
    pub fn field(&self, name: &str) -> Result<Value, String> {
        Ok(match name {
            "Data" => self.data.clone(),
            "LeaseID" => Value::str(self.lease_id.clone()),
            "LeaseDuration" => Value::Int(self.lease_duration),
            "Renewable" => Value::Bool(self.renewable),
            "Warnings" => Value::Strings(Arc::new(Vec::new())),
            "Auth" => Value::NilPointer("*api.SecretAuth"),
            "WrapInfo" => Value::NilPointer("*api.SecretWrapInfo"),
            "RequestID" => match &self.request_id {
                Some(id) => Value::str(id.clone()),
                None => {
                    return Err(
                        "the backend reported no request id for this read: .RequestID is only \
                         available on Vault reads"
                            .into(),
                    )
                }
            },
            other => {
                return Err(format!(
                    "can't evaluate field {other} in type *dependency.Secret"
                ))
            }
        })
    }
}

/// A JSON object. `data_alias`: a lookup of the absent key `data` yields the map itself, so
/// KV-v2-style templates (`.Data.data.KEY`) work on secrets from backends without that nesting.
///
/// Go maps are references: sprig's `set`, `unset`, `merge` and `mergeOverwrite` change the map
/// they are given, and every variable holding it sees the change. The entries sit behind a
/// lock so the engine's shared `Arc<Map>` behaves the same; a render is single-threaded, so the
/// lock is never contended (the writers use `try_write` and fail instead of waiting).
#[derive(Default)]
pub(crate) struct Map {
    entries: RwLock<BTreeMap<String, Value>>,
    pub data_alias: bool,
    /// A `map[interface {}]interface {}`, as `parseYAML` (gopkg.in/yaml.v2) builds: it prints
    /// and ranges as the string-keyed kind, but `toTOML` and sprig's map functions refuse it,
    /// as in Go. envfile holds only its string keys (`parseYAML` refuses others).
    pub any_keys: bool,
}

impl Clone for Map {
    /// A copy with its own entries (nested maps stay shared, as a Go map copy's values).
    fn clone(&self) -> Self {
        let mut m = Map::new(self.entries().clone(), self.data_alias);
        m.any_keys = self.any_keys;
        m
    }
}

impl Map {
    pub fn new(entries: BTreeMap<String, Value>, data_alias: bool) -> Self {
        Self {
            entries: RwLock::new(entries),
            data_alias,
            any_keys: false,
        }
    }

    /// A `map[interface {}]interface {}` (see [`Map::any_keys`]).
    pub fn any_keyed(entries: BTreeMap<String, Value>) -> Self {
        Self {
            any_keys: true,
            ..Self::new(entries, false)
        }
    }

    /// The entries, for reading.
    pub fn entries(&self) -> RwLockReadGuard<'_, BTreeMap<String, Value>> {
        // A poisoned lock only means a panic elsewhere; the map itself is intact.
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries, for changing in place; an error (never a wait) when the map is being read
    /// or changed further up the same call, which only a map merged into itself can cause.
    pub fn entries_mut(&self) -> Result<RwLockWriteGuard<'_, BTreeMap<String, Value>>, String> {
        match self.entries.try_write() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(
                "a map cannot be changed while it is being read (is it merged into itself?)".into(),
            ),
        }
    }

    /// Whether `v` is, or holds at any depth, this very map (so inserting `v` would make a
    /// cycle). Each map is visited once, so shared sub-maps cost nothing extra.
    pub fn reachable_from(self: &Arc<Self>, v: &Value) -> bool {
        fn walk(
            target: *const Map,
            v: &Value,
            seen: &mut std::collections::HashSet<*const Map>,
        ) -> bool {
            match v {
                Value::Map(m) => {
                    let p = Arc::as_ptr(m);
                    if p == target {
                        return true;
                    }
                    if !seen.insert(p) {
                        return false;
                    }
                    let Ok(entries) = m.entries.try_read() else {
                        // Being changed right now: only the target can be, so treat it as it.
                        return true;
                    };
                    entries.values().any(|e| walk(target, e, seen))
                }
                Value::List(l) | Value::Strings(l) => l.iter().any(|e| walk(target, e, seen)),
                Value::Secret(r) => walk(target, &r.data, seen),
                _ => false,
            }
        }
        walk(Arc::as_ptr(self), v, &mut std::collections::HashSet::new())
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(Arc::new(Zeroizing::new(s.into())))
    }

    /// A Go `int64`.
    pub fn int64(i: i64) -> Self {
        Value::Typed(TypedInt::Int64(i))
    }

    /// A Go `uint64`.
    pub fn uint64(u: u64) -> Self {
        Value::Typed(TypedInt::Uint64(u))
    }

    /// A map value without the `data` alias.
    pub fn map(entries: BTreeMap<String, Value>) -> Self {
        Value::Map(Arc::new(Map::new(entries, false)))
    }

    /// Convert parsed JSON, the way `json.Decoder.UseNumber` sees it.
    pub fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(go_json_number(n).into()),
            serde_json::Value::String(s) => Value::str(s.clone()),
            serde_json::Value::Array(a) => {
                Value::List(Arc::new(a.iter().map(Value::from_json).collect()))
            }
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// [`Value::from_json`] taking ownership: strings move into their zeroizing cells instead
    /// of being copied (and the originals zeroized), which halves the cost of reading a secret.
    pub fn from_json_owned(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::String(s) => Value::Str(Arc::new(Zeroizing::new(s))),
            serde_json::Value::Array(a) => Value::List(Arc::new(
                a.into_iter().map(Value::from_json_owned).collect(),
            )),
            serde_json::Value::Object(o) => Value::map(
                o.into_iter()
                    .map(|(k, v)| (k, Value::from_json_owned(v)))
                    .collect(),
            ),
            other => Value::from_json(&other),
        }
    }

    /// A copy whose maps are all new (strings and other leaves stay shared: they never
    /// change), for a render that may change maps in place while the original is cached.
    pub fn deep_copy(&self) -> Self {
        match self {
            Value::Map(m) => {
                let entries = m
                    .entries()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect();
                let mut copy = Map::new(entries, m.data_alias);
                copy.any_keys = m.any_keys;
                Value::Map(Arc::new(copy))
            }
            Value::List(l) => Value::List(Arc::new(l.iter().map(Value::deep_copy).collect())),
            Value::Secret(r) => Value::Secret(Arc::new(SecretRecord {
                data: r.data.deep_copy(),
                lease_id: r.lease_id.clone(),
                lease_duration: r.lease_duration,
                renewable: r.renewable,
                request_id: r.request_id.clone(),
            })),
            other => other.clone(),
        }
    }

    /// Go's type name, for error messages and `%!verb(type=…)` output.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil | Value::Invalid => "<nil>",
            Value::NilPointer(t) => t,
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Typed(t) => t.type_name(),
            Value::Float(_) => "float64",
            Value::Number(_) => "json.Number",
            Value::Str(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Strings(_) => "[]string",
            Value::Map(m) if m.any_keys => "map[interface {}]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Secret(_) => "*dependency.Secret",
            Value::Time(t) => t.type_name(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// Go's truth: false, 0, nil, and empty strings, maps and slices are false. A JSON number is a
    /// non-empty string, so always true.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil | Value::Invalid | Value::NilPointer(_) => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Typed(t) => t.get() != 0,
            Value::Float(f) => *f != 0.0,
            Value::Number(n) => !n.is_empty(),
            Value::Str(s) => !s.is_empty(),
            Value::List(l) | Value::Strings(l) => !l.is_empty(),
            Value::Map(m) => !m.entries().is_empty(),
            Value::Time(t) => t.truthy(),
            // A non-nil pointer, or a struct (Go's truth of any struct is true).
            Value::Secret(_) | Value::Object(_) => true,
        }
    }

    /// An integer of any Go type, exactly.
    pub fn integer(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(i128::from(*i)),
            Value::Typed(t) => Some(t.get()),
            _ => None,
        }
    }

    /// The text of a string-kinded value (`string` or `json.Number`).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
}

/// Non-string keys of a `map[interface {}]interface {}` (`parseYAML`'s `1:`, `true:`, `~:`)
/// are stored encoded so the map's byte-wise key order is the order Go's `fmt` prints them in
/// (nil first, then strings, then — by the type order of the agent's binary, observed —
/// uint64, int, float64 and bool keys, each by value), and no field name can match them, as
/// `.on` does not find the key `on: …` that YAML 1.1 reads as the boolean true.
const TYPED_KEY: char = '\u{10FFFF}';
const NIL_KEY: &str = "\u{0}\u{10FFFF}nil";

/// The stored form of a map key (None: a key kind a map cannot hold here).
pub(crate) fn encode_key(k: &Value) -> Option<String> {
    Some(match k {
        Value::Str(s) => s.to_string(),
        Value::Nil => NIL_KEY.to_owned(),
        Value::Number(n) => format!("{TYPED_KEY}1{:0>20}", n.parse::<u64>().ok()?),
        Value::Typed(TypedInt::Uint64(u)) => format!("{TYPED_KEY}1{u:020}"),
        Value::Int(i) => format!("{TYPED_KEY}2{:020}", (*i as u64) ^ (1 << 63)),
        Value::Float(f) => {
            let bits = f.to_bits();
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits | (1 << 63)
            };
            format!("{TYPED_KEY}3{ordered:016x}")
        }
        Value::Bool(b) => format!("{TYPED_KEY}4{}", u8::from(*b)),
        _ => return None,
    })
}

/// The key a stored key stands for.
pub(crate) fn key_value(k: &str) -> Value {
    if k == NIL_KEY {
        return Value::Nil;
    }
    let Some(rest) = k.strip_prefix(TYPED_KEY) else {
        return Value::str(k);
    };
    let (tag, body) = rest.split_at(rest.len().min(1));
    match tag {
        "1" => body
            .parse::<u64>()
            .map_or_else(|_| Value::str(k), |u| Value::Typed(TypedInt::Uint64(u))),
        "2" => body
            .parse::<u64>()
            .map_or_else(|_| Value::str(k), |u| Value::Int((u ^ (1 << 63)) as i64)),
        "3" => u64::from_str_radix(body, 16).map_or_else(
            |_| Value::str(k),
            |o| {
                let bits = if o >> 63 == 1 { o & !(1 << 63) } else { !o };
                Value::Float(f64::from_bits(bits))
            },
        ),
        "4" => Value::Bool(body == "1"),
        _ => Value::str(k),
    }
}

/// A JSON number as Vault's API prints it: integers as they are, floats the way Go's
/// `encoding/json` formats a float64 (`1e+21`, `1e-7`, `0.000001`), since that is the text the agent
/// decodes into a `json.Number` and prints back.
pub(crate) fn go_json_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => go_json_float(f),
        _ => n.to_string(),
    }
}

/// `encoding/json`'s float64 format: `%f`-style shortest digits for 1e-6 <= |f| < 1e21, else
/// shortest `%e` with a signed exponent of at least two digits, then `e-07` shortened to `e-7`.
pub(crate) fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        // Rust's `Display` for f64 is the shortest round-trip decimal without an exponent.
        return format!("{f}");
    }
    let (mantissa, exp) = split_exp(f);
    if exp < 0 {
        format!("{mantissa}e-{}", -exp)
    } else {
        format!("{mantissa}e+{exp:02}")
    }
}

/// Go's `%v` for a float64 (shortest `%g`): the exponent form when the decimal exponent is
/// below -4 or at least 6 (`1e+06`), else plain digits. Only template constants are floats: JSON
/// numbers are `json.Number` text.
pub(crate) fn go_fmt_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (mantissa, exp) = split_exp(f);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// Shortest round-trip digits of `f` as (`d.ddd` mantissa, decimal exponent).
fn split_exp(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((m, e)) => (m.to_owned(), e.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

/// `fmt`'s `%v` for a value inside a composite (or as a `printf` argument): nil is `<nil>`.
pub(crate) fn fmt_v(v: &Value, out: &mut String) {
    match v {
        Value::Nil | Value::Invalid | Value::NilPointer(_) => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Typed(t) => out.push_str(&t.get().to_string()),
        Value::Float(f) => out.push_str(&go_fmt_float(*f)),
        Value::Number(n) => out.push_str(n),
        Value::Str(s) => out.push_str(s),
        Value::List(l) | Value::Strings(l) => {
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                fmt_v(e, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, e)) in m.entries().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                if m.any_keys {
                    fmt_v(&key_value(k), out);
                } else {
                    out.push_str(k);
                }
                out.push(':');
                fmt_v(e, out);
            }
            out.push(']');
        }
        Value::Time(t) => out.push_str(&t.string()),
        // Go prints the struct's fields; envfile fills only Data.
        Value::Secret(r) => {
            out.push_str("&{Data:");
            fmt_v(&r.data, out);
            out.push('}');
        }
        Value::Object(o) => match o.stringer() {
            Some(s) => out.push_str(&s),
            None => {
                if o.is_pointer() {
                    out.push('&');
                }
                out.push('{');
                for (i, (_, f)) in o.fields().iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    fmt_v(f, out);
                }
                out.push('}');
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go_encoding_json() {
        for (f, want) in [
            (0.5, "0.5"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-10, "1.25e-10"),
            (12345678901.0, "12345678901"),
            (-3.0, "-3"),
            (0.0, "0"),
        ] {
            assert_eq!(go_json_float(f), want, "{f}");
        }
    }

    #[test]
    fn json_numbers_keep_integers_exact() {
        let v: serde_json::Value =
            serde_json::from_str(r#"[5432, -3, 18446744073709551615, 0.5, 1e21]"#).unwrap();
        let got: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|n| go_json_number(n.as_number().unwrap()))
            .collect();
        assert_eq!(got, ["5432", "-3", "18446744073709551615", "0.5", "1e+21"]);
    }

    #[test]
    fn composites_print_sorted_with_nil_inside() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"b":"x","a":1,"n":null,"l":[1,"a",true],"m":{}}"#).unwrap();
        let mut out = String::new();
        fmt_v(&Value::from_json(&v), &mut out);
        assert_eq!(out, "map[a:1 b:x l:[1 a true] m:map[] n:<nil>]");
    }

    #[test]
    fn truth_follows_go() {
        let j = |s: &str| Value::from_json(&serde_json::from_str(s).unwrap());
        for falsy in ["null", "false", "\"\"", "[]", "{}"] {
            assert!(!j(falsy).truthy(), "{falsy}");
        }
        // json.Number is a string kind: "0" is a non-empty string.
        for truthy in ["0", "true", "\"0\"", "[0]", "{\"a\":null}"] {
            assert!(j(truthy).truthy(), "{truthy}");
        }
        assert!(!Value::Int(0).truthy());
    }
}
