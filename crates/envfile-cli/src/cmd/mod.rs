//! One module per subcommand: each has a clap `Args` struct and `async fn run(args, &GlobalArgs)`.

pub mod check;
pub mod completions;
pub mod exec;
pub mod get;
pub mod import;
pub mod man;
pub mod policy;
pub mod ready;
pub mod render;
pub mod run;
pub mod serve;
pub mod template;
