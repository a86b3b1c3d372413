//! Synthetic points for tests and the report demo.
//!
//! The numbers come from a small model of a real sweep, not from measurements:
//! - throughput rises with concurrency `c = min(maxSockets, batch)` and saturates at the
//!   server's capacity (`C·(1 − e^(−r·c/C))`, `r` = objects/s one socket sustains);
//! - above `SLOWDOWN_ABOVE` concurrent connections the server answers `SlowDown`, the client
//!   retries with backoff, and throughput falls off;
//! - a client holding more sockets than `RLIMIT_NOFILE` allows gets `EMFILE` (per-request clients
//!   leave keep-alive sockets behind, so they hit it at a smaller batch);
//! - repetitions spread by a few percent.
//!
//! `results::fixtures` wraps these points into result files.

use serde_json::{Value, json};

use super::{CpuPerRequest, Errors, Latency, Point, Retries, SocketWait, Spread, Startup};
use crate::modes::ClientMode;
use crate::transport::PoolKind;
use crate::workload::{Op, Pattern};

/// The server starts throttling above this many concurrent connections.
const SLOWDOWN_ABOVE: f64 = 256.0;
/// File descriptors a client uses besides sockets (stdio, runtime, log file…).
const OTHER_FDS: u64 = 16;

/// The grid a fixture models.
pub(crate) struct Sweep {
    pub(crate) clients: &'static [ClientMode],
    pub(crate) batches: &'static [u32],
    pub(crate) max_sockets: &'static [Option<u32>],
    pub(crate) nofile_soft: u64,
    pub(crate) objects: u64,
    pub(crate) repetitions: u32,
}

/// 20 points: shared and per-request, batch 8 and 64, maxSockets 1, 4, 16, 64, ∞. The
/// per-request batch 64 points fail with EMFILE (soft RLIMIT_NOFILE 256).
pub(crate) const SMALL: Sweep = Sweep {
    clients: &[ClientMode::Shared, ClientMode::PerRequest],
    batches: &[8, 64],
    max_sockets: &[Some(1), Some(4), Some(16), Some(64), None],
    nofile_soft: 256,
    objects: 200,
    repetitions: 3,
};

/// 132 points looking like a real sweep: three client modes, batch 16…1024, maxSockets 1…512
/// and ∞, a knee around 64–128, fall-off from SlowDown above 256 sockets and EMFILE failures
/// (soft RLIMIT_NOFILE 1024, the common Linux default).
pub(crate) const REALISTIC: Sweep = Sweep {
    clients: &[
        ClientMode::Shared,
        ClientMode::PerRequest,
        ClientMode::SharedHandler,
    ],
    batches: &[16, 64, 256, 1024],
    max_sockets: &[
        Some(1),
        Some(2),
        Some(4),
        Some(8),
        Some(16),
        Some(32),
        Some(64),
        Some(128),
        Some(256),
        Some(512),
        None,
    ],
    nofile_soft: 1024,
    objects: 4000,
    repetitions: 5,
};

/// The points of `s`, in grid order (client, batch, maxSockets).
pub(crate) fn points(s: &Sweep) -> Vec<Point> {
    let mut points = Vec::new();
    let mut i = 0u64;
    for &client in s.clients {
        for &batch in s.batches {
            for &ms in s.max_sockets {
                i += 1;
                points.push(model_point(s, client, batch, ms, i));
            }
        }
    }
    points
}

