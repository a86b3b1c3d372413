//! The connection abstraction the pool is generic over: [`Connect`] makes a connection for
//! an origin, and [`PoolConn`] tells the pool whether that connection can carry another
//! request.
//!
//! Invariant: the pool never looks inside a connection. It only asks `is_closed` (may this
//! idle connection be handed out?), `ready` (may this connection be reused now that its
//! response has ended?) and `handshake` (was it resumed?). So unit tests pool plain values
//! and count connects, as hyper-util's `DebugConnector` does.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::error::ConnectError;
use super::origin::Origin;

/// Opens connections for the pool. The real one is [`HttpConnector`](super::HttpConnector).
/// Each [`Agent`](super::Agent) owns its connector, and with it the TLS session cache.
pub trait Connect: Send + Sync + 'static {
    /// The connection type the pool holds.
    type Conn: PoolConn;

    /// Opens a new connection to `origin`. Call [`ConnectCtx::mark_tcp_connected`] once the
    /// transport is connected and before any TLS handshake. This is what stops the
    /// connection timeout, as Node's `'connect'` event does for the SDK.
    ///
    /// The future may be dropped at any point (connection timeout). Dropping it must abandon
    /// the connection.
    fn connect(
        &self,
        origin: &Origin,
        ctx: &ConnectCtx,
    ) -> impl Future<Output = Result<Self::Conn, ConnectError>> + Send;
}

/// A pooled connection, as the pool sees it.
pub trait PoolConn: Send + 'static {
    /// True once the connection can never carry another request, for example because the
    /// server closed it while it was idle. Closed idle connections are removed, not handed
    /// out. Node removes a free socket on its `'close'` event.
    fn is_closed(&self) -> bool;

    /// Resolves to `true` when the connection can take the next request and to `false` if
    /// it closed. This is called only after the previous response was read to its end.
    /// hyper's `SendRequest::is_ready()` is only a hint at that point; `ready().await` is
    /// the reliable test.
    fn ready(&mut self) -> impl Future<Output = bool> + Send;

    /// How this connection's TLS handshake went.
    fn handshake(&self) -> Handshake;
}

/// How a connection's TLS handshake went, from rustls's `handshake_kind()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handshake {
    /// No TLS (an `http:` origin).
    Plain,
    /// A full handshake, including one with a HelloRetryRequest.
    Full,
    /// An abbreviated handshake that resumed a cached session.
    Resumed,
}

/// Per-connect context the pool hands to [`Connect::connect`].
#[derive(Debug)]
pub struct ConnectCtx {
    socket_id: u64,
    tcp_connected: AtomicBool,
    started: AtomicBool,
}

impl ConnectCtx {
    /// A context for the socket with this id. The pool creates these itself. The constructor
    /// is public so that tests and tools can call a connector directly.
    pub fn new(socket_id: u64) -> Self {
        Self {
            socket_id,
            tcp_connected: AtomicBool::new(false),
            started: AtomicBool::new(false),
        }
    }

    /// The id the pool gives this socket (unique per agent, not dense).
    pub fn socket_id(&self) -> u64 {
        self.socket_id
    }

    /// Records that the transport is connected. This stops the SDK-style connection timeout
    /// before the TLS handshake, as Node's `'connect'` does (`set-connection-timeout.ts`).
    pub fn mark_tcp_connected(&self) {
        self.tcp_connected.store(true, Ordering::Release);
    }

    /// Whether [`mark_tcp_connected`](Self::mark_tcp_connected) was called.
    pub fn is_tcp_connected(&self) -> bool {
        self.tcp_connected.load(Ordering::Acquire)
    }

    pub(super) fn mark_started(&self) {
        self.started.store(true, Ordering::Relaxed);
    }

    pub(super) fn is_started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }
}
