//! poolsweep's integration tests: the S3 client and its pools against the embedded mock S3,
//! asserting counts from both sides (the client's pool counters and the server's metrics),
//! never timings.

mod credentials;
mod expect_continue;
mod hyper_util;
/// The crate's layers: no import cycle, every module imports only the layers below it.
mod layers;
mod modes;
mod ops;
mod pool_counts;
mod queue;
mod retries;
/// The AWS SDK for JavaScript v3 on Node.js as a client under test (skipped without Node.js).
mod sut_js_v3;
/// The AWS SDK for Rust as a client under test.
mod sut_rust_sdk;
mod sut_util;
/// The sweep engine and the `poolsweep` binary end to end.
mod sweep;
mod timeouts;
mod util;
