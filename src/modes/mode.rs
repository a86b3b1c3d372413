//! [`ClientMode`]: the three ways the guide ("Performance > Parallel workloads in Node.js")
//! shows of creating S3 clients for a parallel workload. The one type for the mode: the
//! factory, the sweep, the result file and the command line all use it, under the names it
//! serialises to.
//!
//! Invariant: the mode decides only what clients share. Every client still has its own retry
//! quota, as every SDK client instance has its own retry strategy.

use std::fmt;
use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};

/// Clients in [`ClientMode::SharedHandler`] unless told otherwise: the guide's example has
/// two (`s3_east` and `s3_west`).
pub const DEFAULT_SHARED_HANDLER_CLIENTS: NonZeroUsize = NonZeroUsize::new(2).expect("2 > 0");

/// How clients are created and what they share.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum ClientMode {
    /// One client for the whole run: one pool, one credentials cache, one retry quota. What
    /// the guide recommends.
    #[value(help = "One client for the whole run")]
    Shared,
    /// A new client for every request, with its own pool (cold TCP and TLS, no session to
    /// resume), its own credentials provider (a fetch per request for remote sources) and a
    /// fresh retry quota: the anti-pattern the guide warns about (aws-sdk-js-v3#4345).
    #[value(help = "A new client (pool, TLS cache, credentials) per request")]
    PerRequest,
    /// Several clients (the guide's example: one per region) sharing one pool and one
    /// credentials provider (`const { credentials, requestHandler } = s3_east.config`),
    /// made once for the run; request `i` goes to client `i % clients`.
    #[value(help = "Several clients sharing one handler and credentials")]
    SharedHandler,
}

impl ClientMode {
    /// The name used in result files, CSV, reports and on the command line: `shared`,
    /// `per-request`, `shared-handler` (what serde writes).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientMode::Shared => "shared",
            ClientMode::PerRequest => "per-request",
            ClientMode::SharedHandler => "shared-handler",
        }
    }
}

impl fmt::Display for ClientMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::ValueEnum as _;

    #[test]
    fn one_name_in_files_reports_and_flags() {
        for &mode in ClientMode::value_variants() {
            assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
            assert_eq!(mode.to_possible_value().unwrap().get_name(), mode.as_str());
            assert_eq!(ClientMode::from_str(mode.as_str(), false), Ok(mode));
        }
    }
}
