//! The guide's client modes over the S3 client: one client shared by every request, a new
//! client per request, or several clients sharing one handler ("Performance > Parallel
//! workloads in Node.js"), and the factory that hands out clients per mode.
//!
//! Invariant: the mode decides only what clients share (pool, credentials provider); every
//! client still has its own retry quota, and every client of a factory records into the
//! factory's counters, so a run's totals do not depend on how many clients it made.
//!
//! # Layout
//!
//! - `mode`: [`ClientMode`].
//! - `factory`: [`ClientFactory`].

mod factory;
mod mode;

pub use factory::ClientFactory;
pub use mode::{ClientMode, DEFAULT_SHARED_HANDLER_CLIENTS};
