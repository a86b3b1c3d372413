//! The maxSockets axis: log₂ scale with one tick per swept value, and Infinity drawn as a final
//! "∞" tick one step to the right of the largest finite value.
//!
//! A step is the median log₂ gap between neighbouring finite values, so for the usual powers of
//! two ∞ sits where "2 × max" would be. Values are mapped to positions with [`MaxSocketsAxis::pos`]
//! before drawing; the axis itself is a plain f64 range with fixed key points.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use crate::metrics::display_max_sockets;

/// Positions and labels for the maxSockets values of a chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MaxSocketsAxis {
    /// (position, label) of every tick, left to right.
    ticks: Vec<(f64, String)>,
    /// Position of ∞.
    inf_pos: f64,
    /// Drawn range, with half a step of padding on both sides.
    range: Range<f64>,
}

impl MaxSocketsAxis {
    /// An axis for these values (any order, duplicates allowed; `None` is Infinity).
    pub(crate) fn new(values: impl IntoIterator<Item = Option<u32>>) -> MaxSocketsAxis {
        let mut finite: Vec<u32> = Vec::new();
        let mut has_inf = false;
        for v in values {
            match v {
                Some(n) => finite.push(n.max(1)),
                None => has_inf = true,
            }
        }
        finite.sort_unstable();
        finite.dedup();
        let logs: Vec<f64> = finite.iter().map(|&n| f64::from(n).log2()).collect();
        let mut gaps: Vec<f64> = logs.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        let step = gaps.get(gaps.len() / 2).copied().unwrap_or(1.0).max(0.25);
        let inf_pos = logs.last().map_or(0.0, |l| l + step);

        let mut ticks: Vec<(f64, String)> = finite
            .iter()
            .zip(&logs)
            .map(|(&n, &l)| (l, n.to_string()))
            .collect();
        if has_inf {
            ticks.push((inf_pos, display_max_sockets(None).to_string()));
        }
        let lo = ticks.first().map_or(0.0, |t| t.0);
        let hi = ticks.last().map_or(1.0, |t| t.0);
        let pad = step * 0.5;
        MaxSocketsAxis {
            ticks,
            inf_pos,
            range: (lo - pad)..(hi + pad),
        }
    }

    /// Where a maxSockets value is drawn.
    pub(crate) fn pos(&self, max_sockets: Option<u32>) -> f64 {
        match max_sockets {
            Some(n) => f64::from(n.max(1)).log2(),
            None => self.inf_pos,
        }
    }

    /// The label of the tick at `pos` (the nearest tick).
    pub(crate) fn label(&self, pos: f64) -> String {
        self.ticks
            .iter()
            .min_by(|a, b| (a.0 - pos).abs().total_cmp(&(b.0 - pos).abs()))
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }

    /// The plotters coordinate: an f64 range whose only key points are the ticks. With more
    /// ticks than `max_ticks`, every other (or every third…) tick is kept, always with the
    /// first and ∞, so labels never collide.
    pub(crate) fn coord(&self, max_ticks: usize) -> TickedCoord {
        let n = self.ticks.len();
        let stride = n.div_ceil(max_ticks.max(2)).max(1);
        let keep: Vec<f64> = self
            .ticks
            .iter()
            .enumerate()
            .filter(|(i, _)| i % stride == 0 || *i == n - 1)
            .map(|(_, t)| t.0)
            .collect();
        TickedCoord {
            range: self.range.clone(),
            ticks: keep,
        }
    }

    /// The tick labels, left to right (for tests).
    #[cfg(test)]
    pub(crate) fn labels(&self) -> Vec<&str> {
        self.ticks.iter().map(|t| t.1.as_str()).collect()
    }
}

/// A linear f64 coordinate whose grid lines and labels sit exactly at the given ticks.
///
/// plotters' `WithKeyPoints` over `RangedCoordf64` would do, but it loses the label formatter
/// (`RangedCoordf64` formats through its own `ValueFormatter`), so `x_label_formatter` could
/// not be set; this type keeps `DefaultFormatting`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TickedCoord {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for TickedCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let t = if span > 0.0 {
            (v - self.range.start) / span
        } else {
            0.5
        };
        limit.0 + (f64::from(limit.1 - limit.0) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Bold points carry the labels; no light (minor) grid lines between swept values.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

#[cfg(test)]
mod tests {
    use plotters::coord::ranged1d::BoldPoints;

    use super::*;

    #[test]
    fn infinity_is_one_step_right_of_the_largest_value() {
        let axis =
            MaxSocketsAxis::new([None, Some(4), Some(1), Some(16), Some(2), Some(8), Some(4)]);
        assert_eq!(axis.labels(), ["1", "2", "4", "8", "16", "∞"]);
        assert_eq!(axis.pos(Some(16)), 4.0);
        assert_eq!(axis.pos(None), 5.0);
        assert_eq!(axis.label(4.9), "∞");
        assert_eq!(axis.label(1.1), "2");
    }

    #[test]
    fn step_follows_the_sweep_spacing() {
        // Powers of four: one step is two log2 units.
        let axis = MaxSocketsAxis::new([Some(1), Some(4), Some(16), Some(64), None]);
        assert_eq!(axis.pos(None), 8.0);
        // Only ∞.
        let only_inf = MaxSocketsAxis::new([None]);
        assert_eq!(only_inf.labels(), ["∞"]);
        assert!(only_inf.range.contains(&only_inf.pos(None)));
    }

    #[test]
    fn crowded_axis_keeps_first_and_infinity() {
        let values: Vec<Option<u32>> = (0..12).map(|i| Some(1 << i)).chain([None]).collect();
        let axis = MaxSocketsAxis::new(values);
        let kept = axis.coord(7).key_points(BoldPoints(100));
        assert!(kept.len() <= 8, "{kept:?}");
        assert_eq!(axis.label(kept[0]), "1");
        assert_eq!(axis.label(*kept.last().unwrap()), "∞");
    }
}
