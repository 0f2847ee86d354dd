//! Test support for the envfile workspace: the backend conformance suite every backend passes,
//! harnesses for the real servers the tests run against, and helpers to run the CLI.
//!
//! The servers (moto, OpenBao, the GCP Secret Manager emulator) are started by `scripts/test`, which
//! exports their addresses in `ENVFILE_TEST_*` variables; see [`env`].

pub mod bao;
pub mod conformance;
pub mod env;
pub mod gcp_emulator;
pub mod moto;
pub mod openssl;
pub mod serve;
