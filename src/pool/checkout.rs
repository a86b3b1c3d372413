//! The checkout: from hand-over to a usable socket. A free socket is taken at once. Otherwise
//! a new one is connected, or the checkout waits FIFO in its origin's queue until a finished
//! request hands it a socket, or until a closed socket's slot lets it connect one.
//!
//! Invariant: what `acquire` gives a checkout that does not get a free socket (a counted
//! slot, or a queue place) is owned by a [`Claim`] from that instant, before the checkout's
//! future exists, and the claim gives it back on every exit. So a checkout dropped at any
//! point, polled or not, leaks nothing: a queued one leaves the queue, and a grant it had
//! already received goes to the next waiter, as a socket or as a slot; a connect that fails
//! or is abandoned frees its slot for the queue head. `connection_timeout` runs from
//! hand-over, so queue wait counts, and stops at TCP connect (the SDK's
//! `set-connection-timeout.ts` clears it on `'connect'`). Cancelling the checkout is then
//! Node's `req.destroy()`.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};

use super::agent::Shared;
use super::conn::{Connect, ConnectCtx, Handshake, PoolConn, SocketLifecycle};
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
    /// `removeSocket` → `createSocket` for `requests[name][0]`). The slot is already counted,
    /// in this destroy epoch.
    Connect(u64),
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
                Grant::Connect(_) => {
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
    /// The whole checkout: a free socket at once, else [`checkout_slow`] with the claim on
    /// what `acquire` reserved.
    pub(super) fn checkout(self: Arc<Self>, origin: Origin, handed_over: Instant) -> Checkout<C> {
        bump(&self.counters.checkouts);
        let step = self.lock().acquire(&origin, handed_over, &self.counters);
        let held = match step {
            // Assigned at hand-over, as Node assigns a free socket within `addRequest`.
            Acquire::Idle(socket) => {
                return Checkout::Ready(std::future::ready(Ok(self.assign_at(
                    origin,
                    socket,
                    handed_over,
                    handed_over,
                    Duration::ZERO,
                ))));
            }
            Acquire::Connect(epoch) => Held::Slot(epoch),
            Acquire::Wait { id, rx } => Held::Queued { id, rx },
        };
        // The claim exists before the future: dropping the future, even unpolled, drops it.
        let claim = Claim {
            shared: self,
            origin,
            held,
        };
        Checkout::Slow(Box::pin(checkout_slow(claim, handed_over)))
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

/// Connecting or queueing, under the connection timeout and the capacity-warning timer.
async fn checkout_slow<C: Connect>(
    mut claim: Claim<C>,
    handed_over: Instant,
) -> Result<Pooled<C>, ConnectError> {
    let shared = Arc::clone(&claim.shared);
    let origin = claim.origin.clone();
    let ctx = ConnectCtx::new(shared.next_socket_id());
    let mut acquire = pin!(claim.acquire(&ctx, handed_over));
    let timeout = shared.options.connection_timeout;
    // The SDK skips the check when maxSockets is Infinity.
    let warn_after = shared
        .options
        .max_sockets
        .and(shared.options.socket_acquisition_warning_timeout);
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
                bump(&shared.counters.connection_timeouts);
                let phase = if ctx.is_started() { TimeoutPhase::Connecting } else { TimeoutPhase::Queued };
                tracing::debug!(%origin, ?phase, "connection timeout");
                // Returning drops `acquire` and then the claim: it leaves the queue or gives
                // back the slot.
                return Err(ConnectError::ConnectionTimeout {
                    timeout: timeout.unwrap_or_default(),
                    phase,
                });
            }
            () = &mut warn_sleep, if warn_armed => {
                warn_armed = false;
                shared.check_socket_usage();
            }
        }
    }
}

/// What a slow checkout holds.
enum Held<T> {
    /// A slot counted for a socket not connected yet, in this destroy epoch.
    Slot(u64),
    /// A place in the origin's queue.
    Queued {
        id: u64,
        rx: oneshot::Receiver<Grant<T>>,
    },
    /// Nothing any more: the socket went to a [`Pooled`] guard.
    Nothing,
}

/// A checkout's claim on a slot or a queue place. Dropping it gives back what it holds.
struct Claim<C: Connect> {
    shared: Arc<Shared<C>>,
    origin: Origin,
    held: Held<C::Conn>,
}

