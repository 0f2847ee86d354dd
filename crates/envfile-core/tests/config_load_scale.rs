//! Config loading is linear in the number of variables (issue 19). Locating each variable with
//! `Figment::find_value` copied the whole merged config per variable: quadratic, 1.9 s at 5,000
//! variables. Time is too noisy on a shared machine to assert on, but the bytes allocated are
//! deterministic and grew the same way, so this counts them (a counting global allocator, which
//! is why this test has a binary of its own). The timing benchmark is
//! `cargo bench -p envfile-core --bench config_scale`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract is the same as `System`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `n` variables in one env file: half references, half literals (both are looked at).
fn config_text(n: usize) -> String {
    let mut s =
        String::from("[default.backends.aws]\nkind = \"aws\"\n[default.envfiles.app.vars]\n");
    for i in 0..n {
        if i % 2 == 0 {
            s.push_str(&format!("VAR_{i} = \"aws:app/s{i}#k\"\n"));
        } else {
            s.push_str(&format!("VAR_{i} = {{ value = \"v{i}\" }}\n"));
        }
    }
    s
}

fn bytes_to_load(n: usize) -> u64 {
    let text = config_text(n);
    let before = ALLOCATED.load(Ordering::Relaxed);
    let cfg = envfile_core::config::load_str(&text, Some("default")).expect("valid config");
    let after = ALLOCATED.load(Ordering::Relaxed);
    assert_eq!(cfg.config.envfiles["app"].vars.len(), n);
    after - before
}

#[test]
fn loading_allocates_in_proportion_to_the_number_of_variables() {
    let small = bytes_to_load(250);
    let large = bytes_to_load(2_000);
    let ratio = large as f64 / small as f64;
    // 8x the variables: linear allocates ~8x (a little more for deeper maps); the quadratic
    // version allocated ~55x.
    assert!(
        ratio < 12.0,
        "8x the variables allocated {ratio:.1}x the bytes ({small} -> {large}): not linear"
    );
}

#[test]
fn a_bad_variable_among_thousands_is_still_named() {
    let mut text = config_text(3_000);
    text.push_str("BAD = { value = \"x\", vlaue = \"y\" }\nALSO_BAD = \"nope:x\"\n");
    let e = envfile_core::config::load_str(&text, Some("default"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 problems in config"), "{e}");
    assert!(
        e.contains("config: default.envfiles.app.vars.BAD.vlaue: unknown key"),
        "{e}"
    );
    assert!(
        e.contains("config: default.envfiles.app.vars.ALSO_BAD:"),
        "{e}"
    );
}
