//! Sprig's `semver` and `semverCompare CONSTRAINT VERSION` with Masterminds/semver v3.4's
//! rules (what OpenBao's agent links): lenient versions (`v1.2` is 1.2.0), `x`/`*` wildcards,
//! `~ ^ = != > < >= <=`, hyphen ranges, `,` or space for AND and `||` for OR; a prerelease
//! version only satisfies an OR branch in which some constraint names a prerelease.
//!
//! `semver` returns a Go `*semver.Version`, kept as a [`GoObject`] with the library's methods:
//! `Major Minor Patch Prerelease Metadata Original String IncMajor IncMinor IncPatch
//! SetPrerelease SetMetadata LessThan LessThanEqual GreaterThan GreaterThanEqual Equal Compare`.
//! `Inc*` and `Set*` return a `semver.Version` *value*, on which Go finds only the value-receiver
//! methods (`Original` and the comparisons are pointer methods: "can't evaluate field"). It
//! prints through its `String` method, `%#v` shows its unexported fields, `toJSON`/`toYAML` write
//! the string (`MarshalJSON`/`MarshalText`), and `eq` compares pointers, as in Go.
//! `Major`, `Minor` and `Patch` are Go `uint64`s.

use super::{arity, str_arg};
use crate::funcs::Def;
use crate::object::{want_args, CallError, Encoding, GoObject};
use crate::value::Value;
use regex::Regex;
use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_semver", |a| {
        arity("sprig_semver", &a, 1)?;
        let v = Version::parse(str_arg(&a[0])?)?;
        Ok(Value::Object(Arc::new(Semver { v, pointer: true })))
    }),
    Def::new("sprig_semverCompare", |a| {
        arity("sprig_semverCompare", &a, 2)?;
        let cs = constraints(str_arg(&a[0])?)?;
        let v = Version::parse(str_arg(&a[1])?)?;
        Ok(Value::Bool(cs.iter().any(|and| {
            let include_pre = and.iter().any(|c| !c.con.pre.is_empty());
            and.iter().all(|c| c.check(&v, include_pre))
        })))
    }),
];

/// A `*semver.Version` (`pointer`) or a `semver.Version`.
struct Semver {
    v: Version,
    pointer: bool,
}

impl Semver {
    fn value(v: Version) -> Value {
        Value::Object(Arc::new(Semver { v, pointer: false }))
    }
}

/// The `*semver.Version` argument of a comparison method; None for nil.
fn other_version(args: &[Value]) -> Result<Option<&Version>, CallError> {
    match &args[0] {
        Value::Nil => Ok(None),
        Value::Object(o) => match o.as_any().downcast_ref::<Semver>() {
            Some(s) if s.pointer => Ok(Some(&s.v)),
            _ => Err(CallError::Plain(format!(
                "wrong type for value; expected *semver.Version; got {}",
                o.type_name()
            ))),
        },
        other => Err(CallError::Plain(format!(
            "wrong type for value; expected *semver.Version; got {}",
            other.type_name()
        ))),
    }
}

const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

