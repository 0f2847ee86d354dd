//! Vault Agent (consul-template) compatible templates: `envfile render --template FILE`.
//!
//! The engine implements the part of Go's `text/template` that agent templates use, with Go's
//! output rules so a file renders byte for byte as `bao agent`/`vault agent` renders it
//! (the golden files under `tests/fixtures/templates/` are the agent's own output):
//!
//! - actions `{{ pipeline }}`, trim markers `{{- ` / ` -}}`, comments `{{/* … */}}`;
//! - `if`/`else if`/`else`, `with`/`else with`/`else`, `range` (with `else`, `break`,
//!   `continue`, `$v :=` and `$k, $v :=`), variables (`$x := …`, `$x = …`, `$` is the root);
//! - pipelines and parenthesised pipelines; constants (strings, numbers, `true`, `false`, `nil`);
//! - functions: `secret`, `toJSON`, `toJSONPretty`, `base64Encode`, `base64Decode`,
//!   `base64URLEncode`, `base64URLDecode`, `trimSpace`, `toUpper`, `toLower`, `printf`
//!   (`%v %s %q %d`), `print`, `println`, `index`, `len`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`,
//!   `not`, `and`, `or`.
//!
//! Values behave as Go sees JSON decoded by the agent: maps range and print in sorted key order
//! (`map[a:1 b:x]`), a JSON number is a `json.Number` (string-kinded: `eq .Data.data.port "5432"`
//! is true, `eq .Data.data.port 5432` is an error, `printf "%d"` prints `%!d(json.Number=5432)`),
//! and JSON null or a missing key prints `<no value>`.
//!
//! # `secret "…"`
//!
//! - A **Vault path** (`"ml-incident/data/prod/api"`, optionally `?version=N`) is read from the
//!   configured backend of kind `vault`. On a KV v2 mount `.Data` is `{data: {…}, metadata:
//!   {version: N}}` (as with the agent; envfile fills only `version` in `metadata`), with or
//!   without the `data/` segment; on KV v1 `.Data` is the secret's object.
//! - An **envfile reference** (`"aws:app/db"`, `"gcp:api-key"`, an ECS ARN, `sm://`, `ref+…`;
//!   anything whose part before the first `:` has no `/`) is read through the resolver. When the
//!   secret (or the key a `#KEY` selects) is a JSON object, `.Data` is that object, and
//!   `.Data.data` is the same object unless it has its own `data` key — so KV-v2-style templates
//!   work unchanged across backends. Any other value is a string: `.Data` is the text.
//!
//! Each distinct secret is fetched once per render; every secret a pass discovers is fetched
//! concurrently. Only `.Data` of the agent's secret record is filled (`.LeaseID` and the other
//! fields are errors).
//!
//! Errors name the template file, line and column (1-based, columns in characters) and never
//! contain a value.

mod exec;
mod funcs;
pub mod limits;
mod parse;
mod source;
mod value;

use envfile_core::{Error, Resolver, Result, SecretString};
use std::collections::HashMap;
use std::path::Path;
use value::Value;

pub use funcs::names as function_names;

/// How many rounds of "execute, fetch what was missing" a render may take. Each round fetches
/// every secret it found at once, so only secrets whose path depends on another secret's value
/// need another round.
const MAX_ROUNDS: usize = 16;

/// What one execution pass ended with.
enum Pass {
    /// The output, or why it failed.
    Done(Result<SecretString>),
    /// The secret paths it read that are not known yet.
    Needs(Vec<String>),
}

/// The agent's `template {}` options that change how a template parses and executes.
#[derive(Debug, Clone)]
pub struct Options {
    /// `left_delimiter` (default `{{`).
    pub left_delimiter: String,
    /// `right_delimiter` (default `}}`).
    pub right_delimiter: String,
    /// `error_on_missing_key`: a field of a map that has no such key is an error instead of
    /// `<no value>`.
    pub error_on_missing_key: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            left_delimiter: "{{".into(),
            right_delimiter: "}}".into(),
            error_on_missing_key: false,
        }
    }
}