impl<C: Connect> Claim<C> {
    /// Waits in the queue if queued, then connects in the slot, unless a socket was handed
    /// over.
    async fn acquire(
        &mut self,
        ctx: &ConnectCtx,
        handed_over: Instant,
    ) -> Result<Pooled<C>, ConnectError> {
        let mut queued = Duration::ZERO;
        if let Held::Queued { rx, .. } = &mut self.held {
            // The sender is dropped unsent only with the agent, which this claim keeps alive.
            let grant = rx.await;
            queued = Instant::now() - handed_over;
            match grant {
                Ok(Grant::Socket(socket)) => {
                    self.held = Held::Nothing;
                    return Ok(self.shared.assign(
                        self.origin.clone(),
                        socket,
                        handed_over,
                        queued,
                    ));
                }
                Ok(Grant::Connect(epoch)) => self.held = Held::Slot(epoch),
                Err(_) => {
                    self.held = Held::Nothing;
                    return Err(ConnectError::AgentDestroyed);
                }
            }
        }
        let Held::Slot(epoch) = self.held else {
            unreachable!("a slow checkout holds a slot once it is not queued");
        };
        self.connect(epoch, ctx, handed_over, queued).await
    }

    /// Connects a new socket in the claimed slot. `destroy()` during the connect destroys
    /// it, as Node's destroys a connecting socket.
    async fn connect(
        &mut self,
        epoch: u64,
        ctx: &ConnectCtx,
        handed_over: Instant,
        queued: Duration,
    ) -> Result<Pooled<C>, ConnectError> {
        let shared = &self.shared;
        let socket_id = ctx.socket_id();
        let on_close: Box<dyn FnOnce() + Send> = {
            let (agent, origin) = (Arc::downgrade(shared), self.origin.clone());
            Box::new(move || {
                if let Some(agent) = agent.upgrade() {
                    agent.socket_closed(&origin, socket_id);
                }
            })
        };
        ctx.set_lifecycle(SocketLifecycle::new(
            Arc::clone(&shared.destroy),
            epoch,
            on_close,
        ));
        ctx.mark_started();
        bump(&shared.counters.connect_attempts);
        let started = Instant::now();
        let connected = tokio::select! {
            biased;
            () = shared.destroy.destroyed_after(epoch) => None,
            result = shared.connector.connect(&self.origin, ctx) => Some(result),
        };
        match connected {
            Some(Ok(conn)) => {
                self.held = Held::Nothing;
                let connected_at = Instant::now();
                let handshake = conn.handshake();
                bump(&shared.counters.sockets_created);
                match handshake {
                    Handshake::Full => bump(&shared.counters.tls_full),
                    Handshake::Resumed => bump(&shared.counters.tls_resumed),
                    Handshake::Plain => {}
                }
                let info = SocketInfo {
                    id: socket_id,
                    handshake,
                    connected_at,
                    connect_duration: connected_at - started,
                    requests: 0,
                };
                tracing::trace!(origin = %self.origin, socket = info.id, ?handshake, "socket connected");
                let socket = Socket { conn, info, epoch };
                Ok(shared.assign(self.origin.clone(), socket, handed_over, queued))
            }
            Some(Err(error)) => {
                bump(&shared.counters.connect_errors);
                if error.is_fd_exhausted() {
                    bump(&shared.counters.connect_errors_fd_exhausted);
                }
                tracing::debug!(origin = %self.origin, %error, "connect failed");
                // Dropping the claim gives the slot back. Node: the failed socket's 'close'
                // runs removeSocket, so the queue head gets to try.
                Err(error)
            }
            None => {
                tracing::debug!(origin = %self.origin, "agent destroyed while connecting");
                Err(ConnectError::AgentDestroyed)
            }
        }
    }
}

impl<C: Connect> Drop for Claim<C> {
    fn drop(&mut self) {
        let (shared, origin) = (&self.shared, &self.origin);
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Slot(_) => {
                shared.remove_in_use(origin, None);
            }
            Held::Queued { id, mut rx } => {
                // After close(), either the grant was already sent (and try_recv returns it)
                // or no grant can be sent any more (the sender gets it back and tries the
                // next waiter).
                rx.close();
                match rx.try_recv() {
                    Ok(Grant::Socket(socket)) => {
                        shared.free(origin, socket);
                    }
                    Ok(Grant::Connect(_)) => {
                        shared.remove_in_use(origin, None);
                    }
                    Err(_) => shared.lock().cancel_waiter(origin, id, &shared.counters),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