impl GoObject for Semver {
    fn type_name(&self) -> &'static str {
        if self.pointer {
            "*semver.Version"
        } else {
            "semver.Version"
        }
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, CallError> {
        let v = &self.v;
        let n = match name {
            "String" | "Major" | "Minor" | "Patch" | "Prerelease" | "Metadata" | "IncMajor"
            | "IncMinor" | "IncPatch" => 0,
            "SetPrerelease" | "SetMetadata" => 1,
            "Original" | "LessThan" | "LessThanEqual" | "GreaterThan" | "GreaterThanEqual"
            | "Equal" | "Compare"
                if self.pointer =>
            {
                1 - usize::from(name == "Original")
            }
            "MarshalJSON" | "MarshalText" | "Value" | "Scan" | "UnmarshalJSON"
            | "UnmarshalText" => {
                return Err(CallError::Plain(format!(
                    "envfile does not implement semver.Version's {name} method in templates"
                )))
            }
            _ => return Err(CallError::NoSuchField),
        };
        want_args(name, &args, n)?;
        Ok(match name {
            "String" => Value::str(v.to_string()),
            "Major" => Value::uint64(v.major),
            "Minor" => Value::uint64(v.minor),
            "Patch" => Value::uint64(v.patch),
            "Prerelease" => Value::str(v.pre.clone()),
            "Metadata" => Value::str(v.metadata.clone()),
            "Original" => Value::str(v.original.clone()),
            "IncMajor" | "IncMinor" | "IncPatch" => Semver::value(v.inc(name)?),
            "SetPrerelease" | "SetMetadata" => {
                let text = str_arg(&args[0]).map_err(CallError::Plain)?;
                let mut next = v.clone();
                if name == "SetPrerelease" {
                    if !text.is_empty() {
                        validate_prerelease(text).map_err(CallError::Calling)?;
                    }
                    next.pre = text.to_owned();
                } else {
                    if !text.is_empty() {
                        validate_metadata(text).map_err(CallError::Calling)?;
                    }
                    next.metadata = text.to_owned();
                }
                next.original = format!("{}{next}", v.v_prefix());
                Semver::value(next)
            }
            _ => {
                let o = other_version(&args)?;
                let Some(o) = o else {
                    // `Equal` checks for nil first; the others dereference it.
                    if name == "Equal" {
                        return Ok(Value::Bool(false));
                    }
                    return Err(CallError::Calling(NIL_DEREF.into()));
                };
                let c = v.cmp(o);
                match name {
                    "LessThan" => Value::Bool(c == Ordering::Less),
                    "LessThanEqual" => Value::Bool(c != Ordering::Greater),
                    "GreaterThan" => Value::Bool(c == Ordering::Greater),
                    "GreaterThanEqual" => Value::Bool(c != Ordering::Less),
                    "Equal" => Value::Bool(c == Ordering::Equal),
                    _ => Value::Int(c as i64),
                }
            }
        })
    }

    fn stringer(&self) -> Option<String> {
        Some(self.v.to_string())
    }

    fn is_pointer(&self) -> bool {
        self.pointer
    }

    fn fields(&self) -> Vec<(&'static str, Value)> {
        let v = &self.v;
        vec![
            ("major", Value::uint64(v.major)),
            ("minor", Value::uint64(v.minor)),
            ("patch", Value::uint64(v.patch)),
            ("pre", Value::str(v.pre.clone())),
            ("metadata", Value::str(v.metadata.clone())),
            ("original", Value::str(v.original.clone())),
        ]
    }

    fn go_syntax(&self) -> String {
        let v = &self.v;
        let mut out = format!(
            "{}semver.Version{{major:{:#x}, minor:{:#x}, patch:{:#x}, pre:",
            if self.pointer { "&" } else { "" },
            v.major,
            v.minor,
            v.patch
        );
        crate::funcs::fmt::go_quote(&v.pre, &mut out);
        out.push_str(", metadata:");
        crate::funcs::fmt::go_quote(&v.metadata, &mut out);
        out.push_str(", original:");
        crate::funcs::fmt::go_quote(&v.original, &mut out);
        out.push('}');
        out
    }

    fn marshal(&self, _: Encoding) -> Result<Value, String> {
        // `MarshalJSON` and `MarshalText` both give the version's string.
        Ok(Value::str(self.v.to_string()))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

const VERSION: &str = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const CONSTRAINT_VERSION: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

struct Res {
    version: Regex,
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| {
        // Built from constants; a failure here is a bug caught by every test.
        let re = |s: String| Regex::new(&s).unwrap_or_else(|e| panic!("semver pattern: {e}"));
        let cv = CONSTRAINT_VERSION;
        Res {
            version: re(format!("^{VERSION}$")),
            constraint: re(format!(r"^\s*({OPS})\s*({cv})\s*$")),
            range: re(format!(r"\s*({cv})\s+-\s+({cv})\s*")),
            find: re(format!(r"({OPS})\s*({cv})")),
            valid: re(format!(
                r"^(\s*({OPS})\s*({cv})\s*)((?:\s+|,\s*)({OPS})\s*({cv})\s*)*$"
            )),
        }
    })
}

#[derive(Clone)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    /// The text it was parsed from.
    original: String,
}

