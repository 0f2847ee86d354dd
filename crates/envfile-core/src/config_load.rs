//! Loading, profile selection, env overrides, validation, and error provenance for
//! [`crate::config`].
//!
//! Every error names where the bad setting came from (the file, or the `ENVFILE_…` variable),
//! the key path with its profile (`default.envfiles.api.vars.DB`), and what was expected. No
//! error quotes a configured *value*: a `vars` literal, a Vault token or a mistyped reference
//! can be a secret, so messages are built from the error kind and the key path, never from
//! figment's or toml's own text (both quote the offending value or source line).

use crate::config::{Config, LoadedConfig, VarSource};
use crate::envname;
use crate::error::{Error, Result};
use crate::reference::{BackendSel, Reference};
use figment::error::{Actual, Kind};
use figment::providers::Env;
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Backend kinds this build knows how to construct.
const KNOWN_KINDS: &[&str] = &["file", "aws", "ssm", "vault", "gcp"];

/// The config's top-level sections; seen at the top of a file they mean the user forgot the
/// profile level.
const SECTIONS: &[&str] = &["backends", "envfiles", "secrets", "broker", "sinks"];

/// `ENVFILE_*` variables the CLI and tests use that are not config overrides (without the prefix).
const NOT_OVERRIDES: &[&str] = &["CONFIG", "PROFILE", "BROKER_TOKEN", "LOG"];
const NOT_OVERRIDE_PREFIXES: &[&str] = &["TEST_", "BIN"];

const DEFAULT_FILE: &str = "envfile.toml";

pub(crate) fn load(path: Option<&Path>, profile: Option<&str>) -> Result<LoadedConfig> {
    let (file, origin) = match path {
        Some(p) => (p.to_path_buf(), Some("--config")),
        None => match non_empty_env("ENVFILE_CONFIG") {
            Some(p) => (PathBuf::from(p), Some("ENVFILE_CONFIG")),
            None => (PathBuf::from(DEFAULT_FILE), None),
        },
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(match origin {
                Some(from) => Error::config(format!(
                    "config file `{}` (from {from}) does not exist",
                    file.display()
                ))
                .with_hint(
                    "check the path, or create the file (config/quickstart.toml is a start)",
                ),
                None => Error::config(format!(
                    "no config file: `{DEFAULT_FILE}` is not in the current directory"
                ))
                .with_hint(
                    "pass --config FILE (or set ENVFILE_CONFIG), or create envfile.toml \
                     (config/quickstart.toml is a start)",
                ),
            })
        }
        Err(e) => {
            return Err(
                Error::config(format!("cannot read config file `{}`: {e}", file.display()))
                    .with_source(e),
            )
        }
    };
    build(&text, Some(file), profile)
}

pub(crate) fn load_str(toml: &str, profile: Option<&str>) -> Result<LoadedConfig> {
    build(toml, None, profile)
}

pub(crate) fn extract<T: DeserializeOwned>(cfg: &LoadedConfig, key_path: &str) -> Result<T> {
    let shown = source_name(cfg.path.as_deref());
    if !cfg.figment.contains(key_path) {
        return Err(
            Error::config(format!("{shown}: {}.{key_path}: missing", cfg.profile)).with_hint(
                format!("add a [{}.{key_path}] table to the config", cfg.profile),
            ),
        );
    }
    // A table: extract from a focused figment, which keeps the error path in order (we
    // prepend `key_path` ourselves) and keeps provenance.
    if matches!(cfg.figment.find_value(key_path), Ok(Value::Dict(..))) {
        return cfg
            .figment
            .focus(key_path)
            .extract::<T>()
            .map_err(|e| figment_error(e, &shown, &cfg.profile, key_path));
    }
    // `focus` only reaches tables (an array such as `[[sinks]]` comes back empty), so anything
    // else goes through `extract_inner`, which keeps provenance too but appends `key_path`
    // *after* the inner path: take it off the end so the prefix goes in front once.
    let depth = key_path.split('.').filter(|s| !s.is_empty()).count();
    cfg.figment.extract_inner::<T>(key_path).map_err(|e| {
        let reordered = e.into_iter().map(|mut e| {
            let keep = e.path.len().saturating_sub(depth);
            e.path.truncate(keep);
            e
        });
        figment_errors(reordered, &shown, &cfg.profile, key_path)
    })
}

