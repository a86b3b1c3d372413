//! The agent's bookkeeping: Node's `sockets`, `freeSockets`, `requests` and
//! `totalSocketCount`, and the decisions `addRequest`, `'free'` and `removeSocket` make on
//! them (`lib/_http_agent.js`). Everything here is synchronous and runs under the agent's one
//! mutex, which plays the part of Node's single thread.
//!
//! Invariant, per origin: `active` counts sockets that are connecting or in use, `idle`
//! holds the free ones, and `active + idle.len() <= maxSockets`. `total` is the sum over
//! all origins. A new socket is made only while `total < maxTotalSockets`, except where
//! Node's `removeSocket` makes one for another origin's queued request without that check
//! (see [`State::socket_left`]): then, as in Node, `total` may exceed `maxTotalSockets`
//! until sockets close. A waiter is queued only while its origin (or the agent) is at its
//! cap. Every operation is O(1), except where a closed idle socket is skipped or removed, or
//! a cancelled waiter is removed from its queue.
//!
//! Line numbers cited here are those of `lib/_http_agent.js` at Node v20.20.2.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroUsize;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::checkout::{Grant, Waiter};
use super::conn::PoolConn;
use super::idle::{IdleEntry, IdleList};
use super::options::{AgentOptions, Scheduling};
use super::origin::{BuildOriginHasher, Origin};
use super::pooled::{ReleaseOutcome, Socket};
use super::stats::{CloseReason, Counters};
use super::warning::{self, WarningGate};

/// The limits the decisions need, copied from [`AgentOptions`].
#[derive(Clone, Copy, Debug)]
struct Limits {
    keep_alive: bool,
    max_sockets: usize,
    max_total_sockets: usize,
    max_free_sockets: usize,
    scheduling: Scheduling,
    idle_timeout: Option<Duration>,
}

/// What a checkout gets when it asks (Node `addRequest`).
pub(super) enum Acquire<T> {
    /// A free socket, now in use.
    Idle(Socket<T>),
    /// A slot for a new socket, already counted, in this destroy epoch. Connect it.
    Connect(u64),
    /// No room: the checkout is queued and waits for a [`Grant`].
    Wait {
        id: u64,
        rx: oneshot::Receiver<Grant<T>>,
    },
}

/// One origin's sockets and queue.
struct OriginState<T> {
    /// Connecting or in use (Node's `sockets[name].length`).
    active: usize,
    /// Free sockets (Node's `freeSockets[name]`).
    idle: IdleList<T>,
    /// Checkouts waiting for a socket, FIFO (Node's `requests[name]`).
    waiters: VecDeque<Waiter<T>>,
}

/// All the agent's bookkeeping.
pub(super) struct State<T> {
    limits: Limits,
    origins: HashMap<Origin, OriginState<T>, BuildOriginHasher>,
    /// Origins with a non-empty queue, in the order their queues formed. This is the key order
    /// of Node's `requests` object, which `removeSocket` consults across origins.
    queued_origins: VecDeque<Origin>,
    /// Sockets across all origins (Node's `totalSocketCount`).
    total: usize,
    /// How many times `destroy()` ran. A socket made in an earlier epoch was destroyed.
    epoch: u64,
    next_waiter: u64,
    warning: WarningGate,
}

impl<T: PoolConn> State<T> {
    pub(super) fn new(options: &AgentOptions) -> Self {
        Self {
            limits: Limits {
                keep_alive: options.keep_alive,
                max_sockets: options.max_sockets.map_or(usize::MAX, NonZeroUsize::get),
                max_total_sockets: options
                    .max_total_sockets
                    .map_or(usize::MAX, NonZeroUsize::get),
                max_free_sockets: options.max_free_sockets,
                scheduling: options.scheduling,
                idle_timeout: options.idle_timeout,
            },
            origins: HashMap::default(),
            queued_origins: VecDeque::new(),
            total: 0,
            epoch: 0,
            next_waiter: 0,
            warning: WarningGate::default(),
        }
    }

    fn origin_mut(&mut self, origin: &Origin) -> &mut OriginState<T> {
        self.origins
            .entry(origin.clone())
            .or_insert_with(|| OriginState {
                active: 0,
                idle: IdleList::new(),
                waiters: VecDeque::new(),
            })
    }