impl std::fmt::Display for Version {
    /// Masterminds' `String()`: `MAJOR.MINOR.PATCH[-PRE][+META]`, without the `v`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

const NUM: &str = "0123456789";
const ALLOWED: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789";

fn contains_only(s: &str, set: &str) -> bool {
    s.chars().all(|c| set.contains(c))
}

/// Masterminds' `validatePrerelease`.
fn validate_prerelease(p: &str) -> Result<(), String> {
    for part in p.split('.') {
        if part.is_empty() {
            return Err("invalid prerelease string".into());
        } else if contains_only(part, NUM) {
            if part.len() > 1 && part.starts_with('0') {
                return Err("version segment starts with 0".into());
            }
        } else if !contains_only(part, ALLOWED) {
            return Err("invalid prerelease string".into());
        }
    }
    Ok(())
}

/// Masterminds' `validateMetadata`.
fn validate_metadata(m: &str) -> Result<(), String> {
    if m.split('.')
        .any(|p| p.is_empty() || !contains_only(p, ALLOWED))
    {
        return Err("invalid metadata string".into());
    }
    Ok(())
}

impl Version {
    fn parse(s: &str) -> Result<Self, String> {
        let m = res()
            .version
            .captures(s)
            .ok_or("invalid semantic version")?;
        let seg = |i: usize| -> Result<u64, String> {
            match m.get(i) {
                None => Ok(0),
                Some(g) => g
                    .as_str()
                    .trim_start_matches('.')
                    .parse()
                    .map_err(|_| format!("error parsing version segment: strconv.ParseUint: parsing {:?}: value out of range", g.as_str().trim_start_matches('.'))),
            }
        };
        let pre = m.get(5).map_or("", |g| g.as_str()).to_owned();
        let metadata = m.get(8).map_or("", |g| g.as_str()).to_owned();
        let (major, minor, patch) = (seg(1)?, seg(2)?, seg(3)?);
        if !pre.is_empty() {
            validate_prerelease(&pre)?;
        }
        if !metadata.is_empty() {
            validate_metadata(&metadata)?;
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            metadata,
            original: s.to_owned(),
        })
    }

