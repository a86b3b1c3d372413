//! [`ClientMode`]: the three ways the guide ("Performance > Parallel workloads in Node.js")
//! shows of creating S3 clients for a parallel workload.
//!
//! Invariant: the mode decides only what clients share. Every client still has its own retry
//! quota, as every SDK client instance has its own retry strategy.

use std::fmt;
use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};

/// How clients are created and what they share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientMode {
    /// One client for the whole run: one pool, one credentials cache, one retry quota. What
    /// the guide recommends.
    Shared,
    /// A new client for every request, with its own pool (cold TCP and TLS, no session to
    /// resume), its own credentials provider (a fetch per request for remote sources) and a
    /// fresh retry quota: the anti-pattern the guide warns about (aws-sdk-js-v3#4345).
    PerRequest,
    /// Several clients (the guide's example: one per region) sharing one pool and one
    /// credentials provider (`const { credentials, requestHandler } = s3_east.config`);
    /// request `i` goes to client `i % clients`.
    SharedHandler {
        /// How many clients.
        clients: NonZeroUsize,
    },
}

impl ClientMode {
    /// The name used in result files: `shared`, `per-request`, `shared-handler`.
    pub fn name(&self) -> &'static str {
        match self {
            ClientMode::Shared => "shared",
            ClientMode::PerRequest => "per-request",
            ClientMode::SharedHandler { .. } => "shared-handler",
        }
    }
}

impl fmt::Display for ClientMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientMode::SharedHandler { clients } => write!(f, "shared-handler({clients})"),
            other => f.write_str(other.name()),
        }
    }
}
