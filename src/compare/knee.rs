//! How the knee (the recommended maxSockets) moved per group and (client mode, batch), and
//! whether the move is beyond the noise, by the knee's own rule.
//!
//! Both runs' recommendations are made again from their points with this version's rule
//! ([`crate::analysis::recommend`]), so a base written by an older version is read the way
//! the new run is. The shift is counted in steps along the maxSockets values the runs swept
//! (∞ last), so "64 → 128" in a powers-of-two sweep is one step.
//!
//! A client per request has no knee to move (maxSockets caps nothing there, and where its
//! curve peaks is noise): only its verdict, "share a client", is compared.
//!
//! A knee moves when some maxSockets is like the best in one run and not in the other
//! ([`crate::analysis::like_best`]). That is noise when the point sits near the knee rule's
//! line in both runs; it is a **change** when, by the knee's own test, the point's per-round
//! ratio to its run's best in one run is shown to be more than [`KNEE_MARGIN`] below the other
//! run's: the two runs' 95 % bootstrap intervals of that ratio are more than 3 % apart.

use crate::analysis::{self, KNEE_MARGIN, Recommendation, Verdict};
use crate::metrics::{GroupKey, Point, max_sockets_sort_key};
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

/// Whether a knee moved, and if it did, whether beyond the noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KneeChange {
    /// Same knee, same verdict.
    Same,
    /// The knee or the verdict moved, but every maxSockets the runs read differently is near
    /// the knee rule's line in both: not a behaviour change.
    WithinNoise,
    /// The knee or the verdict moved and a maxSockets the runs read differently stands
    /// clearly apart from the best in one run and not in the other (or one run has no
    /// recommendation): a behaviour change.
    BeyondNoise,
}

/// The maxSockets whose reading differs most between the runs: its median per-round ratio to
/// each run's best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KneeEvidence {
    /// The maxSockets; `None` is Infinity.
    pub max_sockets: Option<u32>,
    /// Its median per-round ratio to base's best (0.83 = 17 % below).
    pub base_ratio: f64,
    /// Its median per-round ratio to new's best.
    pub new_ratio: f64,
}

/// The knee of one (client, batch) in both runs.
#[derive(Debug, Clone, PartialEq)]
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
    /// Same, moved within the noise, or moved beyond it.
    pub change: KneeChange,
    /// The maxSockets read differently whose ratio to the best moved most between the runs;
    /// `None` when none was (same knee, or one side has no recommendation).
    pub evidence: Option<KneeEvidence>,
}

impl KneeShift {
    /// Whether the knee or the verdict differs, or one run has a recommendation and the other
    /// none.
    pub fn moved(&self) -> bool {
        self.change != KneeChange::Same
    }

    /// Whether it moved beyond the noise: a behaviour change.
    pub fn beyond_noise(&self) -> bool {
        self.change == KneeChange::BeyondNoise
    }
}

/// One shift per group and (client, batch) that either run recommends for, sorted, with both
/// runs' recommendations made again by this version's rule.
pub(crate) fn shifts(base: &RunFile, new: &RunFile) -> Vec<KneeShift> {
    shifts_of(
        (base, &analysis::recommend(&base.points)),
        (new, &analysis::recommend(&new.points)),
    )
}

