//! A per-origin socket pool with the semantics of Node's `https.Agent`.
//!
//! Invariant: every socket the agent counts is in exactly one place. It is either
//! connecting for one checkout, owned by one [`Pooled`] guard (in use), or idle in its
//! origin's free list, never two of these at once. For each origin,
//! `connecting + in use + idle <= maxSockets`. Across origins, a socket is made only while
//! the total is below `maxTotalSockets` (Node's `removeSocket` makes an exception, kept here:
//! see `state`). A checkout that finds no idle socket and no room waits in its origin's FIFO
//! queue. When a socket is freed or closed, the head of that queue gets it (Node
//! `lib/_http_agent.js`, `addRequest`, the `'free'` handler and `removeSocket`). A checkout
//! dropped at any point, polled or not, gives back what it held.
//!
//! # Layout
//!
//! - [`options`](AgentOptions): Node's Agent options and the AWS SDK handler's timeouts, with
//!   [`AgentOptions::node_default`] and [`AgentOptions::sdk_default`].
//! - `agent`: [`Agent`], the public handle. Its `Shared` state is one mutex over small
//!   bookkeeping plus lock-free counters.
//! - `state`: the Node decisions (acquire, free, remove and rescue) as plain synchronous code
//!   under that mutex.
//! - `checkout`: the checkout future and the claim it holds on a slot or queue place. It
//!   waits FIFO at the cap, connects, and enforces `connection_timeout` and the
//!   capacity-warning timer.
//! - `pooled`: [`Pooled`], the guard that owns a socket while a request uses it.
//!   [`Pooled::release`] gives the socket back. Dropping the guard closes it.
//! - `idle`: the per-origin free list (lifo or fifo) and the idle-timeout reaper.
//! - `warning`: the SDK's "socket usage at capacity" warning rule.
//! - `stats`: [`AgentStats`], a snapshot of atomic counters.
//! - `conn`: the tiny [`Connect`] and [`PoolConn`] traits that the pool is generic over, and
//!   the [`SocketLifecycle`] through which a connection's close reaches the agent and
//!   `destroy()` reaches the connection. Unit tests pool plain values through them, with no
//!   sockets and no TLS.
//! - `connector`, `tls`, `http`: the real connector (TCP, then rustls with a per-agent session
//!   cache that works as Node's, then hyper HTTP/1.1) and helpers for the request/response
//!   side.
//! - `error`: [`ConnectError`].
//!
//! # Examples
//!
//! ```no_run
//! # async fn demo(roots: rustls::RootCertStore) -> Result<(), Box<dyn std::error::Error>> {
//! use poolsweep::pool::{Agent, AgentOptions, HttpConnector, Origin, read_body_and_release};
//!
//! let agent = Agent::new(HttpConnector::new(roots)?, AgentOptions::sdk_default());
//! let origin = Origin::https("localhost", 9443);
//! let mut socket = agent.checkout(&origin).await?;
//! let request = http::Request::get("/bucket/key")
//!     .header(http::header::HOST, "localhost:9443")
//!     .header(http::header::CONNECTION, agent.connection_header())
//!     .body(http_body_util::Full::new(bytes::Bytes::new()))?;
//! let response = socket.send_request(request).await?;
//! let (response, _outcome) = read_body_and_release(socket, response).await?;
//! assert!(response.status().is_success());
//! println!("{:?}", agent.stats());
//! # Ok(()) }
//! ```

mod agent;
mod checkout;
mod conn;
mod connector;
mod error;
mod http;
mod idle;
mod options;
mod origin;
mod pooled;
mod state;
mod stats;
mod tls;
mod warning;

#[cfg(test)]
mod testing;

pub use agent::Agent;
pub use conn::{Connect, ConnectCtx, Handshake, PoolConn, SocketLifecycle};
pub use connector::{HttpConn, HttpConnector};
pub use error::{ConnectError, TimeoutPhase};
pub use http::{read_body_and_release, response_keeps_alive};
pub use options::{
    AgentOptions, DEFAULT_READY_TIMEOUT, DEFAULT_SOCKET_ACQUISITION_WARNING_TIMEOUT,
    NODE_GLOBAL_AGENT_TIMEOUT, NODE_MAX_CACHED_SESSIONS, NODE_MAX_FREE_SOCKETS, SDK_MAX_SOCKETS,
    SOCKET_WARNING_INTERVAL, Scheduling,
};
pub use origin::{InvalidOrigin, Origin, Scheme};
pub use pooled::{Pooled, ReleaseOutcome, SocketInfo};
pub use stats::{AgentStats, CloseReason, ClosedStats, WaitHistogram};
