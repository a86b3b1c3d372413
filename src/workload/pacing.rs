//! When the next request may start: the four patterns as one rule. [`Pattern`] names a
//! pattern (as the sweep, the result file and the command line write it), [`Pacing`] is the
//! pattern with its parameters.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// How requests are issued over time: the one type for it, used by the sweep, the result
/// file and the command line under the names it serialises to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// `batch` requests at once, wait for all, repeat (like `Promise.all` over chunks).
    #[value(help = "Start BATCH requests, wait for all, repeat (the guide's loop)")]
    Batch,
    /// A sliding window: keep `batch` requests in flight.
    #[value(help = "Keep BATCH requests in flight")]
    Window,
    /// Everything at once.
    #[value(help = "Everything at once")]
    Burst,
    /// A fixed request rate.
    #[value(help = "Open loop at --rate requests per second")]
    Rate,
}

impl Pattern {
    /// The name used in result files, CSV, reports and on the command line (what serde
    /// writes).
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Batch => "batch",
            Pattern::Window => "window",
            Pattern::Burst => "burst",
            Pattern::Rate => "rate",
        }
    }

    /// The pacing of this pattern with `batch` requests per batch or window, or `rate_per_s`
    /// requests per second.
    pub fn pacing(self, batch: u32, rate_per_s: f64) -> Pacing {
        match self {
            Pattern::Batch => Pacing::Batch { size: batch },
            Pattern::Window => Pacing::Window { size: batch },
            Pattern::Burst => Pacing::Burst,
            Pattern::Rate => Pacing::Rate { per_s: rate_per_s },
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How requests are started over time.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "pattern")]
pub enum Pacing {
    /// The guide's loop: start the next `size` requests, wait for all, repeat.
    Batch {
        /// Requests per batch.
        size: u32,
    },
    /// Keep `size` requests in flight; start the next as one finishes.
    Window {
        /// Requests in flight.
        size: u32,
    },
    /// Start everything at once (the guide's "all at once" risk).
    Burst,
    /// Open loop: start requests at a fixed rate whatever the server does; latency is
    /// measured from the intended start.
    Rate {
        /// Requests per second.
        per_s: f64,
    },
}

/// The pacing's answer for the next request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Start it now; its intended start is this instant.
    Now(Instant),
    /// Start it at this instant (open loop).
    At(Instant),
    /// Wait until a request in flight finishes.
    Wait,
}

impl Pacing {
    /// The batch size a result file records for this pacing (burst and rate: 0).
    pub fn batch(&self) -> u32 {
        match *self {
            Pacing::Batch { size } | Pacing::Window { size } => size,
            Pacing::Burst | Pacing::Rate { .. } => 0,
        }
    }

    /// Whether request `next` may start with `in_flight` requests running.
    pub(crate) fn admit(&self, next: u64, in_flight: usize, start: Instant) -> Admit {
        let now = Instant::now();
        match *self {
            Pacing::Burst => Admit::Now(now),
            Pacing::Window { size } => {
                if in_flight < size as usize {
                    Admit::Now(now)
                } else {
                    Admit::Wait
                }
            }
            // A batch starts only when the previous one has fully finished.
            Pacing::Batch { size } => {
                if !next.is_multiple_of(u64::from(size)) || in_flight == 0 {
                    Admit::Now(now)
                } else {
                    Admit::Wait
                }
            }
            Pacing::Rate { per_s } => {
                let intended = start + Duration::from_secs_f64(next as f64 / per_s);
                if intended <= now {
                    Admit::Now(intended)
                } else {
                    Admit::At(intended)
                }
            }
        }
    }

    /// Checks the parameters: sizes at least 1, a positive finite rate.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Pacing::Batch { size: 0 } | Pacing::Window { size: 0 } => {
                Err("batch size must be at least 1".to_owned())
            }
            Pacing::Rate { per_s } if !(per_s > 0.0 && per_s.is_finite()) => Err(format!(
                "rate must be a positive number of requests per second, not {per_s}"
            )),
            _ => Ok(()),
        }
    }
}
