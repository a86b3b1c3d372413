//! One measured point of the sweep: an (sdk, client, pool, pattern, op, profile, batch,
//! maxSockets) cell, aggregated over its repetitions.
//!
//! Units are in the field names (`_ms`, `_s`, `_per_s`); counts are totals over all repetitions
//! unless the doc says otherwise. A point whose run failed is still a point: failures are data
//! (see [`Point::failed`]), never a reason to drop it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::modes::ClientMode;
use crate::sut::Sdk;
use crate::transport::PoolKind;
use crate::workload::{Op, Pattern};

/// The median and range of a value across repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Spread {
    /// Median over repetitions.
    pub median: f64,
    /// Smallest repetition.
    pub min: f64,
    /// Largest repetition.
    pub max: f64,
}

/// Request latency percentiles in milliseconds, over every request of every repetition.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Latency {
    /// 50th percentile.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest request.
    pub max: f64,
}

/// Time a request waited for a socket (queued at the maxSockets cap), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SocketWait {
    /// 50th percentile.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Retries the client made, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Retries {
    /// All retries.
    pub total: u64,
    /// After a throttling reply (S3 `SlowDown`, HTTP 503).
    pub throttling: u64,
    /// After a transient failure (5xx, connection reset before the response).
    pub transient: u64,
    /// After a timeout.
    pub timeout: u64,
    /// After anything else the client chose to retry on, as the client under test classes
    /// it (the SDK runners report such retries). poolsweep's own client retries only on the
    /// three classes above, so its count here is 0 by classification, not by default.
    pub other: u64,
}

/// Requests that failed for good (after any retries), by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Errors {
    /// All failed requests.
    pub total: u64,
    /// The client ran out of file descriptors (`EMFILE`, see `RLIMIT_NOFILE` in the meta).
    pub emfile: u64,
    /// Timed out.
    pub timeout: u64,
    /// Connection reset.
    pub reset: u64,
    /// Still throttled (`SlowDown`) when retries ran out.
    pub slowdown: u64,
    /// Anything else.
    pub other: u64,
}

/// One measured point, aggregated over its repetitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The S3 client measured.
    pub sdk: Sdk,
    /// Client mode.
    pub client: ClientMode,
    /// Pool implementation.
    pub pool: PoolKind,
    /// Request pattern.
    pub pattern: Pattern,
    /// Operation.
    pub op: Op,
    /// Batch size: requests issued together.
    pub batch: u32,
    /// The socket cap; `None` (JSON `null`) is Infinity.
    pub max_sockets: Option<u32>,
    /// Name of the server profile (the full profile is in the meta).
    pub profile: String,
    /// How many times the point was measured.
    pub repetitions: u32,
    /// Objects requested per repetition.
    pub objects: u64,
    /// Objects done within the time budget per repetition (the smallest over repetitions).
    pub completed: u64,
    /// Object size in bytes.
    pub object_size: u64,
    /// Objects per second.
    pub objects_per_s: Spread,
    /// Megabytes (10^6 bytes) per second.
    pub mb_per_s: Spread,
    /// Projected seconds for all `objects` at the median rate; `None` if nothing completed.
    pub projected_s: Option<f64>,
    /// Request latency.
    pub latency_ms: Latency,
    /// Wait for a socket.
    pub socket_wait_ms: SocketWait,
    /// Sockets (TCP connections) opened.
    pub sockets_opened: u64,
    /// Most sockets open at one time.
    pub peak_open_sockets: u64,
    /// Full TLS handshakes.
    pub tls_full: u64,
    /// Resumed TLS handshakes.
    pub tls_resumed: u64,
    /// Retries.
    pub retries: Retries,
    /// Failed requests.
    pub errors: Errors,
    /// Client CPU seconds (user + system) per 1,000 requests.
    pub cpu_s_per_1k: f64,
    /// The server's counters for this point's interval, as the mock server reports them.
    pub server: serde_json::Map<String, serde_json::Value>,
    /// Requests attempted, retries included.
    pub requests: u64,
    /// Requests that succeeded.
    pub succeeded: u64,
    /// Why runs of the point could not be measured, when the client under test failed
    /// outside any one request (its runner missing, crashed, hung, or refused the settings);
    /// the point keeps the runs that did finish. `None` when every run ran.
    pub failure: Option<String>,
}

