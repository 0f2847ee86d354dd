//! Runs the GCP Secret Manager emulator for manual use:
//!
//! ```text
//! cargo run -p envfile-tests --bin gcp-secretmanager-emulator -- [ADDR]   # default 127.0.0.1:8085
//! ```
//!
//! then point a `gcp` backend at it with `endpoint = "http://ADDR"` and `credentials = "anonymous"`.
//! State lives in memory and is gone when it stops (Ctrl-C).

use envfile_tests::gcp_emulator::SecretManagerEmulator;

fn main() -> std::process::ExitCode {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8085".into());
    if arg == "-h" || arg == "--help" {
        println!("usage: gcp-secretmanager-emulator [ADDR]   (default 127.0.0.1:8085)");
        return std::process::ExitCode::SUCCESS;
    }
    let addr = match arg.parse() {
        Ok(a) => a,
        Err(_) => {
            eprintln!("error: `{arg}` is not an address like 127.0.0.1:8085");
            return std::process::ExitCode::from(2);
        }
    };
    let handle = match SecretManagerEmulator::start_on(addr) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    println!("Secret Manager emulator listening on {}", handle.base_url);
    println!(
        "backend config: endpoint = \"{}\", credentials = \"anonymous\"",
        handle.base_url
    );
    loop {
        std::thread::park();
    }
}
