//! The checkout: from hand-over to a usable socket. A free socket is taken at once. Otherwise
//! a new one is connected, or the checkout waits FIFO in its origin's queue until a finished
//! request hands it a socket, or until a closed socket's slot lets it connect one.
//!
//! Invariant: a checkout owns at most one slot at a time, and every exit gives it back. A
//! queued checkout that is dropped leaves the queue. A grant it had already received goes to
//! the next waiter, as a socket or as a slot. A connect that fails or is abandoned frees its
//! slot for the queue head. `connection_timeout` runs from hand-over, so queue wait counts,
//! and stops at TCP connect (the SDK's `set-connection-timeout.ts` clears it on `'connect'`).
//! Cancelling the checkout is then Node's `req.destroy()`.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};

use super::agent::Shared;
use super::conn::{Connect, ConnectCtx, Handshake, PoolConn};
use super::error::{ConnectError, TimeoutPhase};
use super::origin::Origin;
use super::pooled::{Pooled, Socket, SocketInfo};
use super::state::Acquire;
use super::stats::bump;

/// What a queued checkout receives.
pub(super) enum Grant<T> {
    /// A socket freed by a finished request (Node's `'free'` handler hands it to the queue head).
    Socket(Socket<T>),
    /// A slot whose socket closed. The waiter connects a new socket in it (Node's
    /// `removeSocket` → `createSocket` for `requests[name][0]`). The slot is already counted.
    Connect,
}

/// A queued checkout, as its origin's queue holds it.
pub(super) struct Waiter<T> {
    pub(super) id: u64,
    pub(super) tx: oneshot::Sender<Grant<T>>,
}

impl<T> Waiter<T> {
    /// Hands `socket` to this waiter. If the waiter is gone, returns the socket.
    pub(super) fn offer(self, socket: Socket<T>) -> Result<(), Socket<T>> {
        self.tx
            .send(Grant::Socket(socket))
            .map_err(|grant| match grant {
                Grant::Socket(socket) => socket,
                Grant::Connect => {
                    unreachable!("oneshot::Sender::send returns the value it was given")
                }
            })
    }
}

/// The future of a checkout: resolved at once when a free socket was taken (the fast path
/// takes the lock once, allocates nothing and is a few words in its caller's future), else
/// the slow path, boxed, so that the several KiB of connect state are not carried (and
/// copied) by every request's future.
pub(super) enum Checkout<C: Connect> {
    Ready(std::future::Ready<Result<Pooled<C>, ConnectError>>),
    Slow(Pin<Box<dyn Future<Output = Result<Pooled<C>, ConnectError>> + Send>>),
}

impl<C: Connect> Future for Checkout<C> {
    type Output = Result<Pooled<C>, ConnectError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both variants are `Unpin`.
        match self.get_mut() {
            Checkout::Ready(ready) => Pin::new(ready).poll(cx),
            Checkout::Slow(slow) => slow.as_mut().poll(cx),
        }
    }
}

impl<C: Connect> Shared<C> {
    /// The whole checkout: a free socket at once, else [`Self::checkout_slow`].
    pub(super) fn checkout(self: Arc<Self>, origin: Origin, handed_over: Instant) -> Checkout<C> {
        bump(&self.counters.checkouts);
        let step = self.lock().acquire(&origin, handed_over, &self.counters);
        match step {
            // Assigned at hand-over, as Node assigns a free socket within `addRequest`.
            Acquire::Idle(socket) => Checkout::Ready(std::future::ready(Ok(self.assign_at(
                origin,
                socket,
                handed_over,
                handed_over,
                Duration::ZERO,
            )))),
            Acquire::Destroyed => {
                Checkout::Ready(std::future::ready(Err(ConnectError::AgentDestroyed)))
            }
            step => Checkout::Slow(Box::pin(self.checkout_slow(origin, step, handed_over))),
        }
    }

    /// Connecting or queueing, under the connection timeout and the capacity-warning timer.
    async fn checkout_slow(
        self: Arc<Self>,
        origin: Origin,
        step: Acquire<C::Conn>,
        handed_over: Instant,
    ) -> Result<Pooled<C>, ConnectError> {
        let ctx = ConnectCtx::new(self.next_socket_id());
        let mut acquire = pin!(self.acquire_slow(&origin, step, handed_over, &ctx));
        let timeout = self.options.connection_timeout;
        // The SDK skips the check when maxSockets is Infinity.
        let warn_after = self
            .options
            .max_sockets
            .and(self.options.socket_acquisition_warning_timeout);
        let never = handed_over + Duration::from_secs(365 * 24 * 3600);
        let mut timeout_sleep = pin!(sleep_until(timeout.map_or(never, |t| handed_over + t)));
        let mut warn_sleep = pin!(sleep_until(warn_after.map_or(never, |t| handed_over + t)));
        let (mut timeout_armed, mut warn_armed) = (timeout.is_some(), warn_after.is_some());
        loop {
            tokio::select! {
                biased;
                result = &mut acquire => return result,
                () = &mut timeout_sleep, if timeout_armed => {
                    timeout_armed = false;
                    // The SDK clears its timer on the socket's 'connect', before TLS.
                    if ctx.is_tcp_connected() {
                        continue;
                    }
                    bump(&self.counters.connection_timeouts);
                    let phase = if ctx.is_started() { TimeoutPhase::Connecting } else { TimeoutPhase::Queued };
                    tracing::debug!(%origin, ?phase, "connection timeout");
                    // Returning drops `acquire`: its guards leave the queue or free the slot.
                    return Err(ConnectError::ConnectionTimeout {
                        timeout: timeout.unwrap_or_default(),
                        phase,
                    });
                }
                () = &mut warn_sleep, if warn_armed => {
                    warn_armed = false;
                    self.check_socket_usage();
                }
            }
        }
    }

