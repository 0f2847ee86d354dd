//! The benchmark's batching comparison, in one process so only the backend calls differ: a
//! fresh AWS backend (new SDK config, new connection: cold) reads N secrets with one `get_many`
//! (BatchGetSecretValue, 20 secrets a call), then another fresh backend reads them one
//! GetSecretValue at a time, each waiting for the one before — what a client without batching
//! does. `scripts/bench` prints the best of RUNS for each and their ratio.
//!
//! Usage: `batch_vs_sequential CONFIG RUNS SECRET_ID…` where CONFIG has an aws backend named
//! `aws` (batching on). Prints `BATCHED_MS SEQUENTIAL_MS`.

use envfile_aws::AwsBackend;
use envfile_core::{Backend, Locator};
use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, runs, ids @ ..] = args.as_slice() else {
        eprintln!("usage: batch_vs_sequential CONFIG RUNS SECRET_ID…");
        std::process::exit(2);
    };
    let runs: usize = runs.parse().expect("RUNS is a number");
    let cfg = envfile_core::config::load(Some(Path::new(config)), None).expect("config");
    let locs: Vec<Locator> = ids.iter().map(|id| Locator::new(id.as_str())).collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (mut batched, mut sequential) = (Duration::MAX, Duration::MAX);
    rt.block_on(async {
        for _ in 0..runs {
            let started = Instant::now();
            let b = AwsBackend::from_config("aws", &cfg).await.expect("backend");
            for r in b.get_many(&locs).await {
                r.expect("batched read");
            }
            batched = batched.min(started.elapsed());

            let started = Instant::now();
            let b = AwsBackend::from_config("aws", &cfg).await.expect("backend");
            for l in &locs {
                b.get(l).await.expect("single read");
            }
            sequential = sequential.min(started.elapsed());
        }
    });
    println!(
        "{:.1} {:.1}",
        batched.as_secs_f64() * 1e3,
        sequential.as_secs_f64() * 1e3
    );
}
