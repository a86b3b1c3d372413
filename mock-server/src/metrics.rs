//! Exact counters of what the server saw, kept in atomics.
//!
//! Invariant: every counter is a single `AtomicU64` updated with `Relaxed` ordering on the
//! request path, so counting never takes a lock or allocates; a [`MetricsSnapshot`] is read
//! field by field (not one atomic cut) and is exact once traffic has stopped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

use crate::ops::Operation;

/// HTTP statuses counted individually; anything else is counted as "other".
const STATUSES: [u16; 16] = [
    200, 204, 206, 304, 400, 403, 404, 405, 409, 411, 412, 416, 500, 501, 503, 0,
];

fn status_slot(status: u16) -> usize {
    STATUSES
        .iter()
        .position(|&s| s == status)
        .unwrap_or(STATUSES.len() - 1)
}

/// Kinds of injected faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// 500 InternalError.
    InternalError,
    /// 503 without SlowDown (ServiceUnavailable).
    ServiceUnavailable,
    /// The connection was reset mid-response.
    Reset,
    /// The response was stalled.
    Stall,
}

/// Kinds of credential fetches served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialFetch {
    /// Container credentials (ECS/EKS style).
    Container,
    /// IMDSv2 token (`PUT /latest/api/token`).
    ImdsToken,
    /// IMDS role name.
    ImdsRole,
    /// IMDS role credentials.
    ImdsCredentials,
}

/// The server's counters. Cheap to update from any thread.
#[derive(Debug, Default)]
pub struct Metrics {
    connections_accepted: AtomicU64,
    connections_open: AtomicU64,
    connections_peak: AtomicU64,
    connections_refused: AtomicU64,
    accept_errors: AtomicU64,
    tls_full: AtomicU64,
    tls_resumed: AtomicU64,
    tls_failed: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    by_op_status: [[AtomicU64; STATUSES.len()]; Operation::COUNT],
    slowdown: AtomicU64,
    request_timeouts: AtomicU64,
    faults: [AtomicU64; 4],
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    closed_idle: AtomicU64,
    closed_max_requests: AtomicU64,
    credential_fetches: [AtomicU64; 4],
    /// CPU time of the server's threads (registered by the runtime that runs them).
    cpu: crate::cpu::ThreadCpu,
    /// `cpu`'s total at the last reset, ns.
    cpu_base_ns: AtomicU64,
}

fn bump_peak(peak: &AtomicU64, now: u64) {
    peak.fetch_max(now, Relaxed);
}

impl Metrics {
    /// A TCP connection was accepted.
    pub fn connection_opened(&self) {
        self.connections_accepted.fetch_add(1, Relaxed);
        let open = self.connections_open.fetch_add(1, Relaxed) + 1;
        bump_peak(&self.connections_peak, open);
    }

