//! Building an output without leaving copies of secrets behind.
//!
//! Every renderer writes through a [`Sink`] twice: once into a counter to learn the exact size,
//! then into a `String` allocated with exactly that capacity. The buffer never grows, so no
//! reallocation leaves a stale, un-zeroized copy of a secret in freed memory.

use crate::secret::SecretString;
use base64::Engine as _;
use zeroize::Zeroize;

/// Where a renderer writes its output.
pub(super) trait Sink {
    /// Append text.
    fn text(&mut self, s: &str);

    /// Append the standard, padded base64 encoding of `bytes`.
    fn base64(&mut self, bytes: &[u8]);
}

/// Counts bytes instead of writing them.
struct Count(usize);

impl Sink for Count {
    fn text(&mut self, s: &str) {
        self.0 += s.len();
    }
    fn base64(&mut self, bytes: &[u8]) {
        self.0 += base64::encoded_len(bytes.len(), true).unwrap_or(usize::MAX);
    }
}

impl Sink for String {
    fn text(&mut self, s: &str) {
        self.push_str(s);
    }
    fn base64(&mut self, bytes: &[u8]) {
        // Encode through a small stack buffer we wipe afterwards, instead of base64's own chunk
        // buffer, which would leave the tail of the encoded secret on the stack.
        const IN: usize = 768;
        let mut buf = [0u8; IN / 3 * 4];
        for chunk in bytes.chunks(IN) {
            let n = base64::engine::general_purpose::STANDARD
                .encode_slice(chunk, &mut buf)
                .unwrap_or(0);
            // base64 output is ASCII, so this cannot fail.
            if let Ok(s) = std::str::from_utf8(&buf[..n]) {
                self.push_str(s);
            }
        }
        buf.zeroize();
    }
}

/// Run `write` once to size the output and once to fill it.
pub(super) fn build(write: impl Fn(&mut dyn Sink)) -> SecretString {
    let mut count = Count(0);
    write(&mut count);
    let mut out = SecretString::new(String::with_capacity(count.0));
    write(out.expose_mut());
    debug_assert_eq!(
        out.expose().len(),
        count.0,
        "size pass and write pass disagree"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_pass_matches_the_write_pass_so_the_buffer_never_grows() {
        let long = "x".repeat(5000);
        let bytes: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
        let mut out = build(|s| {
            s.text("a=");
            s.text(&long);
            s.text("é");
            s.base64(&bytes);
            s.base64(b"");
            s.base64(b"ab");
        });
        let len = out.expose().len();
        assert_eq!(out.expose_mut().capacity(), len);
        let expected = format!(
            "a={long}é{}YWI=",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        assert!(out.expose() == expected);
    }
}
