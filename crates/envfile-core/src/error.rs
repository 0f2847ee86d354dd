//! Error kinds shared by every backend and by the resolver.
//!
//! An [`Error`] is a *kind* (what went wrong, and so whether a retry can help) plus context a person can
//! act on: the reference and backend it concerns, a message, and a hint. It never carries a secret value:
//! constructors take only names, references and backend messages, and backends must not pass payloads in.

use std::fmt;
use std::sync::Arc;

/// What went wrong. Callers branch on this, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The secret (or the requested version of it) does not exist.
    NotFound,
    /// Credentials were accepted but do not allow this read.
    PermissionDenied,
    /// No valid credentials (missing, expired, revoked token).
    Unauthenticated,
    /// A reference string could not be parsed.
    InvalidRef,
    /// The secret is JSON but lacks the requested key.
    MissingKey,
    /// A key was requested but the secret is not a JSON object.
    NotJson,
    /// The value is not UTF-8 where text is needed.
    NotUtf8,
    /// The value is empty where a value is required.
    Empty,
    /// A variable name is not a valid environment variable name.
    InvalidName,
    /// A value cannot be carried by the chosen output format.
    Unrepresentable,
    /// The backend asked us to slow down.
    Throttled,
    /// The backend is unreachable, sealed, or answered with a server error.
    Unavailable,
    /// The backend did not answer in time.
    Timeout,
    /// A payload failed its integrity check (for example a CRC32C mismatch).
    Integrity,
    /// The configuration is invalid.
    Config,
    /// The backend cannot do this operation (for example writes, or version pins).
    Unsupported,
    /// A local I/O failure (files, sockets).
    Io,
    /// Anything else the backend reported.
    Other,
}

impl ErrorKind {
    /// Whether retrying the same call later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::Unavailable | Self::Timeout)
    }

    /// Stable snake_case name, used in JSON output, audit lines and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::PermissionDenied => "permission_denied",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidRef => "invalid_ref",
            Self::MissingKey => "missing_key",
            Self::NotJson => "not_json",
            Self::NotUtf8 => "not_utf8",
            Self::Empty => "empty",
            Self::InvalidName => "invalid_name",
            Self::Unrepresentable => "unrepresentable",
            Self::Throttled => "throttled",
            Self::Unavailable => "unavailable",
            Self::Timeout => "timeout",
            Self::Integrity => "integrity",
            Self::Config => "config",
            Self::Unsupported => "unsupported",
            Self::Io => "io",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a kind, the reference and backend it concerns, and a hint.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    reference: Option<String>,
    backend: Option<String>,
    hint: Option<String>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// Result alias used throughout envfile.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind`. The message must not contain a secret value.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            reference: None,
            backend: None,
            hint: None,
            source: None,
        }
    }

    /// Shorthand for a [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Attach the reference (as the user wrote it) this error concerns.
    pub fn with_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Attach the backend instance name.
    pub fn with_backend(mut self, backend: impl Into<String>) -> Self {
        self.backend = Some(backend.into());
        self
    }

    /// Attach a hint: what the user can do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Attach the underlying cause. Only pass errors that cannot contain secret values
    /// (SDK service errors, I/O errors) — never a payload parse error that quotes its input.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Set the reference only if none is set yet (the resolver adds context without overwriting
    /// the more precise one a backend gave).
    pub fn or_reference(mut self, reference: impl Into<String>) -> Self {
        if self.reference.is_none() {
            self.reference = Some(reference.into());
        }
        self
    }

    /// Set the backend only if none is set yet.
    pub fn or_backend(mut self, backend: impl Into<String>) -> Self {
        if self.backend.is_none() {
            self.backend = Some(backend.into());
        }
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// Whether retrying can help.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
    /// The message, without reference, backend or hint.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The reference this error concerns, if known.
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }
    /// The backend instance this error concerns, if known.
    pub fn backend(&self) -> Option<&str> {
        self.backend.as_deref()
    }
    /// What the user can do about it, if we know.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.reference {
            write!(f, "{r}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(b) = &self.backend {
            write!(f, " (backend `{b}`, {})", self.kind)?;
        } else {
            write!(f, " ({})", self.kind)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("reference", &self.reference)
            .field("backend", &self.backend)
            .field("hint", &self.hint)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let kind = match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Io,
        };
        Error::new(kind, e.to_string()).with_source(e)
    }
}
