//! S3's request-rate limits per partitioned prefix, as a lock-free GCRA per (prefix, read or
//! write) budget.
//!
//! Invariant: within any window of `burst_s` seconds a prefix admits at most
//! `rate × burst_s` requests of a kind beyond its steady rate; a request over budget is
//! refused (503 SlowDown) without consuming budget. Each budget is one `AtomicU64` (the
//! theoretical arrival time, in ns since the limiter started) updated by compare-and-swap, so
//! admission takes no lock. Budgets live in a lock-free map keyed by prefix.
//!
//! The budgets read the real clock, as S3's do, so how many requests a run gets refused
//! depends on how fast it sends. Two runs see exactly the same number of SlowDowns only
//! while no budget refills during the run (a burst against a slow refill); a test that needs
//! exact counts chooses such a rate rather than a virtual clock, so that it tests this limiter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_skiplist::SkipMap;

use crate::profile::RateLimit;

/// One GCRA budget.
#[derive(Debug)]
struct Budget {
    /// Theoretical arrival time, ns since `Limiter::epoch`.
    tat: AtomicU64,
    /// When this prefix was first seen, ns since epoch (for the ramp).
    born: u64,
}

/// The limiter of one server. Replaced (with fresh budgets) when the profile changes and at
/// every reset ([`crate::reset`]).
#[derive(Debug)]
pub struct Limiter {
    epoch: Instant,
    budgets: SkipMap<String, Arc<Budget>>,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            budgets: SkipMap::new(),
        }
    }
}

/// The partitioned prefix of a key: the bucket and the first `depth` `/`-separated segments.
pub fn partition(bucket: &str, key: &str, depth: usize) -> String {
    let mut end = 0;
    let mut seen = 0;
    if depth > 0 {
        for (i, b) in key.bytes().enumerate() {
            if b == b'/' {
                seen += 1;
                end = i + 1;
                if seen == depth {
                    break;
                }
            }
        }
    }
    let mut s = String::with_capacity(bucket.len() + end + 1);
    s.push_str(bucket);
    s.push('/');
    s.push_str(&key[..end]);
    s
}

impl Limiter {
    /// Admits or refuses one request of `kind` on `prefix` now.
    pub fn admit(&self, limit: &RateLimit, prefix: &str, write: bool) -> bool {
        self.admit_at(limit, prefix, write, self.epoch.elapsed().as_nanos() as u64)
    }

    fn admit_at(&self, limit: &RateLimit, prefix: &str, write: bool, now: u64) -> bool {
        let mut key = String::with_capacity(prefix.len() + 2);
        key.push(if write { 'w' } else { 'r' });
        key.push(':');
        key.push_str(prefix);
        let budget = match self.budgets.get(&key) {
            Some(e) => e.value().clone(),
            None => self
                .budgets
                .get_or_insert(
                    key,
                    Arc::new(Budget {
                        tat: AtomicU64::new(now),
                        born: now,
                    }),
                )
                .value()
                .clone(),
        };
        let mut rate = if write {
            limit.write_per_s
        } else {
            limit.read_per_s
        };
        if let Some(ramp) = &limit.ramp {
            // S3 scales a new prefix gradually: the budget doubles every `double_every_s`.
            let age_s = (now.saturating_sub(budget.born)) as f64 / 1e9;
            let factor = ramp.start_fraction * 2f64.powf(age_s / ramp.double_every_s);
            rate *= factor.min(1.0);
        }
        let interval = (1e9 / rate) as u64;
        // Tolerance: a full burst of `rate × burst_s` requests may arrive at once.
        let tolerance = ((limit.burst_s * 1e9) as u64).saturating_sub(interval);
        let mut tat = budget.tat.load(Ordering::Relaxed);
        loop {
            let start = tat.max(now);
            if start - now > tolerance {
                return false;
            }
            match budget.tat.compare_exchange_weak(
                tat,
                start + interval,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => tat = actual,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Ramp;

    fn limit(rps: f64) -> RateLimit {
        RateLimit {
            read_per_s: rps,
            write_per_s: rps / 2.0,
            prefix_depth: 1,
            burst_s: 1.0,
            ramp: None,
        }
    }

    #[test]
    fn prefixes() {
        assert_eq!(partition("b", "a/b/c", 1), "b/a/");
        assert_eq!(partition("b", "a/b/c", 2), "b/a/b/");
        assert_eq!(partition("b", "a/b/c", 0), "b/");
        assert_eq!(partition("b", "flat", 1), "b/");
        assert_eq!(partition("b", "a/b", 5), "b/a/");
    }

    #[test]
    fn a_burst_gets_the_budget_then_refusals() {
        let l = Limiter::default();
        let lim = limit(100.0);
        let admitted = (0..250)
            .filter(|_| l.admit_at(&lim, "b/x/", false, 0))
            .count();
        assert_eq!(admitted, 100);
        // Writes have their own, smaller budget; other prefixes are independent.
        let w = (0..250)
            .filter(|_| l.admit_at(&lim, "b/x/", true, 0))
            .count();
        assert_eq!(w, 50);
        assert!(l.admit_at(&lim, "b/y/", false, 0));
        // One second later the full budget is back.
        let later = (0..250)
            .filter(|_| l.admit_at(&lim, "b/x/", false, 1_000_000_000))
            .count();
        assert_eq!(later, 100);
    }

    #[test]
    fn steady_rate_is_admitted() {
        let l = Limiter::default();
        let lim = limit(100.0);
        // 1,000 requests evenly spaced at exactly the rate: all admitted.
        assert!((0..1000u64).all(|i| l.admit_at(&lim, "p", false, i * 10_000_000)));
    }

    #[test]
    fn ramp_starts_low_and_grows() {
        let l = Limiter::default();
        let mut lim = limit(1000.0);
        lim.ramp = Some(Ramp {
            start_fraction: 0.1,
            double_every_s: 10.0,
        });
        let first = (0..2000)
            .filter(|_| l.admit_at(&lim, "p", false, 0))
            .count();
        assert_eq!(first, 100);
        let later = (0..2000)
            .filter(|_| l.admit_at(&lim, "p", false, 40_000_000_000))
            .count();
        assert!(later > 500, "{later}");
    }
}
