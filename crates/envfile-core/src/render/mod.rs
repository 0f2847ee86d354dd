//! Renderers: turn resolved variables into an env file in one of several formats.
//!
//! One module per format; each validates every variable first and only then builds the output,
//! so an error never leaves a partial file behind. Escaping is the hard part: a value a format
//! cannot carry is an [`crate::ErrorKind::Unrepresentable`] error naming the variable (never
//! quoting the value), a name it cannot carry is [`crate::ErrorKind::InvalidName`], and a value
//! that is not UTF-8 where text is needed is [`crate::ErrorKind::NotUtf8`].
//!
//! | format | carries | refuses |
//! |---|---|---|
//! | `shell` | any text, single-quoted | NUL |
//! | `dotenv` | python-dotenv 1.x, interpolation off: any text | NUL, a trailing `\\` that cannot go unquoted; warns on `${` |
//! | `dotenv-node` | npm `dotenv` and `node --env-file`: text in the one quote kind it lacks | NUL, CR, all three quote kinds together, a trailing `\\` that cannot go unquoted; warns on `${` |
//! | `dotenv-compose` | Docker Compose v2 `env_file`: any text, `$` escaped | NUL |
//! | `json` | any text | — |
//! | `yaml` | any text, double-quoted with escapes | — |
//! | `systemd` | any text, double-quoted | NUL, U+FEFF, Unicode noncharacters |
//! | `docker` | one line, verbatim | NUL, LF, CR, lines over 64 KiB, values wrapped in matching quotes |
//! | `k8s-secret` | any bytes, base64 | more than 1 MiB in total |

mod check;
mod docker;
mod dotenv;
mod dotenv_compose;
mod dotenv_node;
mod json;
mod k8s;
mod shell;
mod sink;
mod systemd;
mod yaml;

/// How errors show a name (a variable's, a Secret's): for checks that must tell a name in a
/// message from a value (the render fuzz target).
pub use check::shown as shown_name;

use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;
use std::fmt;
use std::str::FromStr;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.env` for python-dotenv (every 1.x release) with interpolation off.
    Dotenv,
    /// `.env` for npm `dotenv` and `node --env-file`.
    DotenvNode,
    /// `.env` for Docker Compose v2 (`env_file:`, `--env-file`).
    DotenvCompose,
    /// `export NAME='value'` lines to `source` from sh, bash, dash.
    Shell,
    /// A JSON object.
    Json,
    /// A YAML mapping.
    Yaml,
    /// systemd `EnvironmentFile=`.
    Systemd,
    /// `docker run --env-file` (no quoting, no newlines).
    Docker,
    /// A Kubernetes `Secret` manifest (base64 `data`).
    K8sSecret,
}

impl Format {
    /// All formats, for help texts and tests.
    pub const ALL: [Format; 9] = [
        Format::Dotenv,
        Format::DotenvNode,
        Format::DotenvCompose,
        Format::Shell,
        Format::Json,
        Format::Yaml,
        Format::Systemd,
        Format::Docker,
        Format::K8sSecret,
    ];

    /// The name used on the command line and in `?format=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Dotenv => "dotenv",
            Format::DotenvNode => "dotenv-node",
            Format::DotenvCompose => "dotenv-compose",
            Format::Shell => "shell",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Systemd => "systemd",
            Format::Docker => "docker",
            Format::K8sSecret => "k8s-secret",
        }
    }

    /// The HTTP content type the broker serves it with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Yaml | Format::K8sSecret => "application/yaml",
            _ => "text/plain; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                crate::Error::config(format!("unknown format `{s}`")).with_hint(format!(
                    "use one of: {}",
                    Format::ALL.map(|f| f.as_str()).join(", ")
                ))
            })
    }
}

/// Options some formats need.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// `metadata.name` for `k8s-secret` (defaults to the env file's name).
    pub name: Option<String>,
    /// `metadata.namespace` for `k8s-secret`.
    pub namespace: Option<String>,
}

/// Something worth telling the user that does not stop rendering (e.g. a `${` in a dotenv value,
/// which interpolating readers would expand). Names the variable, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The variable.
    pub var: String,
    /// What to know.
    pub message: String,
}

/// Render `vars` (in the given order) as `format`.
///
/// Fails without output if any variable cannot be written in `format` (the error names the
/// variable, never its value); things worth knowing that do not stop rendering come back as
/// [`Warning`]s.
///
/// ```
/// use envfile_core::{render, Format, RenderOptions, SecretValue, Var};
///
/// let vars = [Var { name: "GREETING".into(), value: SecretValue::from_str_copy("it's $HOME") }];
/// let (out, warnings) = render(Format::Shell, &vars, &RenderOptions::default()).unwrap();
/// assert_eq!(out.expose(), "export GREETING='it'\\''s $HOME'\n");
/// assert!(warnings.is_empty());
/// ```
pub fn render(
    format: Format,
    vars: &[Var],
    opts: &RenderOptions,
) -> Result<(SecretString, Vec<Warning>)> {
    check::unique(format, vars)?;
    let mut warnings = Vec::new();
    let out = match format {
        Format::Dotenv => dotenv::render(vars, &mut warnings)?,
        Format::DotenvNode => dotenv_node::render(vars, &mut warnings)?,
        Format::DotenvCompose => dotenv_compose::render(vars)?,
        Format::Shell => shell::render(vars, &mut warnings)?,
        Format::Json => json::render(vars)?,
        Format::Yaml => yaml::render(vars)?,
        Format::Systemd => systemd::render(vars)?,
        Format::Docker => docker::render(vars)?,
        Format::K8sSecret => k8s::render(vars, opts)?,
    };
    Ok((out, warnings))
}