    /// Node `addRequest` (lines 230-298). Take a free socket per `scheduling`, with no limit
    /// check. Otherwise create a socket if `free + sockets < maxSockets` and
    /// `totalSocketCount < maxTotalSockets`. Otherwise queue. Free sockets that closed, or
    /// that outlived the idle timeout, are closed here and never handed out (a closed socket
    /// normally left the list already, on its close: see [`Self::socket_closed`]).
    pub(super) fn acquire(
        &mut self,
        origin: &Origin,
        now: Instant,
        counters: &Counters,
    ) -> Acquire<T> {
        let limits = self.limits;
        let os = self.origin_mut(origin);
        let mut dropped = 0;
        let mut found = None;
        while let Some(IdleEntry { socket, parked_at }) = os.idle.pop(limits.scheduling) {
            counters.idle_removed();
            let reason = if socket.conn.is_closed() {
                CloseReason::ServerClosedIdle
            } else if limits
                .idle_timeout
                .is_some_and(|t| parked_at.is_some_and(|at| at + t <= now))
            {
                CloseReason::IdleTimeout
            } else {
                os.active += 1;
                found = Some(socket);
                break;
            };
            counters.closed(reason);
            dropped += 1;
        }
        // Each dropped socket left the agent, as on its 'close' in Node.
        for _ in 0..dropped {
            self.socket_left(origin, counters);
        }
        if let Some(socket) = found {
            return Acquire::Idle(socket);
        }

        let total = self.total;
        let os = self.origin_mut(origin);
        if os.idle.len() + os.active < limits.max_sockets && total < limits.max_total_sockets {
            os.active += 1;
            self.total += 1;
            counters.socket_opened();
            return Acquire::Connect(self.epoch);
        }

        let (tx, rx) = oneshot::channel();
        let id = self.next_waiter;
        self.next_waiter += 1;
        let os = self.origin_mut(origin);
        os.waiters.push_back(Waiter { id, tx });
        if os.waiters.len() == 1 {
            self.queued_origins.push_back(origin.clone());
        }
        counters.enqueued();
        Acquire::Wait { id, rx }
    }

    /// Node's `'free'` handler (lines 116-179), for a socket whose response ended and which
    /// `ready()` confirmed. A socket that closed meanwhile, or that `destroy()` destroyed, is
    /// closed (`!socket.writable`). Otherwise hand it to the queue head, even with keepAlive
    /// off. Otherwise close it if keepAlive is off or a limit is reached. Otherwise park it,
    /// and run `removeSocket`, which may make a socket for another origin's queued request
    /// (line 175). Returns the outcome, the connection to close (to be dropped outside the
    /// lock), and whether this was the agent's first idle socket.
    pub(super) fn free(
        &mut self,
        origin: &Origin,
        mut socket: Socket<T>,
        now: Option<Instant>,
        counters: &Counters,
    ) -> (ReleaseOutcome, Option<T>, bool) {
        if socket.epoch < self.epoch || socket.conn.is_closed() {
            let reason = self.remove_active(
                origin,
                Some((CloseReason::NotReusable, socket.epoch)),
                counters,
            );
            let reason = reason.unwrap_or(CloseReason::NotReusable);
            return (ReleaseOutcome::Closed(reason), Some(socket.conn), false);
        }
        let limits = self.limits;
        let os = self.origin_mut(origin);
        while let Some(waiter) = os.waiters.pop_front() {
            counters.dequeued(1);
            match waiter.offer(socket) {
                Ok(()) => {
                    self.queue_shrunk(origin);
                    return (ReleaseOutcome::HandedOver, None, false);
                }
                Err(returned) => socket = returned,
            }
        }
        self.queue_shrunk(origin);

        let total = self.total;
        let os = self.origin_mut(origin);
        let keep = limits.keep_alive
            && total <= limits.max_total_sockets
            && os.idle.len() + os.active <= limits.max_sockets
            && os.idle.len() < limits.max_free_sockets;
        if !keep {
            self.remove_active(origin, Some((CloseReason::NotKept, socket.epoch)), counters);
            return (
                ReleaseOutcome::Closed(CloseReason::NotKept),
                Some(socket.conn),
                false,
            );
        }
        os.active -= 1;
        os.idle.push(socket, now);
        counters.idle_added();
        let first_idle = counters.idle_now() == 1;
        // Node's `removeSocket` from the 'free' handler: this origin's queue is empty, so
        // only the first queued origin may get a socket, and only if it has none active.
        self.rescue_first_queued_origin(counters);
        (ReleaseOutcome::Parked, None, first_idle)
    }

