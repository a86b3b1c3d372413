//! poolsweep: find the `maxSockets` and batch size for a parallel S3 workload by measuring it.
//!
//! # Layout
//!
//! - [`pool`]: a per-origin socket pool with the semantics of Node's `https.Agent`.
//! - [`recommend`]: best maxSockets, knee and fall-off per (client, batch), and why.
//! - [`results`]: the versioned result file (schema, crash-safe writer, CSV export).
//! - [`report`]: SVG charts and the HTML report drawn from a result file.
//! - [`workload`]: what requests to send and when (batch, window, burst, rate), one driver.

pub mod pool;
pub mod recommend;
pub mod report;
pub mod results;
pub mod workload;
