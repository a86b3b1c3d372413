//! Per-agent instrumentation: relaxed atomic counters, and [`AgentStats`], a serializable
//! snapshot of them.
//!
//! Invariant: recording never takes a lock and never allocates. Gauges (`open_now`,
//! `idle_now`, `queued_now`) change only under the agent's mutex. They mirror its state, so
//! each one is exact. A snapshot read alongside running requests may mix fields from
//! slightly different moments.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a socket was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The server closed the socket while it was idle. It was dropped from the free list
    /// and never handed out.
    ServerClosedIdle,
    /// The socket was idle longer than the agent's `timeout` (Node destroys free sockets on
    /// `'timeout'`).
    IdleTimeout,
    /// The caller reported an error on the request ([`Pooled::close_on_error`](super::Pooled::close_on_error)).
    Error,
    /// After the response was read to its end, the connection did not become ready within
    /// the ready timeout, or reported itself closed.
    NotReusable,
    /// The [`Pooled`](super::Pooled) guard was dropped without being released, for example
    /// with an unread body. Node would hold such a socket forever; here it is closed.
    Unconsumed,
    /// `Connection: close` was in effect: the response asked for it, or the agent sends it
    /// (keepAlive false with an infinite maxSockets).
    ConnectionClose,
    /// A healthy, freed socket that the agent chose not to keep. Either keepAlive is off and
    /// no request was queued, or maxFreeSockets, maxSockets or maxTotalSockets was reached.
    NotKept,
    /// The agent was destroyed.
    Destroyed,
}

/// Number of queue-wait histogram buckets. See [`WaitHistogram`].
pub(super) const WAIT_BUCKETS: usize = 32;

/// Lock-free counters, owned by one agent.
#[derive(Debug)]
pub(super) struct Counters {
    pub(super) checkouts: AtomicU64,
    pub(super) connect_attempts: AtomicU64,
    pub(super) sockets_created: AtomicU64,
    pub(super) reuses: AtomicU64,
    pub(super) tls_full: AtomicU64,
    pub(super) tls_resumed: AtomicU64,
    pub(super) connect_errors: AtomicU64,
    pub(super) connect_errors_fd_exhausted: AtomicU64,
    pub(super) connection_timeouts: AtomicU64,
    pub(super) capacity_warnings: AtomicU64,
    pub(super) queued_checkouts: AtomicU64,
    closed: [AtomicU64; 8],
    open_now: AtomicU64,
    peak_open: AtomicU64,
    idle_now: AtomicU64,
    queued_now: AtomicU64,
    max_queue_len: AtomicU64,
    wait_buckets: [AtomicU64; WAIT_BUCKETS],
    wait_sum_us: AtomicU64,
    wait_max_us: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        let zero = || AtomicU64::new(0);
        Self {
            checkouts: zero(),
            connect_attempts: zero(),
            sockets_created: zero(),
            reuses: zero(),
            tls_full: zero(),
            tls_resumed: zero(),
            connect_errors: zero(),
            connect_errors_fd_exhausted: zero(),
            connection_timeouts: zero(),
            capacity_warnings: zero(),
            queued_checkouts: zero(),
            closed: std::array::from_fn(|_| zero()),
            open_now: zero(),
            peak_open: zero(),
            idle_now: zero(),
            queued_now: zero(),
            max_queue_len: zero(),
            wait_buckets: std::array::from_fn(|_| zero()),
            wait_sum_us: zero(),
            wait_max_us: zero(),
        }
    }
}

/// Increments a counter.
pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}

impl Counters {
    /// A socket slot was taken (connect started). This is Node's `totalSocketCount++`.
    pub(super) fn socket_opened(&self) {
        let open = self.open_now.fetch_add(1, Relaxed) + 1;
        self.peak_open.fetch_max(open, Relaxed);
    }

    /// A socket slot was given up (closed, or its connect failed or was abandoned).
    pub(super) fn socket_gone(&self) {
        self.open_now.fetch_sub(1, Relaxed);
    }

    pub(super) fn closed(&self, reason: CloseReason) {
        bump(&self.closed[reason as usize]);
    }

    pub(super) fn idle_added(&self) {
        self.idle_now.fetch_add(1, Relaxed);
    }

    pub(super) fn idle_removed(&self) {
        self.idle_now.fetch_sub(1, Relaxed);
    }

