//! One module per subcommand: each has a clap `Args` struct and `async fn run(args, &GlobalArgs)`.

pub mod check;
pub mod exec;
pub mod get;
pub mod import;
pub mod policy;
pub mod render;
pub mod run;
pub mod serve;
pub mod template;
