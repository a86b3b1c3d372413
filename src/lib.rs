//! poolsweep: find the `maxSockets` and batch size for a parallel S3 workload by measuring it.
//!
//! # Layout
//!
//! Layers, bottom first. Each module imports only modules listed before it (checked by
//! `tests/integration/layers.rs`), so a module can be read knowing only what comes before it.
//!
//! - [`pool`]: a per-origin socket pool with the semantics of Node's `https.Agent`. *Where
//!   does a request wait for a socket? Why was a socket closed or reused?*
//! - [`transport`]: the two pools (Agent, hyper-util) behind one type, the endpoint, the
//!   `requestTimeout` deadline, the body type, transport errors and what an attempt reports.
//!   *How does a signed request reach a socket, and how are sockets and handshakes counted?*
//! - [`s3`]: the S3 client: operations, SigV4, credentials, standard-mode retries, typed
//!   errors. *What does one S3 call do, and when is it retried?*
//! - [`modes`]: the guide's three client modes and the factory that hands out clients. *What
//!   do clients share in `shared`, `per-request` and `shared-handler` mode?*
//! - [`sut`]: the client under test: the one trait the sweep drives (start a run with a
//!   point's settings, do one operation, report the run's counters), poolsweep's own client
//!   behind it, and the real SDKs: js-v3 (a Node.js child process) and rust-sdk
//!   (`aws-sdk-s3` in-process). *How would I measure another S3 client with the same sweep?
//!   How is the real SDK driven, and what does it report?*
//! - [`workload`]: what requests to send and when (batch, window, burst, rate), one driver
//!   over a client under test. *When does request `i` start?*
//! - [`metrics`]: samples folded into histograms and counts that add up, repetitions into one
//!   [`Point`](metrics::Point); client CPU time. *What does a point's number mean?*
//! - [`analysis`]: the recommendation: best maxSockets, knee and fall-off per (client, batch),
//!   and why. *Why does the report say "set maxSockets N"?*
//! - [`results`]: the versioned result file (schema, crash-safe writer, CSV export). *What is
//!   in a result file, and what survives a crash?*
//! - [`sweep`]: the grid, measured in shuffled rounds, written to the result file after every
//!   run. *In which order are points measured, and what does one run do?*
//! - [`render`]: what the report and `compare` both draw with: chart grid, maxSockets axis,
//!   colours, number and byte formatting.
//! - [`report`]: SVG charts and the HTML report drawn from a result file. *Where is chart X
//!   drawn?*
//! - [`compare`]: two result files compared (throughput, exact counters, knee), rendered for a
//!   terminal, CI (Markdown, exit status) and HTML, and exported for CI dashboards. *Why did CI
//!   fail on a behaviour change?*
//! - [`cli`]: the `poolsweep` command line, callable in-process. *What does a flag do?*
//!
//! The grid's axes are domain types defined once, in the lowest layer that needs them, and
//! written as they are (serde `rename_all`) in result files, CSV, reports and on the command
//! line (clap `ValueEnum`): [`ClientMode`](modes::ClientMode) in `modes`,
//! [`PoolKind`](transport::PoolKind) in `transport`, [`Pattern`](workload::Pattern) and
//! [`Op`](workload::Op) in `workload`.

pub mod analysis;
pub mod cli;
pub mod compare;
pub mod metrics;
pub mod modes;
pub mod pool;
pub mod render;
pub mod report;
pub mod results;
pub mod s3;
pub mod sut;
pub mod sweep;
pub mod transport;
pub mod workload;
