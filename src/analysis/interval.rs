//! Telling two throughputs apart from a handful of repetitions, round by round: the ratio of
//! one point's throughput to another's in each round, and a percentile bootstrap interval of
//! the mean of those ratios.
//!
//! A sweep runs its repetitions in rounds, every round visiting every point, and the
//! machine's load drifts between rounds (other builds, other tenants): on a shared machine the
//! whole curve moves up or down by 10–15 % from one round to the next. Compared as two
//! independent samples, two points' ranges then overlap although the same rounds always rank
//! them the same way. Compared round by round, as ratios, drift common to a round cancels and
//! what is left is the noise between the points themselves.
//!
//! With `n` rounds (3 by default) there are few ratios; the bootstrap makes no assumption
//! about their distribution. With 3 its 95 % interval is the smallest to the largest ratio: the
//! knee tells a point apart from the best only if it was more than the knee's margin slower in
//! every round. It underestimates the spread of tiny samples, which is one reason the knee
//! tests against a practical margin rather than against the best itself.
//! Resampling uses a fixed seed, so the same numbers always give the same answer.

use rand::{Rng as _, SeedableRng as _};

/// Resamples drawn per interval.
pub const RESAMPLES: usize = 4000;

/// Two-sided confidence of the interval.
pub const CONFIDENCE: f64 = 0.95;

/// The ratio of `a` to `b` in each round both measured: `a[i] / b[i]` for the rounds `i` of
/// the shorter (a point of an interrupted sweep may lack the last rounds). A round in which
/// `b` measured nothing (0) has no ratio.
pub fn round_ratios(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .filter(|&(_, &y)| y > 0.0)
        .map(|(&x, &y)| x / y)
        .collect()
}

/// The median of `v` (the mean of the middle two for an even count); `None` when empty.
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// The percentile bootstrap interval of the mean of `v`, e.g. of per-round ratios
/// `(0.88, 1.01)`. `None` with fewer than two values (one round says nothing about the spread).
pub fn mean_interval(v: &[f64]) -> Option<(f64, f64)> {
    if v.len() < 2 {
        return None;
    }
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x5eed_b007);
    let mut stats: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let mut s = 0.0;
            for _ in 0..v.len() {
                s += v[rng.random_range(0..v.len())];
            }
            s / v.len() as f64
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| stats[((stats.len() - 1) as f64 * q).round() as usize];
    Some((at(tail), at(1.0 - tail)))
}

/// How `a` compares with `b` round by round: the median per-round ratio and the bootstrap
/// interval of the mean ratio ([`mean_interval`]). `None` when they share no round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// Median of the per-round ratios `a / b` (0.9 = `a` is 10 % slower).
    pub median: f64,
    /// The 95 % interval of the mean ratio; `None` with fewer than two rounds.
    pub interval: Option<(f64, f64)>,
}

/// `a` against `b`, round by round ([`Paired`]); `None` when no round has both.
pub fn paired(a: &[f64], b: &[f64]) -> Option<Paired> {
    let r = round_ratios(a, b);
    Some(Paired {
        median: median(&r)?,
        interval: mean_interval(&r),
    })
}

/// The interval of `mean(a) / mean(b) − 1` for two independent samples (no pairing), e.g.
/// `(-0.12, 0.03)`: `a` is between 12 % slower and 3 % faster than `b`. `None` when either
/// side has fewer than two values or `b`'s mean is 0.
pub fn relative_difference(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    if mean(b) <= 0.0 {
        return None;
    }
    let mut rng = rand::rngs::SmallRng::seed_from_u64(0x5eed_b007);
    let mut draw = |v: &[f64]| {
        let mut s = 0.0;
        for _ in 0..v.len() {
            s += v[rng.random_range(0..v.len())];
        }
        s / v.len() as f64
    };
    let mut stats: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            let (ma, mb) = (draw(a), draw(b));
            (mb > 0.0).then(|| ma / mb - 1.0)
        })
        .collect();
    if stats.is_empty() {
        return None;
    }
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| stats[((stats.len() - 1) as f64 * q).round() as usize];
    Some((at(tail), at(1.0 - tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_samples_straddle_zero_and_separate_ones_do_not() {
        let (lo, hi) = relative_difference(&[100.0, 102.0, 98.0], &[101.0, 99.0, 100.0]).unwrap();
        assert!(lo < 0.0 && hi > 0.0, "{lo} {hi}");
        let (lo, hi) = relative_difference(&[80.0, 82.0, 81.0], &[100.0, 99.0, 101.0]).unwrap();
        assert!(hi < 0.0, "{lo} {hi}");
        assert!(
            (lo + 0.19).abs() < 0.03 && (hi + 0.19).abs() < 0.03,
            "{lo} {hi}"
        );
    }

    #[test]
    fn the_same_numbers_give_the_same_interval() {
        let a = [10.0, 12.0, 11.0, 9.5];
        let b = [11.0, 11.5, 12.5];
        assert_eq!(relative_difference(&a, &b), relative_difference(&a, &b));
        assert_eq!(paired(&a, &b), paired(&a, &b));
    }

    #[test]
    fn one_repetition_says_nothing_about_the_spread() {
        assert_eq!(relative_difference(&[90.0], &[100.0, 101.0]), None);
        assert_eq!(relative_difference(&[], &[1.0, 2.0]), None);
        assert_eq!(relative_difference(&[1.0, 2.0], &[0.0, 0.0]), None);
        let one = paired(&[90.0], &[100.0, 101.0]).unwrap();
        assert_eq!((one.median, one.interval), (0.9, None));
        assert_eq!(paired(&[], &[1.0]), None);
        assert_eq!(paired(&[1.0, 2.0], &[0.0, 0.0]), None);
    }

    /// Drift common to a round cancels: 10 % below in every round of a load that moves by
    /// ±15 % is told apart round by round, not as two independent samples.
    #[test]
    fn rounds_cancel_drift_that_independent_samples_cannot() {
        let best = [280.0, 320.0, 340.0];
        let below = [252.0, 288.0, 306.0];
        let (_, hi) = relative_difference(&below, &best).unwrap();
        assert!(hi >= 0.0, "independent samples overlap: {hi}");
        let p = paired(&below, &best).unwrap();
        assert!((p.median - 0.9).abs() < 1e-9, "{p:?}");
        let (lo, hi) = p.interval.unwrap();
        assert!((lo - 0.9).abs() < 1e-9 && (hi - 0.9).abs() < 1e-9, "{p:?}");
    }

    #[test]
    fn three_rounds_give_the_smallest_to_the_largest_ratio() {
        let (lo, hi) = mean_interval(&[0.95, 1.02, 0.99]).unwrap();
        assert!(
            (lo - 0.95).abs() < 1e-12 && (hi - 1.02).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
        assert_eq!(round_ratios(&[1.0, 2.0, 3.0], &[2.0, 4.0]), [0.5, 0.5]);
    }
}