    /// A connecting or in-use socket left the agent: it closed, its connect failed or was
    /// abandoned, or a reserved slot went unused. For a real socket, `closed` is why it
    /// closed and the epoch it was made in: the reason counted, returned, is
    /// [`CloseReason::Destroyed`] if `destroy()` ran since. Then Node's `removeSocket`
    /// rescue runs.
    pub(super) fn remove_active(
        &mut self,
        origin: &Origin,
        closed: Option<(CloseReason, u64)>,
        counters: &Counters,
    ) -> Option<CloseReason> {
        let reason = closed.map(|(reason, epoch)| {
            let reason = if epoch < self.epoch {
                CloseReason::Destroyed
            } else {
                reason
            };
            counters.closed(reason);
            reason
        });
        if let Some(os) = self.origins.get_mut(origin) {
            os.active -= 1;
        }
        self.socket_left(origin, counters);
        reason
    }

    /// A socket's connection ended (Node's `'close'` handler, lines 375-383). If it was idle,
    /// it leaves the free list now, as `removeSocket` takes a socket that is no longer
    /// writable out of `freeSockets` (lines 421-437), and its place goes to a queued request.
    /// A socket in use is left to its request, which sees the error. Returns the connection
    /// to drop outside the lock.
    pub(super) fn socket_closed(
        &mut self,
        origin: &Origin,
        socket_id: u64,
        counters: &Counters,
    ) -> Option<T> {
        let os = self.origins.get_mut(origin)?;
        let entry = os.idle.remove(socket_id)?;
        counters.idle_removed();
        counters.closed(CloseReason::ServerClosedIdle);
        self.socket_left(origin, counters);
        Some(entry.socket.conn)
    }

    /// Node's `'close'` handler followed by `removeSocket` (lines 375-383, 416-472).
    /// `totalSocketCount--`. Then, if the origin has queued requests, create a socket for the
    /// head. Otherwise Node's cross-origin rescue (see
    /// [`Self::rescue_first_queued_origin`]).
    fn socket_left(&mut self, origin: &Origin, counters: &Counters) {
        self.total -= 1;
        counters.socket_gone();
        if self.grant_connect(origin, counters) {
            return;
        }
        self.rescue_first_queued_origin(counters);
    }

    /// The end of Node's `removeSocket` (lines 443-470): the first origin in `requests` gets
    /// a socket for its head request, if it has no active sockets ("this logic will not be
    /// FIFO across origins"). Node's `createSocket` checks neither `maxSockets` nor
    /// `maxTotalSockets` here, so neither does this: after a socket was parked (not closed),
    /// the total can exceed `maxTotalSockets`, as in Node (measured with Node v20.20.2:
    /// `maxTotalSockets: 1`, a request to a second origin queued behind the first one's, is
    /// served on a second socket while the first idles, `totalSocketCount` 2).
    fn rescue_first_queued_origin(&mut self, counters: &Counters) {
        let Some(first) = self.queued_origins.front().cloned() else {
            return;
        };
        let has_sockets = self.origins.get(&first).is_some_and(|os| os.active > 0);
        if !has_sockets {
            self.grant_connect(&first, counters);
        }
    }

    /// Reserves a new-socket slot for the first live waiter of `origin`. Returns whether one
    /// took it.
    fn grant_connect(&mut self, origin: &Origin, counters: &Counters) -> bool {
        let Some(os) = self.origins.get_mut(origin) else {
            return false;
        };
        let mut granted = false;
        while let Some(waiter) = os.waiters.pop_front() {
            counters.dequeued(1);
            if waiter.tx.send(Grant::Connect(self.epoch)).is_ok() {
                os.active += 1;
                self.total += 1;
                counters.socket_opened();
                granted = true;
                break;
            }
        }
        self.queue_shrunk(origin);
        granted
    }