    /// A connection ended, for whatever reason.
    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Relaxed);
    }

    /// A connection was refused because the server was at its connection limit.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    /// `accept()` failed (e.g. EMFILE).
    pub fn accept_error(&self) {
        self.accept_errors.fetch_add(1, Relaxed);
    }

    /// A TLS handshake completed; `resumed` tells whether it resumed a session.
    pub fn tls_handshake(&self, resumed: bool) {
        if resumed {
            self.tls_resumed.fetch_add(1, Relaxed);
        } else {
            self.tls_full.fetch_add(1, Relaxed);
        }
    }

    /// A TLS handshake failed or timed out.
    pub fn tls_failed(&self) {
        self.tls_failed.fetch_add(1, Relaxed);
    }

    /// A request started; returns the number now in flight.
    pub fn request_started(&self) -> u64 {
        self.requests.fetch_add(1, Relaxed);
        let now = self.in_flight.fetch_add(1, Relaxed) + 1;
        bump_peak(&self.peak_in_flight, now);
        now
    }

    /// A request finished with `status`, as operation `op`.
    pub fn request_finished(&self, op: Operation, status: u16) {
        self.in_flight.fetch_sub(1, Relaxed);
        self.by_op_status[op as usize][status_slot(status)].fetch_add(1, Relaxed);
    }

    /// A 503 SlowDown was sent.
    pub fn slowdown(&self) {
        self.slowdown.fetch_add(1, Relaxed);
    }

    /// A 400 RequestTimeout was sent for a stalled upload.
    pub fn request_timeout(&self) {
        self.request_timeouts.fetch_add(1, Relaxed);
    }

    /// A fault was injected.
    pub fn fault(&self, kind: FaultKind) {
        self.faults[kind as usize].fetch_add(1, Relaxed);
    }

    /// Request body bytes received.
    pub fn bytes_in(&self, n: u64) {
        self.bytes_in.fetch_add(n, Relaxed);
    }

    /// Response body bytes sent.
    pub fn bytes_out(&self, n: u64) {
        self.bytes_out.fetch_add(n, Relaxed);
    }

    /// The server closed an idle keep-alive connection.
    pub fn closed_idle(&self) {
        self.closed_idle.fetch_add(1, Relaxed);
    }

    /// The server closed a connection after its maximum number of requests.
    pub fn closed_max_requests(&self) {
        self.closed_max_requests.fetch_add(1, Relaxed);
    }

    /// A credential endpoint was called.
    pub fn credential_fetch(&self, kind: CredentialFetch) {
        self.credential_fetches[kind as usize].fetch_add(1, Relaxed);
    }

    /// The server's threads, for their CPU time: a runtime that serves this server registers
    /// each of its threads here (see [`crate::cpu`]).
    pub fn cpu(&self) -> &crate::cpu::ThreadCpu {
        &self.cpu
    }

    /// Connections open right now.
    pub fn connections_open(&self) -> u64 {
        self.connections_open.load(Relaxed)
    }

    /// Sets every counter to zero, the CPU time included. Gauges (connections open, requests in
    /// flight) keep their value and their peaks restart from it.
    pub fn reset(&self) {
        let zero = |a: &AtomicU64| a.store(0, Relaxed);
        zero(&self.connections_accepted);
        zero(&self.connections_refused);
        zero(&self.accept_errors);
        zero(&self.tls_full);
        zero(&self.tls_resumed);
        zero(&self.tls_failed);
        zero(&self.requests);
        self.by_op_status.iter().flatten().for_each(zero);
        zero(&self.slowdown);
        zero(&self.request_timeouts);
        self.faults.iter().for_each(zero);
        zero(&self.bytes_in);
        zero(&self.bytes_out);
        zero(&self.closed_idle);
        zero(&self.closed_max_requests);
        self.credential_fetches.iter().for_each(zero);
        self.cpu_base_ns
            .store(self.cpu.total_ns().unwrap_or(0), Relaxed);
        self.connections_peak
            .store(self.connections_open.load(Relaxed), Relaxed);
        self.peak_in_flight
            .store(self.in_flight.load(Relaxed), Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |a: &AtomicU64| a.load(Relaxed);
        let mut requests_by_op = BTreeMap::new();
        for op in Operation::ALL {
            let row = &self.by_op_status[op as usize];
            let mut statuses = BTreeMap::new();
            for (slot, &status) in STATUSES.iter().enumerate() {
                let n = get(&row[slot]);
                if n > 0 {
                    let name = if status == 0 {
                        "other".to_owned()
                    } else {
                        status.to_string()
                    };
                    statuses.insert(name, n);
                }
            }
            if !statuses.is_empty() {
                requests_by_op.insert(op.name().to_owned(), statuses);
            }
        }
        MetricsSnapshot {
            connections_accepted: get(&self.connections_accepted),
            connections_open: get(&self.connections_open),
            connections_peak: get(&self.connections_peak),
            connections_refused: get(&self.connections_refused),
            accept_errors: get(&self.accept_errors),
            tls_full: get(&self.tls_full),
            tls_resumed: get(&self.tls_resumed),
            tls_failed: get(&self.tls_failed),
            requests: get(&self.requests),
            in_flight: get(&self.in_flight),
            peak_in_flight: get(&self.peak_in_flight),
            requests_by_op,
            slowdown: get(&self.slowdown),
            request_timeouts: get(&self.request_timeouts),
            faults: FaultCounts {
                internal_error: get(&self.faults[FaultKind::InternalError as usize]),
                service_unavailable: get(&self.faults[FaultKind::ServiceUnavailable as usize]),
                reset: get(&self.faults[FaultKind::Reset as usize]),
                stall: get(&self.faults[FaultKind::Stall as usize]),
            },
            bytes_in: get(&self.bytes_in),
            bytes_out: get(&self.bytes_out),
            closed_idle: get(&self.closed_idle),
            closed_max_requests: get(&self.closed_max_requests),
            credential_fetches: CredentialCounts {
                container: get(&self.credential_fetches[CredentialFetch::Container as usize]),
                imds_token: get(&self.credential_fetches[CredentialFetch::ImdsToken as usize]),
                imds_role: get(&self.credential_fetches[CredentialFetch::ImdsRole as usize]),
                imds_credentials: get(
                    &self.credential_fetches[CredentialFetch::ImdsCredentials as usize]
                ),
            },
            cpu_ns: self
                .cpu
                .total_ns()
                .map(|t| t.saturating_sub(get(&self.cpu_base_ns))),
        }
    }
}

