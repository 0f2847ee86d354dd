//! Per-client limits, so one restricted client cannot degrade the others' service: how many
//! requests it may have waiting at once (on the cache, a backend or a change), how many of those
//! may be `?wait=` long-polls, and how fast its cache misses may reach a backend.
//!
//! Only requests that leave the ready path count: a memoized read is answered before the first
//! await and costs no counter. The admin and the broker's own uid have no limiter (they are the
//! operator); every grant has one, shared by its token and its socket peers, and replaced with
//! the grants on reload.

use crate::config::ClientLimits;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One client grant's counters.
#[derive(Debug)]
pub struct Limiter {
    limits: ClientLimits,
    requests: AtomicUsize,
    waits: AtomicUsize,
    misses: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What was over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    /// Too many requests in flight.
    Requests,
    /// Too many long-polls.
    Waits,
}

/// Held while a request (or a long-poll) is in flight; gives its slot back when dropped.
#[derive(Debug)]
pub struct Slot {
    limiter: Arc<Limiter>,
    wait: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let counter = if self.wait {
            &self.limiter.waits
        } else {
            &self.limiter.requests
        };
        counter.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Limiter {
    /// A limiter with full buckets.
    pub fn new(limits: ClientLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            requests: AtomicUsize::new(0),
            waits: AtomicUsize::new(0),
            misses: Mutex::new(Bucket {
                tokens: f64::from(limits.miss_burst),
                at: Instant::now(),
            }),
        })
    }

    /// Take a request slot, unless the client already holds `max_requests`.
    pub fn request(self: &Arc<Self>) -> Result<Slot, Over> {
        take(&self.requests, self.limits.max_requests)
            .then(|| Slot {
                limiter: self.clone(),
                wait: false,
            })
            .ok_or(Over::Requests)
    }

    /// Take a long-poll slot, unless the client already holds `max_waits`.
    pub fn wait(self: &Arc<Self>) -> Result<Slot, Over> {
        take(&self.waits, self.limits.max_waits)
            .then(|| Slot {
                limiter: self.clone(),
                wait: true,
            })
            .ok_or(Over::Waits)
    }

    /// Whether one more backend read for a cache miss is within the client's rate (a token
    /// bucket: `miss_burst` at once, refilled at `miss_rate` per second).
    pub fn miss(&self) -> bool {
        let mut b = self.misses.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * self.limits.miss_rate;
        b.tokens = (b.tokens + refill).min(f64::from(self.limits.miss_burst));
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn take(counter: &AtomicUsize, max: usize) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(max_requests: usize, max_waits: usize, burst: u32) -> Arc<Limiter> {
        Limiter::new(ClientLimits {
            max_requests,
            max_waits,
            miss_rate: 0.001,
            miss_burst: burst,
        })
    }

    #[test]
    fn slots_are_counted_and_given_back() {
        let l = limiter(2, 1, 1);
        let a = l.request().unwrap();
        let _b = l.request().unwrap();
        assert_eq!(l.request().unwrap_err(), Over::Requests);
        drop(a);
        let _c = l.request().unwrap();
        let w = l.wait().unwrap();
        assert_eq!(l.wait().unwrap_err(), Over::Waits);
        drop(w);
        assert!(l.wait().is_ok());
    }

    #[test]
    fn misses_drain_the_bucket() {
        let l = limiter(1, 1, 3);
        assert!(l.miss() && l.miss() && l.miss());
        assert!(!l.miss(), "a fourth miss within the burst's refill time");
    }
}