    /// Keeps `queued_origins` in step after waiters left `origin`'s queue (Node deletes
    /// `requests[name]` once it is empty).
    fn queue_shrunk(&mut self, origin: &Origin) {
        let empty = self
            .origins
            .get(origin)
            .is_none_or(|os| os.waiters.is_empty());
        if empty && let Some(i) = self.queued_origins.iter().position(|o| o == origin) {
            self.queued_origins.remove(i);
        }
    }

    /// Removes a waiter whose checkout was dropped before it got a grant.
    pub(super) fn cancel_waiter(&mut self, origin: &Origin, id: u64, counters: &Counters) {
        let Some(os) = self.origins.get_mut(origin) else {
            return;
        };
        if let Some(i) = os.waiters.iter().position(|w| w.id == id) {
            os.waiters.remove(i);
            counters.dequeued(1);
            self.queue_shrunk(origin);
        }
    }

    /// The reaper's pass. Close free sockets idle for at least `timeout` (Node: free sockets
    /// are destroyed on `'timeout'`, lines 385-395). Returns the connections to drop and when
    /// the next one expires.
    pub(super) fn reap(
        &mut self,
        now: Instant,
        timeout: Duration,
        counters: &Counters,
    ) -> (Vec<T>, Option<Instant>) {
        let mut closed = Vec::new();
        let mut emptied: Vec<Origin> = Vec::new();
        for (origin, os) in &mut self.origins {
            let before = closed.len();
            while let Some(entry) = os.idle.pop_expired(now, timeout) {
                counters.closed(CloseReason::IdleTimeout);
                closed.push(entry.socket.conn);
            }
            emptied.extend(std::iter::repeat_n(origin.clone(), closed.len() - before));
        }
        for origin in &emptied {
            counters.idle_removed();
            self.socket_left(origin, counters);
        }
        let next = self
            .origins
            .values()
            .filter_map(|os| os.idle.next_expiry(timeout))
            .min();
        (closed, next)
    }

    /// Node's `agent.destroy()` (lines 517-529) for what the agent holds: a new epoch, in
    /// which every older socket counts as destroyed, and the free sockets closed. Each closed
    /// socket runs `removeSocket`, so queued requests get new sockets, as in Node, where the
    /// queue (`requests`) outlives `destroy()`. Returns the new epoch and the connections to
    /// drop outside the lock.
    pub(super) fn destroy(&mut self, counters: &Counters) -> (u64, Vec<T>) {
        self.epoch += 1;
        let mut closed = Vec::new();
        let mut emptied = Vec::new();
        for (origin, os) in &mut self.origins {
            for entry in os.idle.drain() {
                counters.idle_removed();
                counters.closed(CloseReason::Destroyed);
                closed.push(entry.socket.conn);
                emptied.push(origin.clone());
            }
        }
        for origin in &emptied {
            self.socket_left(origin, counters);
        }
        (self.epoch, closed)
    }

    /// The SDK's `checkSocketUsage`. If no warning was emitted in the last 15 s, find an
    /// origin with `sockets >= maxSockets` and `requests >= 2 * maxSockets`. Record the warning
    /// and report that origin's counts.
    pub(super) fn socket_usage_at_capacity(
        &mut self,
        now: Instant,
    ) -> Option<(Origin, usize, usize)> {
        let max = self.limits.max_sockets;
        if max == usize::MAX || !self.warning.is_open(now) {
            return None;
        }
        let (origin, os) = self
            .origins
            .iter()
            .find(|(_, os)| warning::at_capacity(os.active, os.waiters.len(), max))?;
        let hit = (origin.clone(), os.active, os.waiters.len());
        self.warning.fired(now);
        Some(hit)
    }
}

#[cfg(test)]
impl<T: PoolConn> State<T> {
    /// Free sockets of `origin`, front (oldest) first, as socket ids.
    pub(super) fn idle_ids(&self, origin: &Origin) -> Vec<u64> {
        self.origins
            .get(origin)
            .map_or_else(Vec::new, |os| os.idle.ids())
    }

    /// (connecting or in use, idle, queued) for `origin`, and the agent's total.
    pub(super) fn counts(&self, origin: &Origin) -> (usize, usize, usize, usize) {
        self.origins
            .get(origin)
            .map_or((0, 0, 0, self.total), |os| {
                (os.active, os.idle.len(), os.waiters.len(), self.total)
            })
    }
}
