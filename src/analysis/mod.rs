//! What a run's points say: for each (client mode, batch size) the maxSockets to set, and why.
//!
//! Invariant: a recommendation is drawn from measured points only, and says which counters
//! explain what it claims (SlowDown, EMFILE, handshakes, timeouts); the result file stores it
//! as it is, next to the points it was drawn from.
//!
//! # Layout
//!
//! - `recommend`: [`Recommendation`] (with [`RuleOfThumb`]) and [`recommend`], the knee,
//!   best and fall-off of each curve of the run's main group.

mod recommend;

pub use recommend::{KNEE_FRACTION, Recommendation, RuleOfThumb, main_group, recommend};
