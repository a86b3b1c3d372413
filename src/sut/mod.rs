//! Clients under test besides poolsweep's own: the real SDKs, measured in the same sweep.
//!
//! - [`settings`], [`report`]: what every client under test is told at the start of a run
//!   and what it reports, per operation and per run.

pub mod report;
pub mod settings;

pub use report::{OpReport, RetryReason, RunReport};
pub use settings::{CaFile, CredentialSource, RunSettings};
