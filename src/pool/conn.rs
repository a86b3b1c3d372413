//! The connection abstraction the pool is generic over: [`Connect`] makes a connection for
//! an origin, and [`PoolConn`] tells the pool whether that connection can carry another
//! request.
//!
//! Invariant: the pool never looks inside a connection. It only asks `is_closed` (may this
//! idle connection be handed out?), `ready` (may this connection be reused now that its
//! response has ended?) and `handshake` (was it resumed?), and it hears from a connection's
//! [`SocketLifecycle`] when the connection ends. So unit tests pool plain values and count
//! connects, as hyper-util's `DebugConnector` does.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

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
    /// Spawn the connection's driver (hyper's `Connection`, say) with the context's
    /// [`SocketLifecycle`]: the agent then hears when the connection closes, and can destroy
    /// it.
    ///
    /// The future may be dropped at any point (connection timeout, `Agent::destroy`).
    /// Dropping it must abandon the connection.
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
    lifecycle: Mutex<Option<SocketLifecycle>>,
}

impl ConnectCtx {
    /// A context for the socket with this id, tied to no agent: its
    /// [`lifecycle`](Self::lifecycle) is never destroyed and reports its close to no one.
    /// The pool creates its contexts itself. This constructor is public so that tests and
    /// tools can call a connector directly.
    pub fn new(socket_id: u64) -> Self {
        Self {
            socket_id,
            tcp_connected: AtomicBool::new(false),
            started: AtomicBool::new(false),
            lifecycle: Mutex::new(None),
        }
    }

    /// Ties the socket to its agent, before the connect starts.
    pub(super) fn set_lifecycle(&self, lifecycle: SocketLifecycle) {
        *self
            .lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(lifecycle);
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

    /// Takes the connection's [`SocketLifecycle`], for the task that drives the connection.
    /// A connector that makes a connection calls this once, and spawns its connection's
    /// driver with [`SocketLifecycle::spawn`]. A second call returns a detached lifecycle.
    pub fn lifecycle(&self) -> SocketLifecycle {
        self.lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_else(SocketLifecycle::detached)
    }

    pub(super) fn mark_started(&self) {
        self.started.store(true, Ordering::Relaxed);
    }

    pub(super) fn is_started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }
}

/// Ties one connection's life to its agent, as Node's socket events tie a socket to its
/// Agent:
///
/// - [`Agent::destroy`](super::Agent::destroy) destroys the connection (Node's
///   `agent.destroy()` destroys every socket, free or in use: `lib/_http_agent.js`
///   lines 517-529 at v20.20.2).
/// - When the connection ends, the agent hears of it (Node's `'close'` → `removeSocket`,
///   lines 375-383 and 416-437): an idle socket leaves the free list at once, and its place
///   goes to a queued request, instead of waiting for a checkout to find it closed.
///
/// A connector that never calls [`spawn`](Self::spawn) still works: the pool then notices a
/// closed idle socket only at checkout, and closes a destroyed socket when its request
/// releases it.
pub struct SocketLifecycle {
    destroy: Option<(Arc<DestroySignal>, u64)>,
    on_close: Option<Box<dyn FnOnce() + Send>>,
}

impl fmt::Debug for SocketLifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketLifecycle")
            .field("born_in_epoch", &self.destroy.as_ref().map(|(_, e)| *e))
            .field("reports_close", &self.on_close.is_some())
            .finish()
    }
}

impl SocketLifecycle {
    /// A socket born in `epoch` of `signal`'s agent, which calls `on_close` when it ends.
    pub(super) fn new(
        signal: Arc<DestroySignal>,
        epoch: u64,
        on_close: Box<dyn FnOnce() + Send>,
    ) -> Self {
        Self {
            destroy: Some((signal, epoch)),
            on_close: Some(on_close),
        }
    }

    fn detached() -> Self {
        Self {
            destroy: None,
            on_close: None,
        }
    }

    /// Spawns `driver`, the task that runs the connection (for hyper, its `Connection`
    /// future), on the current tokio runtime. It runs until it completes, or until the agent
    /// is destroyed: then it is dropped, which closes the connection. Either way the agent is
    /// then told that the socket closed.
    ///
    /// The destroy check costs the driver one atomic load per poll: the wake-up is
    /// registered once, on the first poll, which a task of its own makes safe (its waker
    /// never changes).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as `tokio::spawn` does.
    pub fn spawn<F>(self, driver: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(async move {
            // `self` lives until the driver ends; its drop reports the close.
            let lifecycle = self;
            let Some((signal, epoch)) = lifecycle.destroy.as_ref() else {
                driver.await;
                return;
            };
            let mut destroyed = pin!(signal.notify.notified());
            // Registered before the check: a destroy after the check wakes it.
            destroyed.as_mut().enable();
            let mut driver = pin!(driver);
            let mut registered = false;
            std::future::poll_fn(|cx| {
                if !registered {
                    registered = true;
                    if destroyed.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(());
                    }
                }
                if signal.destroyed_since(*epoch) {
                    return Poll::Ready(());
                }
                driver.as_mut().poll(cx)
            })
            .await;
        });
    }
}

impl Drop for SocketLifecycle {
    fn drop(&mut self) {
        if let Some(on_close) = self.on_close.take() {
            on_close();
        }
    }
}

/// An agent's destroy count, and the wake-up for what waits on it. Sockets remember the
/// epoch they were born in, and a socket born before the latest `destroy()` is destroyed.
#[derive(Debug, Default)]
pub(super) struct DestroySignal {
    epoch: AtomicU64,
    notify: Notify,
}

impl DestroySignal {
    /// Whether a destroy happened after `epoch`.
    pub(super) fn destroyed_since(&self, epoch: u64) -> bool {
        self.epoch.load(Ordering::Acquire) > epoch
    }

    /// Moves to `epoch` and wakes every socket and connect born before it.
    pub(super) fn destroy(&self, epoch: u64) {
        self.epoch.store(epoch, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Resolves once a destroy happens after `epoch`.
    pub(super) async fn destroyed_after(&self, epoch: u64) {
        loop {
            let notified = self.notify.notified();
            let mut notified = pin!(notified);
            notified.as_mut().enable();
            if self.destroyed_since(epoch) {
                return;
            }
            notified.await;
        }
    }
}
