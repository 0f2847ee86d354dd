//! The single-file store: one TOML or JSON document mapping secret names to values.
//!
//! A string value is the secret's text; a table (TOML) or object/array (JSON) is a JSON secret,
//! served as compact JSON text. Parse errors say where (file, line, column) and never quote the
//! document, which is full of secrets.

use super::StoreFormat;
use crate::backend::PutOutcome;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::{SecretJson, SecretValue};
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

/// A parsed store. Every string in it is zeroized on drop.
pub(super) enum Doc {
    Toml(toml::Table),
    Json(serde_json::Map<String, serde_json::Value>),
}

impl Doc {
    /// Parse the store `file` (named in errors) from `bytes`. An empty file is an empty store.
    pub(super) fn parse(file: &Path, format: StoreFormat, bytes: &[u8]) -> Result<Self> {
        match format {
            StoreFormat::Toml => {
                let text = utf8(file, bytes)?;
                toml::from_str::<toml::Table>(text)
                    .map(Doc::Toml)
                    .map_err(|e| syntax_error(file, "TOML", bytes, e.span(), e.message()))
            }
            StoreFormat::Json => {
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    return Ok(Doc::Json(serde_json::Map::new()));
                }
                match serde_json::from_slice::<serde_json::Value>(bytes) {
                    Ok(serde_json::Value::Object(m)) => Ok(Doc::Json(m)),
                    Ok(other) => {
                        let found = json_type(&other);
                        drop(SecretJson::from_value(other)); // zeroizes
                        Err(Error::config(format!(
                            "{} must hold a JSON object mapping secret names to values, found {found}",
                            file.display()
                        ))
                        .with_hint(r#"write it as {"app/db": {"password": "…"}, "app/token": "…"}"#))
                    }
                    // serde_json's own message can quote input for data errors; keep the position only.
                    Err(e) => Err(Error::config(format!(
                        "{} is not valid JSON: {} at line {}, column {}",
                        file.display(),
                        json_error_class(&e),
                        e.line(),
                        e.column()
                    ))
                    .with_hint("fix the file at that position (a JSON linter such as `jq . FILE` shows it)")),
                }
            }
        }
    }

    /// The secret names in the store (names are not secret).
    pub(super) fn names(&self) -> Vec<String> {
        match self {
            Doc::Toml(t) => t.keys().cloned().collect(),
            Doc::Json(m) => m.keys().cloned().collect(),
        }
    }

    /// Take the value of `name` out of the store: `None` when there is no such secret.
    pub(super) fn take(&mut self, file: &Path, name: &str) -> Option<Result<SecretValue>> {
        match self {
            Doc::Toml(t) => t.get_mut(name).map(|v| take_toml(file, name, v)),
            Doc::Json(m) => m.get_mut(name).map(|v| take_json(file, name, v)),
        }
    }
}

impl Drop for Doc {
    fn drop(&mut self) {
        match self {
            Doc::Toml(t) => t.iter_mut().for_each(|(_, v)| zeroize_toml(v)),
            Doc::Json(m) => m.values_mut().for_each(zeroize_json),
        }
    }
}

/// The new bytes of the store after setting `name` to the string `text`, or `None` when it
/// already holds exactly that value. TOML stores keep their comments and layout.
pub(super) fn upsert(
    file: &Path,
    format: StoreFormat,
    existing: &[u8],
    name: &str,
    text: &str,
) -> Result<Option<(Zeroizing<Vec<u8>>, PutOutcome)>> {
    let outcome = {
        let mut doc = Doc::parse(file, format, existing)?;
        match doc.take(file, name) {
            None => PutOutcome::Created,
            Some(Ok(v)) if v.expose_bytes() == text.as_bytes() => return Ok(None),
            // A value of the wrong type is replaced: that is what the user asked for.
            Some(_) => PutOutcome::Updated,
        }
    };
    let bytes = match format {
        StoreFormat::Toml => {
            let src = utf8(file, existing)?;
            let mut doc: toml_edit::DocumentMut =
                src.parse().map_err(|e: toml_edit::TomlError| {
                    syntax_error(file, "TOML", existing, e.span(), e.message())
                })?;
            let new = basic_string(file, text)?;
            match doc.get_mut(name).and_then(toml_edit::Item::as_value_mut) {
                // In place, keeping the comments around the line (they belong to the key and
                // the value's decor, which `insert` would replace).
                Some(v) => {
                    let decor = v.decor().clone();
                    *v = new;
                    *v.decor_mut() = decor;
                }
                None => {
                    // A `["name"]` table becomes a string: drop the table so its header goes too.
                    doc.remove(name);
                    doc.insert(name, toml_edit::Item::Value(new));
                }
            }
            doc.to_string().into_bytes()
        }
        StoreFormat::Json => {
            let mut doc = Doc::parse(file, format, existing)?;
            let Doc::Json(map) = &mut doc else {
                unreachable!("a JSON store parses as JSON")
            };
            map.insert(name.to_owned(), serde_json::Value::String(text.to_owned()));
            let out = serde_json::to_vec_pretty(map);
            drop(doc); // zeroizes the old values and the copy of `text`
            let mut out = out.map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
            out.push(b'\n');
            out
        }
    };
    Ok(Some((Zeroizing::new(bytes), outcome)))
}

/// `text` as a TOML basic string (`"…"` with every `"`, `\\` and control character escaped),
/// parsed so the value keeps exactly that spelling. toml_edit would otherwise choose a spelling
/// itself, and its writer (toml_write 0.1) counts runs of quotes in a `u8`: 256 quotes in a row
/// overflow it (a panic in debug builds; in release, a wrong count that can pick a spelling the
/// value breaks out of). Found by the `config_load` fuzz target's TOML builder.
fn basic_string(file: &Path, text: &str) -> Result<toml_edit::Value> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() + 2));
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out.parse::<toml_edit::Value>().map_err(|_| {
        // Cannot happen for a `&str`; said without the value all the same.
        Error::new(
            ErrorKind::Unrepresentable,
            format!(
                "{}: the value cannot be written as a TOML string",
                file.display()
            ),
        )
    })
}

