//! The S3 client's transports and how clients are made: the two pools behind one type with
//! one set of counters, and the guide's three client modes.
//!
//! Invariant: both pools are measured the same way. Connects, handshakes and closes are
//! counted by the connectors (the Agent's is wrapped in [`CountingConnector`], hyper-util's
//! is poolsweep's own), requests and socket waits by the pools' send path, all into one
//! [`PoolCounters`].
//!
//! # Layout
//!
//! - `pool`: [`Pool`] (`Agent` or `HyperUtil`) and [`PoolConfig`].
//! - `agent_pool`: [`AgentPool`], the Node-style agent, with the SDK's unpooled
//!   `Expect: 100-continue` path.
//! - `hyper_util_pool`: [`HyperUtilPool`], hyper-util's legacy client plus a semaphore.
//! - `counting`: [`CountingConnector`], the Agent's connector, counted.
//! - `tls_connector`, `tls`: hyper-util's connector (TCP, rustls) and its TLS config.
//! - `deadline`: the SDK's `requestTimeout` across queue wait and exchange.
//! - `endpoint`: [`Endpoint`], the parsed S3 endpoint.
//! - `stats`: [`PoolCounters`] and [`PoolStats`].
//! - `mode`, `factory`: [`ClientMode`] and [`ClientFactory`].

mod agent_pool;
mod counting;
pub(crate) mod deadline;
mod endpoint;
mod factory;
mod hyper_util_pool;
mod mode;
mod pool;
mod stats;
mod tls;
mod tls_connector;

pub use agent_pool::{AgentOwnership, AgentPool, S3Agent};
pub use counting::{Counted, CountingConnector};
pub use endpoint::{Endpoint, InvalidEndpoint};
pub use factory::ClientFactory;
pub use hyper_util_pool::HyperUtilPool;
pub use mode::ClientMode;
pub use pool::{Pool, PoolConfig, PoolKind};
pub use stats::{PoolCounters, PoolStats};

pub(crate) use pool::{Attempt, Prepared};
