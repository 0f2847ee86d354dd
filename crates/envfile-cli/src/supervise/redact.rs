//! `--redact-output`: mask secret values in the child's stdout and stderr as they stream by.
//!
//! Every value (and its base64 form) of at least [`MIN_LEN`] bytes is replaced by [`MASK`].
//! Shorter values are left alone: masking `on` or `1` would mangle every line.
//!
//! Latency: bytes are written as soon as they are read, except a tail that could still become
//! a secret (a prefix of one). That tail waits for the next read, or [`HOLD_TIMEOUT`] at most,
//! then goes out as is — so a secret written in two pieces more than that apart is not masked.
//! Binary output passes through unchanged apart from masks.

use base64::Engine;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What a secret is replaced with.
pub const MASK: &[u8] = b"[redacted]";
/// Values shorter than this are not masked.
pub const MIN_LEN: usize = 4;
/// How long a possible start of a secret is held back waiting for the rest.
pub const HOLD_TIMEOUT: Duration = Duration::from_millis(100);

/// The byte strings to mask.
#[derive(Default)]
pub struct Patterns {
    /// Longest first, so the longest match wins where two start at the same byte.
    list: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Patterns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patterns")
            .field("count", &self.list.len())
            .finish_non_exhaustive()
    }
}

impl Patterns {
    /// Patterns for `values` and their base64 forms (standard and URL-safe, without padding so
    /// a value in the middle of a longer base64 text still matches when aligned).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut list: Vec<Vec<u8>> = Vec::new();
        for v in values {
            if v.len() < MIN_LEN {
                continue;
            }
            list.push(v.to_vec());
            for engine in [
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                list.push(engine.encode(v).into_bytes());
            }
        }
        list.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        list.dedup();
        Self { list }
    }

    /// These patterns plus `other`'s.
    pub fn union(&self, other: &Patterns) -> Patterns {
        let mut list: Vec<Vec<u8>> = self.list.iter().chain(&other.list).cloned().collect();
        list.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        list.dedup();
        Patterns { list }
    }

    fn full_match(&self, at: &[u8]) -> Option<usize> {
        self.list
            .iter()
            .find(|p| at.starts_with(p))
            .map(|p| p.len())
    }

    /// Whether `tail` (which runs to the end of the data seen so far) is a proper prefix of a
    /// pattern, so more data could complete it.
    fn could_grow(&self, tail: &[u8]) -> bool {
        self.list
            .iter()
            .any(|p| p.len() > tail.len() && p.starts_with(tail))
    }
}

/// Patterns shared between the supervisor (which adds values when secrets change) and the
/// output pumps.
pub type Shared = Arc<RwLock<Arc<Patterns>>>;

/// The streaming masker for one output stream: holds back only a possible start of a secret.
#[derive(Default)]
pub struct Masker {
    held: Vec<u8>,
}

impl Masker {
    /// Feed `data`; append what can be written now to `out`.
    pub fn feed(&mut self, p: &Patterns, data: &[u8], out: &mut Vec<u8>) {
        self.held.extend_from_slice(data);
        let buf = std::mem::take(&mut self.held);
        let keep_from = scan(p, &buf, out, false);
        self.held = buf[keep_from..].to_vec();
    }

    /// No more data is coming soon: write everything, masking complete secrets only.
    pub fn flush(&mut self, p: &Patterns, out: &mut Vec<u8>) {
        let buf = std::mem::take(&mut self.held);
        scan(p, &buf, out, true);
    }

    /// Whether bytes are held back.
    pub fn holding(&self) -> bool {
        !self.held.is_empty()
    }
}

/// Copy `buf` to `out` with secrets masked. Unless `last`, stop at the first byte from which the
/// rest could still grow into a secret; returns where that is (`buf.len()` when nothing is held).
fn scan(p: &Patterns, buf: &[u8], out: &mut Vec<u8>, last: bool) -> usize {
    let mut i = 0;
    while i < buf.len() {
        // A longer secret may still be arriving even where a shorter one already matches.
        if !last && p.could_grow(&buf[i..]) {
            return i;
        }
        match p.full_match(&buf[i..]) {
            Some(n) => {
                out.extend_from_slice(MASK);
                i += n;
            }
            None => {
                out.push(buf[i]);
                i += 1;
            }
        }
    }
    buf.len()
}