/// [`shifts`] with the recommendations given.
fn shifts_of(
    (base, base_recs): (&RunFile, &[Recommendation]),
    (new, new_recs): (&RunFile, &[Recommendation]),
) -> Vec<KneeShift> {
    let mut keys: Vec<(GroupKey, ClientMode, u32)> = base_recs
        .iter()
        .chain(new_recs)
        .map(|r| (r.group.clone(), r.client, r.batch))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(group, client, batch)| {
            let find = |recs: &[Recommendation]| {
                recs.iter()
                    .find(|r| r.group == group && r.client == client && r.batch == batch)
                    .map(Knee::from)
            };
            let (b, n) = (find(base_recs), find(new_recs));
            let curve = |run: &'_ RunFile| -> Vec<Point> {
                run.points
                    .iter()
                    .filter(|p| p.group() == group && p.client == client && p.batch == batch)
                    .cloned()
                    .collect()
            };
            let (base_curve, new_curve) = (curve(base), curve(new));
            // The swept values of this (client, batch) in either run, ∞ last.
            let mut swept: Vec<u64> = base_curve
                .iter()
                .chain(&new_curve)
                .map(|p| max_sockets_sort_key(p.max_sockets))
                .collect();
            swept.sort_unstable();
            swept.dedup();
            let index = |k: Knee| {
                let key = max_sockets_sort_key(k.knee_max_sockets);
                // A knee outside the swept values (hand-written file): place it where it sorts.
                swept.binary_search(&key).unwrap_or_else(|i| i) as i64
            };
            // A client per request has no knee to move: maxSockets caps nothing, so where its
            // noisy curve peaks says nothing; only its verdict is compared.
            let share = |k: Option<Knee>| k.is_some_and(|k| k.verdict == Verdict::ShareClient);
            let steps = if share(b) && share(n) {
                Some(0)
            } else {
                b.zip(n).map(|(b, n)| index(n) - index(b))
            };
            let setting = |k: Knee| match k.verdict {
                Verdict::ShareClient => (None, k.verdict),
                _ => (Some(k.knee_max_sockets), k.verdict),
            };
            let moved = b.map(setting) != n.map(setting);
            let (change, evidence) = match (b, n) {
                _ if !moved => (KneeChange::Same, None),
                (Some(bk), Some(nk)) => {
                    let evidence = evidence(
                        (&base_curve, bk.best_max_sockets),
                        (&new_curve, nk.best_max_sockets),
                    );
                    match evidence {
                        Some((e, true)) => (KneeChange::BeyondNoise, Some(e)),
                        Some((e, false)) => (KneeChange::WithinNoise, Some(e)),
                        None => (KneeChange::WithinNoise, None),
                    }
                }
                _ => (KneeChange::BeyondNoise, None),
            };
            KneeShift {
                group,
                client,
                batch,
                base: b,
                new: n,
                steps,
                change,
                evidence,
            }
        })
        .collect()
}

