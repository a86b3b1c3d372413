//! [`Agent`]: a pool of sockets per origin with the semantics of Node's `https.Agent`.
//!
//! Invariant: all bookkeeping sits behind one `std::sync::Mutex` per agent. Each critical
//! section is O(1) and none spans an `.await`. This mutex plays the part of Node's single
//! thread. Counters live outside it, in atomics, so `stats()` never blocks a checkout.

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::conn::{Connect, DestroySignal};
use super::error::ConnectError;
use super::idle;
use super::options::AgentOptions;
use super::origin::Origin;
use super::pooled::{Pooled, ReleaseOutcome, Socket};
use super::state::State;
use super::stats::{AgentStats, CloseReason, Counters, bump};
use super::warning;

/// A connection pool with Node's `https.Agent` semantics: per-origin `maxSockets` (counting
/// connecting, in-use and idle sockets), `maxTotalSockets`, `maxFreeSockets`, `keepAlive`,
/// lifo/fifo `scheduling`, and a FIFO queue of waiting requests per origin.
///
/// Cloning is cheap and shares the pool. An agent with [`HttpConnector`](super::HttpConnector)
/// also owns one TLS session cache, so different agents never resume each other's sessions.
/// This is Node's per-Agent `maxCachedSessions` cache.
pub struct Agent<C: Connect> {
    shared: Arc<Shared<C>>,
}

impl<C: Connect> Clone for Agent<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: Connect> std::fmt::Debug for Agent<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

impl<C: Connect> Agent<C> {
    /// An agent that opens sockets with `connector`.
    pub fn new(connector: C, options: AgentOptions) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::new(&options)),
                connector,
                options,
                counters: Counters::default(),
                next_socket_id: AtomicU64::new(0),
                destroy: Arc::new(DestroySignal::default()),
                reaper_wake: Arc::new(Notify::new()),
                reaper_started: AtomicBool::new(false),
            }),
        }
    }

    /// Hands a request to the agent and resolves to a socket for it (Node `addRequest`). The
    /// hand-over instant is now. [`Pooled::handed_over`] reports it, and the SDK's
    /// `connectionTimeout`/`requestTimeout` run from it.
    ///
    /// The future is `'static` and small: when a free socket is taken it is already resolved,
    /// and only a checkout that connects or queues allocates its state. Dropping it before it
    /// resolves withdraws the request, whether or not it was ever polled: it leaves the queue
    /// (a socket or slot granted to it meanwhile goes to the next request), or its slot and
    /// half-made connection are given back. A free socket it had already taken is closed, as
    /// Node's `req.destroy()` destroys the socket of a request it aborts.
    pub fn checkout(
        &self,
        origin: &Origin,
    ) -> impl Future<Output = Result<Pooled<C>, ConnectError>> + Send + 'static {
        self.checkout_at(origin, Instant::now())
    }

    /// [`checkout`](Self::checkout) for a request handed over at `handed_over` (an instant
    /// the caller already read, e.g. when it started its request timer): its queue wait and
    /// timeouts run from then.
    pub fn checkout_at(
        &self,
        origin: &Origin,
        handed_over: Instant,
    ) -> impl Future<Output = Result<Pooled<C>, ConnectError>> + Send + 'static {
        Arc::clone(&self.shared).checkout(origin.clone(), handed_over)
    }

    /// A snapshot of the agent's counters.
    pub fn stats(&self) -> AgentStats {
        self.shared.counters.snapshot()
    }

    /// The options the agent was built with.
    pub fn options(&self) -> &AgentOptions {
        &self.shared.options
    }

    /// The connector.
    pub fn connector(&self) -> &C {
        &self.shared.connector
    }

    /// `maxSockets`, `None` for Infinity.
    pub fn max_sockets(&self) -> Option<NonZeroUsize> {
        self.shared.options.max_sockets
    }

    /// Whether every request must carry `Connection: close` (keepAlive off and maxSockets
    /// Infinity). Each such request then gets a new socket. See
    /// [`AgentOptions::sends_connection_close`].
    pub fn sends_connection_close(&self) -> bool {
        self.shared.options.sends_connection_close()
    }

    /// The SDK's `checkSocketUsage`. If an origin has `in_use >= maxSockets` and
    /// `queued >= 2 * maxSockets`, and no warning was emitted in the last 15 s, emits the
    /// SDK's warning via `tracing::warn!`, counts it, and returns true. Checkouts run this
    /// themselves `socketAcquisitionWarningTimeout` after hand-over while they wait. Call it
    /// at [`Pooled::socket_usage_check_at`] for a request still waiting for its response.
    pub fn check_socket_usage(&self) -> bool {
        self.shared.check_socket_usage()
    }

    /// Node's `agent.destroy()` (`lib/_http_agent.js` lines 517-529 at v20.20.2): every
    /// socket the agent has made so far is destroyed, free or in use.
    ///
    /// - Free sockets are closed now ([`CloseReason::Destroyed`]).
    /// - Sockets in use are destroyed through their [`SocketLifecycle`](super::SocketLifecycle)
    ///   (the real connector's are): their requests fail, and their guards' release or close
    ///   counts them as destroyed.
    /// - Checkouts still connecting fail with [`ConnectError::AgentDestroyed`] (Node
    ///   destroys connecting sockets too, and the request fails with "socket hang up").
    /// - Queued checkouts stay queued. As in Node, where `destroy()` leaves `requests` alone
    ///   and each destroyed socket's `'close'` runs `removeSocket` (lines 375-383, 461-470),
    ///   they get new sockets as the old ones close.
    /// - Later checkouts are served as before: Node's Agent has no destroyed state.
    ///
    /// The TLS session cache is kept, as Node's is (`lib/https.js` has no `destroy`).
    pub fn destroy(&self) {
        let shared = &self.shared;
        let closed = {
            let mut state = shared.lock();
            let (epoch, closed) = state.destroy(&shared.counters);
            // Under the lock, so that every socket made from now on is of the new epoch.
            shared.destroy.destroy(epoch);
            closed
        };
        drop(closed);
    }

    #[cfg(test)]
    pub(super) fn shared(&self) -> &Shared<C> {
        &self.shared
    }
}

