//! Config load + validate time as the number of variables grows (issue 19: it must be linear,
//! and 5,000 variables must load in ≤ 50 ms in a release build). Not a test: it prints figures.
//!
//!   cargo bench -p envfile-core --bench config_scale
//!
//! Each size is loaded `RUNS` times and the median printed, with the time per variable, so a
//! quadratic cost shows as a per-variable time that grows with N.

use std::time::{Duration, Instant};

const RUNS: usize = 7;
const TARGET_5000: Duration = Duration::from_millis(50);

/// `n` variables over env files of 100 variables each, half references and half literals, plus
/// a `[secrets]` rule per env file: the shapes `validate` looks at.
fn config_text(n: usize) -> String {
    let mut s = String::from(
        "[default.backends.aws]\nkind = \"aws\"\nregion = \"us-east-1\"\n\
         [default.backends.file]\nkind = \"file\"\npath = \"secrets.toml\"\n",
    );
    for i in 0..n {
        if i % 100 == 0 {
            s.push_str(&format!("[default.envfiles.app{}]\n", i / 100));
            s.push_str(&format!("required = [\"VAR_{i}\"]\n"));
            s.push_str("[default.envfiles.app");
            s.push_str(&(i / 100).to_string());
            s.push_str(".vars]\n");
        }
        if i % 2 == 0 {
            s.push_str(&format!("VAR_{i} = \"aws:app/secret-{i}#password\"\n"));
        } else {
            s.push_str(&format!("VAR_{i} = {{ value = \"literal-{i}\" }}\n"));
        }
    }
    for e in 0..n.div_ceil(100) {
        s.push_str(&format!(
            "[default.secrets.\"aws:app/secret-{}\"]\nrequired_keys = [\"password\"]\n",
            e * 100
        ));
    }
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    println!("config load + validate (median of {RUNS} runs)");
    println!("{:>6}  {:>10}  {:>12}", "vars", "time", "per var");
    let mut at_5000 = None;
    // `SIZES=2000` picks sizes (e.g. to profile one under `perf record`).
    let sizes: Vec<usize> = std::env::var("SIZES")
        .ok()
        .map(|s| {
            s.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![100, 1_000, 2_000, 5_000, 10_000]);
    for n in sizes {
        let text = config_text(n);
        let times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let cfg = envfile_core::config::load_str(&text, Some("default"))
                    .expect("the generated config is valid");
                let el = t.elapsed();
                let vars: usize = cfg.config.envfiles.values().map(|e| e.vars.len()).sum();
                assert_eq!(vars, n);
                el
            })
            .collect();
        let m = median(times);
        if n == 5_000 {
            at_5000 = Some(m);
        }
        println!(
            "{n:>6}  {:>8.2}ms  {:>10.2}µs",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() * 1e6 / n as f64
        );
    }
    if let Some(m) = at_5000 {
        let verdict = if m <= TARGET_5000 { "met" } else { "NOT met" };
        println!(
            "target: 5,000 variables in <= {} ms: {verdict} ({:.2} ms)",
            TARGET_5000.as_millis(),
            m.as_secs_f64() * 1e3
        );
    }
}