fn utf8<'a>(file: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(bytes, e.valid_up_to());
        Error::config(format!(
            "{} is not UTF-8 text (line {line}, column {column})",
            file.display()
        ))
        .with_hint("a TOML store must be UTF-8; keep binary secrets in a directory store")
    })
}

/// A parse error naming the file and position. Only the parser's message is kept, never its
/// rendered snippet of the offending line.
fn syntax_error(
    file: &Path,
    lang: &str,
    bytes: &[u8],
    span: Option<std::ops::Range<usize>>,
    message: &str,
) -> Error {
    let what = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let at = match span {
        Some(s) => {
            let (line, column) = line_col(bytes, s.start);
            format!(" at line {line}, column {column}")
        }
        None => String::new(),
    };
    Error::config(format!(
        "{} is not valid {lang}{at}: {what}",
        file.display()
    ))
    .with_hint(
        "fix the file at that position; note that secret names with `/` need quoted keys: \
         `\"app/db\" = \"…\"` or a `[\"app/db\"]` table",
    )
}

/// 1-based line and column (in characters) of byte `offset`.
pub(super) fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

fn json_error_class(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "unexpected end of file",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "invalid data",
        serde_json::error::Category::Io => "read error",
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn wrong_type(file: &Path, name: &str, found: &str) -> Error {
    Error::config(format!(
        "secret `{name}` in {} is {found}; a secret is a string (its text) or a table/object \
         (a JSON secret)",
        file.display()
    ))
    .with_hint(format!(
        "quote it: `\"{name}\" = \"…\"`, or make it a table of keys"
    ))
}

fn take_toml(file: &Path, name: &str, v: &mut toml::Value) -> Result<SecretValue> {
    match v {
        toml::Value::String(s) => Ok(SecretValue::from_string(std::mem::take(s))),
        toml::Value::Table(_) | toml::Value::Array(_) => {
            let json = SecretJson::from_value(toml_to_json(std::mem::replace(
                v,
                toml::Value::Boolean(false),
            )));
            compact_json(json)
        }
        other => Err(wrong_type(
            file,
            name,
            &format!("a TOML {}", other.type_str()),
        )),
    }
}

fn take_json(file: &Path, name: &str, v: &mut serde_json::Value) -> Result<SecretValue> {
    match v {
        serde_json::Value::String(s) => Ok(SecretValue::from_string(std::mem::take(s))),
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
            compact_json(SecretJson::from_value(std::mem::take(v)))
        }
        other => Err(wrong_type(file, name, json_type(other))),
    }
}

fn compact_json(json: SecretJson) -> Result<SecretValue> {
    serde_json::to_vec(json.expose())
        .map(SecretValue::new)
        .map_err(|e| {
            Error::new(
                ErrorKind::Other,
                format!("cannot serialize a JSON secret: {e}"),
            )
        })
}

/// TOML to JSON, moving strings (so nothing is left behind unzeroized). Datetimes become their
/// RFC 3339 text; non-finite floats, which JSON cannot carry, become `null`.
fn toml_to_json(v: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            J::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

fn zeroize_toml(v: &mut toml::Value) {
    match v {
        toml::Value::String(s) => s.zeroize(),
        toml::Value::Array(a) => a.iter_mut().for_each(zeroize_toml),
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| zeroize_toml(v)),
        _ => {}
    }
}

fn zeroize_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(zeroize_json),
        serde_json::Value::Object(m) => m.values_mut().for_each(zeroize_json),
        _ => {}
    }
}