/// Deterministic noise in [0, 1).
fn noise(i: u64) -> f64 {
    (i.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0
}

fn model_point(s: &Sweep, client: ClientMode, batch: u32, ms: Option<u32>, i: u64) -> Point {
    let object_size: u64 = 262_144;
    let per_request = client == ClientMode::PerRequest;
    // Concurrency: a per-request client has its own pool per request, so its cap never binds.
    let c = if per_request {
        f64::from(batch)
    } else {
        f64::from(ms.map_or(batch, |m| m.min(batch)))
    };
    // One socket: 14 ms per 256 KiB PUT; a fresh TLS handshake per request adds 6 ms.
    let (rate, capacity) = if per_request {
        (50.0, 1500.0)
    } else {
        (71.0, 3200.0)
    };
    let mut tput = capacity * (1.0 - (-rate * c / capacity).exp());
    if client == ClientMode::SharedHandler {
        tput *= 0.97;
    }

    // SlowDown: a share of requests above the threshold is throttled and retried with backoff.
    let slowdown_share = if c > SLOWDOWN_ABOVE {
        0.5 * (c - SLOWDOWN_ABOVE) / c
    } else {
        0.0
    };
    tput *= 1.0 - 1.2 * slowdown_share;

    // EMFILE: sockets beyond the fd limit fail to open.
    let peak_open = if per_request {
        u64::from(batch) * 4
    } else {
        c as u64
    };
    let emfile_share = if peak_open + OTHER_FDS > s.nofile_soft {
        (((peak_open + OTHER_FDS - s.nofile_soft) as f64 / peak_open as f64) * 0.3).min(0.5)
    } else {
        0.0
    };
    tput *= 1.0 - emfile_share;

    let objects = s.objects;
    let emfile = (objects as f64 * emfile_share).round() as u64;
    // Retries run out for a few throttled requests once throttling is heavy.
    let slowdown_errors = if slowdown_share > 0.3 {
        (objects as f64 * 0.004).round() as u64
    } else {
        0
    };
    let throttled = (objects as f64 * slowdown_share * 1.6).round() as u64;
    let completed = objects - emfile - slowdown_errors;
    let errors_total = emfile + slowdown_errors;
    let requests = objects + throttled;

    let n = noise(i);
    let spread = 0.03 + 0.05 * n;
    let median = tput * (1.0 + (n - 0.5) * 0.02);
    let objects_per_s = Spread {
        median,
        min: median * (1.0 - spread),
        max: median * (1.0 + spread * 0.7),
    };
    let mb = |v: f64| v * object_size as f64 / 1e6;

    // Little's law: c requests in flight at `tput` per second.
    let p50 = (c / tput * 1000.0).max(8.0) * (1.0 + 0.1 * n);
    let tail = 1.8 + 3.0 * slowdown_share;
    let queued = ms.map_or(0.0, |m| (f64::from(batch) / f64::from(m) - 1.0).max(0.0));
    let wait = if per_request { 0.0 } else { queued * p50 };

    let sockets_opened = if per_request {
        requests
    } else {
        c as u64 + requests / 100
    };
    let tls_full = if per_request {
        sockets_opened
    } else {
        c as u64
    };
    let reps = u64::from(s.repetitions);
    let server = json!({
        "connections_accepted": sockets_opened * reps,
        "requests": requests * reps,
        "slowdowns_sent": throttled * reps,
        "tls_full": tls_full * reps,
        "tls_resumed": (sockets_opened - tls_full) * reps,
        "peak_connections": peak_open,
    });
    let mut point = Point {
        sdk: crate::sut::Sdk::Poolsweep,
        client,
        pool: PoolKind::Agent,
        pattern: Pattern::Batch,
        op: Op::Put,
        batch,
        max_sockets: ms,
        profile: "s3-like".to_owned(),
        scenario: None,
        repetitions: s.repetitions,
        objects,
        completed,
        object_size,
        objects_per_s,
        objects_per_s_by_run: by_run(objects_per_s, s.repetitions),
        mb_per_s: Spread {
            median: mb(median),
            min: mb(objects_per_s.min),
            max: mb(objects_per_s.max),
        },
        projected_s: (median > 0.0).then(|| objects as f64 / median),
        startup: Startup {
            batches: 2,
            objects: (2 * u64::from(batch)).min(objects / 2),
            time_ms: Spread {
                median: 2.0 * p50 * 1.6,
                min: 2.0 * p50 * 1.5,
                max: 2.0 * p50 * 1.9,
            },
            sockets_opened: tls_full * reps,
            tls_full: tls_full * reps,
            tls_resumed: 0,
        },
        latency_ms: Latency {
            p50,
            p90: p50 * 1.4,
            p99: p50 * tail,
            p999: p50 * tail * 1.5,
            max: p50 * tail * 2.5,
        },
        socket_wait_ms: SocketWait {
            p50: wait * 0.5,
            p99: wait,
        },
        sockets_opened: sockets_opened * reps,
        peak_open_sockets: peak_open,
        tls_full: tls_full * reps,
        tls_resumed: (sockets_opened - tls_full) * reps,
        retries: Retries {
            total: (throttled + objects / 500) * reps,
            throttling: throttled * reps,
            transient: objects / 500 * reps,
            timeout: 0,
            other: 0,
        },
        errors: Errors {
            total: errors_total * reps,
            emfile: emfile * reps,
            timeout: 0,
            reset: 0,
            slowdown: slowdown_errors * reps,
            other: 0,
        },
        cpu_ns_per_request: CpuPerRequest {
            client_ns: Some(if per_request { 2.1e6 } else { 0.35e6 } * (1.0 + 0.1 * n)),
            server_ns: Some(if per_request { 0.9e6 } else { 0.12e6 } * (1.0 + 0.1 * n)),
        },
        server: match server {
            Value::Object(map) => map,
            _ => unreachable!("json! object literal"),
        },
        requests: requests * reps,
        succeeded: (requests - errors_total) * reps,
        failure: None,
        errors_expected: false,
    };
    round_floats(&mut point);
    point
}

/// Rounds to 3 decimals, like a file a person would read, and so that values survive a JSON
/// round trip bit for bit (serde_json parses up to 15 significant digits exactly).
fn round_floats(p: &mut Point) {
    let r = |v: &mut f64| *v = (*v * 1000.0).round() / 1000.0;
    for s in [&mut p.objects_per_s, &mut p.mb_per_s] {
        r(&mut s.median);
        r(&mut s.min);
        r(&mut s.max);
    }
    if let Some(v) = &mut p.projected_s {
        r(v);
    }
    let l = &mut p.latency_ms;
    for v in [&mut l.p50, &mut l.p90, &mut l.p99, &mut l.p999, &mut l.max] {
        r(v);
    }
    r(&mut p.socket_wait_ms.p50);
    r(&mut p.socket_wait_ms.p99);
    for v in &mut p.objects_per_s_by_run {
        r(v);
    }
    let t = &mut p.startup.time_ms;
    for v in [&mut t.median, &mut t.min, &mut t.max] {
        r(v);
    }
    let c = &mut p.cpu_ns_per_request;
    for v in [&mut c.client_ns, &mut c.server_ns].into_iter().flatten() {
        r(v);
    }
}

/// `n` repetitions with this median and range: min, max, and the rest spread between (the
/// median in the middle).
fn by_run(s: Spread, n: u32) -> Vec<f64> {
    let n = n.max(1) as usize;
    if n == 1 {
        return vec![s.median];
    }
    (0..n)
        .map(|i| {
            let mid = (n - 1) as f64 / 2.0;
            let t = i as f64 - mid;
            if t < 0.0 {
                s.median + (s.median - s.min) * t / mid
            } else {
                s.median + (s.max - s.median) * t / mid
            }
        })
        .collect()
}

/// A plain successful point (no retries or errors) to build synthetic curves from.
pub(crate) fn point_template() -> Point {
    let mut p = points(&SMALL)
        .into_iter()
        .find(|p| !p.failed())
        .expect("the small fixture has successful points");
    p.retries = Default::default();
    p.errors = Default::default();
    p
}