/// Injected faults by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    /// 500 InternalError responses.
    pub internal_error: u64,
    /// 503 responses without SlowDown.
    pub service_unavailable: u64,
    /// Connections reset mid-response.
    pub reset: u64,
    /// Stalled responses.
    pub stall: u64,
}

/// Credential endpoint calls by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialCounts {
    /// Container credential fetches.
    pub container: u64,
    /// IMDSv2 token requests.
    pub imds_token: u64,
    /// IMDS role-name requests.
    pub imds_role: u64,
    /// IMDS credential requests.
    pub imds_credentials: u64,
}

/// A copy of every counter, as served at `GET /__mock/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// TCP connections accepted.
    pub connections_accepted: u64,
    /// Connections open now.
    pub connections_open: u64,
    /// Most connections open at once.
    pub connections_peak: u64,
    /// Connections refused at the connection limit.
    pub connections_refused: u64,
    /// Failed `accept()` calls.
    pub accept_errors: u64,
    /// Full TLS handshakes.
    pub tls_full: u64,
    /// Resumed TLS handshakes.
    pub tls_resumed: u64,
    /// Failed or timed-out TLS handshakes.
    pub tls_failed: u64,
    /// Requests received (S3, admin and credential endpoints).
    pub requests: u64,
    /// Requests being handled now.
    pub in_flight: u64,
    /// Most requests handled at once.
    pub peak_in_flight: u64,
    /// Finished requests by operation, then by HTTP status.
    pub requests_by_op: BTreeMap<String, BTreeMap<String, u64>>,
    /// 503 SlowDown responses.
    pub slowdown: u64,
    /// 400 RequestTimeout responses for stalled uploads.
    pub request_timeouts: u64,
    /// Injected faults.
    pub faults: FaultCounts,
    /// Request body bytes received.
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Connections the server closed because they sat idle.
    pub closed_idle: u64,
    /// Connections the server closed after their maximum number of requests.
    pub closed_max_requests: u64,
    /// Credential endpoint calls.
    pub credential_fetches: CredentialCounts,
    /// CPU time of the server's threads since the last reset, in nanoseconds (user and
    /// system, from the kernel's per-thread accounting); `None` where /proc is unavailable.
    /// Divide by `requests` for the server's CPU per request.
    #[serde(default)]
    pub cpu_ns: Option<u64>,
}

impl MetricsSnapshot {
    /// Requests of `op` that finished with `status`.
    pub fn count(&self, op: Operation, status: u16) -> u64 {
        self.requests_by_op
            .get(op.name())
            .and_then(|m| m.get(&status.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Requests of `op`, whatever their status.
    pub fn count_op(&self, op: Operation) -> u64 {
        self.requests_by_op
            .get(op.name())
            .map_or(0, |m| m.values().sum())
    }
}
