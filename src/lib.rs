//! poolsweep: find the `maxSockets` and batch size for a parallel S3 workload by measuring it.
//!
//! # Layout
//!
//! - [`cli`]: the `poolsweep` command line, callable in-process.
//! - [`metrics`]: samples folded into histograms and counts that add up; client CPU time.
//! - [`pool`]: a per-origin socket pool with the semantics of Node's `https.Agent`.
//! - [`transport`]: the two pools (Agent, hyper-util) behind one type, the endpoint, deadlines,
//!   the body type, transport errors and attempt facts.
//! - [`s3`]: the S3 client: operations, SigV4, credentials, standard-mode retries, typed errors.
//! - [`modes`]: the guide's three client modes and the factory that hands out clients.
//! - [`recommend`]: best maxSockets, knee and fall-off per (client, batch), and why.
//! - [`results`]: the versioned result file (schema, crash-safe writer, CSV export).
//! - [`report`]: SVG charts and the HTML report drawn from a result file.
//! - [`compare`]: two result files compared (throughput, exact counters, knee), rendered for a
//!   terminal, CI (Markdown, exit status) and HTML, and exported for CI dashboards.
//! - [`sweep`]: the grid, measured in shuffled rounds, written to the result file after every run.
//! - [`workload`]: what requests to send and when (batch, window, burst, rate), one driver.

pub mod cli;
pub mod compare;
pub mod metrics;
pub mod modes;
pub mod pool;
pub mod recommend;
pub mod report;
pub mod results;
pub mod s3;
pub mod sweep;
pub mod transport;
pub mod workload;
