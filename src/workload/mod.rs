//! Workloads: what requests to send and when, driven by one loop.
//!
//! A [`Workload`] composes a [`Pacing`] (the guide's `batch` loop, a sliding `window`, a
//! `burst` of everything at once, or an open-loop `rate`) with an operation mix, object sizes
//! and keys spread over prefixes, and a stop rule (object count or time budget, whichever
//! comes first). [`drive`] runs any workload against any run of a client under test
//! ([`sut::Run`](crate::sut::Run)); there is no function per combination.
//!
//! Invariant: every request the driver starts ends as exactly one [`Sample`] handed to the
//! sink, success or error; `started == samples` when `drive` returns.

mod keys;
mod pacing;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use keys::key_for;
pub use pacing::{Pacing, Pattern};

use crate::sut::{OpKind, OpReport, Request, Run};

/// The S3 operation a workload measures: the one type for it, used by the sweep, the result
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
pub enum Op {
    /// PutObject.
    #[value(help = "PutObject")]
    Put,
    /// GetObject.
    #[value(help = "GetObject")]
    Get,
    /// A mix of PutObject and GetObject.
    #[value(help = "PUT and GET (see --get-fraction)")]
    Mixed,
}

impl Op {
    /// The name used in result files, CSV, reports and on the command line (what serde
    /// writes).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Get => "get",
            Op::Mixed => "mixed",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which operations a workload sends.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum OpMix {
    /// Only PutObject.
    Put,
    /// Only GetObject (objects are created before the measurement).
    Get,
    /// PutObject and GetObject; `get_fraction` of requests are GETs.
    Mixed {
        /// Fraction of GETs, in [0, 1].
        get_fraction: f64,
    },
}

/// Object sizes.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum SizeDist {
    /// Every object has this many bytes.
    Fixed {
        /// Bytes.
        bytes: u64,
    },
    /// Uniform between `min` and `max` bytes (inclusive).
    Uniform {
        /// Smallest size.
        min: u64,
        /// Largest size.
        max: u64,
    },
}

impl OpMix {
    /// Which operation this mix is.
    pub fn op(&self) -> Op {
        match self {
            OpMix::Put => Op::Put,
            OpMix::Get => Op::Get,
            OpMix::Mixed { .. } => Op::Mixed,
        }
    }
}

impl SizeDist {
    /// The largest size this distribution can draw.
    pub fn max(&self) -> u64 {
        match *self {
            SizeDist::Fixed { bytes } => bytes,
            SizeDist::Uniform { max, .. } => max,
        }
    }

    /// The mean size.
    pub fn mean(&self) -> f64 {
        match *self {
            SizeDist::Fixed { bytes } => bytes as f64,
            SizeDist::Uniform { min, max } => (min + max) as f64 / 2.0,
        }
    }
}

/// A workload: pacing × operations × sizes × keys × stop rule.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Workload {
    /// When requests start.
    pub pacing: Pacing,
    /// Which operations.
    pub ops: OpMix,
    /// Object sizes.
    pub sizes: SizeDist,
    /// Objects (requests) to complete.
    pub objects: u64,
    /// Keys are spread over this many prefixes (S3's limits are per prefix).
    pub prefixes: u32,
    /// Stop starting new requests after this long, even if `objects` were not all sent.
    pub time_budget: Duration,
    /// Seed for sizes and the operation mix.
    pub seed: u64,
    /// The first request's sequence number (and key): a run driven in parts (its start-up,
    /// then its steady window) goes on where the last part stopped.
    pub first_index: u64,
    /// Idle time before every batch but the first of the `batch` pacing: bursty demand. Not
    /// counted in the time budget, and reported apart ([`Driven::paused`]).
    pub pause: Duration,
}

/// One finished request.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The request's sequence number.
    pub index: u64,
    /// The operation.
    pub op: OpKind,
    /// When the request should have started (open loop) or started (closed loop).
    pub intended_start: Instant,
    /// When it ended.
    pub end: Instant,
    /// What the client reported.
    pub reply: OpReport,
}

