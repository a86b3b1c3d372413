//! The deterministic counters of a point and their exact differences.
//!
//! On the `ideal` profile the same workload opens the same sockets, makes the same number of
//! TLS handshakes and the same retries every time: a difference means the client behaves
//! differently (a pool that stopped reusing sockets, a new retry). How those handshakes split
//! into full and resumed is not compared: a socket opened before the agent's first handshake
//! completes cannot resume (as in Node), so the split depends on timing.
//! With random latency or faults they can vary between identical runs; see
//! [`super::CompareOptions::strict_counters`].

use crate::metrics::Point;

/// A counter compared exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Counter {
    /// Sockets (TCP connections) opened.
    SocketsOpened,
    /// TLS handshakes, full and resumed together.
    TlsHandshakes,
    /// All retries.
    RetriesTotal,
    /// Retries after a throttling reply.
    RetriesThrottling,
    /// Retries after a transient failure.
    RetriesTransient,
    /// Retries after a timeout.
    RetriesTimeout,
    /// Other retries.
    RetriesOther,
    /// All failed requests.
    ErrorsTotal,
    /// Failed with `EMFILE`.
    ErrorsEmfile,
    /// Failed with a timeout.
    ErrorsTimeout,
    /// Failed with a connection reset.
    ErrorsReset,
    /// Still throttled when retries ran out.
    ErrorsSlowdown,
    /// Failed otherwise.
    ErrorsOther,
}

impl Counter {
    /// Every counter, in display order.
    pub const ALL: [Counter; 13] = [
        Counter::SocketsOpened,
        Counter::TlsHandshakes,
        Counter::RetriesTotal,
        Counter::RetriesThrottling,
        Counter::RetriesTransient,
        Counter::RetriesTimeout,
        Counter::RetriesOther,
        Counter::ErrorsTotal,
        Counter::ErrorsEmfile,
        Counter::ErrorsTimeout,
        Counter::ErrorsReset,
        Counter::ErrorsSlowdown,
        Counter::ErrorsOther,
    ];

    /// The field's path in the result file: "sockets_opened", "retries.throttling"…
    pub fn name(self) -> &'static str {
        match self {
            Counter::SocketsOpened => "sockets_opened",
            Counter::TlsHandshakes => "tls_full+tls_resumed",
            Counter::RetriesTotal => "retries.total",
            Counter::RetriesThrottling => "retries.throttling",
            Counter::RetriesTransient => "retries.transient",
            Counter::RetriesTimeout => "retries.timeout",
            Counter::RetriesOther => "retries.other",
            Counter::ErrorsTotal => "errors.total",
            Counter::ErrorsEmfile => "errors.emfile",
            Counter::ErrorsTimeout => "errors.timeout",
            Counter::ErrorsReset => "errors.reset",
            Counter::ErrorsSlowdown => "errors.slowdown",
            Counter::ErrorsOther => "errors.other",
        }
    }

    /// The counter's value in `point` (a total over its repetitions).
    pub fn of(self, point: &Point) -> u64 {
        let (r, e) = (&point.retries, &point.errors);
        match self {
            Counter::SocketsOpened => point.sockets_opened,
            Counter::TlsHandshakes => point.tls_full + point.tls_resumed,
            Counter::RetriesTotal => r.total,
            Counter::RetriesThrottling => r.throttling,
            Counter::RetriesTransient => r.transient,
            Counter::RetriesTimeout => r.timeout,
            Counter::RetriesOther => r.other,
            Counter::ErrorsTotal => e.total,
            Counter::ErrorsEmfile => e.emfile,
            Counter::ErrorsTimeout => e.timeout,
            Counter::ErrorsReset => e.reset,
            Counter::ErrorsSlowdown => e.slowdown,
            Counter::ErrorsOther => e.other,
        }
    }
}

/// A counter whose value differs between the runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterChange {
    /// Which counter.
    pub counter: Counter,
    /// Its value in base.
    pub base: u64,
    /// Its value in new.
    pub new: u64,
}

/// Every counter that differs between `base` and `new`, in [`Counter::ALL`] order.
///
/// Counters are totals over repetitions, so points with different repetition counts differ
/// here even when each repetition behaved the same; the comparison notes such pairs.
pub(crate) fn changes(base: &Point, new: &Point) -> Vec<CounterChange> {
    Counter::ALL
        .into_iter()
        .map(|counter| CounterChange {
            counter,
            base: counter.of(base),
            new: counter.of(new),
        })
        .filter(|c| c.base != c.new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;

    #[test]
    fn only_differing_counters_are_listed() {
        let run = fixtures::small();
        let base = &run.points[3];
        assert!(changes(base, base).is_empty());
        let mut new = base.clone();
        new.sockets_opened += 8;
        new.retries.transient += 2;
        new.retries.total += 2;
        new.objects_per_s.median *= 0.5; // not a counter
        let diff = changes(base, &new);
        let names: Vec<&str> = diff.iter().map(|c| c.counter.name()).collect();
        assert_eq!(
            names,
            ["sockets_opened", "retries.total", "retries.transient"]
        );
        assert_eq!(diff[0].new, diff[0].base + 8);
    }
}
