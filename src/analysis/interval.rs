//! Telling two throughputs apart from a handful of repetitions: a percentile bootstrap
//! interval of the relative difference of their means.
//!
//! With `n` repetitions per point (3 by default) there are few samples; the bootstrap makes no
//! assumption about their distribution, and its interval is narrower than the min–max ranges
//! (which would call almost everything "the same" at n = 3) but wide enough that run-to-run
//! noise is not read as a difference. It underestimates the spread of tiny samples (by about
//! a factor √((n−1)/n)), which is why a knee also needs [`PRACTICAL_MARGIN`] to differ.
//! Resampling uses a fixed seed, so the same numbers always give the same answer.

use rand::{Rng as _, SeedableRng as _};

/// Resamples drawn per comparison.
pub const RESAMPLES: usize = 4000;

/// Two-sided confidence of the interval.
pub const CONFIDENCE: f64 = 0.95;

/// The interval of `mean(a) / mean(b) − 1`, e.g. `(-0.12, 0.03)`: `a` is between 12 % slower
/// and 3 % faster than `b`. `None` when either side has fewer than two repetitions (one run
/// says nothing about the spread) or `b`'s mean is 0.
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
    }

    #[test]
    fn one_repetition_says_nothing_about_the_spread() {
        assert_eq!(relative_difference(&[90.0], &[100.0, 101.0]), None);
        assert_eq!(relative_difference(&[], &[1.0, 2.0]), None);
        assert_eq!(relative_difference(&[1.0, 2.0], &[0.0, 0.0]), None);
    }
}
