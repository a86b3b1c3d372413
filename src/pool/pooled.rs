//! [`Pooled`]: the guard that owns a socket while one request uses it.
//!
//! Invariant: a `Pooled` holds its connection from assignment until it is released or
//! dropped. Either way the agent hears about it exactly once. [`Pooled::release`] returns
//! the socket to the agent, provided the response body was read to its end, the response
//! allowed keep-alive, and `ready()` confirms it. Anything else closes the socket and counts
//! the reason.
//!
//! Node differs on one point. A response whose body is never read holds its socket forever
//! (`'end'` never fires, so `'free'` never fires; aws-sdk-js-v3#5517, #6691), and enough
//! such responses deadlock an agent at `maxSockets`. Here, dropping the guard closes the
//! socket as [`CloseReason::Unconsumed`] and frees its slot. To model the deadlock, keep the
//! guard alive.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use super::agent::Shared;
use super::conn::{Connect, Handshake, PoolConn};
use super::origin::Origin;
use super::stats::CloseReason;

/// What happened to a socket on release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// It went straight to the request at the head of the origin's queue. Node's `'free'`
    /// handler does this even when keepAlive is false.
    HandedOver,
    /// It is idle in the origin's free list.
    Parked,
    /// It was closed, for this reason.
    Closed(CloseReason),
}

/// Facts about one socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketInfo {
    /// The socket's id, unique within its agent.
    pub id: u64,
    /// How its TLS handshake went.
    pub handshake: Handshake,
    /// When it connected.
    pub connected_at: Instant,
    /// How long connecting took: TCP, TLS and the HTTP/1.1 handshake.
    pub connect_duration: Duration,
    /// Requests it carried to completion before the current one.
    pub requests: u64,
}

/// A connection and its facts, as the agent stores it.
pub(super) struct Socket<T> {
    pub(super) conn: T,
    pub(super) info: SocketInfo,
    /// The agent's destroy count when the socket was created: a later `destroy()` destroyed
    /// it.
    pub(super) epoch: u64,
}

/// A socket checked out of an [`Agent`](super::Agent) for one request. It dereferences to the
/// connection (for the real connector, [`HttpConn`](super::HttpConn)).
///
/// Read the response body to its end, then call [`release`](Self::release). Call
/// [`close_on_error`](Self::close_on_error) if the request failed. Dropping the guard
/// otherwise closes the socket ([`CloseReason::Unconsumed`]).
#[must_use = "dropping a Pooled closes its socket; call release() after reading the body"]
pub struct Pooled<C: Connect> {
    shared: Arc<Shared<C>>,
    origin: Origin,
    conn: Option<C::Conn>,
    info: SocketInfo,
    epoch: u64,
    handed_over: Instant,
    assigned_at: Instant,
    queued: Duration,
}

impl<C: Connect> Pooled<C> {
    pub(super) fn new(
        shared: Arc<Shared<C>>,
        origin: Origin,
        socket: Socket<C::Conn>,
        handed_over: Instant,
        assigned_at: Instant,
        queued: Duration,
    ) -> Self {
        Self {
            shared,
            origin,
            conn: Some(socket.conn),
            info: socket.info,
            epoch: socket.epoch,
            handed_over,
            assigned_at,
            queued,
        }
    }

    /// The origin this socket is connected to.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Facts about the socket.
    pub fn socket(&self) -> &SocketInfo {
        &self.info
    }

    /// Whether the socket had carried a request before this one. Node's `req.reusedSocket`
    /// is set only for free-list reuse; this also counts a direct hand-over.
    pub fn is_reused(&self) -> bool {
        self.info.requests > 0
    }

    /// When the request was handed to the agent. The SDK's `requestTimeout` (and
    /// `connectionTimeout`) run from here, so queue wait counts against them.
    pub fn handed_over(&self) -> Instant {
        self.handed_over
    }

    /// When a usable socket was assigned.
    pub fn assigned_at(&self) -> Instant {
        self.assigned_at
    }

    /// Time from hand-over to a usable socket: queue wait plus, for a new socket, connecting.
    /// The agent's `queue_wait` histogram records this value.
    pub fn queue_wait(&self) -> Duration {
        self.assigned_at - self.handed_over
    }

    /// Time spent in the origin's queue only (zero if a socket was available).
    pub fn queued(&self) -> Duration {
        self.queued
    }

