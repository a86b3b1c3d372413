//! [`CountingConnector`]: wraps an Agent connector so the Agent's connects, handshakes and
//! closes land in the shared [`PoolCounters`], exactly as the hyper-util pool's connector
//! records them (hyper-util's `DebugConnector` idea: count reuse by counting connects).
//!
//! Invariant: a [`Counted`] connection is counted open from its successful connect until it
//! is dropped, which is when the pool lets go of the socket.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::stats::PoolCounters;
use crate::pool::{Connect, ConnectCtx, ConnectError, Handshake, Origin, PoolConn};

/// A connector that counts what the connector it wraps does.
#[derive(Debug)]
pub struct CountingConnector<C> {
    inner: C,
    counters: Arc<PoolCounters>,
    unpooled: bool,
}

impl<C> CountingConnector<C> {
    /// Counts `inner`'s connects into `counters`. `unpooled` marks connections opened for
    /// requests sent outside the pool (`Expect: 100-continue` on the SDK's own agent).
    pub fn new(inner: C, counters: Arc<PoolCounters>, unpooled: bool) -> Self {
        Self {
            inner,
            counters,
            unpooled,
        }
    }

    /// The wrapped connector.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

impl<C: Connect> Connect for CountingConnector<C> {
    type Conn = Counted<C::Conn>;

    async fn connect(
        &self,
        origin: &Origin,
        ctx: &ConnectCtx,
    ) -> Result<Counted<C::Conn>, ConnectError> {
        self.counters.connect_started();
        match self.inner.connect(origin, ctx).await {
            Ok(conn) => {
                self.counters.opened(conn.handshake(), self.unpooled);
                Ok(Counted {
                    conn,
                    counters: Arc::clone(&self.counters),
                })
            }
            Err(error) => {
                self.counters.connect_failed(&error);
                Err(error)
            }
        }
    }
}

/// A connection counted open until dropped. Dereferences to the connection.
#[derive(Debug)]
pub struct Counted<T> {
    conn: T,
    counters: Arc<PoolCounters>,
}

impl<T> Deref for Counted<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.conn
    }
}

impl<T> DerefMut for Counted<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.conn
    }
}

impl<T> Drop for Counted<T> {
    fn drop(&mut self) {
        self.counters.closed();
    }
}

impl<T: PoolConn> PoolConn for Counted<T> {
    fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    async fn ready(&mut self) -> bool {
        self.conn.ready().await
    }

    fn handshake(&self) -> Handshake {
        self.conn.handshake()
    }
}
