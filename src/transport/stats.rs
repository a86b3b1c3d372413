//! [`PoolCounters`]: the counters both pools keep the same way, and [`PoolStats`], their
//! snapshot. They are kept by the connectors (a connect, its handshake, its close) and by the
//! pools' send path (a request, its socket wait, whether its socket was reused), so the Agent
//! and the hyper-util pool are measured by one ruler.
//!
//! Invariant: recording is a handful of relaxed atomic adds, never a lock or an allocation.
//! One counters object may be shared by many pools (a factory in per-request mode gives every
//! client's pool the same one), so its totals cover all of them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::pool::{ConnectError, Handshake};

/// Lock-free counters shared by a pool's connector and send path.
#[derive(Debug, Default)]
pub struct PoolCounters {
    connects: AtomicU64,
    opened: AtomicU64,
    unpooled_opened: AtomicU64,
    open_now: AtomicU64,
    peak_open: AtomicU64,
    tls_full: AtomicU64,
    tls_resumed: AtomicU64,
    connect_errors: AtomicU64,
    fd_exhausted: AtomicU64,
    requests: AtomicU64,
    reused: AtomicU64,
    wait_sum_us: AtomicU64,
    wait_max_us: AtomicU64,
}

impl PoolCounters {
    /// A connect started.
    pub(crate) fn connect_started(&self) {
        self.connects.fetch_add(1, Relaxed);
    }

    /// A connect succeeded with `handshake`. `unpooled` marks a connection opened outside the
    /// pool for an `Expect: 100-continue` request.
    pub(crate) fn opened(&self, handshake: Handshake, unpooled: bool) {
        self.opened.fetch_add(1, Relaxed);
        if unpooled {
            self.unpooled_opened.fetch_add(1, Relaxed);
        }
        let open = self.open_now.fetch_add(1, Relaxed) + 1;
        self.peak_open.fetch_max(open, Relaxed);
        match handshake {
            Handshake::Full => self.tls_full.fetch_add(1, Relaxed),
            Handshake::Resumed => self.tls_resumed.fetch_add(1, Relaxed),
            Handshake::Plain => 0,
        };
    }

    /// An open connection was dropped by its pool.
    pub(crate) fn closed(&self) {
        self.open_now.fetch_sub(1, Relaxed);
    }

    /// A connect failed.
    pub(crate) fn connect_failed(&self, error: &ConnectError) {
        self.connect_errors.fetch_add(1, Relaxed);
        if error.is_fd_exhausted() {
            self.fd_exhausted.fetch_add(1, Relaxed);
        }
    }

    /// A request got a socket after `wait`; `reused` if the socket had carried one before.
    pub(crate) fn request(&self, wait: Duration, reused: bool) {
        self.requests.fetch_add(1, Relaxed);
        if reused {
            self.reused.fetch_add(1, Relaxed);
        }
        let us = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        self.wait_sum_us.fetch_add(us, Relaxed);
        self.wait_max_us.fetch_max(us, Relaxed);
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> PoolStats {
        let get = |a: &AtomicU64| a.load(Relaxed);
        PoolStats {
            connects: get(&self.connects),
            sockets_opened: get(&self.opened),
            unpooled_opened: get(&self.unpooled_opened),
            open_now: get(&self.open_now),
            peak_open: get(&self.peak_open),
            tls_full: get(&self.tls_full),
            tls_resumed: get(&self.tls_resumed),
            connect_errors: get(&self.connect_errors),
            connect_errors_fd_exhausted: get(&self.fd_exhausted),
            requests: get(&self.requests),
            reused: get(&self.reused),
            socket_wait_sum_us: get(&self.wait_sum_us),
            socket_wait_max_us: get(&self.wait_max_us),
        }
    }
}

/// A snapshot of [`PoolCounters`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolStats {
    /// Connects started.
    pub connects: u64,
    /// Connections made (TCP, TLS and the HTTP/1.1 handshake all succeeded).
    pub sockets_opened: u64,
    /// The subset of `sockets_opened` made outside the pool for `Expect: 100-continue`.
    pub unpooled_opened: u64,
    /// Connections open now.
    pub open_now: u64,
    /// Most connections open at once.
    pub peak_open: u64,
    /// Full TLS handshakes.
    pub tls_full: u64,
    /// Resumed TLS handshakes.
    pub tls_resumed: u64,
    /// Connects that failed.
    pub connect_errors: u64,
    /// The subset of `connect_errors` that were EMFILE/ENFILE.
    pub connect_errors_fd_exhausted: u64,
    /// Requests that got a socket.
    pub requests: u64,
    /// The subset of `requests` whose socket had carried a request before.
    pub reused: u64,
    /// Summed wait for a socket, in µs.
    pub socket_wait_sum_us: u64,
    /// Longest wait for a socket, in µs.
    pub socket_wait_max_us: u64,
}

impl PoolStats {
    /// Mean wait for a socket in µs (0 without requests).
    pub fn socket_wait_mean_us(&self) -> u64 {
        self.socket_wait_sum_us
            .checked_div(self.requests)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_opens_closes_and_peaks() {
        let c = PoolCounters::default();
        c.connect_started();
        c.opened(Handshake::Full, false);
        c.connect_started();
        c.opened(Handshake::Resumed, true);
        c.closed();
        c.connect_started();
        c.connect_failed(&ConnectError::from_io(std::io::Error::from_raw_os_error(
            24,
        )));
        c.request(Duration::from_micros(10), false);
        c.request(Duration::from_micros(30), true);
        let s = c.snapshot();
        assert_eq!((s.connects, s.sockets_opened, s.unpooled_opened), (3, 2, 1));
        assert_eq!((s.open_now, s.peak_open), (1, 2));
        assert_eq!((s.tls_full, s.tls_resumed), (1, 1));
        assert_eq!((s.connect_errors, s.connect_errors_fd_exhausted), (1, 1));
        assert_eq!((s.requests, s.reused, s.socket_wait_mean_us()), (2, 1, 20));
    }
}
