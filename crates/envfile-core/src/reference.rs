//! The reference grammar: how a user names a secret.
//!
//! Canonical: `BACKEND:PATH[#KEY][?version=V&stage=S]`. Foreign forms users already have are
//! accepted verbatim (ECS `valueFrom` ARNs, GCP resource names, berglas `sm://`, vals `ref+…://`),
//! and every form parses to the same [`Reference`]: which backend, a [`Locator`] the backend
//! understands, and an optional key to select from a JSON secret.

use crate::error::{Error, ErrorKind, Result};
use std::collections::BTreeMap;
use std::fmt;

/// Which backend instance a reference goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendSel {
    /// A canonical reference names an instance from the config (`aws`, `aws-eu`).
    Named(String),
    /// A foreign form implies a kind (`aws`, `vault`, `gcp`); see [`crate::Backends::select`].
    Kind(String),
}

impl BackendSel {
    /// The name or kind, as text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Named(s) | Self::Kind(s) => s,
        }
    }
}

/// What a backend needs to find one secret. Key selection is not part of it: one fetch serves
/// every key of a JSON secret, so the resolver dedupes on the locator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Locator {
    /// Backend-specific path: an AWS name or ARN, a Vault `mount/path`, a GCP secret id or
    /// `projects/P/[locations/L/]secrets/S`, a file-backend key. Percent-decoded.
    pub path: String,
    /// A version pin (AWS VersionId, Vault KV v2 version, GCP version number).
    pub version: Option<String>,
    /// An AWS staging label (`AWSCURRENT`, `AWSPREVIOUS`, …).
    pub stage: Option<String>,
    /// Other backend-specific query parameters (`region` from vals refs, …), sorted.
    pub params: BTreeMap<String, String>,
}

impl Locator {
    /// A locator for `path` with no pins.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }
}

/// Which part of a JSON secret to take.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeySel {
    /// A top-level key (`#password`).
    Field(String),
    /// A JSON pointer (`#/db/password`).
    Pointer(String),
}

impl fmt::Display for KeySel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(k) => f.write_str(k),
            Self::Pointer(p) => f.write_str(p),
        }
    }
}

/// Which syntax a reference was written in (kept for messages and for `envfile policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefForm {
    /// `BACKEND:PATH[#KEY][?…]`
    Canonical,
    /// `arn:aws:secretsmanager:…` (ECS `valueFrom`)
    EcsArn,
    /// `projects/P/secrets/S[/versions/V]`
    GcpResource,
    /// `sm://P/S[#V]`
    Berglas,
    /// `ref+awssecrets://…`, `ref+vault://…`, `ref+gcpsecrets://…`
    Vals,
}

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The backend it goes to.
    pub backend: BackendSel,
    /// What the backend needs.
    pub locator: Locator,
    /// The key to select from a JSON secret, if any.
    pub key: Option<KeySel>,
    /// The syntax it was written in.
    pub form: RefForm,
    /// The text as the user wrote it (references are not secret).
    pub raw: String,
}

impl Reference {
    /// Parse any accepted form. A malformed reference gets an [`ErrorKind::InvalidRef`] error
    /// that quotes it and says which part is wrong.
    pub fn parse(s: &str) -> Result<Self> {
        crate::refparse::parse(s)
    }

    /// The canonical spelling, `BACKEND:PATH[#KEY][?version=V&stage=S&…]`, percent-encoded so it
    /// parses back to the same locator and key. A foreign form's implied kind becomes the backend
    /// name (`arn:aws:…` gives `aws:arn:aws:…`).
    pub fn canonical(&self) -> String {
        crate::refparse::canonical(self)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl std::str::FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// Build an [`ErrorKind::InvalidRef`] error quoting `raw` and naming the bad `part`.
pub(crate) fn invalid(raw: &str, part: &str, why: impl fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidRef, format!("invalid {part}: {why}"))
        .with_reference(raw)
        .with_hint(
            "write `BACKEND:PATH[#KEY][?version=V&stage=S]`, an ECS secret ARN, a GCP resource name \
             (`projects/P/secrets/S`), `sm://P/S`, or a vals `ref+…://` reference",
        )
}
