//! The per-origin free list (Node's `freeSockets[name]`) and the reaper that applies the
//! agent's idle `timeout`.
//!
//! Invariant: entries are in the order they were freed, oldest at the front, so expired
//! entries are always a prefix. `lifo` pops from the back and `fifo` from the front
//! (`scheduling`, `lib/_http_agent.js` `addRequest`). The reaper holds only a `Weak`
//! reference to the agent, so it ends when the agent is dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::agent::Shared;
use super::conn::{Connect, PoolConn};
use super::options::Scheduling;
use super::pooled::Socket;

/// An idle socket and when it was freed: known only to an agent with an idle timeout (the
/// only reader), so that the others read no clock per request.
pub(super) struct IdleEntry<T> {
    pub(super) socket: Socket<T>,
    pub(super) parked_at: Option<Instant>,
}

/// One origin's idle sockets.
pub(super) struct IdleList<T> {
    entries: VecDeque<IdleEntry<T>>,
}

impl<T: PoolConn> IdleList<T> {
    pub(super) fn new() -> Self {
        Self {
            entries: VecDeque::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Parks a freed socket (Node: `freeSockets[name].push(socket)`).
    pub(super) fn push(&mut self, socket: Socket<T>, now: Option<Instant>) {
        self.entries.push_back(IdleEntry {
            socket,
            parked_at: now,
        });
    }

    /// Takes the next socket by `scheduling`, whether or not it is still usable. The caller
    /// skips closed or expired ones.
    pub(super) fn pop(&mut self, scheduling: Scheduling) -> Option<IdleEntry<T>> {
        match scheduling {
            Scheduling::Lifo => self.entries.pop_back(),
            Scheduling::Fifo => self.entries.pop_front(),
        }
    }

    /// Removes the expired prefix: sockets idle since `now - timeout` or earlier.
    pub(super) fn pop_expired(&mut self, now: Instant, timeout: Duration) -> Option<IdleEntry<T>> {
        let front = self.entries.front()?;
        if front.parked_at.is_some_and(|at| at + timeout <= now) {
            self.entries.pop_front()
        } else {
            None
        }
    }

    /// Removes the socket with this id, wherever it is (Node: `freeSockets[name].splice`
    /// in `removeSocket`).
    pub(super) fn remove(&mut self, socket_id: u64) -> Option<IdleEntry<T>> {
        let i = self
            .entries
            .iter()
            .position(|e| e.socket.info.id == socket_id)?;
        self.entries.remove(i)
    }

    /// When the oldest socket expires.
    pub(super) fn next_expiry(&self, timeout: Duration) -> Option<Instant> {
        self.entries
            .front()
            .and_then(|e| e.parked_at)
            .map(|at| at + timeout)
    }

    pub(super) fn drain(&mut self) -> impl Iterator<Item = IdleEntry<T>> + '_ {
        self.entries.drain(..)
    }

    /// Socket ids, oldest first.
    #[cfg(test)]
    pub(super) fn ids(&self) -> Vec<u64> {
        self.entries.iter().map(|e| e.socket.info.id).collect()
    }
}

/// The reaper task: closes idle sockets once they have been idle for the agent's `timeout`.
/// (Idle sockets the server closes leave on their own close: `State::socket_closed`.) It
/// sleeps until the next expiry, or until woken when the first socket is parked. It exits
/// once the agent is gone (`Shared`'s `Drop` wakes it).
pub(super) async fn reaper<C: Connect>(agent: Weak<Shared<C>>, wake: Arc<Notify>) {
    loop {
        let next = match agent.upgrade() {
            Some(shared) => shared.reap(Instant::now()),
            None => return,
        };
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}
