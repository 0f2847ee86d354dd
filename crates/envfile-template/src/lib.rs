//! Vault Agent (consul-template) compatible templates: `envfile render --template FILE` and the
//! broker's template sinks.
//!
//! The promise is the agent's own bytes: a template renders exactly as `bao agent`/`vault agent`
//! renders it, which tests/tests/template_agent.rs and template_sprig.rs check against a live
//! agent for every fixture under `tests/fixtures/templates/`. docs/templates.md lists what is
//! covered and the few gaps.
//!
//! Layout:
//! - `parse/`: Go's `text/template` grammar (delimiters, trim markers, `define`/`template`/
//!   `block`, `range` with `break`/`continue`, variables), with source positions for errors;
//! - `exec`: the evaluator, with Go's rules for truth, field access, calls and printing;
//! - `value`: values as Go sees the agent's JSON (`json.Number`, maps printed in sorted key
//!   order, `<no value>`), with maps shared by reference so sprig's `set` changes them in place;
//! - `funcs/`: one module per function family of consul-template (strings, encoding,
//!   collections, math, parsing, time, crypto, env, files, YAML/TOML, the Vault functions) and
//!   `funcs/sprig/` for the `sprig_*` functions of sprig v3.2.3, the version the agent links;
//! - `source`: where secrets come from (a [`Resolver`], or data a caller already holds);
//! - `limits`: bounds on range size, output, nesting and steps, so a hostile or mistaken
//!   template fails with an error instead of taking the process down.
//!
//! A render runs in passes: each pass executes the template and collects the secrets it could
//! not answer yet, which are then fetched at once; only a secret whose path depends on another
//! secret's value needs another pass (16 at most).
//!
//! Errors name the template file, line and column (1-based, columns in characters) and never
//! contain a value.

mod exec;
mod funcs;
mod gotime;
pub mod limits;
mod object;
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

/// A secret's `.Data` converted once into the engine's values, for callers that render the
/// same secrets many times ([`Template::render_cached`]): converting JSON into template values
/// is most of a render's cost, and the result can be shared as long as the secret's version
/// is the same. Cloning is cheap.
#[derive(Clone)]
pub struct SecretData(Value);

impl SecretData {
    /// Convert what `.Data` is (as [`Template::render_with`]'s lookup returns it).
    pub fn from_json(data: serde_json::Value) -> Self {
        Self(Value::Secret(std::sync::Arc::new(
            value::SecretRecord::plain(Value::from_json_owned(data)),
        )))
    }
}

impl std::fmt::Debug for SecretData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretData(..)")
    }
}

/// A parsed template.
#[derive(Clone)]
pub struct Template {
    name: String,
    src: String,
    missing_key_error: bool,
    parsed: parse::Parsed,
    /// Whether the template may change maps in place (see `funcs::MUTATING`): then a render
    /// works on its own copy of cached secrets.
    mutates: bool,
    /// KV v2 secrets converted by earlier renders, per version (shared by clones).
    converted: std::sync::Arc<source::Converted>,
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
    /// an unknown function or an undefined variable is an [`envfile_core::ErrorKind::Config`] error naming
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
        let mutates = parsed.calls_any(funcs::MUTATING);
        Ok(Self {
            name,
            src,
            missing_key_error: options.error_on_missing_key,
            parsed,
            mutates,
            converted: Default::default(),
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
            let values = source::fetch(resolver, &paths, &self.converted, self.mutates).await;
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
            if p.starts_with(source::LIST_KEY) {
                return Err(Error::config(
                    "`secrets` (a Vault LIST) needs a backend: render through a Resolver",
                ));
            }
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

    /// [`Template::render_with`] with secrets converted ahead ([`SecretData`]), so a caller
    /// that caches them per version pays no conversion per render. A template that changes
    /// maps in place (sprig `set`, `merge`, `mergeMap` …) gets a copy, so the cache never sees
    /// its changes.
    pub fn render_cached(
        &self,
        lookup: &mut dyn FnMut(&str) -> Result<SecretData>,
    ) -> Result<SecretString> {
        let mutates = self.mutates;
        let mut answer = |p: &str| -> Result<Value> {
            if p.starts_with(source::LIST_KEY) {
                return Err(Error::config(
                    "`secrets` (a Vault LIST) needs a backend: render through a Resolver",
                ));
            }
            let SecretData(v) = lookup(p)?;
            Ok(if mutates { v.deep_copy() } else { v })
        };
        match self.pass(&HashMap::new(), Some(&mut answer)) {
            Pass::Done(out) => out,
            Pass::Needs(_) => Err(self.too_deep()),
        }
    }

    /// Execute once with the secrets `known` so far.
    fn pass<'a>(
        &'a self,
        known: &'a HashMap<String, Result<Value>>,
        lookup: Option<exec::Lookup<'a>>,
    ) -> Pass {
        // `writeToFile` writes only in `render` (the CLI's and the broker's path): renders
        // answered by a closure (tests, benchmarks, the fuzzer) must have no side effects.
        let allow_writes = lookup.is_none();
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
            writes: Vec::new(),
            destination: self.destination.as_deref(),
        };
        let result = exec::execute(&self.parsed, &mut secrets);
        if secrets.pending.is_empty() {
            // `writeToFile` takes effect only for the pass that rendered, in call order.
            let result = result.and_then(|mut out| {
                for (start, end, w) in &secrets.writes {
                    let done = if allow_writes {
                        w.perform()
                    } else {
                        Err("files are written only by a render through a Resolver \
                             (render_with and render_cached have no side effects)"
                            .to_owned())
                    };
                    if let Err(m) = done {
                        zeroize::Zeroize::zeroize(&mut out);
                        let m = format!("error calling writeToFile: {m}");
                        return Err(exec::fail_at(*start, *end, m));
                    }
                }
                Ok(out)
            });
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
            exec::Fail::SecretAt(e, pos) => {
                let (line, col) = line_col(&self.src, pos);
                let mut err = Error::new(
                    e.kind(),
                    format!("template {}:{line}:{col}: {}", self.name, e.message()),
                );
                if let Some(r) = e.reference() {
                    err = err.with_reference(r);
                }
                if let Some(b) = e.backend() {
                    err = err.with_backend(b);
                }
                if let Some(h) = e.hint() {
                    err = err.with_hint(h);
                }
                err
            }
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
