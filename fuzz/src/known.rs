//! Findings that are fixed on another branch, not here. While one is open, the targets step
//! around exactly the inputs that reach it, so a long run can look for the next bug; each
//! filter names its finding under fuzz/findings/ and goes when the fix is merged.

/// The dotenv reader (`crates/envfile-cli/src/dotenv_read.rs`, envfiles branch) reads the
/// renderer's `"…\\"` (a value ending in `\`) as an escaped quote and finds no closing quote;
/// python-dotenv reads `\`. fuzz/findings/dotenv_read/, fuzz/findings/render/.
pub fn dotenv_value_ends_in_backslash(value: &[u8]) -> bool {
    value.ends_with(b"\\")
}

/// `parse_duration` (`crates/envfile-broker/src/config.rs`, broker-harden branch, which moves
/// it to envfile-core as a checked parser) panics in `Duration::from_secs_f64` on a number of
/// seconds above `u64::MAX` (`99999999999999999999d`). fuzz/findings/duration/.
pub fn duration_overflows(s: &str) -> bool {
    let t = s.trim();
    let digits = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    // Anything that could reach 1.8e19 seconds (with the largest unit, days) is stepped round.
    t[..digits]
        .parse::<f64>()
        .is_ok_and(|n| n * 86400.0 >= 1.8e19)
}

/// The template evaluator (`crates/envfile-core/src/template/eval.rs`, templates branch, which
/// adds limits) allocates a list as long as the integer `range` runs over: `{{ range
/// 99999999999 }}` asks for terabytes and aborts. fuzz/findings/template/. Stepped round: a
/// template holding `range` and a number of 7 digits or more.
pub fn template_ranges_over_huge_int(src: &str) -> bool {
    let mut run = 0;
    let long_number = src.bytes().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= 7
    });
    src.contains("range") && long_number
}
