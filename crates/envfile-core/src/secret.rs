//! Secret-holding types. Every type here zeroizes its memory on drop and prints `[redacted]`
//! in `Debug` and `Display`, so a value cannot reach a log line by accident: to see the bytes a
//! caller must call an `expose_*` method, which is easy to grep for.

use std::fmt;
use zeroize::{Zeroize, Zeroizing};

const REDACTED: &str = "[redacted]";

/// A secret payload: bytes (usually UTF-8 text, sometimes binary).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    /// Wrap bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
    /// Wrap a string.
    pub fn from_string(s: String) -> Self {
        Self::new(s.into_bytes())
    }
    /// Copy a `&str`.
    pub fn from_str_copy(s: &str) -> Self {
        Self::new(s.as_bytes().to_vec())
    }
    /// The raw bytes. Every call site is a place a secret leaves its wrapper: keep them few.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The value as UTF-8 text, or `None` when it is not valid UTF-8.
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Parse as JSON. The parse error is reduced to its position: serde_json's messages can
    /// quote the input, which is secret.
    pub fn parse_json(&self) -> Result<SecretJson, JsonSyntax> {
        serde_json::from_slice(&self.0)
            .map(SecretJson)
            .map_err(|e| JsonSyntax {
                line: e.line(),
                column: e.column(),
            })
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}
impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Where a secret failed to parse as JSON, without any of its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonSyntax {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A parsed JSON secret. Strings inside are zeroized on drop.
#[derive(Clone, PartialEq)]
pub struct SecretJson(serde_json::Value);

impl SecretJson {
    /// Wrap an already-parsed value (takes ownership so it is zeroized with us).
    pub fn from_value(v: serde_json::Value) -> Self {
        Self(v)
    }
    /// The parsed value. Every call site is a place a secret leaves its wrapper.
    pub fn expose(&self) -> &serde_json::Value {
        &self.0
    }
    /// The top-level keys when this is an object (key names are not secret).
    pub fn keys(&self) -> Option<Vec<String>> {
        self.0.as_object().map(|m| m.keys().cloned().collect())
    }
    /// Whether this is a JSON object.
    pub fn is_object(&self) -> bool {
        self.0.is_object()
    }
}

fn zeroize_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(zeroize_json),
        serde_json::Value::Object(m) => m.values_mut().for_each(zeroize_json),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

impl Drop for SecretJson {
    fn drop(&mut self) {
        zeroize_json(&mut self.0);
    }
}

impl fmt::Debug for SecretJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Rendered output that contains secrets (an env file, a template result).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wrap a string.
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
    /// The text. Every call site is a place a secret leaves its wrapper.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Mutable access for builders that append to it (the buffer is still zeroized on drop,
    /// but growing it can leave copies behind: reserve first where the size is known).
    pub fn expose_mut(&mut self) -> &mut String {
        &mut self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}
impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}
