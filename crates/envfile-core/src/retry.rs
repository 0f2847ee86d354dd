//! Retry with jittered exponential backoff and a total deadline — the one place retries live,
//! so backends only classify errors (see [`crate::ErrorKind::is_retryable`]).

use crate::error::{Error, Result};
use rand::Rng;
use std::future::Future;
use std::time::{Duration, Instant};

/// How to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles after that.
    pub initial_backoff: Duration,
    /// Cap on one delay.
    pub max_backoff: Duration,
    /// No new attempt starts after this much time has passed since the first.
    pub total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            total: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before attempt `n` (n >= 1 is the first retry): full jitter over an
    /// exponentially growing window, so a fleet that failed together does not retry together.
    pub fn backoff(&self, n: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX));
        let cap = exp.min(self.max_backoff);
        let millis = cap.as_millis().max(1) as u64;
        Duration::from_millis(rand::thread_rng().gen_range(millis / 2..=millis))
    }

    /// Run `op` until it succeeds, fails with a non-retryable error, or attempts/time run out.
    /// The last error is returned; when the deadline cut retries short the message says so.
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if !e.is_retryable() || attempt >= self.max_attempts => return Err(e),
                Err(e) => {
                    let delay = self.backoff(attempt);
                    if start.elapsed() + delay > self.total {
                        let after = format!(
                            "{attempt} attempts in {:.1}s",
                            start.elapsed().as_secs_f64()
                        );
                        return Err(gave_up(&e, &after));
                    }
                    tracing::debug!(kind = %e.kind(), attempt, ?delay, "retrying after a retryable error");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// `e` with `(gave up after {after})` added to its message; the cause is dropped because the
/// message already says what the last attempt saw.
pub(crate) fn gave_up(e: &Error, after: &str) -> Error {
    debug_assert!(e.is_retryable());
    let mut out = Error::new(e.kind(), format!("{} (gave up after {after})", e.message()));
    if let Some(r) = e.reference() {
        out = out.with_reference(r);
    }
    if let Some(b) = e.backend() {
        out = out.with_backend(b);
    }
    if let Some(h) = e.hint() {
        out = out.with_hint(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn retries_retryable_then_succeeds() {
        let calls = AtomicU32::new(0);
        let out = RetryPolicy::default()
            .run(|| async {
                if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(Error::new(ErrorKind::Throttled, "slow down"))
                } else {
                    Ok(7)
                }
            })
            .await
            .unwrap();
        assert_eq!(out, 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_retry_permanent_errors() {
        let calls = AtomicU32::new(0);
        let err = RetryPolicy::default()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorKind::NotFound, "nope"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn stops_at_max_attempts() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let err = policy
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::new(ErrorKind::Unavailable, "down"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for n in 1..20 {
            let d = p.backoff(n);
            assert!(d <= p.max_backoff, "attempt {n}: {d:?}");
            assert!(d >= Duration::from_millis(50), "attempt {n}: {d:?}");
        }
    }
}
