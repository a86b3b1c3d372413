//! What a run's points say: for each group of points and each (client mode, batch size) in
//! it, the maxSockets to set (or to share a client), read from the whole curve, and why.
//!
//! Invariant: a recommendation is drawn from measured points only, tells a difference from
//! noise by the spread over repetitions, and names with numbers what it claims (SlowDown,
//! retries, latency, sockets, handshakes, errors, CPU); the result file stores it as it is,
//! next to the points it was drawn from.
//!
//! # Layout
//!
//! - `interval`: two points' throughputs compared round by round (per-round ratios, a bootstrap
//!   interval of their mean), and two independent samples compared.
//! - `recommend`: [`Recommendation`] ([`Verdict`], [`Falloff`], [`Cost`], [`RuleOfThumb`])
//!   and [`recommend`]: best, knee, costs beyond it and fall-off of every curve of the run.

mod interval;
mod recommend;

pub use interval::{
    CONFIDENCE, Paired, RESAMPLES, mean_interval, median, paired, relative_difference, round_ratios,
};
pub use recommend::{
    Cost, CostKind, FALLOFF_MARGIN, Falloff, KNEE_MARGIN, Recommendation, RuleOfThumb, Verdict,
    like_best, main_group, ratios_to_best, recommend,
};
