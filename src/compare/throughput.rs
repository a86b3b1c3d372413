//! The throughput verdict of one point: the median change, a conservative interval from the
//! repetitions' ranges, and improved / regressed / unchanged against the threshold.
//!
//! The rule (also in the module docs of [`super`]): a point changed only if the interval
//! `[new.min / base.max − 1, new.max / base.min − 1]` excludes zero (the two min–max ranges do
//! not overlap) *and* the median change is beyond the threshold.

use crate::metrics::Spread;

/// What happened to a point's throughput.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Slower beyond the threshold and outside the run-to-run range.
    Regressed,
    /// Faster beyond the threshold and outside the run-to-run range.
    Improved,
    /// Within the threshold, or within the run-to-run range.
    Unchanged,
}

impl Verdict {
    /// "regressed", "improved" or "unchanged".
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
        }
    }
}

/// A range of relative changes, as fractions (`-0.2` = 20 % slower).
///
/// `high` is `+∞` when base's slowest repetition completed nothing (a change from zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// The most pessimistic change: new's slowest repetition against base's fastest.
    pub low: f64,
    /// The most optimistic change: new's fastest repetition against base's slowest.
    pub high: f64,
}

impl Interval {
    /// Whether zero lies outside the interval: the ranges do not overlap.
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// The throughput (objects/s) of one point in both runs, and what changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThroughputChange {
    /// Base's median, min and max over repetitions.
    pub base: Spread,
    /// New's median, min and max over repetitions.
    pub new: Spread,
    /// `new.median / base.median − 1` (`-0.2` = 20 % slower); `+∞` from a zero base.
    pub change: f64,
    /// The conservative interval of the change.
    pub interval: Interval,
    /// The verdict against the threshold.
    pub verdict: Verdict,
}

impl ThroughputChange {
    /// Judges `new` against `base` with `threshold` (a fraction, `0.10` = 10 %).
    pub fn new(base: Spread, new: Spread, threshold: f64) -> ThroughputChange {
        // A hand-edited file could hold min > median; the range must still contain the median.
        let (b_lo, b_hi) = (base.min.min(base.median), base.max.max(base.median));
        let (n_lo, n_hi) = (new.min.min(new.median), new.max.max(new.median));
        let change = ratio_change(new.median, base.median);
        let interval = Interval {
            low: ratio_change(n_lo, b_hi),
            high: ratio_change(n_hi, b_lo),
        };
        let verdict = if interval.high < 0.0 && change < -threshold {
            Verdict::Regressed
        } else if interval.low > 0.0 && change > threshold {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
        ThroughputChange {
            base,
            new,
            change,
            interval,
            verdict,
        }
    }
}

/// `a / b − 1`, with a zero base giving 0 (nothing to nothing) or `+∞` (something from nothing).
fn ratio_change(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b - 1.0
    } else if a > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(median: f64, min: f64, max: f64) -> Spread {
        Spread { median, min, max }
    }

    #[test]
    fn interval_is_new_range_over_base_range() {
        let c = ThroughputChange::new(
            spread(1000.0, 950.0, 1050.0),
            spread(700.0, 680.0, 720.0),
            0.10,
        );
        assert!((c.change - -0.3).abs() < 1e-12);
        assert!((c.interval.low - (680.0 / 1050.0 - 1.0)).abs() < 1e-12);
        assert!((c.interval.high - (720.0 / 950.0 - 1.0)).abs() < 1e-12);
        assert_eq!(c.verdict, Verdict::Regressed);
    }

    #[test]
    fn overlapping_ranges_are_noise_whatever_the_median() {
        // Median −20 %, but new's fastest repetition beats base's slowest.
        let c = ThroughputChange::new(
            spread(1000.0, 700.0, 1100.0),
            spread(800.0, 650.0, 900.0),
            0.10,
        );
        assert!(!c.interval.excludes_zero());
        assert_eq!(c.verdict, Verdict::Unchanged);
    }

    #[test]
    fn separate_ranges_within_the_threshold_are_unchanged() {
        let c = ThroughputChange::new(
            spread(1000.0, 995.0, 1005.0),
            spread(950.0, 948.0, 952.0),
            0.10,
        );
        assert!(c.interval.excludes_zero());
        assert_eq!(c.verdict, Verdict::Unchanged);
        assert_eq!(
            ThroughputChange::new(c.base, c.new, 0.04).verdict,
            Verdict::Regressed
        );
    }

    #[test]
    fn improvements_mirror_regressions() {
        let c = ThroughputChange::new(
            spread(700.0, 680.0, 720.0),
            spread(1000.0, 950.0, 1050.0),
            0.10,
        );
        assert_eq!(c.verdict, Verdict::Improved);
        assert!(c.interval.low > 0.0);
    }

    #[test]
    fn zero_throughput_does_not_divide_by_zero() {
        let zero = spread(0.0, 0.0, 0.0);
        let some = spread(100.0, 90.0, 110.0);
        let same = ThroughputChange::new(zero, zero, 0.10);
        assert_eq!((same.change, same.verdict), (0.0, Verdict::Unchanged));
        let up = ThroughputChange::new(zero, some, 0.10);
        assert_eq!(up.change, f64::INFINITY);
        assert_eq!(up.verdict, Verdict::Improved);
        let down = ThroughputChange::new(some, zero, 0.10);
        assert_eq!(down.change, -1.0);
        assert_eq!(down.verdict, Verdict::Regressed);
    }

    #[test]
    fn one_repetition_leaves_only_the_threshold() {
        let c = ThroughputChange::new(
            spread(1000.0, 1000.0, 1000.0),
            spread(920.0, 920.0, 920.0),
            0.10,
        );
        assert_eq!(c.interval.low, c.interval.high);
        assert_eq!(c.verdict, Verdict::Unchanged);
    }
}
