//! Shared pieces of the fuzz targets: the CLI's readers (compiled from their source files, as
//! the CLI is a binary crate), and strict readers for the formats whose real reader is a
//! program (sh, systemd, docker) that a fuzzer cannot run per input.
//!
//! Each reader implements the reading rules the matching renderer's module documents (and cites
//! from the reader's own source), for the subset of the format a renderer writes; anything else
//! is `None`, which the `render` target reports as a broken round trip.

/// The `.env` reader `envfile import` uses (python-dotenv's rules).
#[path = "../../crates/envfile-cli/src/dotenv_read.rs"]
#[allow(dead_code)]
pub mod dotenv_read;

/// The ECS task-definition reader of `envfile render --from-ecs-task-definition`.
#[path = "../../crates/envfile-cli/src/ecs_taskdef.rs"]
#[allow(dead_code)]
pub mod ecs_taskdef;

pub mod known;
pub mod readers;
