//! Clients under test besides poolsweep's own: the real SDKs, measured in the same sweep.
//!
//! - [`js_v3`]: the AWS SDK for JavaScript v3 on Node.js, in a child process driven over a
//!   line protocol (`runners/js-v3/`).
//! - [`rust_sdk`]: `aws-sdk-s3` in-process, its pool capped with
//!   `aws-smithy-http-client`'s `max_connections_per_host`.
//! - [`settings`], [`report`]: what every client under test is told at the start of a run
//!   and what it reports, per operation and per run.

pub mod js_v3;
pub mod report;
pub mod rust_sdk;
pub mod settings;

pub use report::{OpReport, RetryReason, RunReport};
pub use settings::{CaFile, CredentialSource, RunSettings};
