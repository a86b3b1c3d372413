//! poolsweep: find the `maxSockets` and batch size for a parallel S3 workload by measuring it.
//!
//! # Layout
//!
//! - [`pool`]: a per-origin socket pool with the semantics of Node's `https.Agent`.
//! - [`results`]: the versioned result file (schema, crash-safe writer, CSV export).
//! - [`report`]: SVG charts and the HTML report drawn from a result file.

pub mod pool;
pub mod report;
pub mod results;