/// A parsed template.
#[derive(Clone)]
pub struct Template {
    name: String,
    src: String,
    missing_key_error: bool,
    parsed: parse::Parsed,
    /// Where the output goes (`pkiCert` reuses the certificate there while it is good).
    destination: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Template {
    /// Parse `src`; `name` (usually the file path) is used in error messages. A syntax error,
    /// an unknown function or an undefined variable is an [`ErrorKind::Config`] error naming
    /// `name:line:col`.
    pub fn parse(name: impl Into<String>, src: impl Into<String>) -> Result<Self> {
        Self::parse_with(name, src, &Options::default())
    }

    /// [`Template::parse`] with the agent's template options.
    pub fn parse_with(
        name: impl Into<String>,
        src: impl Into<String>,
        options: &Options,
    ) -> Result<Self> {
        let name = name.into();
        let src = src.into();
        let (ld, rd) = (&options.left_delimiter, &options.right_delimiter);
        if ld.is_empty() || rd.is_empty() {
            return Err(Error::config(format!(
                "template {name}: the left and right delimiters must not be empty"
            )));
        }
        let parsed = parse::parse(&src, ld, rd).map_err(|e| {
            let (line, col) = line_col(&src, e.pos);
            let err = Error::config(format!("template {name}:{line}:{col}: {}", e.message));
            match e.hint {
                Some(h) => err.with_hint(h),
                None => err.with_hint(
                    "envfile templates use Go text/template syntax as Vault Agent does; \
                         see `envfile render --help`",
                ),
            }
        })?;
        Ok(Self {
            name,
            src,
            missing_key_error: options.error_on_missing_key,
            parsed,
            destination: None,
        })
    }

    /// Read and parse a template file.
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::from_file_with(path, &Options::default())
    }

    /// Read and parse a template file with the agent's template options.
    pub fn from_file_with(path: &Path, options: &Options) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::from(e)
                .with_reference(path.display().to_string())
                .with_hint("--template takes the path of a template file")
        })?;
        Self::parse_with(path.display().to_string(), text, options)
    }

    /// Tell the template where its output is written: `pkiCert` reads the certificate there and
    /// issues a new one only when it is missing or near its end, as Vault Agent does.
    pub fn with_destination(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.destination = Some(path.into());
        self
    }

    /// The name given at parse time.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Render, fetching the secrets the template reads through `resolver` (each once, all that
    /// one pass finds concurrently).
    pub async fn render(&self, resolver: &Resolver) -> Result<SecretString> {
        let mut known: HashMap<String, Result<Value>> = HashMap::new();
        for _ in 0..MAX_ROUNDS {
            let paths = match self.pass(&known, None) {
                Pass::Done(out) => return out,
                Pass::Needs(paths) => paths,
            };
            let values = source::fetch(resolver, &paths).await;
            known.extend(paths.into_iter().zip(values));
        }
        Err(self.too_deep())
    }

    /// Render with every `secret "ARG"` answered by `lookup(ARG)`, which returns what `.Data`
    /// is (a JSON value). For callers that fetched already, and for tests.
    pub fn render_with(
        &self,
        lookup: &mut dyn FnMut(&str) -> Result<serde_json::Value>,
    ) -> Result<SecretString> {
        let mut answer = |p: &str| -> Result<Value> {
            let data = Value::from_json_owned(lookup(p)?);
            Ok(Value::Secret(std::sync::Arc::new(
                value::SecretRecord::plain(data),
            )))
        };
        match self.pass(&HashMap::new(), Some(&mut answer)) {
            Pass::Done(out) => out,
            // Unreachable: the lookup answers every secret within the pass.
            Pass::Needs(_) => Err(self.too_deep()),
        }
    }

    /// Execute once with the secrets `known` so far.
    fn pass<'a>(
        &'a self,
        known: &'a HashMap<String, Result<Value>>,
        lookup: Option<exec::Lookup<'a>>,
    ) -> Pass {
        // Sized up front when the pass looks secrets up: growing it rehashes every entry (a
        // tenth of a cached 20-secret render in callgrind).
        let looked_up = if lookup.is_some() {
            HashMap::with_capacity(32)
        } else {
            HashMap::new()
        };
        let mut secrets = exec::Secrets {
            known,
            pending: Default::default(),
            lookup,
            looked_up,
            missing_key_error: self.missing_key_error,
            destination: self.destination.as_deref(),
        };
        let result = exec::execute(&self.parsed, &mut secrets);
        if secrets.pending.is_empty() {
            return Pass::Done(result.map(SecretString::new).map_err(|f| self.fail(f)));
        }
        // Errors of this pass may come from the nil stand-ins for unfetched secrets.
        drop(result);
        Pass::Needs(secrets.pending.into_iter().collect())
    }

    fn too_deep(&self) -> Error {
        Error::config(format!(
            "template {}: secret paths depend on other secrets more than {MAX_ROUNDS} levels deep",
            self.name
        ))
    }

    fn fail(&self, f: exec::Fail) -> Error {
        match f {
            exec::Fail::Secret(e) => *e,
            exec::Fail::At {
                start,
                end,
                message,
            } => {
                let (line, col) = line_col(&self.src, start);
                let snippet = self.src.get(start..end).unwrap_or("").trim_end();
                if snippet.is_empty() {
                    return Error::config(format!(
                        "template {}:{line}:{col}: {message}",
                        self.name
                    ));
                }
                Error::config(format!(
                    "template {}:{line}:{col}: executing `{snippet}`: {message}",
                    self.name
                ))
            }
        }
    }
}

/// 1-based line and column (in characters) of byte offset `pos`. An offset inside a character
/// (an error found mid-way through a multi-byte one) counts as that character's start.
fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &src[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests;
