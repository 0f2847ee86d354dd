//! The sprig (Masterminds/sprig v3) library, which consul-template exposes whole under the names
//! `sprig_<name>` (`sprig_upper`, `sprig_dict`, `sprig_semverCompare`...). One file per sprig
//! family; [`FUNCS`] joins their tables so the registry takes them as one family.
//!
//! OpenBao's agent links sprig v3.2.3 (no `sha512sum`) with Masterminds/semver 3.4 and
//! xstrings 1.4, and registers the whole non-hermetic map (`now`, `uuidv4`, `env`...).
//!
//! `env` and `expandenv` read the process environment, as consul-template's own `env` does.
//! The date functions work on a Go `time.Time` value and any zone of the system's tz database
//! (see `dates.rs`). `semver` returns a Go object with methods ([`crate::object`]); the key and
//! certificate generators (`certs.rs`, `keys.rs`, with `der.rs` writing Go's DER) return
//! sprig's `certificate` struct.
//!
//! Sprig's conventions decide most outputs, so they live here: arguments typed `interface{}` are
//! converted with spf13/cast (`"0x10"` is 16, `"abc"` is 0, never an error), integer results are
//! Go `int64`s, lists are `[]interface {}`, and a Go panic inside a function becomes the error
//! text the template reports (`runtime error: slice bounds out of range [5:3]`).

mod certs;
mod crypto;
mod dates;
mod defaults;
mod der;
mod dicts;
mod encoding;
mod keys;
mod lists;
mod math;
mod paths;
mod reflect;
mod regex;
mod semver;
mod strings;
mod urls;

use super::{Def, R};
use crate::value::{fmt_v, Value};

/// Every sprig function, in one table for the registry.
pub(crate) const FUNCS: &[Def] = &concat::<{ total(PARTS) }>(PARTS);

const PARTS: &[&[Def]] = &[
    strings::FUNCS,
    lists::FUNCS,
    dicts::FUNCS,
    defaults::FUNCS,
    math::FUNCS,
    encoding::FUNCS,
    crypto::FUNCS,
    certs::FUNCS,
    dates::FUNCS,
    semver::FUNCS,
    regex::FUNCS,
    reflect::FUNCS,
    paths::FUNCS,
    urls::FUNCS,
];

const fn total(parts: &[&[Def]]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < parts.len() {
        n += parts[i].len();
        i += 1;
    }
    n
}

fn placeholder(_: Vec<Value>) -> R {
    Err(String::new())
}

/// The family tables laid end to end (a `const` so the registry stays a static slice).
const fn concat<const N: usize>(parts: &[&[Def]]) -> [Def; N] {
    const EMPTY: Def = Def::new("", placeholder);
    let mut out = [EMPTY; N];
    let (mut k, mut i) = (0, 0);
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            out[k] = Def::new(parts[i][j].name, parts[i][j].f);
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// Go's arity error for a function of exactly `n` parameters.
pub(super) fn arity(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    super::want_args(name, args, n)
}

/// Go's arity error for a variadic function with `n` fixed parameters.
pub(super) fn at_least(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() >= n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        ))
    }
}

/// A parameter typed `string`.
pub(super) fn str_arg(v: &Value) -> Result<&str, String> {
    super::string_arg(v)
}

/// A parameter typed `int`: Go converts nothing, so a JSON number or a string is a type error.
pub(super) fn int_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Nil | Value::Invalid => Err("invalid value; expected int".into()),
        other => Err(format!(
            "wrong type for value; expected int; got {}",
            other.type_name()
        )),
    }
}

/// A parameter typed `bool`.
pub(super) fn bool_arg(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Nil | Value::Invalid => Err("invalid value; expected bool".into()),
        other => Err(format!(
            "wrong type for value; expected bool; got {}",
            other.type_name()
        )),
    }
}

/// Sprig's `strval`: a string as is, a `json.Number` (a `fmt.Stringer`) as its text, anything
/// else as `fmt.Sprintf("%v")` (nil is `<nil>`).
pub(super) fn strval(v: &Value) -> String {
    match v {
        Value::Str(s) => s.as_str().to_owned(),
        Value::Number(n) => n.to_string(),
        other => {
            let mut out = String::new();
            fmt_v(other, &mut out);
            out
        }
    }
}

/// Whether `v` is nil (Go's `v != nil` test on an `interface{}`).
pub(super) fn is_nil(v: &Value) -> bool {
    matches!(v, Value::Nil | Value::Invalid)
}

