//! Comparing two result files: did a change make the sweep slower, or make the client behave
//! differently?
//!
//! [`compare`] pairs the points of a base run and a new run by their [`WorkloadKey`] (client,
//! pool, pattern, op, batch, maxSockets, profile, object size, objects) and judges, per point,
//! the throughput and the deterministic counters, and per (client mode, batch) the knee.
//!
//! Invariant: two runs are compared only when they measured the same workloads: the same
//! `schema_version` and exactly the same set of workload keys. Anything else is a
//! [`CompareError`] naming what differs, never a comparison of the overlap, because a point
//! missing from one side (a run that stopped early) could hide a regression.
//!
//! # Throughput: the noise rule
//!
//! A result file keeps each point's median, min and max objects/s over its repetitions, not
//! the repetitions themselves, so there is no sample for a t-test or a bootstrap. The rule is
//! conservative instead:
//!
//! - change = `new.median / base.median − 1`;
//! - interval = `[new.min / base.max − 1, new.max / base.min − 1]`: the least and the most
//!   favourable pairing of a new repetition with a base repetition;
//! - **regressed** when the interval lies entirely below zero (the min–max ranges do not
//!   overlap) *and* the change is below `−threshold`; **improved** symmetrically; otherwise
//!   **unchanged**.
//!
//! The threshold is [`CompareOptions::threshold`], 10 % by default. A real 15 % drop hidden in
//! ±10 % repetition noise is reported as unchanged: measure more repetitions to narrow the
//! ranges. With a single repetition the interval collapses to the change and only the
//! threshold separates change from noise (the comparison notes it).
//!
//! # Deterministic counters: behaviour changes
//!
//! Sockets opened, full and resumed TLS handshakes, retries (total and by reason) and errors
//! (total and by kind) are compared exactly. On the `ideal` profile they are the same for the
//! same workload every time, so any difference means the client behaves differently (a pool
//! that stopped reusing sockets, a lost TLS session cache, new retries): a **behaviour
//! change**, which fails the comparison whatever the throughput did.
//!
//! They are compared strictly only when both points ran on the same profile (always true for
//! paired points, since the profile is part of the key) and [`CompareOptions::strict_counters`]
//! is on (the default). On profiles with random latency, throttling or faults (`s3-like`,
//! `congested`) counters can legitimately vary between identical runs: turn
//! `strict_counters` off there, and differences are listed as information only. Counters are
//! totals over repetitions, so runs with different repetition counts differ for that reason
//! alone (the comparison notes it).
//!
//! # The knee
//!
//! For each (client mode, batch) either run recommends for, [`KneeShift`] holds both knees and
//! how many swept maxSockets values it moved, both read from the points by this version's
//! rule (a base written by an older version is read again). A knee moves when a maxSockets is
//! like the best in one run and not in the other; the move is **within the noise** when that
//! point sits on the rule's line in both runs, and **beyond the noise** when the two runs' 95 %
//! bootstrap intervals of its per-round ratio to the best are more than the knee's 3 % margin
//! apart ([`KneeChange`]). A move beyond the
//! noise is a behaviour change, which fails the comparison unless
//! [`CompareOptions::report_only_throughput`] (the knee is read from throughput). A client per
//! request has no knee (maxSockets caps nothing): only its verdict is compared.
//!
//! # Exit status
//!
//! [`Comparison::exit_code`]: [`EXIT_OK`] (0) when nothing regressed (unchanged or improved);
//! [`EXIT_REGRESSION`] (1) for a throughput regression beyond the threshold, a knee that moved
//! beyond the noise, or a behaviour change of the counters. With
//! [`CompareOptions::report_only_throughput`] (CI against a baseline committed from another
//! machine) throughput regressions and knee moves are reported but exit 0; counter behaviour
//! changes still exit 1. [`CompareError::exit_code`]: [`EXIT_INCOMPARABLE`] (2), the files could not be
//! compared.
//!
//! # Outputs
//!
//! [`Comparison::to_text`] (terminal), [`Comparison::to_markdown`] (CI job summary or
//! pull-request comment), [`Comparison::write_html`] (a page with base and new throughput
//! curves overlaid). [`export`] turns a single result file into JSON for CI dashboards
//! (Bencher, github-action-benchmark).
//!
//! Layout: `key` (pairing key, names), `matching` (pairing and mismatch errors), `throughput`,
//! `counters`, `knee` (the three judgements), `comparison` (the result and exit status),
//! `view` (the strings every renderer shows), `text`, `markdown`, `html` + `chart` (the
//! renderers; markup in `templates/`), `export`.
//!
//! # Examples
//!
//! ```no_run
//! use poolsweep::compare::{CompareOptions, compare};
//! use poolsweep::results::RunFile;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let base = RunFile::load("results/baseline.json")?;
//! let new = RunFile::load("target/poolsweep/run.json")?;
//! let opts = CompareOptions { report_only_throughput: true, ..CompareOptions::default() };
//! let code = match compare(&base, &new, &opts) {
//!     Ok(cmp) => {
//!         print!("{}", cmp.to_text());
//!         std::fs::write("summary.md", cmp.to_markdown())?;
//!         cmp.write_html("target/poolsweep/compare".as_ref())?;
//!         cmp.exit_code()
//!     }
//!     Err(e) => {
//!         eprintln!("{e}");
//!         e.exit_code()
//!     }
//! };
//! std::process::exit(code.into());
//! # }
//! ```

mod chart;
mod comparison;
mod counters;
mod error;
pub mod export;
mod html;
mod key;
mod knee;
mod markdown;
mod matching;
mod options;
mod templates;
mod text;
mod throughput;
mod view;

pub use comparison::{
    Comparison, EXIT_INCOMPARABLE, EXIT_OK, EXIT_REGRESSION, PointComparison, Summary, compare,
};
pub use counters::{Counter, CounterChange};
pub use error::{CompareError, Difference, Side};
pub use key::WorkloadKey;
pub use knee::{Knee, KneeChange, KneeEvidence, KneeShift};
pub use options::CompareOptions;
pub use throughput::{Interval, ThroughputChange, Verdict};

#[cfg(test)]
mod tests;
