//! How the knee (the recommended maxSockets) moved per group and (client mode, batch), from
//! the runs' recommendations.
//!
//! The knee is derived from medians, so it moves with throughput noise too: a shift is
//! reported, never a failure on its own. The shift is counted in steps along the maxSockets
//! values the runs swept (∞ last), so "64 → 128" in a powers-of-two sweep is one step.

use crate::analysis::{Recommendation, Verdict};
use crate::metrics::{GroupKey, max_sockets_sort_key};
use crate::modes::ClientMode;
use crate::results::RunFile;

/// One run's recommendation for a (client, batch), reduced to where the curve bends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knee {
    /// The knee: the smallest maxSockets close to the best; `None` is Infinity.
    pub knee_max_sockets: Option<u32>,
    /// The maxSockets with the highest median; `None` is Infinity.
    pub best_max_sockets: Option<u32>,
    /// Where throughput falls off beyond the knee (`Some(None)`: at Infinity); `None` if it
    /// never does.
    pub falloff_from: Option<Option<u32>>,
    /// What the recommendation says to do.
    pub verdict: Verdict,
}

impl From<&Recommendation> for Knee {
    fn from(r: &Recommendation) -> Knee {
        Knee {
            knee_max_sockets: r.knee_max_sockets,
            best_max_sockets: r.best_max_sockets,
            falloff_from: r.falloff.map(|f| f.from),
            verdict: r.verdict,
        }
    }
}

/// The knee of one (client, batch) in both runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KneeShift {
    /// The group of the curve.
    pub group: GroupKey,
    /// Client mode.
    pub client: ClientMode,
    /// Batch size.
    pub batch: u32,
    /// Base's recommendation; `None` if base has none (e.g. every point of it failed).
    pub base: Option<Knee>,
    /// New's recommendation; `None` if new has none.
    pub new: Option<Knee>,
    /// Steps the knee moved along the swept maxSockets values (+1 = one value to the right,
    /// towards more sockets); `None` when one side has no recommendation.
    pub steps: Option<i64>,
}

impl KneeShift {
    /// Whether the knee or the verdict differs, or one run has a recommendation and the other
    /// none.
    pub fn moved(&self) -> bool {
        self.base.map(|k| (k.knee_max_sockets, k.verdict))
            != self.new.map(|k| (k.knee_max_sockets, k.verdict))
    }
}

/// One shift per group and (client, batch) that either run recommends for, sorted.
pub(crate) fn shifts(base: &RunFile, new: &RunFile) -> Vec<KneeShift> {
    let mut keys: Vec<(GroupKey, ClientMode, u32)> = base
        .recommendations
        .iter()
        .chain(&new.recommendations)
        .map(|r| (r.group.clone(), r.client, r.batch))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(group, client, batch)| {
            let find = |run: &RunFile| {
                run.recommendations
                    .iter()
                    .find(|r| r.group == group && r.client == client && r.batch == batch)
                    .map(Knee::from)
            };
            let (b, n) = (find(base), find(new));
            // The swept values of this (client, batch) in either run, ∞ last.
            let mut swept: Vec<u64> = base
                .points
                .iter()
                .chain(&new.points)
                .filter(|p| p.group() == group && p.client == client && p.batch == batch)
                .map(|p| max_sockets_sort_key(p.max_sockets))
                .collect();
            swept.sort_unstable();
            swept.dedup();
            let index = |k: Knee| {
                let key = max_sockets_sort_key(k.knee_max_sockets);
                // A knee outside the swept values (hand-written file): place it where it sorts.
                swept.binary_search(&key).unwrap_or_else(|i| i) as i64
            };
            let steps = b.zip(n).map(|(b, n)| index(n) - index(b));
            KneeShift {
                group,
                client,
                batch,
                base: b,
                new: n,
                steps,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;

    #[test]
    fn identical_runs_have_no_moves() {
        let run = fixtures::small();
        let s = shifts(&run, &run);
        assert_eq!(s.len(), run.recommendations.len());
        assert!(s.iter().all(|k| !k.moved() && k.steps == Some(0)));
    }

    #[test]
    fn steps_count_swept_values() {
        let base = fixtures::small();
        let mut new = base.clone();
        let r = &mut new.recommendations[0];
        let from = r.knee_max_sockets;
        r.knee_max_sockets = None; // ∞
        let s = shifts(&base, &new);
        let moved: Vec<&KneeShift> = s.iter().filter(|k| k.moved()).collect();
        assert_eq!(moved.len(), 1);
        // Swept 1, 4, 16, 64, ∞: from 16 (index 2) to ∞ (index 4) is two steps.
        assert_eq!(
            from,
            Some(16),
            "fixture changed: {:?}",
            base.recommendations[0]
        );
        assert_eq!(moved[0].steps, Some(2));

        new.recommendations.remove(0);
        let gone = shifts(&base, &new);
        let k = gone.iter().find(|k| k.new.is_none()).unwrap();
        assert!(k.moved() && k.steps.is_none());
    }
}