    pub(super) fn idle_now(&self) -> u64 {
        self.idle_now.load(Relaxed)
    }

    pub(super) fn enqueued(&self) {
        bump(&self.queued_checkouts);
        let queued = self.queued_now.fetch_add(1, Relaxed) + 1;
        self.max_queue_len.fetch_max(queued, Relaxed);
    }

    pub(super) fn dequeued(&self, n: u64) {
        self.queued_now.fetch_sub(n, Relaxed);
    }

    /// Records one checkout's wait from hand-over to a usable socket.
    pub(super) fn record_wait(&self, wait: Duration) {
        let us = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
        bump(&self.wait_buckets[bucket_of(us)]);
        self.wait_sum_us.fetch_add(us, Relaxed);
        self.wait_max_us.fetch_max(us, Relaxed);
    }

    pub(super) fn snapshot(&self) -> AgentStats {
        let get = |c: &AtomicU64| c.load(Relaxed);
        let closed = |r: CloseReason| get(&self.closed[r as usize]);
        let counts: Vec<u64> = self.wait_buckets.iter().map(get).collect();
        let open_now = get(&self.open_now);
        let idle_now = get(&self.idle_now);
        AgentStats {
            checkouts: get(&self.checkouts),
            connect_attempts: get(&self.connect_attempts),
            sockets_created: get(&self.sockets_created),
            open_now,
            peak_open: get(&self.peak_open),
            in_use_now: open_now.saturating_sub(idle_now),
            idle_now,
            queued_now: get(&self.queued_now),
            max_queue_len: get(&self.max_queue_len),
            queued_checkouts: get(&self.queued_checkouts),
            reuses: get(&self.reuses),
            tls_full: get(&self.tls_full),
            tls_resumed: get(&self.tls_resumed),
            closed: ClosedStats {
                server_closed_idle: closed(CloseReason::ServerClosedIdle),
                idle_timeout: closed(CloseReason::IdleTimeout),
                error: closed(CloseReason::Error),
                not_reusable: closed(CloseReason::NotReusable),
                unconsumed: closed(CloseReason::Unconsumed),
                connection_close: closed(CloseReason::ConnectionClose),
                not_kept: closed(CloseReason::NotKept),
                destroyed: closed(CloseReason::Destroyed),
            },
            connect_errors: get(&self.connect_errors),
            connect_errors_fd_exhausted: get(&self.connect_errors_fd_exhausted),
            connection_timeouts: get(&self.connection_timeouts),
            capacity_warnings: get(&self.capacity_warnings),
            queue_wait: WaitHistogram {
                count: counts.iter().sum(),
                counts,
                sum_us: get(&self.wait_sum_us),
                max_us: get(&self.wait_max_us),
            },
        }
    }
}

/// Bucket 0 holds 0 µs. Bucket `i >= 1` holds `[2^(i-1), 2^i)` µs. The last bucket also
/// holds everything above it.
fn bucket_of(us: u64) -> usize {
    ((u64::BITS - us.leading_zeros()) as usize).min(WAIT_BUCKETS - 1)
}

/// A snapshot of one agent's counters ([`Agent::stats`](super::Agent::stats)).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStats {
    /// Checkouts started (requests handed to the agent).
    pub checkouts: u64,
    /// New sockets the agent started to connect.
    pub connect_attempts: u64,
    /// Sockets that connected successfully.
    pub sockets_created: u64,
    /// Sockets the agent counts now: connecting, in use, or idle. This is Node's
    /// `totalSocketCount`, and what `maxSockets`/`maxTotalSockets` bound.
    pub open_now: u64,
    /// Peak of `open_now`.
    pub peak_open: u64,
    /// Sockets connecting or in use now (Node's `sockets[*]`).
    pub in_use_now: u64,
    /// Idle sockets now (Node's `freeSockets[*]`). Sockets the server closed are counted
    /// until the agent notices, at the next checkout or reaper pass.
    pub idle_now: u64,
    /// Checkouts waiting in a queue now (Node's `requests[*]`).
    pub queued_now: u64,
    /// Peak of `queued_now`.
    pub max_queue_len: u64,
    /// Checkouts that had to queue.
    pub queued_checkouts: u64,
    /// Checkouts served by a socket that had already carried a request (taken from the free
    /// list or handed over by a finished request).
    pub reuses: u64,
    /// New TLS sockets with a full handshake.
    pub tls_full: u64,
    /// New TLS sockets that resumed a session from this agent's cache.
    pub tls_resumed: u64,
    /// Sockets closed, by reason.
    pub closed: ClosedStats,
    /// Connects that failed, connection timeouts excluded.
    pub connect_errors: u64,
    /// The subset of `connect_errors` that were EMFILE/ENFILE.
    pub connect_errors_fd_exhausted: u64,
    /// Checkouts failed by the connection timeout (queue wait included).
    pub connection_timeouts: u64,
    /// "socket usage at capacity" warnings emitted.
    pub capacity_warnings: u64,
    /// Time from hand-over to a usable socket, per successful checkout. This covers queue wait
    /// plus, for a new socket, connecting.
    pub queue_wait: WaitHistogram,
}

