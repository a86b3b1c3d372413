//! The S3 client's transport: the two pools (poolsweep's Node-style Agent, hyper-util's legacy
//! client) behind one type, with one set of counters, and everything an attempt needs below
//! S3 itself: the endpoint, the `requestTimeout` deadline, the request body with its
//! `Expect: 100-continue` gate, the facts an attempt reports and the errors it fails with.
//!
//! Invariant: both pools are measured the same way. Connects, handshakes and closes are
//! counted by the connectors (the Agent's is wrapped in [`CountingConnector`], hyper-util's
//! is poolsweep's own), requests and socket waits by the pools' send path, all into one
//! [`PoolCounters`]. Nothing here knows about S3 operations, signing or retries: the layer
//! above ([`crate::s3`]) hands over a signed request and reads an attempt's result.
//!
//! # Layout
//!
//! - `pool`: [`Pool`] (`Agent` or `HyperUtil`), [`PoolConfig`] and [`PoolKind`].
//! - `agent_pool`: [`AgentPool`], the Node-style agent, with the SDK's unpooled
//!   `Expect: 100-continue` path.
//! - `hyper_util_pool`: [`HyperUtilPool`], hyper-util's legacy client plus a semaphore.
//! - `attempt`: what a pool is handed and what it answers: the socket used ([`SocketUse`]),
//!   the `100-continue` outcome ([`ContinueWait`]).
//! - `body`: [`S3Body`], the request body of both pools, including the `100-continue` gate.
//! - `error`: [`TransportError`], classified once (EMFILE apart), and [`TimeoutError`].
//! - `counting`: [`CountingConnector`], the Agent's connector, counted.
//! - `tls_connector`, `tls`: hyper-util's connector (TCP, rustls) and its TLS config.
//! - `deadline`: the SDK's `requestTimeout` across queue wait and exchange.
//! - `endpoint`: [`Endpoint`], the parsed S3 endpoint.
//! - `stats`: [`PoolCounters`] and [`PoolStats`].

mod agent_pool;
mod attempt;
mod body;
mod counting;
pub(crate) mod deadline;
mod endpoint;
mod error;
mod hyper_util_pool;
mod pool;
mod stats;
mod tls;
mod tls_connector;

pub use agent_pool::{AgentOwnership, AgentPool, S3Agent};
pub use attempt::{ContinueWait, SocketUse};
pub use body::{MIN_CONTINUE_WAIT, S3Body};
pub use counting::{Counted, CountingConnector};
pub use endpoint::{Endpoint, InvalidEndpoint};
pub use error::{BoxError, TimeoutError, TimeoutKind, TransportError};
pub use hyper_util_pool::HyperUtilPool;
pub use pool::{Pool, PoolConfig, PoolKind};
pub use stats::{PoolCounters, PoolStats};

pub(crate) use attempt::{Attempt, Prepared};