/// Of the maxSockets that one run reads as like its best and the other does not (both runs
/// measured it without errors), the one whose median per-round ratio to the best moved most,
/// and whether that move is beyond the noise: the runs' 95 % intervals of its per-round ratio
/// are more than [`KNEE_MARGIN`] apart (with one repetition, the ratios themselves).
fn evidence(
    (base, base_best): (&[Point], Option<u32>),
    (new, new_best): (&[Point], Option<u32>),
) -> Option<(KneeEvidence, bool)> {
    let ok = |curve: &[Point], ms: Option<u32>| {
        curve
            .iter()
            .find(|p| p.max_sockets == ms && !p.has_errors())
            .cloned()
    };
    let (bb, nb) = (ok(base, base_best)?, ok(new, new_best)?);
    let mut found: Option<(KneeEvidence, bool)> = None;
    for bp in base.iter().filter(|p| !p.has_errors()) {
        let Some(np) = ok(new, bp.max_sockets) else {
            continue;
        };
        if analysis::like_best(bp, &bb) == analysis::like_best(&np, &nb) {
            continue;
        }
        let (rb, rn) = (
            analysis::ratios_to_best(bp, &bb),
            analysis::ratios_to_best(&np, &nb),
        );
        let (Some(mb), Some(mn)) = (analysis::median(&rb), analysis::median(&rn)) else {
            continue;
        };
        // Each run's 95 % interval of the ratio (the ratio itself with one repetition); apart
        // when one lies more than the knee's margin above the other.
        let span = |r: &[f64], m: f64| analysis::mean_interval(r).unwrap_or((m, m));
        let ((bl, bh), (nl, nh)) = (span(&rb, mb), span(&rn, mn));
        let apart = nl > bh + KNEE_MARGIN || bl > nh + KNEE_MARGIN;
        let e = KneeEvidence {
            max_sockets: bp.max_sockets,
            base_ratio: mb,
            new_ratio: mn,
        };
        let better = found.is_none_or(|(f, f_apart)| {
            (apart, (mn - mb).abs()) > (f_apart, (f.new_ratio - f.base_ratio).abs())
        });
        if better {
            found = Some((e, apart));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;

    /// Shifts with both runs' stored recommendations (tests that edit them by hand).
    fn stored(base: &RunFile, new: &RunFile) -> Vec<KneeShift> {
        shifts_of((base, &base.recommendations), (new, &new.recommendations))
    }

    /// A run of one curve (shared, batch 32) from (maxSockets, objects/s per round).
    fn run_of(curve: &[(Option<u32>, [f64; 3])]) -> RunFile {
        let mut run = RunFile::new(fixtures::meta(serde_json::Value::Null, 1024));
        run.points = curve
            .iter()
            .map(|&(m, runs)| {
                let mut p = crate::metrics::fixtures::point_template();
                p.client = ClientMode::Shared;
                p.batch = 32;
                p.max_sockets = m;
                p.repetitions = 3;
                p.objects_per_s = crate::metrics::spread(&runs);
                p.objects_per_s_by_run = runs.to_vec();
                p.retries = Default::default();
                p.errors = Default::default();
                p.completed = p.objects;
                p
            })
            .collect();
        run.recommendations = analysis::recommend(&run.points);
        run
    }

    /// The quick preset's shape: 16 sockets at `at16` of the best in every round.
    fn quick(at16: [f64; 3], load: [f64; 3]) -> RunFile {
        let at = |v: [f64; 3]| -> [f64; 3] { [0, 1, 2].map(|i| 330.0 * v[i] * load[i]) };
        run_of(&[
            (Some(4), at([0.34; 3])),
            (Some(16), at(at16)),
            (Some(32), at([1.0, 0.995, 1.0])),
            (None, at([0.99, 1.0, 0.995])),
        ])
    }

    #[test]
    fn identical_runs_have_no_moves() {
        let run = fixtures::small();
        let s = shifts(&run, &run);
        assert_eq!(s.len(), run.recommendations.len());
        assert!(s.iter().all(|k| !k.moved() && k.steps == Some(0)));
        assert!(
            s.iter()
                .all(|k| k.change == KneeChange::Same && k.evidence.is_none())
        );
    }

    #[test]
    fn steps_count_swept_values() {
        let base = fixtures::small();
        let mut new = base.clone();
        let r = &mut new.recommendations[0];
        let from = r.knee_max_sockets;
        r.knee_max_sockets = None; // ∞
        let s = stored(&base, &new);
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
        let gone = stored(&base, &new);
        let k = gone.iter().find(|k| k.new.is_none()).unwrap();
        assert!(k.moved() && k.steps.is_none());
        assert!(
            k.beyond_noise(),
            "a curve without a recommendation is a change"
        );
    }

    /// The whole curve 20 % slower in one round and 15 % faster in another of the second run
    /// (other builds on the machine): the same knee, nothing moved.
    #[test]
    fn load_that_drifts_between_runs_and_rounds_moves_nothing() {
        let base = quick([0.83, 0.84, 0.82], [1.0, 1.0, 1.0]);
        let new = quick([0.82, 0.83, 0.84], [0.8, 1.15, 0.95]);
        let s = shifts(&base, &new);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].base.unwrap().knee_max_sockets, Some(32));
        assert_eq!(s[0].change, KneeChange::Same, "{s:?}");
    }

    /// 16 sockets just inside the knee rule in one run (median ratio 0.975) and just outside in
    /// the other (0.963, slower in every round): the knee moves 16 → 32, within the noise.
    #[test]
    fn a_knee_that_moves_on_the_rules_line_is_within_the_noise() {
        let base = quick([0.975, 0.97, 0.98], [1.0, 0.9, 1.1]);
        let new = quick([0.955, 0.96, 0.958], [1.1, 1.0, 0.85]);
        let s = shifts(&base, &new);
        let k = &s[0];
        assert_eq!(
            (
                k.base.unwrap().knee_max_sockets,
                k.new.unwrap().knee_max_sockets
            ),
            (Some(16), Some(32))
        );
        assert_eq!(k.steps, Some(1));
        assert_eq!(k.change, KneeChange::WithinNoise, "{k:?}");
        let e = k.evidence.unwrap();
        assert_eq!(e.max_sockets, Some(16));
        assert!((e.base_ratio - 0.975).abs() < 1e-9, "{e:?}");
    }

    /// 16 sockets as good as 32 in one run and 17 % slower in every round of the other: a
    /// real move of the knee, a behaviour change.
    #[test]
    fn a_knee_that_moves_beyond_the_noise_is_a_change() {
        let base = quick([0.99, 1.0, 0.985], [1.0, 1.0, 1.0]);
        let new = quick([0.83, 0.84, 0.82], [0.9, 1.1, 1.0]);
        let s = shifts(&base, &new);
        let k = &s[0];
        assert_eq!(
            (
                k.base.unwrap().knee_max_sockets,
                k.new.unwrap().knee_max_sockets
            ),
            (Some(16), Some(32))
        );
        assert!(k.beyond_noise(), "{k:?}");
        let e = k.evidence.unwrap();
        assert_eq!(e.max_sockets, Some(16));
        assert!((e.new_ratio - 0.83).abs() < 1e-9, "{e:?}");
    }

    /// A client per request whose noisy curve peaks elsewhere in the second run: "share a
    /// client" in both, nothing moved (maxSockets caps nothing there).
    #[test]
    fn a_client_per_request_has_no_knee_to_move() {
        let per_request = |run: &mut RunFile| {
            for p in &mut run.points {
                p.client = ClientMode::PerRequest;
            }
            run.recommendations = analysis::recommend(&run.points);
        };
        let mut base = quick([0.99, 1.0, 0.985], [1.0, 1.0, 1.0]);
        let mut new = quick([0.83, 0.84, 0.82], [0.9, 1.1, 1.0]);
        per_request(&mut base);
        per_request(&mut new);
        let s = shifts(&base, &new);
        assert_eq!(s[0].base.unwrap().verdict, Verdict::ShareClient);
        assert_ne!(
            s[0].base.unwrap().knee_max_sockets,
            s[0].new.unwrap().knee_max_sockets
        );
        assert_eq!((s[0].change, s[0].steps), (KneeChange::Same, Some(0)));
    }

    /// Two quick sweeps on this machine at load 8–10 on 2 cores: one run of 32 in the first
    /// was hit by something else (264 objects/s against 64's 324), so 32 was more than 3 %
    /// below 64 in every round and the knee went to 64; in the second, 32 again. Its ratios
    /// (82–96 % and 94–106 % of the best) overlap: a move within the noise.
    #[test]
    fn a_run_hit_by_other_load_moves_the_knee_within_the_noise() {
        let base = run_of(&[
            (Some(16), [211.0, 264.0, 282.0]),
            (Some(32), [267.0, 264.0, 310.0]),
            (Some(64), [279.0, 324.0, 332.0]),
            (None, [274.0, 322.0, 326.0]),
        ]);
        let new = run_of(&[
            (Some(16), [240.0, 267.0, 198.0]),
            (Some(32), [279.0, 308.0, 310.0]),
            (Some(64), [270.0, 321.0, 327.0]),
            (None, [264.0, 325.0, 329.0]),
        ]);
        let k = &shifts(&base, &new)[0];
        assert_eq!(
            (
                k.base.unwrap().knee_max_sockets,
                k.new.unwrap().knee_max_sockets
            ),
            (Some(64), Some(32))
        );
        assert_eq!(k.change, KneeChange::WithinNoise, "{k:?}");
        assert_eq!(k.evidence.unwrap().max_sockets, Some(32));
    }

    /// A base written by an older rule is read by this version's: its stored knee is not used.
    #[test]
    fn both_runs_are_read_by_the_same_rule() {
        let base = quick([0.83, 0.84, 0.82], [1.0, 1.0, 1.0]);
        let mut older = base.clone();
        older.recommendations[0].knee_max_sockets = Some(16);
        let s = shifts(&older, &base);
        assert_eq!(s[0].change, KneeChange::Same);
        assert_eq!(s[0].base.unwrap().knee_max_sockets, Some(32));
    }
}