impl Point {
    /// Whether anything went wrong: a failed request (EMFILE included) or objects not completed
    /// within the time budget. Such points are reported, marked, never hidden.
    pub fn failed(&self) -> bool {
        self.failure.is_some()
            || self.errors.total > 0
            || self.errors.emfile > 0
            || self.completed < self.objects
    }

    /// A one-line description of what failed, e.g. "37 errors (EMFILE 30, timeout 7); 880 of
    /// 1000 objects completed"; empty when [`Point::failed`] is false.
    pub fn failure_summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(why) = &self.failure {
            parts.push(why.clone());
        }
        if self.errors.total > 0 || self.errors.emfile > 0 {
            let e = &self.errors;
            let kinds: Vec<String> = [
                ("EMFILE", e.emfile),
                ("timeout", e.timeout),
                ("reset", e.reset),
                ("SlowDown", e.slowdown),
                ("other", e.other),
            ]
            .into_iter()
            .filter(|&(_, n)| n > 0)
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
            let total = e.total.max(e.emfile);
            let noun = if total == 1 { "error" } else { "errors" };
            if kinds.is_empty() {
                parts.push(format!("{total} {noun}"));
            } else {
                parts.push(format!("{total} {noun} ({})", kinds.join(", ")));
            }
        }
        if self.completed < self.objects {
            parts.push(format!(
                "{} of {} objects completed",
                self.completed, self.objects
            ));
        }
        parts.join("; ")
    }

    /// A short name for messages: "shared batch=64 maxSockets=∞", with the SDK first when it
    /// is not poolsweep's own client ("js-v3 shared batch=64 maxSockets=∞").
    pub fn label(&self) -> String {
        let sdk = match self.sdk {
            Sdk::Poolsweep => String::new(),
            other => format!("{other} "),
        };
        format!(
            "{sdk}{} batch={} maxSockets={}",
            self.client,
            self.batch,
            display_max_sockets(self.max_sockets)
        )
    }

    /// The first float field that is NaN or infinite, if any (JSON cannot hold those).
    pub(crate) fn non_finite_field(&self) -> Option<&'static str> {
        let fields = [
            ("objects_per_s.median", self.objects_per_s.median),
            ("objects_per_s.min", self.objects_per_s.min),
            ("objects_per_s.max", self.objects_per_s.max),
            ("mb_per_s.median", self.mb_per_s.median),
            ("mb_per_s.min", self.mb_per_s.min),
            ("mb_per_s.max", self.mb_per_s.max),
            ("projected_s", self.projected_s.unwrap_or(0.0)),
            ("latency_ms.p50", self.latency_ms.p50),
            ("latency_ms.p90", self.latency_ms.p90),
            ("latency_ms.p99", self.latency_ms.p99),
            ("latency_ms.p999", self.latency_ms.p999),
            ("latency_ms.max", self.latency_ms.max),
            ("socket_wait_ms.p50", self.socket_wait_ms.p50),
            ("socket_wait_ms.p99", self.socket_wait_ms.p99),
            ("cpu_s_per_1k", self.cpu_s_per_1k),
        ];
        fields
            .into_iter()
            .find(|(_, v)| !v.is_finite())
            .map(|(name, _)| name)
    }
}

/// Displays a maxSockets value: the number, or "∞" for `None` (Node's `Infinity`).
///
/// # Examples
///
/// ```
/// use poolsweep::metrics::display_max_sockets;
/// assert_eq!(display_max_sockets(Some(64)).to_string(), "64");
/// assert_eq!(display_max_sockets(None).to_string(), "∞");
/// ```
pub fn display_max_sockets(max_sockets: Option<u32>) -> impl fmt::Display {
    struct Show(Option<u32>);
    impl fmt::Display for Show {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                Some(n) => write!(f, "{n}"),
                None => f.write_str("∞"),
            }
        }
    }
    Show(max_sockets)
}

/// Orders maxSockets values with `None` (Infinity) after every finite cap.
///
/// `Option`'s own `Ord` puts `None` first, which is the wrong way round for a cap.
pub fn max_sockets_sort_key(max_sockets: Option<u32>) -> u64 {
    max_sockets.map_or(u64::MAX, u64::from)
}
