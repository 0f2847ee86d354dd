//! envfile backend `gcp`: GCP Secret Manager through the official `google-cloud-secretmanager-v1`
//! client (HTTP+JSON transport).
//!
//! Config (`[default.backends.gcp]`): `kind = "gcp"`, `project` (default: `GOOGLE_CLOUD_PROJECT`,
//! then `CLOUDSDK_CORE_PROJECT`), `location` for regional secrets, `endpoint` to point at a private
//! endpoint or an emulator, `credentials = "adc"` (default: Application Default Credentials, the
//! metadata server on Cloud Run) or `"anonymous"` (emulators).
//!
//! References: a bare secret id (`gcp:my-secret`, in the configured project and location) or a full
//! name (`projects/P/[locations/L/]secrets/S[/versions/V]`); the version is `latest` unless pinned.
//! Payloads are bytes; a `data_crc32c` in the response is verified before the value is used.
#![warn(missing_docs)]

mod client;
pub mod config;
mod error;
pub mod names;

pub use client::GcpBackend;
pub use config::{CredentialsMode, GcpConfig};