impl Sample {
    /// Latency from the intended start, so that queueing behind a slow server is counted
    /// (no coordinated omission).
    pub fn latency(&self) -> Duration {
        self.end.saturating_duration_since(self.intended_start)
    }
}

/// How a drive ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Driven {
    /// Requests started (= samples delivered).
    pub started: u64,
    /// Wall time from the first start to the last end, pauses included.
    pub elapsed: Duration,
    /// Time spent idle between batches ([`Workload::pause`]).
    pub paused: Duration,
    /// Whether the time budget stopped the run before `objects` were started.
    pub cut_by_budget: bool,
}

fn body_for(buffer: &Bytes, size: u64) -> Bytes {
    buffer.slice(..(size as usize).min(buffer.len()))
}

/// Runs `workload` against `run`, handing every finished request to `sink`.
pub async fn drive<R: Run>(
    workload: &Workload,
    run: Arc<R>,
    mut sink: impl FnMut(Sample),
) -> Driven {
    let buffer = Bytes::from(vec![0x5Au8; workload.sizes.max() as usize]);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(workload.seed);
    let mut in_flight: JoinSet<Sample> = JoinSet::new();
    let start = Instant::now();
    let deadline = start + workload.time_budget;
    let mut deadline = deadline;
    let mut next: u64 = 0;
    let mut cut_by_budget = false;
    let mut paused = Duration::ZERO;
    loop {
        // Start every request the pacing allows now.
        while next < workload.objects {
            if Instant::now() >= deadline {
                cut_by_budget = true;
                break;
            }
            match workload.pacing.admit(next, in_flight.len(), start) {
                pacing::Admit::Now(mut intended) => {
                    if let Pacing::Batch { size } = workload.pacing
                        && !workload.pause.is_zero()
                        && next > 0
                        && next.is_multiple_of(u64::from(size))
                    {
                        // Bursty demand: idle between batches (every request has finished).
                        tokio::time::sleep(workload.pause).await;
                        paused += workload.pause;
                        deadline += workload.pause;
                        intended = Instant::now();
                    }
                    let index = workload.first_index + next;
                    let op = match workload.ops {
                        OpMix::Put => OpKind::Put,
                        OpMix::Get => OpKind::Get,
                        OpMix::Mixed { get_fraction } => {
                            if rng.random::<f64>() < get_fraction {
                                OpKind::Get
                            } else {
                                OpKind::Put
                            }
                        }
                    };
                    let size = match workload.sizes {
                        SizeDist::Fixed { bytes } => bytes,
                        SizeDist::Uniform { min, max } => rng.random_range(min..=max),
                    };
                    let request = Request {
                        index,
                        op,
                        key: key_for(index, workload.prefixes),
                        body: if op == OpKind::Put {
                            body_for(&buffer, size)
                        } else {
                            Bytes::new()
                        },
                    };
                    let run = Arc::clone(&run);
                    in_flight.spawn(async move {
                        let index = request.index;
                        let reply = run.call(request).await;
                        Sample {
                            index,
                            op,
                            intended_start: intended,
                            end: Instant::now(),
                            reply,
                        }
                    });
                    next += 1;
                }
                pacing::Admit::At(when) => {
                    // Open loop: wait for the next start time, reaping what finishes meanwhile.
                    tokio::select! {
                        () = tokio::time::sleep_until(when.min(deadline)) => continue,
                        Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                            sink(done.expect("request tasks do not panic"));
                            continue;
                        }
                    }
                }
                pacing::Admit::Wait => break,
            }
        }
        match in_flight.join_next().await {
            Some(done) => sink(done.expect("request tasks do not panic")),
            None => break,
        }
    }
    Driven {
        started: next,
        elapsed: start.elapsed(),
        paused,
        cut_by_budget: cut_by_budget || next < workload.objects,
    }
}

#[cfg(test)]
mod tests;