/// Socket close counts by [`CloseReason`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedStats {
    /// [`CloseReason::ServerClosedIdle`].
    pub server_closed_idle: u64,
    /// [`CloseReason::IdleTimeout`].
    pub idle_timeout: u64,
    /// [`CloseReason::Error`].
    pub error: u64,
    /// [`CloseReason::NotReusable`].
    pub not_reusable: u64,
    /// [`CloseReason::Unconsumed`].
    pub unconsumed: u64,
    /// [`CloseReason::ConnectionClose`].
    pub connection_close: u64,
    /// [`CloseReason::NotKept`].
    pub not_kept: u64,
    /// [`CloseReason::Destroyed`].
    pub destroyed: u64,
}

impl ClosedStats {
    /// All closes.
    pub fn total(&self) -> u64 {
        self.server_closed_idle
            + self.idle_timeout
            + self.error
            + self.not_reusable
            + self.unconsumed
            + self.connection_close
            + self.not_kept
            + self.destroyed
    }
}

/// A log2 histogram of durations in microseconds. `counts[0]` holds 0 µs. `counts[i]` for
/// `i >= 1` holds `[2^(i-1), 2^i)` µs. The last bucket is open-ended (about 18 minutes and
/// up).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitHistogram {
    /// Counts per bucket.
    pub counts: Vec<u64>,
    /// Number of samples.
    pub count: u64,
    /// Sum of all samples, in µs.
    pub sum_us: u64,
    /// Largest sample, in µs.
    pub max_us: u64,
}

impl WaitHistogram {
    /// The exclusive upper bound of bucket `i` in µs, or `None` for the open-ended last one.
    pub fn bucket_upper_bound_us(i: usize) -> Option<u64> {
        (i < WAIT_BUCKETS - 1).then(|| 1u64 << i)
    }

    /// Mean sample in µs (0 when empty).
    pub fn mean_us(&self) -> u64 {
        self.sum_us.checked_div(self.count).unwrap_or(0)
    }

    /// An upper bound on the `q`-quantile (`0.0..=1.0`) in µs. This is the largest value the
    /// bucket holding it can contain, capped at `max_us`.
    pub fn quantile_upper_bound_us(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::bucket_upper_bound_us(i)
                    .map_or(self.max_us, |b| (b - 1).min(self.max_us));
            }
        }
        self.max_us
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_log2_of_micros() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1), 1);
        assert_eq!(bucket_of(2), 2);
        assert_eq!(bucket_of(3), 2);
        assert_eq!(bucket_of(1024), 11);
        assert_eq!(bucket_of(u64::MAX), WAIT_BUCKETS - 1);
        assert_eq!(WaitHistogram::bucket_upper_bound_us(2), Some(4));
    }

    #[test]
    fn snapshot_reports_waits_and_gauges() {
        let c = Counters::default();
        c.record_wait(Duration::ZERO);
        c.record_wait(Duration::from_millis(3));
        c.socket_opened();
        c.socket_opened();
        c.socket_gone();
        c.closed(CloseReason::Unconsumed);
        let s = c.snapshot();
        assert_eq!(s.queue_wait.count, 2);
        assert_eq!(s.queue_wait.max_us, 3000);
        assert_eq!(s.queue_wait.quantile_upper_bound_us(0.5), 0);
        assert_eq!(s.queue_wait.quantile_upper_bound_us(1.0), 3000);
        assert_eq!((s.open_now, s.peak_open), (1, 2));
        assert_eq!(s.closed.unconsumed, 1);
        assert_eq!(s.closed.total(), 1);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"tls_resumed\":0"));
    }
}
