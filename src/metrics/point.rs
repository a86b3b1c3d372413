//! One measured point of the sweep: an (sdk, client, pool, pattern, op, profile, batch,
//! maxSockets) cell, aggregated over its repetitions.
//!
//! Each run of a point has a **start-up** (its first batches, in which the client opens its
//! sockets and pays its handshakes; [`Startup`]) and a **steady window** (the rest). Rates,
//! latency and socket wait are the steady window's; counts (sockets, handshakes, retries,
//! errors, requests) cover the whole run, start-up included, and [`Startup`] says how much of
//! them the start-up took.
//!
//! Units are in the field names (`_ms`, `_s`, `_per_s`, `_ns`); counts are totals over all
//! repetitions unless the doc says otherwise. A point whose run failed is still a point:
//! failures are data (see [`Point::failed`]), never a reason to drop it.

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

/// The start-up of a point's runs: the first batches, before the steady window.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Startup {
    /// Batches each run spent in its start-up (0: the whole run is measured as steady, as
    /// for the `burst` pattern).
    pub batches: u32,
    /// Objects each run sent in its start-up.
    pub objects: u64,
    /// Wall time of each run's start-up, ms: median and range over repetitions.
    pub time_ms: Spread,
    /// Sockets opened during the start-ups (total over repetitions; part of
    /// [`Point::sockets_opened`]).
    pub sockets_opened: u64,
    /// Full TLS handshakes during the start-ups.
    pub tls_full: u64,
    /// Resumed TLS handshakes during the start-ups.
    pub tls_resumed: u64,
}

/// CPU time per request of each side, in nanoseconds, from per-thread clocks: the client's
/// threads and the server's threads are counted apart. Per request attempted (retries
/// included), over every repetition; `None` where it could not be read (no /proc, an
/// external endpoint, a client that does not report it).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CpuPerRequest {
    /// The client's threads (the client under test's process for an out-of-process client).
    pub client_ns: Option<f64>,
    /// The mock server's threads.
    pub server_ns: Option<f64>,
}

/// What the points of one group have in common: they form curves that are read together,
/// and get their own charts and recommendations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKey {
    /// The S3 client measured: each SDK's curve is read on its own.
    pub sdk: Sdk,
    /// Pool implementation.
    pub pool: PoolKind,
    /// Request pattern.
    pub pattern: Pattern,
    /// Operation.
    pub op: Op,
    /// Server profile name.
    pub profile: String,
    /// What the group shows, as its sweep labelled it (e.g. the cause of a fall-off);
    /// `None` for an unlabelled sweep.
    pub scenario: Option<String>,
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
    /// What the sweep this point belongs to shows (drawn on its charts); `None` if unlabelled.
    pub scenario: Option<String>,
    /// How many times the point was measured.
    pub repetitions: u32,
    /// Objects requested per repetition.
    pub objects: u64,
    /// Objects done within the time budget per repetition (the smallest over repetitions).
    pub completed: u64,
    /// Object size in bytes.
    pub object_size: u64,
    /// Objects per second in the steady window.
    pub objects_per_s: Spread,
    /// Objects per second in the steady window of each repetition, in the order measured
    /// (what the knee's interval is computed from).
    pub objects_per_s_by_run: Vec<f64>,
    /// Megabytes (10^6 bytes) per second.
    pub mb_per_s: Spread,
    /// Projected seconds for all `objects`: the median start-up time plus the rest at the
    /// median steady rate; `None` if nothing completed.
    pub projected_s: Option<f64>,
    /// The runs' start-up, apart from the steady window.
    pub startup: Startup,
    /// Request latency in the steady window.
    pub latency_ms: Latency,
    /// Wait for a socket in the steady window.
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
    /// CPU time per request of the client and of the server.
    pub cpu_ns_per_request: CpuPerRequest,
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
    /// Whether the sweep measures failed requests as its finding (e.g. EMFILE past a lowered
    /// descriptor limit): its errors are data, and the point is not [`Point::failed`] unless
    /// runs could not be measured ([`Point::failure`]).
    /// Absent in files written before it (read as `false`).
    #[serde(default)]
    pub errors_expected: bool,
}

impl Point {
    /// The group this point's curve belongs to.
    pub fn group(&self) -> GroupKey {
        GroupKey {
            sdk: self.sdk,
            pool: self.pool,
            pattern: self.pattern,
            op: self.op,
            profile: self.profile.clone(),
            scenario: self.scenario.clone(),
        }
    }

    /// Whether a request failed for good (EMFILE included), or runs could not be measured at
    /// all ([`Point::failure`]).
    pub fn has_errors(&self) -> bool {
        self.failure.is_some() || self.errors.total > 0 || self.errors.emfile > 0
    }

    /// Whether the time budget stopped a run before all its objects (its throughput was
    /// measured on fewer objects; [`Point::projected_s`] says how long all would take).
    pub fn cut_by_budget(&self) -> bool {
        self.completed < self.objects
    }

    /// Whether a request failed for good (EMFILE included) or runs could not be measured. Such
    /// points are reported, marked, never hidden. A point cut by the time budget did not fail: its throughput was measured
    /// and its projection stands ([`Point::budget_summary`]). A point whose sweep measures
    /// failed requests ([`Point::errors_expected`]) fails only when runs could not be measured.
    pub fn failed(&self) -> bool {
        if self.errors_expected {
            self.failure.is_some()
        } else {
            self.has_errors()
        }
    }

    /// "880 of 10,000 objects within the time budget; all projected in 52 s"; empty when the
    /// budget did not cut a run.
    pub fn budget_summary(&self) -> String {
        if !self.cut_by_budget() {
            return String::new();
        }
        let mut s = format!(
            "{} of {} objects within the time budget",
            self.completed, self.objects
        );
        if let Some(p) = self.projected_s {
            s.push_str(&format!("; all projected in {p:.0} s"));
        }
        s
    }

    /// A one-line description of what failed, e.g. "37 errors (EMFILE 30, timeout 7)"; empty
    /// when [`Point::failed`] is false.
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
        parts.join("; ")
    }

    /// A short name for messages, the SDK first whichever it is (a run may measure several):
    /// "poolsweep shared batch=64 maxSockets=∞", "js-v3 shared batch=64 maxSockets=∞".
    pub fn label(&self) -> String {
        format!(
            "{} {} batch={} maxSockets={}",
            self.sdk,
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
            ("startup.time_ms.median", self.startup.time_ms.median),
            ("startup.time_ms.min", self.startup.time_ms.min),
            ("startup.time_ms.max", self.startup.time_ms.max),
            (
                "cpu_ns_per_request.client_ns",
                self.cpu_ns_per_request.client_ns.unwrap_or(0.0),
            ),
            (
                "cpu_ns_per_request.server_ns",
                self.cpu_ns_per_request.server_ns.unwrap_or(0.0),
            ),
        ];
        fields
            .into_iter()
            .chain(
                self.objects_per_s_by_run
                    .iter()
                    .map(|&v| ("objects_per_s_by_run", v)),
            )
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
