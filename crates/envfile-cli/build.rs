//! Relinks the binary when its symbol order changes: `scripts/link-gcc` reads link-order.txt at
//! link time, which cargo would not otherwise know about.
fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
}
