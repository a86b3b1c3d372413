//! [`Pool`]: the two transports behind one type, with one set of counters.
//!
//! Invariant: whatever the pool, an attempt reports the same facts (socket, socket wait,
//! `Expect: 100-continue` handling, request-timeout warning) and records into the same
//! [`PoolCounters`], so a sweep compares the Agent and the hyper-util pool by one ruler.
//! Cloning a `Pool` shares it: that is how clients share a handler.

use std::num::NonZeroUsize;
use std::sync::Arc;

use rustls::RootCertStore;
use serde::{Deserialize, Serialize};

use super::agent_pool::{AgentOwnership, AgentPool, S3Agent};
use super::endpoint::Endpoint;
use super::hyper_util_pool::HyperUtilPool;
use super::stats::PoolCounters;
use crate::pool::AgentOptions;

/// Which pool a client uses, and its settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PoolConfig {
    /// poolsweep's Node-style [`Agent`](crate::pool::Agent).
    Agent {
        /// The agent's options (`maxSockets`, `keepAlive`, `scheduling`, timeouts).
        options: AgentOptions,
        /// Whether the SDK made the agent or the caller supplied it.
        ownership: AgentOwnership,
    },
    /// hyper-util's legacy client with a semaphore of `max_sockets` in-flight requests.
    HyperUtil {
        /// The cap (`pool_max_idle_per_host` and the semaphore); `None` for none at all.
        max_sockets: Option<NonZeroUsize>,
    },
}

impl Default for PoolConfig {
    /// The SDK's own agent: [`AgentOptions::sdk_default`] (keepAlive, maxSockets 50).
    fn default() -> Self {
        Self::agent(AgentOptions::sdk_default())
    }
}

impl PoolConfig {
    /// An agent the SDK made with `options`.
    pub fn agent(options: AgentOptions) -> Self {
        Self::Agent {
            options,
            ownership: AgentOwnership::Sdk,
        }
    }

    /// An agent the caller supplied, with `options`.
    pub fn external_agent(options: AgentOptions) -> Self {
        Self::Agent {
            options,
            ownership: AgentOwnership::External,
        }
    }

    /// The hyper-util legacy client capped at `max_sockets` (`0`: no cap, like Node's
    /// Infinity).
    pub fn hyper_util(max_sockets: usize) -> Self {
        Self::HyperUtil {
            max_sockets: NonZeroUsize::new(max_sockets),
        }
    }
}

/// Which kind of pool: the one type for it, used by the sweep, the result file and the
/// command line under the names it serialises to.
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
pub enum PoolKind {
    /// [`PoolConfig::Agent`]: poolsweep's own pool with the semantics of Node's `https.Agent`.
    #[value(help = "poolsweep's pool with Node's Agent semantics")]
    Agent,
    /// [`PoolConfig::HyperUtil`]: hyper-util's legacy client pool (no socket cap of its own;
    /// capped by a semaphore here).
    #[value(help = "hyper-util's legacy client, capped with a semaphore")]
    HyperUtil,
}

impl PoolKind {
    /// The name used in result files, CSV, reports and on the command line: `agent`,
    /// `hyper-util` (what serde writes).
    pub fn as_str(self) -> &'static str {
        match self {
            PoolKind::Agent => "agent",
            PoolKind::HyperUtil => "hyper-util",
        }
    }
}

impl std::fmt::Display for PoolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client's transport. Cloning shares it.
#[derive(Clone, Debug)]
pub enum Pool {
    /// poolsweep's Node-style agent.
    Agent(Arc<AgentPool>),
    /// hyper-util's legacy client with a semaphore.
    HyperUtil(Arc<HyperUtilPool>),
}

impl Pool {
    /// A pool per `config` for `endpoint`, trusting `roots`, recording into `counters`.
    pub fn new(
        config: &PoolConfig,
        endpoint: &Endpoint,
        roots: Arc<RootCertStore>,
        counters: Arc<PoolCounters>,
    ) -> Result<Self, rustls::Error> {
        Ok(match config {
            PoolConfig::Agent { options, ownership } => Pool::Agent(Arc::new(AgentPool::new(
                options.clone(),
                *ownership,
                endpoint,
                roots,
                counters,
            )?)),
            PoolConfig::HyperUtil { max_sockets } => Pool::HyperUtil(Arc::new(HyperUtilPool::new(
                *max_sockets,
                endpoint,
                roots,
                counters,
            )?)),
        })
    }

    /// Which kind.
    pub fn kind(&self) -> PoolKind {
        match self {
            Pool::Agent(_) => PoolKind::Agent,
            Pool::HyperUtil(_) => PoolKind::HyperUtil,
        }
    }

    /// The agent, for the Agent pool (its own [`AgentStats`](crate::pool::AgentStats), or to
    /// hold a socket in a test).
    pub fn agent(&self) -> Option<&S3Agent> {
        match self {
            Pool::Agent(p) => Some(p.agent()),
            Pool::HyperUtil(_) => None,
        }
    }

    /// Whether two handles share one pool.
    pub fn same_as(&self, other: &Pool) -> bool {
        match (self, other) {
            (Pool::Agent(a), Pool::Agent(b)) => Arc::ptr_eq(a, b),
            (Pool::HyperUtil(a), Pool::HyperUtil(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::ValueEnum as _;

    #[test]
    fn one_name_in_files_reports_and_flags() {
        for &kind in PoolKind::value_variants() {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(kind.to_possible_value().unwrap().get_name(), kind.as_str());
        }
    }
}