fn non_empty_env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

fn source_name(path: Option<&Path>) -> String {
    path.map_or_else(|| "config".to_owned(), |p| p.display().to_string())
}

/// The TOML text as a figment provider: parsed once (by us, so a syntax error cannot echo a
/// source line), nested by profile, and tagged with the file it came from.
struct TomlText {
    profiles: Map<Profile, Dict>,
    path: Option<PathBuf>,
}

impl Provider for TomlText {
    fn metadata(&self) -> Metadata {
        match &self.path {
            Some(p) => Metadata::from("TOML file", p.as_path()),
            None => Metadata::named("TOML string"),
        }
    }

    fn data(&self) -> std::result::Result<Map<Profile, Dict>, figment::Error> {
        Ok(self.profiles.clone())
    }
}

fn build(text: &str, path: Option<PathBuf>, profile: Option<&str>) -> Result<LoadedConfig> {
    let shown = source_name(path.as_deref());
    let profile = match profile {
        Some(p) => p.to_owned(),
        None => non_empty_env("ENVFILE_PROFILE").unwrap_or_else(|| "default".to_owned()),
    };
    if profile.trim().is_empty() {
        return Err(Error::config("the profile name is empty")
            .with_hint("pass --profile NAME or unset ENVFILE_PROFILE"));
    }

    let profiles = parse_profiles(text, &shown)?;
    if profile != "default" && !profiles.keys().any(|p| p.as_str() == profile.as_str()) {
        let mut known: Vec<&str> = profiles.keys().map(|p| p.as_str().as_str()).collect();
        known.sort_unstable();
        return Err(Error::config(format!(
            "{shown}: no profile named `{profile}` in the config"
        ))
        .with_hint(format!(
            "profiles in the file: {} (the `default` profile is always available)",
            if known.is_empty() {
                "(none)".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }

    let figment = Figment::from(TomlText {
        profiles,
        path: path.clone(),
    })
    .merge(env_overrides())
    .select(profile.as_str());

    let config: Config = figment
        .extract()
        .map_err(|e| figment_error(e, &shown, &profile, ""))?;

    let problems = validate(&figment, &config, &shown, &profile);
    if !problems.is_empty() {
        return Err(config_problems(&shown, problems));
    }

    Ok(LoadedConfig {
        figment,
        config,
        path,
        profile,
    })
}

fn config_problems(shown: &str, mut problems: Vec<String>) -> Error {
    if problems.len() == 1 {
        return Error::config(problems.remove(0));
    }
    let mut msg = format!("{} problems in {shown}:", problems.len());
    for p in problems {
        msg.push_str("\n  - ");
        msg.push_str(&p);
    }
    Error::config(msg)
}

/// Parse the file's TOML and split it into profiles, with messages that never quote it.
fn parse_profiles(text: &str, shown: &str) -> Result<Map<Profile, Dict>> {
    // Straight into figment's value type (tagged with our metadata when figment takes it):
    // going through `toml::Table` first cost a second copy of a large config.
    let table: Dict = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let (line, col) = line_col(text, s.start);
                format!("line {line}, column {col}: ")
            })
            .unwrap_or_default();
        let why: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        Error::config(format!("{shown}: {at}invalid TOML: {}", why.join("; ")))
    })?;

    let mut profiles = Map::new();
    for (name, value) in table {
        if SECTIONS.contains(&name.as_str()) {
            return Err(Error::config(format!(
                "{shown}: `{name}` is at the top level, but top-level tables are profiles"
            ))
            .with_hint(format!(
                "put settings under a profile: [default.{name}…] instead of [{name}…]"
            )));
        }
        let Value::Dict(_, dict) = value else {
            return Err(Error::config(format!(
                "{shown}: `{name}` at the top level must be a profile table, found {}",
                kind_of(&value.to_actual())
            ))
            .with_hint("write settings under a profile, e.g. [default.backends.aws]"));
        };
        profiles.insert(Profile::new(&name), dict);
    }
    Ok(profiles)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `ENVFILE_BACKENDS__AWS__REGION=eu-west-1` → `backends.aws.region`, applied over every
/// profile (global). Only names holding `__` can address a setting (every setting is nested),
/// so other `ENVFILE_*` variables are left alone rather than rejected as unknown keys.
fn env_overrides() -> Env {
    Env::prefixed("ENVFILE_")
        .filter(|k| {
            let k = k.as_str();
            let upper = k.to_ascii_uppercase();
            k.contains("__")
                && !NOT_OVERRIDES.contains(&upper.as_str())
                && !NOT_OVERRIDE_PREFIXES.iter().any(|p| upper.starts_with(p))
        })
        .map(|k| env_key_path(k.as_str()).into())
        // Last: figment resets `lowercase` on every `filter`/`map`. We lowercase ourselves.
        .lowercase(false)
        .global()
}

/// Lowercase every segment except a variable name (`ENVFILE_ENVFILES__API__VARS__DB_URL`
/// addresses `envfiles.api.vars.DB_URL`: variable names are case-sensitive).
fn env_key_path(key: &str) -> String {
    let segs: Vec<&str> = key.split("__").collect();
    segs.iter()
        .enumerate()
        .map(|(i, s)| {
            let is_var_name = i == 3
                && segs[0].eq_ignore_ascii_case("envfiles")
                && segs[2].eq_ignore_ascii_case("vars");
            if is_var_name {
                (*s).to_owned()
            } else {
                s.to_ascii_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// `file: profile.key.path` for a value that came from the file, `ENVFILE_KEY__PATH` for one
/// that came from the environment.
fn locate(md: Option<&Metadata>, profile: &str, path: &[String], shown: &str) -> String {
    let dotted = path.join(".");
    match md {
        Some(md) if md.source.is_none() && md.name.contains("environment") => {
            let var: Vec<String> = path.iter().map(|s| s.to_ascii_uppercase()).collect();
            format!("environment variable ENVFILE_{}", var.join("__"))
        }
        _ if dotted.is_empty() => format!("{shown}: {profile}"),
        _ => format!("{shown}: {profile}.{dotted}"),
    }
}

/// The merged config's top-level sections, each taken from figment once, on first use.
///
/// `Figment::find_value` merges the providers anew on every call — a deep copy of the whole
/// config, then freed — so asking it where each variable is set made validation quadratic in
/// the number of variables (1.9 s at 5,000). Locating a key here walks one copy instead, and
/// a section nobody asks about (no problem in it, no literal to check) is never copied.
struct MergedTree<'f> {
    fig: &'f Figment,
    sections: std::cell::RefCell<BTreeMap<String, Option<std::rc::Rc<Value>>>>,
}

impl<'f> MergedTree<'f> {
    fn new(fig: &'f Figment) -> Self {
        Self {
            fig,
            sections: Default::default(),
        }
    }

    /// The value at `key`, segment by segment (a segment may hold a dot: a mistyped variable
    /// name such as `A.B` is one key, not two). Owned, as a section is shared by its lookups.
    fn get<R>(&self, key: &[&str], with: impl FnOnce(Option<&Value>) -> R) -> R {
        let Some((first, rest)) = key.split_first() else {
            return with(None);
        };
        let section = self
            .sections
            .borrow_mut()
            .entry((*first).to_owned())
            .or_insert_with(|| self.fig.find_value(first).ok().map(std::rc::Rc::new))
            .clone();
        let mut at = section.as_deref();
        for seg in rest {
            at = match at {
                Some(Value::Dict(_, d)) => d.get(*seg),
                Some(Value::Array(_, a)) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
        }
        with(at)
    }
}

/// Where `key` is set in the merged config.
fn locate_key(tree: &MergedTree<'_>, key: &[&str], shown: &str, profile: &str) -> String {
    let shown_path: Vec<String> = key.iter().map(|s| (*s).to_owned()).collect();
    tree.get(key, |found| match found {
        Some(v) => {
            let tag = v.tag();
            let prof = tag
                .profile()
                .map_or_else(|| profile.to_owned(), |p| p.as_str().to_string());
            // Global is where env overrides live; their provenance is the variable, not a profile.
            locate(tree.fig.get_metadata(tag), &prof, &shown_path, shown)
        }
        None => locate(None, profile, &shown_path, shown),
    })
}

/// The type of a value, never the value.
fn kind_of(a: &Actual) -> &'static str {
    match a {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer",
        Actual::Float(_) => "a float",
        Actual::Char(_) | Actual::Str(_) => "a string",
        Actual::Bytes(_) => "bytes",
        Actual::Unit | Actual::Option => "nothing",
        Actual::Seq => "an array",
        Actual::Map => "a table",
        _ => "another type",
    }
}

/// Turn a figment error (a chain) into one `Config` error, one line per problem.
fn figment_error(err: figment::Error, shown: &str, profile: &str, prefix: &str) -> Error {
    figment_errors(err.into_iter(), shown, profile, prefix)
}

/// [`figment_error`] over the chain's errors one by one.
fn figment_errors(
    errs: impl Iterator<Item = figment::Error>,
    shown: &str,
    profile: &str,
    prefix: &str,
) -> Error {
    let lines: Vec<String> = errs
        .map(|e| {
            let mut path: Vec<String> = prefix
                .split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            path.extend(e.path.iter().cloned());
            let what = match &e.kind {
                Kind::UnknownField(field, expected) => {
                    push_once(&mut path, field);
                    if expected.is_empty() {
                        "unknown key".to_owned()
                    } else {
                        format!("unknown key; expected one of: {}", expected.join(", "))
                    }
                }
                Kind::MissingField(field) => {
                    push_once(&mut path, field);
                    "missing (this key is required)".to_owned()
                }
                Kind::InvalidType(actual, expected) => {
                    format!("expected {expected}, found {}", kind_of(actual))
                }
                Kind::InvalidValue(actual, expected) => {
                    format!("invalid value ({}), expected {expected}", kind_of(actual))
                }
                Kind::InvalidLength(n, expected) => {
                    format!("expected {expected}, found {n} items")
                }
                Kind::UnknownVariant(v, expected) => format!(
                    "unknown value `{v}`; expected one of: {}",
                    expected.join(", ")
                ),
                Kind::DuplicateField(f) => {
                    push_once(&mut path, f);
                    "set twice".to_owned()
                }
                Kind::Message(m) if m.contains("untagged enum VarSource") => {
                    "expected a reference string (\"aws:app/db#password\") or a literal \
                     table ({ value = \"…\" })"
                        .to_owned()
                }
                // Serde's custom messages name types and fields; values reach them only
                // through `Actual`, which is handled above.
                Kind::Message(m) => m.clone(),
                Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => {
                    "number out of range".to_owned()
                }
                Kind::Unsupported(a) => format!("unsupported value ({})", kind_of(a)),
                Kind::UnsupportedKey(a, need) => {
                    format!("unsupported key type ({}), need {need}", kind_of(a))
                }
            };
            let prof = e
                .profile
                .as_ref()
                .map_or_else(|| profile.to_owned(), |p| p.as_str().to_string());
            format!(
                "{}: {what}",
                locate(e.metadata.as_ref(), &prof, &path, shown)
            )
        })
        .collect();
    if lines.len() == 1 {
        let mut lines = lines;
        Error::config(lines.remove(0))
    } else {
        config_problems(shown, lines)
    }
}

/// Figment already ends some error paths with the field's name, and not others.
fn push_once(path: &mut Vec<String>, field: &str) {
    if path.last().map(String::as_str) != Some(field) {
        path.push(field.to_owned());
    }
}

/// Checks serde cannot express: names, references, backend kinds and names, required vars.
fn validate(fig: &Figment, config: &Config, shown: &str, profile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let tree = MergedTree::new(fig);
    let at = |key: &[&str]| -> String { locate_key(&tree, key, shown, profile) };

    for (name, entry) in &config.backends {
        if !KNOWN_KINDS.contains(&entry.kind.as_str()) {
            let hint =
                crate::suggest::did_you_mean_phrase(&entry.kind, KNOWN_KINDS.iter().copied())
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
            out.push(format!(
                "{}: unknown backend kind `{}`; expected one of: {}{hint}",
                at(&["backends", name, "kind"]),
                entry.kind,
                KNOWN_KINDS.join(", ")
            ));
        }
    }

    // A string in `vars` may be a value typed where a reference belongs (`"hunter2"`, or a
    // `postgres://user:pw@host/db` URL, which even parses as backend `postgres`). So a `vars`
    // entry is never echoed: its key path locates it. `expand` refs and `[secrets]` keys are
    // shown, since nobody types a secret there.
    // `loc` is computed only for a problem: locating a key asks figment for the merged config,
    // which costs the size of the whole config, so doing it for every variable made loading
    // quadratic in the number of variables.
    let check_ref = |raw: &str, loc: &dyn Fn() -> String, is_var: bool, out: &mut Vec<String>| {
        let literal_hint = if is_var {
            " (for a literal value write `{ value = \"…\" }`)"
        } else {
            ""
        };
        let shown_ref = if is_var {
            "the reference".to_owned()
        } else {
            format!("reference `{raw}`")
        };
        match Reference::parse(raw) {
            Ok(r) => {
                // A `vars` reference's backend name is part of the value: not quoted.
                if let Some(problem) = backend_problem(config, &r, !is_var) {
                    if is_var && looks_like_literal(raw) {
                        out.push(format!(
                            "{}: invalid reference: this looks like a value, not \
                             `BACKEND:PATH[#KEY]`{literal_hint}",
                            loc()
                        ));
                        return;
                    }
                    out.push(format!("{}: {shown_ref} {problem}{literal_hint}", loc()));
                }
            }
            Err(_) if is_var && looks_like_literal(raw) => out.push(format!(
                "{}: invalid reference: this looks like a value, not `BACKEND:PATH[#KEY]`{literal_hint}",
                loc()
            )),
            // The parser's message can quote parts of its input, so it is not shown here.
            Err(_) if is_var => out.push(format!(
                "{}: invalid reference: not `BACKEND:PATH[#KEY][?version=V]` nor another \
                 accepted form{literal_hint}",
                loc()
            )),
            Err(e) => out.push(format!("{}: invalid {shown_ref}: {}", loc(), e.message())),
        }
    };

    for (ename, spec) in &config.envfiles {
        for (var, source) in &spec.vars {
            let loc = || at(&["envfiles", ename, "vars", var]);
            if !envname::is_valid(var) {
                out.push(format!(
                    "{}: `{var}` is not a valid variable name: {} (use [A-Za-z_][A-Za-z0-9_]*)",
                    loc(),
                    envname::why_invalid(var)
                ));
            }
            match source {
                VarSource::Ref(raw) => check_ref(raw, &loc, true, &mut out),
                VarSource::Literal { .. } => {
                    // Serde ignores extra keys in an untagged variant; we do not.
                    let extra: Vec<String> =
                        tree.get(&["envfiles", ename, "vars", var], |found| match found {
                            Some(Value::Dict(_, d)) => d
                                .keys()
                                .filter(|k| k.as_str() != "value")
                                .cloned()
                                .collect(),
                            _ => Vec::new(),
                        });
                    for k in extra {
                        out.push(format!(
                            "{}: unknown key; a literal is `{{ value = \"…\" }}`",
                            at(&["envfiles", ename, "vars", var, &k])
                        ));
                    }
                }
            }
        }
        for (i, ex) in spec.expand.iter().enumerate() {
            let idx = i.to_string();
            let loc = || at(&["envfiles", ename, "expand", &idx, "ref"]);
            check_ref(&ex.reference, &loc, false, &mut out);
            if !envname::is_valid_prefix(&ex.prefix) {
                out.push(format!(
                    "{}: prefix `{}` cannot start a variable name: {}",
                    at(&["envfiles", ename, "expand", &idx, "prefix"]),
                    ex.prefix,
                    envname::why_invalid(&ex.prefix)
                ));
            }
        }
        for name in &spec.required {
            let loc = || at(&["envfiles", ename, "required"]);
            if !envname::is_valid(name) {
                out.push(format!(
                    "{}: `{name}` is not a valid variable name: {}",
                    loc(),
                    envname::why_invalid(name)
                ));
            } else if spec.expand.is_empty() && !spec.vars.contains_key(name) {
                // With `expand`, the name may come from a secret's keys: checked when resolving.
                let mean =
                    crate::suggest::did_you_mean_phrase(name, spec.vars.keys().map(String::as_str))
                        .map(|s| format!("; {s}"))
                        .unwrap_or_default();
                out.push(format!(
                    "{}: required variable `{name}` is not set by any entry in `vars`{mean}",
                    loc()
                ));
            }
        }
    }

    for key in config.secrets.keys() {
        // The key holds dots and colons: figment cannot address it, so point at the table.
        let loc = || format!("{shown}: {profile}.secrets.\"{key}\"");
        check_ref(key, &loc, false, &mut out);
    }
    out
}

/// No reference syntax at all, or a URL with credentials: more likely a value than a reference.
fn looks_like_literal(raw: &str) -> bool {
    (!raw.contains(':') && !raw.starts_with("projects/")) || raw.contains('@') || raw.contains(' ')
}

/// Whether a parsed reference's backend exists in the config (mirrors `Backends::select`).
/// `quote_name`: whether the message may show the backend name the reference wrote.
fn backend_problem(config: &Config, r: &Reference, quote_name: bool) -> Option<String> {
    let configured = || {
        if config.backends.is_empty() {
            "(none)".to_owned()
        } else {
            config
                .backends
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    match &r.backend {
        BackendSel::Named(n) if !config.backends.contains_key(n) => Some(if quote_name {
            format!(
                "names backend `{n}`, which is not configured; configured backends: {}",
                configured()
            )
        } else {
            format!(
                "names a backend that is not configured; configured backends: {}",
                configured()
            )
        }),
        BackendSel::Named(_) => None,
        BackendSel::Kind(kind) => {
            if config.backends.get(kind).is_some_and(|b| &b.kind == kind) {
                return None;
            }
            let n = config.backends.values().filter(|b| &b.kind == kind).count();
            match n {
                1 => None,
                0 => Some(format!(
                    "needs a backend of kind `{kind}`, and none is configured; configured \
                     backends: {}",
                    configured()
                )),
                _ => Some(format!(
                    "needs a backend of kind `{kind}`, and {n} are configured: name one `{kind}` \
                     or write the reference as `NAME:PATH`"
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_key_paths_keep_variable_names() {
        assert_eq!(env_key_path("BACKENDS__AWS__REGION"), "backends.aws.region");
        assert_eq!(
            env_key_path("BACKENDS__AWS__ENDPOINT_URL"),
            "backends.aws.endpoint_url"
        );
        assert_eq!(
            env_key_path("ENVFILES__API__VARS__DB_URL"),
            "envfiles.api.vars.DB_URL"
        );
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Sink {
        path: String,
        #[allow(dead_code)]
        mode: Option<String>,
    }

    #[test]
    fn extract_reaches_arrays_of_tables_and_names_the_key_path() {
        let base = "[default.envfiles.app]\nvars.A = { value = \"x\" }\n";
        let cfg = load_str(
            &format!("{base}[[default.sinks]]\npath = \"/a\"\n[[default.sinks]]\npath = \"/b\"\n"),
            None,
        )
        .unwrap();
        let sinks: Vec<Sink> = cfg.extract("sinks").unwrap();
        let paths: Vec<&str> = sinks.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b"]);

        let cfg = load_str(
            &format!("{base}[[default.sinks]]\npath = \"/a\"\nmdoe = \"0400\"\n"),
            None,
        )
        .unwrap();
        let e = cfg.extract::<Vec<Sink>>("sinks").unwrap_err().to_string();
        assert!(e.contains("default.sinks.0.mdoe: unknown key"), "{e}");

        // A table where an array is expected still says what was found, at the right path.
        let cfg = load_str(&format!("{base}[default.sinks]\npath = \"/a\"\n"), None).unwrap();
        let e = cfg.extract::<Vec<Sink>>("sinks").unwrap_err().to_string();
        assert!(e.contains("default.sinks: expected a sequence"), "{e}");
    }

    /// Found by the `config_load` fuzz target: a `vars` entry's backend name (part of a value
    /// that may be a mistyped secret, `hunter2:x`) was quoted in "names backend `…`".
    #[test]
    fn a_vars_reference_to_an_unknown_backend_is_not_quoted() {
        let e = load_str(
            "[default.backends.aws]\nkind = \"aws\"\n[default.envfiles.app]\nvars.A = \"hunter2canary:x\"\n",
            Some("default"),
        )
        .unwrap_err();
        let shown = format!("{e} {}", e.hint().unwrap_or_default());
        assert!(!shown.contains("hunter2canary"), "{shown}");
        assert!(shown.contains("default.envfiles.app.vars.A"), "{shown}");
        assert!(
            shown.contains("not configured; configured backends: aws"),
            "{shown}"
        );
        // `[secrets]` keys are references nobody types a secret into: still named.
        let e = load_str(
            "[default.secrets.\"nope:x\"]\nrequired_keys = [\"k\"]\n",
            Some("default"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("names backend `nope`"), "{e}");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("a\nbc", 3), (2, 2));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