    /// `v` when the original text started with one (the `Inc*`/`Set*` results keep it).
    fn v_prefix(&self) -> &'static str {
        if self.original.starts_with('v') {
            "v"
        } else {
            ""
        }
    }

    /// `IncMajor`, `IncMinor`, `IncPatch` (a prerelease's `IncPatch` only drops it).
    fn inc(&self, which: &str) -> Result<Version, CallError> {
        let overflow = || CallError::Calling("the version segment overflows a uint64".into());
        let mut n = self.clone();
        n.metadata.clear();
        match which {
            "IncMajor" => {
                // Go's uint64 addition wraps; a version that large is refused instead.
                n.major = self.major.checked_add(1).ok_or_else(overflow)?;
                n.minor = 0;
                n.patch = 0;
            }
            "IncMinor" => {
                n.minor = self.minor.checked_add(1).ok_or_else(overflow)?;
                n.patch = 0;
            }
            _ if self.pre.is_empty() => n.patch = self.patch.checked_add(1).ok_or_else(overflow)?,
            _ => {}
        }
        n.pre.clear();
        n.original = format!("{}{n}", self.v_prefix());
        Ok(n)
    }

    fn cmp(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0..pa.len().max(pb.len()) {
        let (s, o) = (
            pa.get(i).copied().unwrap_or(""),
            pb.get(i).copied().unwrap_or(""),
        );
        if s == o {
            continue;
        }
        if s.is_empty() {
            return Ordering::Less;
        }
        if o.is_empty() {
            return Ordering::Greater;
        }
        return match (s.parse::<u64>(), o.parse::<u64>()) {
            (Ok(x), Ok(y)) => {
                if x > y {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Err(_), Err(_)) => {
                if s > o {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
        };
    }
    Ordering::Equal
}

struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn constraints(text: &str) -> Result<Vec<Vec<Constraint>>, String> {
    let r = res();
    // Hyphen ranges become `>= A, <= B`.
    let mut c = text.to_owned();
    let ranges: Vec<(String, String, String)> = r
        .range
        .captures_iter(text)
        .map(|m| (m[0].to_owned(), m[1].to_owned(), m[11].to_owned()))
        .collect();
    for (whole, lo, hi) in ranges {
        c = c.replacen(&whole, &format!(">= {lo}, <= {hi} "), 1);
    }
    let mut out = Vec::new();
    for or in c.split("||") {
        if !r.valid.is_match(or) {
            return Err(format!("improper constraint: {or}"));
        }
        let mut and = Vec::new();
        let found: Vec<&str> = r.find.find_iter(or).map(|m| m.as_str()).collect();
        let found = if found.is_empty() { vec![or] } else { found };
        for f in found {
            and.push(parse_constraint(f)?);
        }
        out.push(and);
    }
    Ok(out)
}

fn parse_constraint(s: &str) -> Result<Constraint, String> {
    if s.is_empty() {
        return Ok(Constraint {
            op: String::new(),
            con: Version {
                major: 0,
                minor: 0,
                patch: 0,
                pre: String::new(),
                metadata: String::new(),
                original: String::new(),
            },
            dirty: true,
            minor_dirty: false,
            patch_dirty: false,
        });
    }
    let m = res()
        .constraint
        .captures(s)
        .ok_or_else(|| format!("improper constraint: {s}"))?;
    let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
    let (major, minor, patch, pre) = (g(3), g(4), g(5), g(6));
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        dirty = true;
        minor_dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        g(2).to_owned()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint parser error".to_owned())?;
    Ok(Constraint {
        op: g(1).to_owned(),
        con,
        dirty,
        minor_dirty,
        patch_dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        let c = &self.con;
        let pre_blocked = !v.pre.is_empty() && !include_pre;
        match self.op.as_str() {
            "" | "=" => {
                if pre_blocked {
                    false
                } else if self.dirty {
                    self.tilde(v)
                } else {
                    v.cmp(c) == Ordering::Equal
                }
            }
            "!=" => !pre_blocked && self.not_equal(v),
            ">" => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.cmp(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.cmp(c) == Ordering::Greater
            }
            "<" => !pre_blocked && v.cmp(c) == Ordering::Less,
            ">=" | "=>" => !pre_blocked && v.cmp(c) != Ordering::Less,
            "<=" | "=<" => {
                if pre_blocked {
                    return false;
                }
                if !self.dirty {
                    return v.cmp(c) != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => !pre_blocked && self.tilde(v),
            "^" => !pre_blocked && self.caret(v),
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.cmp(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }

    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.dirty {
            if c.major != v.major {
                return true;
            }
            if c.minor != v.minor && !self.minor_dirty {
                return true;
            } else if self.minor_dirty {
                return false;
            } else if c.patch != v.patch && !self.patch_dirty {
                return true;
            } else if self.patch_dirty {
                if !v.pre.is_empty() || !c.pre.is_empty() {
                    return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                }
                return false;
            }
        }
        v.cmp(c) != Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{run, s};

    #[test]
    fn constraints_follow_masterminds_semver() {
        for (c, v, want) in [
            (">=1.2.3", "1.3.0", "true"),
            (">=1.2.3", "1.2.3-beta", "false"),
            (">=1.2.3-0", "1.2.3-beta", "true"),
            ("~1.2.3", "1.2.9", "true"),
            ("~1.2.3", "1.3.0", "false"),
            ("^1.2.3", "1.9.0", "true"),
            ("^1.2.3", "2.0.0", "false"),
            ("^0.2.3", "0.2.9", "true"),
            ("^0.2.3", "0.3.0", "false"),
            ("1.2.x", "1.2.7", "true"),
            ("1.2 - 1.4.5", "1.4.5", "true"),
            ("1.2 - 1.4.5", "1.4.6", "false"),
            (">1.0, <2.0 || =3.0.0", "3.0.0", "true"),
            (">1.0 <2.0", "2.0.0", "false"),
            ("!=1.2.3", "v1.2.3", "false"),
            ("*", "5.0.0", "true"),
            // Bao agent 2.7.2: a prerelease is excluded unless its OR branch names one.
            ("!=1.4.2", "1.4.2-beta.1", "false"),
            ("!=1.4.2-beta.1", "1.4.2-beta.1", "false"),
            (">=1.0.0-0 <1.4.2", "1.4.2-beta.1", "true"),
            (">=1", "01.2.3", "true"),
            ("> 1.x", "1.9.9", "false"),
            ("<= 1.x", "1.9.9", "true"),
        ] {
            assert_eq!(
                run("sprig_semverCompare", vec![s(c), s(v)]),
                want,
                "{c} {v}"
            );
        }
        assert_eq!(
            run("sprig_semverCompare", vec![s(">=1"), s("one")]),
            "ERR: invalid semantic version"
        );
        assert_eq!(
            run("sprig_semverCompare", vec![s("@1"), s("1.0.0")]),
            "ERR: improper constraint: @1"
        );
    }
}

#[cfg(test)]
mod object_tests {
    use crate::funcs::call;
    use crate::object::CallError;
    use crate::value::{fmt_v, Value};

    fn m(v: &Value, name: &str, args: Vec<Value>) -> Result<String, String> {
        let Value::Object(o) = v else {
            panic!("not an object")
        };
        match o.call(name, args) {
            Ok(r) => {
                let mut out = String::new();
                fmt_v(&r, &mut out);
                Ok(out)
            }
            Err(CallError::NoSuchField) => Err("no such field".into()),
            Err(CallError::Plain(e) | CallError::Calling(e)) => Err(e),
        }
    }

    #[test]
    fn versions_have_masterminds_methods() {
        let v = call("sprig_semver", vec![Value::str("v1.2.3-beta.1+b.5")]).unwrap();
        assert_eq!(v.type_name(), "*semver.Version");
        let p = |name: &str| m(&v, name, vec![]).unwrap();
        assert_eq!(p("String"), "1.2.3-beta.1+b.5");
        assert_eq!(p("Original"), "v1.2.3-beta.1+b.5");
        assert_eq!(p("Major") + &p("Minor") + &p("Patch"), "123");
        assert_eq!(p("IncPatch"), "1.2.3");
        assert_eq!(p("IncMajor"), "2.0.0");
        let inc = call("sprig_semver", vec![Value::str("1")]).unwrap();
        let Value::Object(o) = &v else { panic!() };
        let Ok(minor) = o.call("IncMinor", vec![]) else {
            panic!()
        };
        assert_eq!(minor.type_name(), "semver.Version");
        assert_eq!(m(&minor, "Original", vec![]), Err("no such field".into()));
        assert_eq!(m(&v, "LessThan", vec![inc.clone()]).unwrap(), "false");
        assert_eq!(m(&v, "Compare", vec![inc.clone()]).unwrap(), "1");
        assert_eq!(
            m(&v, "LessThan", vec![minor.clone()]),
            Err("wrong type for value; expected *semver.Version; got semver.Version".into())
        );
        assert_eq!(
            m(&v, "Compare", vec![Value::Nil]),
            Err("runtime error: invalid memory address or nil pointer dereference".into())
        );
        assert_eq!(m(&v, "Equal", vec![Value::Nil]).unwrap(), "false");
        assert_eq!(
            m(&v, "SetPrerelease", vec![Value::str("01")]),
            Err("version segment starts with 0".into())
        );
        assert_eq!(
            m(&v, "Major", vec![Value::Int(1)]),
            Err("wrong number of args for Major: want 0 got 1".into())
        );
        assert_eq!(
            crate::funcs::fmt::sprintf("%#v", &[v]),
            "&semver.Version{major:0x1, minor:0x2, patch:0x3, pre:\"beta.1\", metadata:\"b.5\", original:\"v1.2.3-beta.1+b.5\"}"
        );
    }
}
