//! Limits that keep a template from taking the process down (issue 14, item 9): a hostile or
//! mistaken template must fail with a clear error naming where, never abort on an allocation,
//! overflow the stack or spin forever. Each limit is far above what real agent templates use.

/// Most iterations one `range` (over an integer or `loop`) may make.
pub const MAX_RANGE: i64 = 1_000_000;

/// Largest output (bytes) a render may produce, and largest string a function may build.
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// Deepest nesting of actions (`if`/`with`/`range`/`define` bodies) and parentheses the parser
/// accepts; the evaluator recurses at most this deep per template, plus template calls.
pub const MAX_DEPTH: usize = 100;

/// Deepest chain of `{{template}}` calls (Go's own limit is 100,000, far beyond a thread's stack).
pub const MAX_CALL_DEPTH: usize = 100;

/// Most evaluation steps (actions, commands and loop iterations) one render may take.
pub const MAX_STEPS: u64 = 5_000_000;

/// Steps one call of a costly function counts for. The step limit bounds how long a template
/// evaluates, but one step of a key generation (an RSA-4096 key takes about a second) or of a
/// password hash (scrypt, bcrypt) costs a million ordinary ones: `{{ range 1000 }}{{
/// sprig_genPrivateKey "rsa" }}{{ end }}` would hold a sink for a quarter of an hour. Counted
/// this way, one render generates at most 100 keys, derives 200 passwords or makes 500 bcrypt
/// hashes (each about a minute of CPU at worst), far above what a real template does (a CA and a
/// few certificates).
pub fn call_cost(name: &str) -> u64 {
    match name {
        "sprig_genPrivateKey"
        | "sprig_genCA"
        | "sprig_genSelfSignedCert"
        | "sprig_genSignedCert" => MAX_STEPS / 100,
        "sprig_derivePassword" => MAX_STEPS / 200,
        "sprig_bcrypt" | "sprig_htpasswd" => MAX_STEPS / 500,
        _ => 0,
    }
}
