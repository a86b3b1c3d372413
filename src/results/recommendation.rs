//! The answer to "which maxSockets should I set?" for one (client, batch) pair.
//!
//! maxSockets values are `Option<u32>` with `None` meaning Infinity, as in [`super::Point`].

use serde::{Deserialize, Serialize};

use super::ClientMode;

/// The recommendation for one client mode and batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Client mode.
    pub client: ClientMode,
    /// Batch size.
    pub batch: u32,
    /// maxSockets with the highest median objects/s; `None` is Infinity.
    pub best_max_sockets: Option<u32>,
    /// The knee: the smallest maxSockets whose throughput is close to the best (the value to
    /// set); `None` is Infinity.
    pub knee_max_sockets: Option<u32>,
    /// The smallest finite maxSockets above the best from which throughput drops clearly below
    /// the best (e.g. because the server answers `SlowDown`); `None` if it never does.
    pub falloff_from: Option<u32>,
    /// How the common rule "maxSockets = batch size" fares against the best.
    pub rule_of_thumb: RuleOfThumb,
    /// Why, in one or two sentences a user can act on.
    pub reason: String,
}

/// The rule of thumb "set maxSockets to the batch size", measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleOfThumb {
    /// The maxSockets the rule picks: the batch size.
    pub max_sockets: u32,
    /// Median objects/s at that maxSockets; `None` if the sweep did not measure it.
    pub objects_per_s: Option<f64>,
    /// Percent difference from the best (`-12.5` = 12.5 % slower); `None` if not measured.
    pub vs_best_pct: Option<f64>,
}
