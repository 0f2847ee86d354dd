//! `toTOML`: what github.com/BurntSushi/toml's encoder (v1.5.0, linked by `bao agent`) writes
//! for the value, with consul-template's `bytes.TrimSpace` of the result.
//!
//! The encoder's rules: in each table, plain keys first (sorted byte-wise), then sub-tables and
//! arrays of tables (sorted); a table's header is `[a.b]`, indented two spaces per level below
//! the top, and so are its keys; a blank line comes before each top-level table; an array whose
//! elements are all maps is an array of tables (`[[k]]`), any other array is inline
//! (`[1, "a", {k = 1}]`); nil map values are left out; a nil inside an array is an error;
//! strings are basic strings with `"`, `\` and control characters escaped (`\u001b`); floats
//! use the shortest decimal digits without an exponent and always carry a `.`; `json.Number`
//! becomes an int64 when it parses as one, else a float64.

use super::{args_n, Def};
use crate::value::{Map, Value};

pub(crate) const FUNCS: &[Def] = &[Def::new("toTOML", |a| {
    let [v] = args_n("toTOML", a)?;
    let mut enc = Encoder::default();
    // Go objects become what they marshal to first: a struct is a table, as a map is.
    let v = crate::object::marshal_deep(&v, crate::object::Encoding::Toml, 0)
        .map_err(|e| format!("toTOML: {e}"))?;
    enc.top(&v).map_err(|e| format!("toTOML: {e}"))?;
    Ok(Value::str(
        enc.out.trim_matches(|c: char| c.is_whitespace()).to_owned(),
    ))
})];

/// The deepest nesting encoded.
const MAX_NEST: usize = 200;

#[derive(Default)]
struct Encoder {
    out: String,
}

/// The TOML kind of a value, as the encoder classifies it (`tomlTypeOfGo`).
#[derive(PartialEq)]
enum Kind {
    Nil,
    Table,
    ArrayOfTables,
    Other,
}

fn kind(v: &Value) -> Result<Kind, String> {
    Ok(match v {
        Value::Nil | Value::Invalid | Value::NilPointer(_) => Kind::Nil,
        Value::Map(_) => Kind::Table,
        Value::List(l) | Value::Strings(l) => {
            if l.is_empty() {
                return Ok(Kind::Other);
            }
            let mut all_tables = true;
            for e in l.iter() {
                match kind(e)? {
                    Kind::Nil => return Err("toml: cannot encode array with nil element".into()),
                    Kind::Table => {}
                    _ => all_tables = false,
                }
            }
            if all_tables {
                Kind::ArrayOfTables
            } else {
                Kind::Other
            }
        }
        _ => Kind::Other,
    })
}

/// A key piece, bare when it can be.
fn key_piece(k: &str, out: &mut String) {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        out.push_str(k);
    } else {
        quoted(k, out);
    }
}

fn quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn dotted(key: &[String]) -> String {
    let mut s = String::new();
    for (i, k) in key.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        key_piece(k, &mut s);
    }
    s
}

