//! A ceiling on one backend's calls per second (`broker.max_calls_per_second`), shared by
//! every caller in the broker: refresh rounds wait for it or defer, and cached values within
//! `max_stale` are served stale rather than read again while it is reached (issue 19).
//!
//! A token bucket that may go into debt: a batch probe learns how many calls it made only
//! after making them (a ListSecrets listing pages through the account), so it is charged
//! afterwards, and the debt delays what comes next. A first read of a secret nobody has is
//! charged but never refused: it has nothing stale to serve instead (the per-client miss
//! rate is what keeps a hostile client from spending the budget).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One backend's ceiling.
#[derive(Debug)]
pub struct CallCeiling {
    rate: f64,
    burst: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl CallCeiling {
    /// `rate` calls per second (more than 0), with a burst of one second's calls (at least 1).
    pub fn new(rate: f64) -> Self {
        let burst = rate.max(1.0);
        Self {
            rate,
            burst,
            bucket: Mutex::new((burst, Instant::now())),
        }
    }

    /// The configured rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn refilled(&self) -> std::sync::MutexGuard<'_, (f64, Instant)> {
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let add = now.saturating_duration_since(b.1).as_secs_f64() * self.rate;
        b.0 = (b.0 + add).min(self.burst);
        b.1 = now;
        b
    }

    /// Take one call if the bucket has one.
    pub fn try_take(&self) -> bool {
        let mut b = self.refilled();
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            true
        } else {
            false
        }
    }

    /// Charge `n` calls already made (may go into debt).
    pub fn charge(&self, n: usize) {
        if n > 0 {
            let mut b = self.refilled();
            // Bounded debt: a huge listing must not silence the backend for hours.
            b.0 = (b.0 - n as f64).max(-self.burst * 60.0);
        }
    }

    /// Settle a batch that took `taken` calls up front and made `made`: the rest is charged
    /// (a ListSecrets listing of several pages), or what was not spent goes back (a Vault
    /// probe of a dynamic secret, answered from the lease keeper without a call).
    pub fn settle(&self, taken: usize, made: usize) {
        if made >= taken {
            self.charge(made - taken);
        } else {
            let mut b = self.refilled();
            b.0 = (b.0 + (taken - made) as f64).min(self.burst);
        }
    }

    /// Calls left right now (below 0: in debt), for tests and figures.
    pub fn level(&self) -> f64 {
        self.refilled().0
    }

    /// Whether the ceiling is reached right now (no whole call left).
    pub fn reached(&self) -> bool {
        self.refilled().0 < 1.0
    }

    /// How long until one call is available.
    pub fn wait(&self) -> Duration {
        let b = self.refilled();
        if b.0 >= 1.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - b.0) / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_takes_the_bucket_then_waits_for_the_rate() {
        let c = CallCeiling::new(5.0);
        let taken = (0..20).filter(|_| c.try_take()).count();
        assert_eq!(taken, 5, "a burst of one second's calls");
        assert!(c.reached());
        assert!(c.wait() > Duration::ZERO && c.wait() <= Duration::from_millis(200));
        c.charge(10);
        assert!(
            c.wait() >= Duration::from_secs(2),
            "debt delays the next call"
        );
    }

    #[test]
    fn settling_charges_the_rest_or_gives_back_what_was_not_spent() {
        let c = CallCeiling::new(0.001);
        assert!(c.try_take());
        c.settle(1, 0);
        assert!(c.level() > 0.99, "{}", c.level());
        assert!(c.try_take());
        c.settle(1, 4);
        assert!(c.level() < -2.99 && c.level() > -3.01, "{}", c.level());
        c.settle(0, 0);
        assert!(c.level() < -2.99, "{}", c.level());
    }

    #[test]
    fn a_slow_rate_still_allows_one_call() {
        let c = CallCeiling::new(0.5);
        assert!(c.try_take());
        assert!(!c.try_take());
    }
}