    async fn acquire_slow(
        self: &Arc<Self>,
        origin: &Origin,
        step: Acquire<C::Conn>,
        handed_over: Instant,
        ctx: &ConnectCtx,
    ) -> Result<Pooled<C>, ConnectError> {
        match step {
            Acquire::Idle(socket) => {
                Ok(self.assign(origin.clone(), socket, handed_over, Duration::ZERO))
            }
            Acquire::Destroyed => Err(ConnectError::AgentDestroyed),
            Acquire::Connect => {
                let slot = SlotGuard::new(self, origin);
                self.connect(origin, slot, ctx, handed_over, Duration::ZERO)
                    .await
            }
            Acquire::Wait { id, rx } => {
                let mut waiter = WaiterGuard {
                    shared: self,
                    origin,
                    id,
                    rx: Some(rx),
                };
                let grant = waiter.wait().await;
                let queued = Instant::now() - handed_over;
                match grant {
                    Some(Grant::Socket(socket)) => {
                        Ok(self.assign(origin.clone(), socket, handed_over, queued))
                    }
                    Some(Grant::Connect) => {
                        let slot = SlotGuard::new(self, origin);
                        self.connect(origin, slot, ctx, handed_over, queued).await
                    }
                    None => Err(ConnectError::AgentDestroyed),
                }
            }
        }
    }

    /// Connects a new socket in `slot`.
    async fn connect(
        self: &Arc<Self>,
        origin: &Origin,
        slot: SlotGuard<'_, C>,
        ctx: &ConnectCtx,
        handed_over: Instant,
        queued: Duration,
    ) -> Result<Pooled<C>, ConnectError> {
        ctx.mark_started();
        bump(&self.counters.connect_attempts);
        let started = Instant::now();
        match self.connector.connect(origin, ctx).await {
            Ok(conn) => {
                slot.defuse();
                let connected_at = Instant::now();
                let handshake = conn.handshake();
                bump(&self.counters.sockets_created);
                match handshake {
                    Handshake::Full => bump(&self.counters.tls_full),
                    Handshake::Resumed => bump(&self.counters.tls_resumed),
                    Handshake::Plain => {}
                }
                let info = SocketInfo {
                    id: ctx.socket_id(),
                    handshake,
                    connected_at,
                    connect_duration: connected_at - started,
                    requests: 0,
                };
                tracing::trace!(%origin, socket = info.id, ?handshake, "socket connected");
                Ok(self.assign(origin.clone(), Socket { conn, info }, handed_over, queued))
            }
            Err(error) => {
                bump(&self.counters.connect_errors);
                if error.is_fd_exhausted() {
                    bump(&self.counters.connect_errors_fd_exhausted);
                }
                tracing::debug!(%origin, %error, "connect failed");
                // Node: the failed socket's 'close' runs removeSocket, so the queue head
                // gets to try.
                drop(slot);
                Err(error)
            }
        }
    }

    /// Wraps an assigned socket in its guard and records the wait.
    fn assign(
        self: &Arc<Self>,
        origin: Origin,
        socket: Socket<C::Conn>,
        handed_over: Instant,
        queued: Duration,
    ) -> Pooled<C> {
        self.assign_at(origin, socket, handed_over, Instant::now(), queued)
    }

    /// [`Self::assign`] at `now`.
    fn assign_at(
        self: &Arc<Self>,
        origin: Origin,
        socket: Socket<C::Conn>,
        handed_over: Instant,
        now: Instant,
        queued: Duration,
    ) -> Pooled<C> {
        self.counters.record_wait(now - handed_over);
        if socket.info.requests > 0 {
            bump(&self.counters.reuses);
        }
        Pooled::new(Arc::clone(self), origin, socket, handed_over, now, queued)
    }
}

/// A slot counted for a socket that is not connected yet. Dropping it gives the slot back
/// and lets the queue head have it.
struct SlotGuard<'a, C: Connect> {
    shared: &'a Shared<C>,
    origin: &'a Origin,
    armed: bool,
}

impl<'a, C: Connect> SlotGuard<'a, C> {
    fn new(shared: &'a Shared<C>, origin: &'a Origin) -> Self {
        Self {
            shared,
            origin,
            armed: true,
        }
    }

    /// The socket connected. Its [`Pooled`] guard now owns the slot.
    fn defuse(mut self) {
        self.armed = false;
    }
}

impl<C: Connect> Drop for SlotGuard<'_, C> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.remove_in_use(self.origin, None);
        }
    }
}

/// A checkout's place in its origin's queue.
struct WaiterGuard<'a, C: Connect> {
    shared: &'a Arc<Shared<C>>,
    origin: &'a Origin,
    id: u64,
    rx: Option<oneshot::Receiver<Grant<C::Conn>>>,
}

impl<C: Connect> WaiterGuard<'_, C> {
    /// Waits for a grant. `None` means the agent was destroyed.
    async fn wait(&mut self) -> Option<Grant<C::Conn>> {
        let rx = self.rx.as_mut()?;
        let grant = rx.await.ok();
        self.rx = None;
        grant
    }
}

impl<C: Connect> Drop for WaiterGuard<'_, C> {
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else {
            return;
        };
        // After close(), either the grant was already sent (and try_recv returns it) or no
        // grant can be sent any more (the sender gets it back and tries the next waiter).
        rx.close();
        match rx.try_recv() {
            Ok(Grant::Socket(socket)) => {
                self.shared.free(self.origin, socket);
            }
            Ok(Grant::Connect) => self.shared.remove_in_use(self.origin, None),
            Err(_) => self
                .shared
                .lock()
                .cancel_waiter(self.origin, self.id, &self.shared.counters),
        }
    }
}
