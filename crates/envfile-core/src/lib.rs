//! envfile core: the reference grammar, the [`Backend`] trait, redacted secret values, error
//! kinds, configuration, the resolver, renderers, and the embedded `file` backend.
//!
//! Backend crates (`envfile-aws`, `envfile-vault`, `envfile-gcp`) depend on this crate and never
//! on each other; the CLI wires them together.
#![warn(missing_docs)]

pub mod backend;
pub mod config;
mod config_load;
pub mod dirs;
pub mod duration;
mod envname;
pub mod error;
pub mod file_backend;
pub mod reference;
mod refparse;
pub mod render;
mod resolve;
pub mod resolver;
pub mod retry;
pub mod secret;
mod suggest;

pub use backend::{
    Backend, Backends, Capabilities, Fetched, Lease, Native, PutOutcome, SecretMeta, VersionProbe,
};
pub use config::{Config, EnvfileSpec, LoadedConfig};
pub use error::{Error, ErrorKind, Result};
pub use reference::{BackendSel, KeySel, Locator, RefForm, Reference};
pub use render::{render, Format, RenderOptions};
pub use resolver::{Prefetched, Probed, Problem, Problems, ResolvedEnv, Resolver, Var};
pub use secret::{SecretJson, SecretString, SecretValue};