/// Sprig's `strslice` (`toStrings`, `join`, `sortAlpha`): a list's non-nil elements as strings,
/// a non-list as a one-element list, nil as an empty one.
pub(super) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) | Value::Strings(l) => l.iter().filter(|e| !is_nil(e)).map(strval).collect(),
        Value::Nil | Value::Invalid => Vec::new(),
        other => vec![strval(other)],
    }
}

/// A `[]string` result.
pub(super) fn strings_value(v: Vec<String>) -> Value {
    Value::Strings(std::sync::Arc::new(v.into_iter().map(Value::str).collect()))
}

/// A `[]interface {}` result.
pub(super) fn list_value(v: Vec<Value>) -> Value {
    Value::List(std::sync::Arc::new(v))
}

/// spf13/cast's `ToInt64` (and `ToInt`): numbers truncate, booleans are 0/1, strings parse as Go
/// integer literals (`0x10`, `0o17`, `010`, `1_000`) after dropping a zero fraction (`"1.0"`);
/// anything it cannot convert is 0.
pub(super) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Typed(t) => t.as_i64(),
        Value::Float(f) => float_to_int64(*f),
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        Value::Number(n) => parse_go_int(trim_zero_decimal(n)).unwrap_or(0),
        Value::Time(t) => t.cast_int().unwrap_or(0),
        _ => 0,
    }
}

/// Go's `int64(f)`: truncation; out of range (or NaN) it is what x86-64's conversion yields,
/// the "integer indefinite" `-9223372036854775808` (Rust's `as` would saturate instead).
pub(super) fn float_to_int64(f: f64) -> i64 {
    // 2^63 is exactly representable; every f64 below it and at or above -2^63 fits.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO_63..TWO_63).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// spf13/cast's `ToFloat64`: strings parse with `strconv.ParseFloat`, failures are 0.
pub(super) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Typed(t) => t.get() as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => parse_go_float(s).unwrap_or(0.0),
        Value::Number(n) => parse_go_float(n).unwrap_or(0.0),
        Value::Time(t) => t.cast_int().unwrap_or(0) as f64,
        _ => 0.0,
    }
}