/// Copy `from` to `to` until EOF, masking; every read is written and flushed at once.
pub async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    patterns: Shared,
) {
    let mut masker = Masker::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::with_capacity(buf.len() + 64);
    loop {
        let read = if masker.holding() {
            // None: nothing more came in time, so the held bytes go out as they are.
            tokio::time::timeout(HOLD_TIMEOUT, from.read(&mut buf))
                .await
                .ok()
        } else {
            Some(from.read(&mut buf).await)
        };
        let p = current(&patterns);
        out.clear();
        let done = match read {
            None => {
                masker.flush(&p, &mut out);
                false
            }
            Some(Ok(0)) | Some(Err(_)) => {
                masker.flush(&p, &mut out);
                true
            }
            Some(Ok(n)) => {
                masker.feed(&p, &buf[..n], &mut out);
                false
            }
        };
        if !out.is_empty() && (to.write_all(&out).await.is_err() || to.flush().await.is_err()) {
            // Our own stdout is gone: keep draining so the child does not block on a full pipe.
            tracing::debug!("output closed; discarding the child's output");
        }
        if done {
            return;
        }
    }
}

fn current(shared: &Shared) -> Arc<Patterns> {
    match shared.read() {
        Ok(g) => g.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_all(p: &Patterns, chunks: &[&[u8]]) -> Vec<u8> {
        let mut m = Masker::default();
        let mut out = Vec::new();
        for c in chunks {
            m.feed(p, c, &mut out);
        }
        m.flush(p, &mut out);
        out
    }

    #[test]
    fn masks_values_and_base64_and_skips_short_ones() {
        let p = Patterns::new([b"hunter22".as_slice(), b"abc".as_slice()]);
        let out = mask_all(&p, &[b"pw=hunter22 b64=aHVudGVyMjI= short=abc\n"]);
        assert_eq!(out, b"pw=[redacted] b64=[redacted]= short=abc\n".to_vec());
    }

    #[test]
    fn a_secret_split_across_reads_is_masked() {
        let p = Patterns::new([b"hunter22".as_slice()]);
        for cut in 1..8 {
            let line = b"x hunter22 y\n";
            let (a, b) = line.split_at(2 + cut);
            assert_eq!(
                mask_all(&p, &[a, b]),
                b"x [redacted] y\n".to_vec(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn only_a_possible_secret_start_is_held() {
        let p = Patterns::new([b"hunter22".as_slice()]);
        let mut m = Masker::default();
        let mut out = Vec::new();
        m.feed(&p, b"line one\n", &mut out);
        assert_eq!(out, b"line one\n".to_vec());
        assert!(!m.holding());
        out.clear();
        m.feed(&p, b"tail hun", &mut out);
        assert_eq!(out, b"tail ".to_vec());
        assert!(m.holding());
        out.clear();
        m.flush(&p, &mut out);
        assert_eq!(out, b"hun".to_vec());
    }

    #[test]
    fn binary_passes_through() {
        let p = Patterns::new([b"\x00\xffsecret".as_slice()]);
        let data: Vec<u8> = (0..=255u8)
            .chain([0, 0xff])
            .chain(*b"secret")
            .chain([7])
            .collect();
        let out = mask_all(&p, &[&data[..100], &data[100..]]);
        let mut want: Vec<u8> = (0..=255u8).collect();
        want.extend_from_slice(MASK);
        want.push(7);
        assert_eq!(out, want);
    }

    #[test]
    fn longest_match_wins() {
        let p = Patterns::new([b"abcd".as_slice(), b"abcdefgh".as_slice()]);
        assert_eq!(
            mask_all(&p, &[b"abcdefgh abcd"]),
            b"[redacted] [redacted]".to_vec()
        );
        assert_eq!(mask_all(&p, &[b"abcde"]), b"[redacted]e".to_vec());
    }

    #[test]
    fn debug_shows_no_pattern() {
        let p = Patterns::new([b"hunter22".as_slice()]);
        let shown = format!("{p:?}");
        assert!(!shown.contains("hunter22") && !shown.contains("aHVudGVy"));
    }
}