/// The pool proper, shared by agent handles, checkouts and guards.
pub(super) struct Shared<C: Connect> {
    pub(super) connector: C,
    pub(super) options: AgentOptions,
    state: Mutex<State<C::Conn>>,
    pub(super) counters: Counters,
    next_socket_id: AtomicU64,
    /// What `destroy()` signals to sockets and connects made before it.
    pub(super) destroy: Arc<DestroySignal>,
    reaper_wake: Arc<Notify>,
    reaper_started: AtomicBool,
}

impl<C: Connect> Shared<C> {
    /// Locks the bookkeeping. A panic elsewhere cannot leave it half-updated (every update is
    /// a few integer and list operations), so poisoning is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, State<C::Conn>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn next_socket_id(&self) -> u64 {
        self.next_socket_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A connecting or in-use socket is gone (see `State::remove_active`). Returns the reason
    /// counted.
    pub(super) fn remove_in_use(
        &self,
        origin: &Origin,
        closed: Option<(CloseReason, u64)>,
    ) -> Option<CloseReason> {
        self.lock().remove_active(origin, closed, &self.counters)
    }

    /// A socket's connection ended (its [`SocketLifecycle`](super::SocketLifecycle) reports
    /// it). If it was idle it leaves the free list now.
    pub(super) fn socket_closed(&self, origin: &Origin, socket_id: u64) {
        let closed = self.lock().socket_closed(origin, socket_id, &self.counters);
        drop(closed);
    }

    /// Node's `'free'`, for a socket that `ready()` confirmed.
    pub(super) fn free(
        self: &Arc<Self>,
        origin: &Origin,
        socket: Socket<C::Conn>,
    ) -> ReleaseOutcome {
        // When it was parked matters only with an idle timeout: no clock read without one.
        let now = self.options.idle_timeout.map(|_| Instant::now());
        let (outcome, closed, first_idle) = self.lock().free(origin, socket, now, &self.counters);
        drop(closed);
        if first_idle && self.options.idle_timeout.is_some() {
            self.wake_reaper();
        }
        outcome
    }

    /// The reaper's pass. Returns when to run the next one.
    pub(super) fn reap(&self, now: Instant) -> Option<Instant> {
        let timeout = self.options.idle_timeout?;
        let (closed, next) = self.lock().reap(now, timeout, &self.counters);
        drop(closed);
        next
    }

    /// Starts the reaper on first use and wakes it, because it sleeps without a deadline
    /// while nothing is idle. Without a tokio runtime there is no reaper. Checkouts still
    /// skip expired sockets.
    fn wake_reaper(self: &Arc<Self>) {
        if !self.reaper_started.swap(true, Ordering::AcqRel) {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(idle::reaper(
                        Arc::downgrade(self),
                        Arc::clone(&self.reaper_wake),
                    ));
                }
                Err(_) => {
                    self.reaper_started.store(false, Ordering::Release);
                    return;
                }
            }
        }
        self.reaper_wake.notify_one();
    }

    pub(super) fn check_socket_usage(&self) -> bool {
        let hit = self.lock().socket_usage_at_capacity(Instant::now());
        let Some((origin, in_use, queued)) = hit else {
            return false;
        };
        bump(&self.counters.capacity_warnings);
        warning::emit(&origin, in_use, queued);
        true
    }
}

impl<C: Connect> Drop for Shared<C> {
    fn drop(&mut self) {
        // Lets the reaper see the agent is gone and exit.
        self.reaper_wake.notify_one();
    }
}

#[cfg(test)]
mod tests;