/// cast's `trimZeroDecimal`: `"12.00"` → `"12"`; any other fraction is left (and fails to parse).
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (0..b.len()).rev() {
        match b[i] {
            b'.' if found_zero => return &s[..i],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)`: Go's integer literal syntax with a base prefix.
pub(super) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits, prefixed) = match lower.as_deref() {
        Some("0x") => (16, &body[2..], true),
        Some("0o") => (8, &body[2..], true),
        Some("0b") => (2, &body[2..], true),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..], true),
        _ => (10, body, false),
    };
    if digits.contains('_') {
        // Underscores only between digits, or right after a base prefix.
        let parts: Vec<&str> = digits.split('_').collect();
        let bad_first = parts[0].is_empty() && !prefixed;
        if bad_first || parts[1..].iter().any(|p| p.is_empty()) {
            return None;
        }
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    let mag = u64::from_str_radix(&clean, radix).ok()?;
    if neg {
        0i64.checked_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms and Go's spellings of infinity and NaN.
pub(super) fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains('_') || s.trim() != s {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    match unsigned {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if !unsigned
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    s.parse().ok()
}

/// Most levels of lists and dicts a value built by sprig may nest: printing, comparing and
/// encoding recurse once per level, so a template looping `$x = list $x` must stop with an error
/// long before it could overflow the stack. (Decoded JSON is limited to 128 levels.)
pub(super) const MAX_NESTING: usize = crate::limits::MAX_DEPTH;

/// Most elements a list built by sprig may hold (doubling a list in a loop grows fast).
pub(super) const MAX_ELEMENTS: usize = crate::limits::MAX_RANGE as usize;

/// Nesting depth of `v`, counting no further than `cap`.
fn depth(v: &Value, cap: usize) -> usize {
    let inner = |items: &mut dyn Iterator<Item = &Value>| {
        let mut deepest = 0;
        for e in items {
            if deepest >= cap {
                break;
            }
            deepest = deepest.max(depth(e, cap.saturating_sub(1)));
        }
        deepest
    };
    match v {
        Value::List(l) | Value::Strings(l) => 1 + inner(&mut l.iter()),
        Value::Map(m) => 1 + inner(&mut m.entries().values()),
        Value::Secret(r) => depth(&r.data, cap),
        _ => 0,
    }
}

/// Refuse to put `elems` inside a new list or dict if that would nest deeper than
/// [`MAX_NESTING`], or hold more than [`MAX_ELEMENTS`].
pub(super) fn check_nesting<'a>(
    name: &str,
    count: usize,
    elems: impl IntoIterator<Item = &'a Value>,
) -> Result<(), String> {
    if count > MAX_ELEMENTS {
        return Err(format!(
            "{name}: the list would exceed {MAX_ELEMENTS} elements"
        ));
    }
    for e in elems {
        if depth(e, MAX_NESTING) >= MAX_NESTING {
            return Err(format!(
                "{name}: values would nest deeper than {MAX_NESTING} levels"
            ));
        }
    }
    Ok(())
}

/// Refuse to build a string over the render's output limit.
pub(super) fn check_size(name: &str, len: usize) -> Result<(), String> {
    if len > crate::limits::MAX_OUTPUT {
        Err(format!(
            "{name}: the result would exceed the output size limit"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_int64_follows_spf13_cast() {
        let s = Value::str;
        for (v, want) in [
            (s("0x10"), 16),
            (s("010"), 8),
            (s("1.0"), 1),
            (s("abc"), 0),
            (s(" 5"), 0),
            (s("1_000"), 1000),
            (s("-1.5"), 0),
            (s("-42"), -42),
            (s("0b101"), 5),
            (s("99999999999999999999"), 0),
            (Value::Float(1.9), 1),
            (Value::Float(-1.9), -1),
            (Value::Float(1e19), i64::MIN),
            (Value::Float(f64::NAN), i64::MIN),
            (Value::Bool(true), 1),
            (Value::Nil, 0),
            (Value::Number("12".into()), 12),
        ] {
            assert_eq!(to_int64(&v), want, "{}", strval(&v));
        }
    }

    #[test]
    fn cast_float64_follows_strconv() {
        let s = Value::str;
        assert_eq!(to_float64(&s("1.5")), 1.5);
        assert_eq!(to_float64(&s("1e3")), 1000.0);
        assert_eq!(to_float64(&s("0x10")), 0.0);
        assert_eq!(to_float64(&s("abc")), 0.0);
        assert_eq!(to_float64(&Value::Int(3)), 3.0);
    }

    /// Every function sprig v3.2.3 (the sprig OpenBao's agent links: no `sha512sum`) defines,
    /// so none is missing or misspelled; envfile either implements it or refuses it by name.
    const SPRIG_3_2_3: &[&str] = &[
        "abbrev",
        "abbrevboth",
        "add",
        "add1",
        "add1f",
        "addf",
        "adler32sum",
        "ago",
        "all",
        "any",
        "append",
        "atoi",
        "b32dec",
        "b32enc",
        "b64dec",
        "b64enc",
        "base",
        "bcrypt",
        "biggest",
        "buildCustomCert",
        "camelcase",
        "cat",
        "ceil",
        "chunk",
        "clean",
        "coalesce",
        "compact",
        "concat",
        "contains",
        "date",
        "dateInZone",
        "dateModify",
        "date_in_zone",
        "date_modify",
        "decryptAES",
        "deepCopy",
        "deepEqual",
        "default",
        "derivePassword",
        "dict",
        "dig",
        "dir",
        "div",
        "divf",
        "duration",
        "durationRound",
        "empty",
        "encryptAES",
        "env",
        "expandenv",
        "ext",
        "fail",
        "first",
        "float64",
        "floor",
        "fromJson",
        "genCA",
        "genCAWithKey",
        "genPrivateKey",
        "genSelfSignedCert",
        "genSelfSignedCertWithKey",
        "genSignedCert",
        "genSignedCertWithKey",
        "get",
        "getHostByName",
        "has",
        "hasKey",
        "hasPrefix",
        "hasSuffix",
        "hello",
        "htmlDate",
        "htmlDateInZone",
        "htpasswd",
        "indent",
        "initial",
        "initials",
        "int",
        "int64",
        "isAbs",
        "join",
        "kebabcase",
        "keys",
        "kindIs",
        "kindOf",
        "last",
        "list",
        "lower",
        "max",
        "maxf",
        "merge",
        "mergeOverwrite",
        "min",
        "minf",
        "mod",
        "mul",
        "mulf",
        "mustAppend",
        "mustChunk",
        "mustCompact",
        "mustDateModify",
        "mustDeepCopy",
        "mustFirst",
        "mustFromJson",
        "mustHas",
        "mustInitial",
        "mustLast",
        "mustMerge",
        "mustMergeOverwrite",
        "mustPrepend",
        "mustPush",
        "mustRegexFind",
        "mustRegexFindAll",
        "mustRegexMatch",
        "mustRegexReplaceAll",
        "mustRegexReplaceAllLiteral",
        "mustRegexSplit",
        "mustRest",
        "mustReverse",
        "mustSlice",
        "mustToDate",
        "mustToJson",
        "mustToPrettyJson",
        "mustToRawJson",
        "mustUniq",
        "mustWithout",
        "must_date_modify",
        "nindent",
        "nospace",
        "now",
        "omit",
        "osBase",
        "osClean",
        "osDir",
        "osExt",
        "osIsAbs",
        "pick",
        "pluck",
        "plural",
        "prepend",
        "push",
        "quote",
        "randAlpha",
        "randAlphaNum",
        "randAscii",
        "randBytes",
        "randInt",
        "randNumeric",
        "regexFind",
        "regexFindAll",
        "regexMatch",
        "regexQuoteMeta",
        "regexReplaceAll",
        "regexReplaceAllLiteral",
        "regexSplit",
        "repeat",
        "replace",
        "rest",
        "reverse",
        "round",
        "semver",
        "semverCompare",
        "seq",
        "set",
        "sha1sum",
        "sha256sum",
        "shuffle",
        "slice",
        "snakecase",
        "sortAlpha",
        "split",
        "splitList",
        "splitn",
        "squote",
        "sub",
        "subf",
        "substr",
        "swapcase",
        "ternary",
        "title",
        "toDate",
        "toDecimal",
        "toJson",
        "toPrettyJson",
        "toRawJson",
        "toString",
        "toStrings",
        "trim",
        "trimAll",
        "trimPrefix",
        "trimSuffix",
        "trimall",
        "trunc",
        "tuple",
        "typeIs",
        "typeIsLike",
        "typeOf",
        "uniq",
        "unixEpoch",
        "unset",
        "until",
        "untilStep",
        "untitle",
        "upper",
        "urlJoin",
        "urlParse",
        "uuidv4",
        "values",
        "without",
        "wrap",
        "wrapWith",
    ];

    #[test]
    fn every_sprig_function_is_registered_under_its_prefixed_name() {
        let mut have: Vec<&str> = FUNCS.iter().map(|d| &d.name["sprig_".len()..]).collect();
        have.sort_unstable();
        let mut want = SPRIG_3_2_3.to_vec();
        want.sort_unstable();
        assert_eq!(have, want);
    }

    #[test]
    fn nesting_and_size_are_bounded() {
        use crate::funcs::test_util::run;
        let mut v = Value::str("x");
        let mut err = String::new();
        for _ in 0..MAX_NESTING + 5 {
            match crate::funcs::call("sprig_list", vec![v.clone()]) {
                Ok(n) => v = n,
                Err(e) => {
                    err = e;
                    break;
                }
            }
        }
        assert!(err.contains("nest deeper than"), "{err}");
        let big = Value::str("x".repeat(1 << 20));
        let many = run("sprig_until", vec![Value::Int(100)]);
        assert!(many.starts_with('['));
        let list = crate::funcs::call("sprig_until", vec![Value::Int(100)]).unwrap();
        assert!(run("sprig_join", vec![big.clone(), list]).contains("output size limit"));
        assert!(run(
            "sprig_replace",
            vec![Value::str(""), big.clone(), big.clone()]
        )
        .contains("output size limit"));
        let mut l = crate::funcs::call("sprig_until", vec![Value::Int(1000)]).unwrap();
        let mut err = String::new();
        for _ in 0..20 {
            match crate::funcs::call("sprig_concat", vec![l.clone(), l.clone()]) {
                Ok(n) => l = n,
                Err(e) => {
                    err = e;
                    break;
                }
            }
        }
        assert!(err.contains("exceed"), "{err}");
    }

    #[test]
    fn every_name_is_prefixed_and_tables_are_joined_whole() {
        assert_eq!(FUNCS.len(), total(PARTS));
        for d in FUNCS {
            assert!(d.name.starts_with("sprig_"), "{}", d.name);
        }
    }
}
