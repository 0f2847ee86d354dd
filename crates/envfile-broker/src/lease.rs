//! How a leased value (a Vault dynamic secret) bounds the cache: it is never served past the end
//! of its lease, not even as a stale value while the backend fails, and it is re-checked with
//! the backend well before the lease ends, so a credential the backend replaced ahead of expiry
//! reaches readers, sinks and long-polls in time.

use envfile_core::Fetched;
use std::time::{Duration, Instant};

/// When the lease of `f`, read at `at`, ends; `None` for a value without a lease.
pub(crate) fn end(f: &Fetched, at: Instant) -> Option<Instant> {
    f.lease.as_ref().map(|l| at + l.ttl)
}

/// Whether a value whose lease ends at `until` must no longer be served at `now`.
pub(crate) fn over(until: Option<Instant>, now: Instant) -> bool {
    until.is_some_and(|u| now >= u)
}

/// How long after `confirmed` a value stays fresh: the cache's `ttl`, and for a leased value at
/// most a third of what was left of its lease then (so the check happens while two thirds of it
/// are still there, and again more often as the end nears).
pub(crate) fn fresh_for(ttl: Duration, until: Option<Instant>, confirmed: Instant) -> Duration {
    match until {
        Some(u) => ttl.min(u.saturating_duration_since(confirmed) / 3),
        None => ttl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envfile_core::{Lease, SecretValue};

    #[test]
    fn a_lease_shortens_freshness_and_ends_serving() {
        let now = Instant::now();
        let mut f = Fetched::new(SecretValue::from_str_copy("v"), None);
        assert_eq!(end(&f, now), None);
        assert_eq!(
            fresh_for(Duration::from_secs(60), None, now),
            Duration::from_secs(60)
        );
        f.lease = Some(Lease {
            id: "database/creds/app/x".into(),
            ttl: Duration::from_secs(30),
            renewable: true,
        });
        let until = end(&f, now);
        assert_eq!(until, Some(now + Duration::from_secs(30)));
        assert_eq!(
            fresh_for(Duration::from_secs(60), until, now),
            Duration::from_secs(10)
        );
        assert_eq!(
            fresh_for(Duration::from_secs(5), until, now),
            Duration::from_secs(5)
        );
        assert!(!over(until, now + Duration::from_secs(29)));
        assert!(over(until, now + Duration::from_secs(30)));
        assert!(!over(None, now + Duration::from_secs(3600)));
    }
}