    /// When the SDK's "socket usage at capacity" check is due for this request:
    /// `handed_over + socketAcquisitionWarningTimeout`. The agent runs the check itself while
    /// the checkout waits. A request still waiting for response headers at this instant should
    /// call [`Agent::check_socket_usage`](super::Agent::check_socket_usage), because the SDK's
    /// timer runs until the response arrives.
    pub fn socket_usage_check_at(&self) -> Option<Instant> {
        self.shared
            .options
            .socket_acquisition_warning_timeout
            .map(|t| self.handed_over + t)
    }

    /// The connection.
    pub fn conn(&self) -> &C::Conn {
        self.conn
            .as_ref()
            .expect("a Pooled holds its connection until released")
    }

    /// The connection, mutably (to send the request).
    pub fn conn_mut(&mut self) -> &mut C::Conn {
        self.conn
            .as_mut()
            .expect("a Pooled holds its connection until released")
    }

    /// Returns the socket after its response body was read to its end (Node's `'free'`).
    ///
    /// Pass `keep_alive = false` if the response said `Connection: close` or was HTTP/1.0
    /// without keep-alive ([`response_keeps_alive`](super::response_keeps_alive)). Then, or
    /// when the agent sends `Connection: close` itself, the socket is closed
    /// ([`CloseReason::ConnectionClose`]) and a queued request gets a new one. Otherwise the
    /// socket is reused only once `ready()` confirms it within the agent's ready timeout.
    /// It then goes to the queue head, or to the free list, or is closed if the agent keeps
    /// no more sockets.
    ///
    /// Cancel-safe: if this future is dropped, the socket is closed as unconsumed.
    pub async fn release(mut self, keep_alive: bool) -> ReleaseOutcome {
        if !keep_alive || self.shared.options.sends_connection_close() {
            return self.close(CloseReason::ConnectionClose);
        }
        let ready_timeout = self.shared.options.ready_timeout;
        let conn = self.conn_mut();
        // Usually ready at the first poll: the timer is made only when it is not.
        let ready = !conn.is_closed() && {
            let mut ready = std::pin::pin!(conn.ready());
            match std::future::poll_fn(|cx| Poll::Ready(ready.as_mut().poll(cx))).await {
                Poll::Ready(ready) => ready,
                Poll::Pending => tokio::time::timeout(ready_timeout, ready)
                    .await
                    .unwrap_or(false),
            }
        };
        if !ready {
            return self.close(CloseReason::NotReusable);
        }
        let Some(conn) = self.conn.take() else {
            return ReleaseOutcome::Closed(CloseReason::NotReusable);
        };
        let mut info = self.info;
        info.requests += 1;
        let epoch = self.epoch;
        self.shared.free(&self.origin, Socket { conn, info, epoch })
    }

    /// Closes the socket because the request failed ([`CloseReason::Error`]). Node destroys a
    /// socket on `'error'`. A queued request gets a new socket.
    pub fn close_on_error(self) -> ReleaseOutcome {
        self.close(CloseReason::Error)
    }

    fn close(mut self, reason: CloseReason) -> ReleaseOutcome {
        let Some(conn) = self.conn.take() else {
            return ReleaseOutcome::Closed(reason);
        };
        // A socket that `Agent::destroy` destroyed is counted as such, whatever ended it here.
        let counted = self
            .shared
            .remove_in_use(&self.origin, Some((reason, self.epoch)));
        drop(conn);
        ReleaseOutcome::Closed(counted.unwrap_or(reason))
    }
}

impl<C: Connect> Drop for Pooled<C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            tracing::debug!(origin = %self.origin, socket = self.info.id, "socket dropped without release; closing");
            self.shared
                .remove_in_use(&self.origin, Some((CloseReason::Unconsumed, self.epoch)));
            drop(conn);
        }
    }
}

impl<C: Connect> Deref for Pooled<C> {
    type Target = C::Conn;

    fn deref(&self) -> &C::Conn {
        self.conn()
    }
}

impl<C: Connect> DerefMut for Pooled<C> {
    fn deref_mut(&mut self) -> &mut C::Conn {
        self.conn_mut()
    }
}

impl<C: Connect> fmt::Debug for Pooled<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled")
            .field("origin", &self.origin)
            .field("socket", &self.info)
            .field("queue_wait", &self.queue_wait())
            .finish_non_exhaustive()
    }
}
