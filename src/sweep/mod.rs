//! The sweep: every point of the grid (maxSockets × batch × client mode × pool × server
//! profile) measured `repetitions` times, in rounds whose order is shuffled so that machine
//! drift does not favour one side, each run on a fresh client after a warm-up on a throwaway
//! one, its totals checked to add up, and the result file updated after every run. The client
//! is driven through the seam of [`crate::sut`], so the sweep does not know which client it
//! measures.
//!
//! Invariant: after every run the result file holds every point measured so far (a point's
//! `repetitions` says how many of its runs are done), so Ctrl-C or a crash keeps every
//! finished measurement.

mod child;
mod config;
mod run;

pub use child::{ChildMock, Hello, serve_child};
pub use config::SweepConfig;
pub use run::{
    Event, External, PointAcc, PointSpec, RunRecord, Server, Summary, run_once, run_seeds,
    run_sweep,
};