impl Encoder {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&mut self, key: &[String]) {
        for _ in 1..key.len() {
            self.out.push_str("  ");
        }
    }

    fn top(&mut self, v: &Value) -> Result<(), String> {
        match v {
            Value::Map(m) => self.table(&[], m),
            Value::Secret(_) => {
                Err("a secret record cannot be encoded whole; encode its .Data".into())
            }
            Value::Nil | Value::Invalid | Value::NilPointer(_) => {
                Err("cannot encode a nil value".into())
            }
            v => {
                if kind(v)? == Kind::ArrayOfTables {
                    return Err("toml: top-level values must be Go maps or structs".into());
                }
                self.element(v, 0)
            }
        }
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        if key.len() > MAX_NEST {
            return Err(format!("the value nests more than {MAX_NEST} deep"));
        }
        match v {
            Value::Nil | Value::Invalid | Value::NilPointer(_) => Ok(()),
            Value::Map(m) => {
                if key.len() == 1 {
                    self.newline();
                }
                self.indent(key);
                self.out.push('[');
                self.out.push_str(&dotted(key));
                self.out.push(']');
                self.newline();
                self.table(key, m)
            }
            Value::List(l) | Value::Strings(l) if kind(v)? == Kind::ArrayOfTables => {
                for e in l.iter() {
                    let Value::Map(m) = e else { continue };
                    self.newline();
                    self.indent(key);
                    self.out.push_str("[[");
                    self.out.push_str(&dotted(key));
                    self.out.push_str("]]");
                    self.newline();
                    self.table(key, m)?;
                }
                Ok(())
            }
            v => {
                self.indent(key);
                if let Some(last) = key.last() {
                    key_piece(last, &mut self.out);
                }
                self.out.push_str(" = ");
                self.element(v, key.len())?;
                self.newline();
                Ok(())
            }
        }
    }

    /// The map's keys in the encoder's order: plain values, then tables, each sorted.
    fn ordered(m: &Map) -> Result<Vec<(String, Value)>, String> {
        if m.any_keys {
            return Err("toml: cannot encode a map with non-string key type".into());
        }
        let (mut direct, mut sub) = (Vec::new(), Vec::new());
        for (k, v) in m.entries().iter() {
            match kind(v)? {
                Kind::Table | Kind::ArrayOfTables => sub.push((k.clone(), v.clone())),
                _ => direct.push((k.clone(), v.clone())),
            }
        }
        // BTreeMap order is Go's byte-wise string order already.
        direct.extend(sub);
        Ok(direct)
    }

    fn table(&mut self, key: &[String], m: &Map) -> Result<(), String> {
        for (k, v) in Self::ordered(m)? {
            let mut sub = key.to_vec();
            sub.push(k);
            self.encode(&sub, &v)?;
        }
        Ok(())
    }

    fn element(&mut self, v: &Value, depth: usize) -> Result<(), String> {
        if depth > MAX_NEST {
            return Err(format!("the value nests more than {MAX_NEST} deep"));
        }
        match v {
            Value::Str(s) => quoted(s, &mut self.out),
            // BurntSushi/toml: a time is a datetime, a Duration its string, Month/Weekday ints.
            Value::Time(crate::gotime::TimeValue::Time(t)) => self.out.push_str(
                &crate::gotime::format(t, "2006-01-02T15:04:05.999999999Z07:00"),
            ),
            Value::Time(crate::gotime::TimeValue::Duration(d)) => {
                quoted(&crate::gotime::duration_string(*d), &mut self.out)
            }
            Value::Time(t) => match t.cast_int() {
                Some(i) => self.out.push_str(&i.to_string()),
                None => {
                    return Err(format!(
                        "encoding a {} is not supported by envfile yet",
                        t.type_name()
                    ))
                }
            },
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => self.out.push_str(&i.to_string()),
            Value::Typed(t) => self.out.push_str(&t.get().to_string()),
            Value::Float(f) => self.out.push_str(&toml_float(*f)),
            Value::Number(n) => {
                if let Ok(i) = n.parse::<i64>() {
                    self.out.push_str(&i.to_string());
                } else if let Some(f) = n.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    self.out.push_str(&toml_float(f));
                } else {
                    return Err("unable to convert a json.Number to int64 or float64".into());
                }
            }
            Value::List(l) | Value::Strings(l) => {
                kind(v)?;
                self.out.push('[');
                for (i, e) in l.iter().enumerate() {
                    self.element(e, depth + 1)?;
                    if i + 1 != l.len() {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                let entries = Self::ordered(m)?;
                let direct = entries
                    .iter()
                    .filter(|(_, v)| !matches!(kind(v), Ok(Kind::Table | Kind::ArrayOfTables)))
                    .count();
                let has_sub = direct < entries.len();
                self.out.push('{');
                for (i, (k, e)) in entries.iter().enumerate() {
                    if matches!(kind(e)?, Kind::Nil) {
                        continue;
                    }
                    key_piece(k, &mut self.out);
                    self.out.push_str(" = ");
                    self.element(e, depth + 1)?;
                    // Separators as the encoder writes them: within the plain keys (and after
                    // the last one when tables follow), and within the tables.
                    let last_of_group = if i < direct {
                        i + 1 == direct && !has_sub
                    } else {
                        i + 1 == entries.len()
                    };
                    if !last_of_group {
                        self.out.push_str(", ");
                    }
                }
                self.out.push('}');
            }
            Value::Nil | Value::Invalid | Value::NilPointer(_) => {
                return Err("toml: cannot encode array with nil element".into())
            }
            Value::Secret(_) => {
                return Err("a secret record cannot be encoded whole; encode its .Data".into())
            }
            Value::Object(o) => self.element(&o.marshal(crate::object::Encoding::Toml)?, depth)?,
        }
        Ok(())
    }
}

/// `strconv.FormatFloat(f, 'f', -1, 64)` with `.0` added when there is no point; `nan`/`inf`.
fn toml_float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    // Rust's Display is the shortest round-trip digits without an exponent, as Go's 'f', -1.
    let s = format!("{f}");
    if s.contains('.') {
        s
    } else {
        s + ".0"
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run};

    fn t(json: &str) -> String {
        run("toTOML", vec![j(json)])
    }

    #[test]
    fn tables_keys_and_values() {
        assert_eq!(
            t(r#"{"b":{"c":1,"d":{"e":"x"}},"a":"v","n":null,"l":[1,2],"f":1.5,"big":1e21}"#),
            "a = \"v\"\nbig = 1000000000000000000000.0\nf = 1.5\nl = [1, 2]\n\n[b]\n  c = 1\n  [b.d]\n    e = \"x\""
        );
    }

    #[test]
    fn arrays_of_tables_and_inline_tables() {
        assert_eq!(
            t(r#"{"srv":[{"host":"a"},{"host":"b"}],"mix":[1,{"k":"v"}]}"#),
            "mix = [1, {k = \"v\"}]\n\n[[srv]]\n  host = \"a\"\n\n[[srv]]\n  host = \"b\""
        );
    }

    #[test]
    fn quoting_and_refusals() {
        assert_eq!(
            t(r#"{"a b":"q\"\\\u001b"}"#),
            "\"a b\" = \"q\\\"\\\\\\u001b\""
        );
        assert!(t(r#"{"l":[1,null]}"#).contains("nil element"));
    }
}
