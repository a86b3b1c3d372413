//! [`compare`] and its result: per point the throughput verdict and the counter differences,
//! per (client, batch) the knee shift, and the exit status they add up to.

use super::counters::{self, CounterChange};
use super::error::CompareError;
use super::key::WorkloadKey;
use super::knee::{self, KneeShift};
use super::matching;
use super::options::CompareOptions;
use super::throughput::{ThroughputChange, Verdict};
use crate::metrics::Point;
use crate::results::{Meta, RunFile};

/// Exit status: nothing regressed and behaviour is the same (or only improved).
pub const EXIT_OK: u8 = 0;
/// Exit status: a throughput regression beyond the threshold (unless
/// [`CompareOptions::report_only_throughput`]) or a behaviour change.
pub const EXIT_REGRESSION: u8 = 1;
/// Exit status: the files cannot be compared ([`CompareError`]).
pub const EXIT_INCOMPARABLE: u8 = CompareError::EXIT_CODE;

/// One workload measured in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PointComparison {
    /// The workload.
    pub key: WorkloadKey,
    /// The point in base.
    pub base: Point,
    /// The point in new.
    pub new: Point,
    /// Objects/s: change, interval, verdict.
    pub throughput: ThroughputChange,
    /// Counters that differ, exactly; empty when all are equal.
    pub counters: Vec<CounterChange>,
    /// Whether the counters were compared strictly (same profile and
    /// [`CompareOptions::strict_counters`]): then any difference is a behaviour change.
    pub strict_counters: bool,
}

impl PointComparison {
    fn new(base: &Point, new: &Point, opts: &CompareOptions) -> PointComparison {
        PointComparison {
            key: WorkloadKey::of(base),
            base: base.clone(),
            new: new.clone(),
            throughput: ThroughputChange::new(
                base.objects_per_s,
                new.objects_per_s,
                opts.threshold,
            ),
            counters: counters::changes(base, new),
            // Pairing by workload key already implies the same profile name; the check states
            // the rule where it is applied, in case pairing ever relaxes the key. A point cut
            // by the time budget counts over the objects it reached in time, which differ
            // between runs: its counters are listed, not compared strictly.
            strict_counters: opts.strict_counters
                && base.profile == new.profile
                && !base.cut_by_budget()
                && !new.cut_by_budget(),
        }
    }

    /// Whether the client behaved differently: counters differ and were compared strictly.
    pub fn behaviour_changed(&self) -> bool {
        self.strict_counters && !self.counters.is_empty()
    }

    /// Whether anything differs worth showing: a throughput verdict other than unchanged, or
    /// any counter difference (strict or informational).
    pub fn changed(&self) -> bool {
        self.throughput.verdict != Verdict::Unchanged || !self.counters.is_empty()
    }
}

/// Counts over a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Points compared.
    pub points: usize,
    /// Points whose throughput regressed.
    pub regressed: usize,
    /// Points whose throughput improved.
    pub improved: usize,
    /// Points whose throughput is unchanged.
    pub unchanged: usize,
    /// Points with a behaviour change (strictly compared counters differ).
    pub behaviour_changes: usize,
    /// Points whose counters differ but were not compared strictly (information only).
    pub counter_differences: usize,
    /// (client, batch) pairs with a recommendation in either run.
    pub knees: usize,
    /// Of those, how many moved.
    pub knees_moved: usize,
    /// Of those that moved, how many beyond the noise (a behaviour change, see
    /// [`KneeShift::beyond_noise`]).
    pub knees_beyond_noise: usize,
}

/// The comparison of a new run against a base run. Build it with [`compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The options it was made with.
    pub options: CompareOptions,
    /// Base's metadata (commit, date, machine).
    pub base_meta: Meta,
    /// New's metadata.
    pub new_meta: Meta,
    /// Every point, sorted by workload key (maxSockets ∞ last).
    pub points: Vec<PointComparison>,
    /// The knee of every (client, batch) that either run recommends for.
    pub knees: Vec<KneeShift>,
    /// Caveats a reader should know before trusting the verdicts (different machines, different
    /// repetitions…). They never change the exit status.
    pub notes: Vec<String>,
}

impl Comparison {
    /// The counts behind the headline.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            points: self.points.len(),
            knees: self.knees.len(),
            knees_moved: self.knees.iter().filter(|k| k.moved()).count(),
            knees_beyond_noise: self.knees.iter().filter(|k| k.beyond_noise()).count(),
            ..Summary::default()
        };
        for p in &self.points {
            match p.throughput.verdict {
                Verdict::Regressed => s.regressed += 1,
                Verdict::Improved => s.improved += 1,
                Verdict::Unchanged => s.unchanged += 1,
            }
            if p.behaviour_changed() {
                s.behaviour_changes += 1;
            } else if !p.counters.is_empty() {
                s.counter_differences += 1;
            }
        }
        s
    }

    /// Whether the throughput regressions count against the exit status.
    pub(crate) fn regressions_fail(&self) -> bool {
        !self.options.report_only_throughput && self.summary().regressed > 0
    }

    /// Whether knees that moved beyond the noise count against the exit status: they are read
    /// from throughput, so like throughput they are reported only with
    /// [`CompareOptions::report_only_throughput`] (a baseline from another machine).
    pub(crate) fn knees_fail(&self) -> bool {
        !self.options.report_only_throughput && self.summary().knees_beyond_noise > 0
    }

    /// The process exit status: [`EXIT_REGRESSION`] (1) for a throughput regression beyond the
    /// threshold or a knee that moved beyond the noise (both unless
    /// [`CompareOptions::report_only_throughput`]), or a behaviour change of the counters,
    /// else [`EXIT_OK`] (0). Files that cannot be compared never get here: [`compare`] returns a
    /// [`CompareError`], exit status [`EXIT_INCOMPARABLE`] (2).
    pub fn exit_code(&self) -> u8 {
        if self.summary().behaviour_changes > 0 || self.regressions_fail() || self.knees_fail() {
            EXIT_REGRESSION
        } else {
            EXIT_OK
        }
    }
}

