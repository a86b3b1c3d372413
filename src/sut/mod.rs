//! The client under test: the one seam through which the sweep drives an S3 client, so that
//! poolsweep's own client, another crate's S3 client in-process, or an SDK in another language
//! driven from a child process are measured by the same sweep, metrics and report.
//!
//! A run goes: [`ClientUnderTest::start`] with a point's [`RunSettings`] (client mode,
//! maxSockets, keepAlive, pool, timeouts; endpoint, CA, credentials source, bucket) gives a
//! [`Run`]; the workload driver calls [`Run::call`] once per [`Request`] (concurrently, as
//! the pacing says) and gets an [`OpReport`]; [`Run::finish`] ends the run (its clients are
//! dropped, their pools closed) and gives the run's [`RunReport`] (sockets, handshakes, and
//! the process's CPU time for a client in its own process).
//!
//! Invariant: a run's reports mean the same whatever the client. One call is one object
//! operation, retries included, and ends as exactly one [`OpReport`]: success or one
//! [`ErrorClass`], never an error of the call. A [`RunReport`] covers the run's clients only
//! (not a warm-up's, not another run's), so the sweep adds runs up per point without knowing
//! which client it drove.
//!
//! Dispatch is static: the sweep and the workload driver are generic over the client under
//! test, so poolsweep's own client pays nothing per request for the seam (no boxing, no
//! `dyn`, no lock).
//!
//! # Adding a client
//!
//! A client is one module here (`sut/<name>.rs` or `sut/<name>/`) with a type implementing
//! [`ClientUnderTest`]: in-process (build the run's clients per [`ClientMode`] in `start`,
//! do the operation in `call`, drop them in `finish`), or out of process (`start` sends the
//! settings to a child speaking one JSON object per line, `call` sends "do op i" and waits
//! for its line, `finish` asks for the run's counters; STYLE lesson 17). Settings a client
//! cannot honour (a [`PoolKind`] it does not have, a timeout it cannot set) are refused by
//! `start` with [`Error::Unsupported`], before any request. The sweep, metrics and report need
//! no change.
//!
//! # Layout
//!
//! - this file: [`ClientUnderTest`], [`Run`] and their [`Error`].
//! - [`settings`]: [`RunSettings`], what a run is told, whatever language the client is in.
//! - `op`: [`Request`], one operation to do.
//! - [`report`]: [`OpReport`] per operation and [`RunReport`] per run.
//! - `poolsweep`: [`PoolsweepClient`], poolsweep's own S3 client (Agent or hyper-util pool)
//!   in the guide's client modes.
//! - [`js_v3`]: the AWS SDK for JavaScript v3 on Node.js, in a child process driven over a
//!   line protocol (`runners/js-v3/`).
//! - [`rust_sdk`]: `aws-sdk-s3` in-process, its pool capped with `aws-smithy-http-client`'s
//!   `max_connections_per_host`.
//! - `sdk`: [`Sdk`], which client a point measures (the `--sdk` axis), and [`SdkClients`],
//!   a sweep's clients behind one [`ClientUnderTest`].

pub mod js_v3;
mod op;
mod poolsweep;
pub mod report;
pub mod rust_sdk;
mod sdk;
pub mod settings;

use std::future::Future;

pub use op::{OpKind, Request};
pub use poolsweep::{PoolsweepClient, PoolsweepRun};
pub use report::{ErrorClass, OpReport, RetryReason, RunReport};
pub use sdk::{Sdk, SdkClients, SdkRun};
pub use settings::{
    CaFile, CredentialKind, CredentialSource, DEFAULT_TIME_BUDGET, RunSettings, Service, Timeouts,
};

#[cfg(doc)]
use crate::{modes::ClientMode, transport::PoolKind};

/// An S3 client the sweep can measure.
pub trait ClientUnderTest: Send + Sync {
    /// One run's clients, as [`start`](Self::start) made them.
    type Run: Run;

    /// Makes the clients of one run, as `settings` say (in `per-request` mode: what makes a
    /// client per request). No request is sent yet; nothing is shared with an earlier run.
    fn start(
        &self,
        settings: &RunSettings,
    ) -> impl Future<Output = Result<Self::Run, Error>> + Send;
}

/// One run of a client under test.
pub trait Run: Send + Sync + 'static {
    /// Does one operation, retries included, and reports on it. Called concurrently, as many
    /// times as the workload starts requests. Must not panic on failures: they are data.
    fn call(&self, request: Request) -> impl Future<Output = OpReport> + Send;

    /// Ends the run once every call has returned: drops its clients and reports its
    /// counters.
    fn finish(self) -> impl Future<Output = Result<RunReport, Error>> + Send;
}

/// A client under test could not start or finish a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// poolsweep's own client could not be built (TLS configuration, roots, endpoint).
    #[error(transparent)]
    Build(#[from] crate::s3::BuildError),
    /// The client cannot run with these settings.
    #[error("{client} cannot run with {setting}")]
    Unsupported {
        /// Which client.
        client: &'static str,
        /// The setting it cannot honour.
        setting: String,
    },
    /// The client failed outside any one operation (a runner that died or stopped
    /// answering, a run it could not build).
    #[error("{client}: {message}")]
    Client {
        /// Which client.
        client: &'static str,
        /// What happened.
        message: String,
    },
}