/// Compares `new` against `base`: pairs their points by [`WorkloadKey`], judges each point's
/// throughput and counters and each (client, batch)'s knee.
///
/// # Errors
///
/// [`CompareError`] (exit status 2) when the files cannot be compared: different
/// `schema_version`, an empty run, different profiles or object sizes, different point sets, or
/// an invalid threshold. The message names what differs.
///
/// # Examples
///
/// ```
/// use poolsweep::compare::{CompareOptions, compare};
/// # let base = poolsweep::results::RunFile::new(poolsweep::results::Meta::collect(
/// #     serde_json::Value::Null, serde_json::Value::Null, Vec::new()));
/// # let new = base.clone();
/// // `base` and `new` come from `RunFile::load`.
/// match compare(&base, &new, &CompareOptions::default()) {
///     Ok(cmp) => println!("{}", cmp.to_text()),
///     Err(e) => eprintln!("{e}"), // here: "cannot compare: the base run has no points …"
/// }
/// ```
pub fn compare(
    base: &RunFile,
    new: &RunFile,
    opts: &CompareOptions,
) -> Result<Comparison, CompareError> {
    if !(opts.threshold.is_finite() && opts.threshold >= 0.0) {
        return Err(CompareError::InvalidThreshold {
            threshold: opts.threshold,
        });
    }
    if base.schema_version != new.schema_version {
        return Err(CompareError::SchemaVersion {
            base: base.schema_version,
            new: new.schema_version,
        });
    }
    let points: Vec<PointComparison> = matching::pair(base, new)?
        .into_iter()
        .map(|(b, n)| PointComparison::new(b, n, opts))
        .collect();
    let mut cmp = Comparison {
        options: opts.clone(),
        base_meta: base.meta.clone(),
        new_meta: new.meta.clone(),
        points,
        knees: knee::shifts(base, new),
        notes: Vec::new(),
    };
    cmp.notes = notes(&cmp);
    Ok(cmp)
}

/// Caveats: what makes the verdicts less trustworthy than they look.
fn notes(cmp: &Comparison) -> Vec<String> {
    let (b, n) = (&cmp.base_meta, &cmp.new_meta);
    let mut notes = Vec::new();
    let machine = |m: &Meta| {
        format!(
            "{}, {} cores, {}",
            m.cpu_model.as_deref().unwrap_or("unknown CPU"),
            m.cores,
            m.os
        )
    };
    if (&b.cpu_model, b.cores, &b.os) != (&n.cpu_model, n.cores, &n.os) {
        let advice = if cmp.options.report_only_throughput {
            "throughput is reported only (report_only_throughput)"
        } else {
            "throughput differences may come from the machines; \
             against a baseline from another machine, use report_only_throughput"
        };
        notes.push(format!(
            "The runs come from different machines (base: {}; new: {}): {advice}.",
            machine(b),
            machine(n)
        ));
    }
    if b.server_profile != n.server_profile {
        notes.push(
            "The server profile definitions differ (meta.server_profile): the same profile name \
             may not mean the same server behaviour in both runs."
                .to_owned(),
        );
    }
    let mut reps: Vec<(u32, u32)> = cmp
        .points
        .iter()
        .map(|p| (p.base.repetitions, p.new.repetitions))
        .collect();
    reps.sort_unstable();
    reps.dedup();
    if let Some((rb, rn)) = reps.iter().find(|(rb, rn)| rb != rn) {
        notes.push(format!(
            "Repetitions differ (base {rb}, new {rn}): ranges of different widths make the \
             intervals uneven, and counters (totals over repetitions) differ for that reason alone."
        ));
    }
    if reps.iter().any(|&(rb, rn)| rb <= 1 || rn <= 1) {
        notes.push(
            "Some points were measured once: with a single repetition there is no range, \
             so only the threshold separates a change from noise."
                .to_owned(),
        );
    }
    let cut = cmp
        .points
        .iter()
        .filter(|p| (p.base.cut_by_budget() || p.new.cut_by_budget()) && !p.counters.is_empty())
        .count();
    if cut > 0 {
        notes.push(format!(
            "{cut} point(s) whose counters differ were cut by the time budget in one run or both: \
             their counters are totals over the objects reached in time, so they are listed, not \
             compared strictly."
        ));
    }
    let mut noisy: Vec<&str> = cmp
        .points
        .iter()
        .filter(|p| p.behaviour_changed() && p.key.profile != "ideal")
        .map(|p| p.key.profile.as_str())
        .collect();
    noisy.sort_unstable();
    noisy.dedup();
    if !noisy.is_empty() {
        notes.push(format!(
            "Counters are exact only on the ideal profile; on {} random latency, throttling or \
             faults can change them between identical runs. If these behaviour changes are noise, \
             compare with strict_counters off.",
            noisy.join(", ")
        ));
    }
    notes
}
