//! [`ClientCounters`]: what S3 clients did (calls, attempts, retries by reason, failures by
//! kind, retries the quota refused), and [`ClientStats`], their snapshot.
//!
//! Invariant: one relaxed atomic add per event, no lock, no allocation. Counters may be shared
//! by many clients (a factory gives all its clients one), while each client keeps its own
//! retry quota, as each SDK client instance does.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

use super::error::ErrorKind;
use super::outcome::{RetryCounts, RetryReason};

/// Lock-free counters of S3 calls.
#[derive(Debug, Default)]
pub struct ClientCounters {
    calls: AtomicU64,
    succeeded: AtomicU64,
    attempts: AtomicU64,
    retries: [AtomicU64; 4],
    quota_denied: AtomicU64,
    failed: [AtomicU64; ErrorKind::ALL.len()],
}

impl ClientCounters {
    pub(crate) fn attempt(&self, first: bool) {
        if first {
            self.calls.fetch_add(1, Relaxed);
        }
        self.attempts.fetch_add(1, Relaxed);
    }

    pub(crate) fn retry(&self, reason: RetryReason) {
        self.retries[reason as usize].fetch_add(1, Relaxed);
    }

    pub(crate) fn quota_denied(&self) {
        self.quota_denied.fetch_add(1, Relaxed);
    }

    pub(crate) fn succeeded(&self) {
        self.succeeded.fetch_add(1, Relaxed);
    }

    pub(crate) fn failed(&self, kind: ErrorKind) {
        self.failed[kind as usize].fetch_add(1, Relaxed);
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> ClientStats {
        let get = |a: &AtomicU64| a.load(Relaxed);
        let narrow = |a: &AtomicU64| u32::try_from(get(a)).unwrap_or(u32::MAX);
        let failed_by_kind: BTreeMap<ErrorKind, u64> = ErrorKind::ALL
            .iter()
            .map(|&k| (k, get(&self.failed[k as usize])))
            .filter(|&(_, n)| n > 0)
            .collect();
        ClientStats {
            calls: get(&self.calls),
            succeeded: get(&self.succeeded),
            failed: failed_by_kind.values().sum(),
            failed_by_kind,
            attempts: get(&self.attempts),
            retries: RetryCounts {
                throttling: narrow(&self.retries[RetryReason::Throttling as usize]),
                server_error: narrow(&self.retries[RetryReason::ServerError as usize]),
                timeout: narrow(&self.retries[RetryReason::Timeout as usize]),
                connection: narrow(&self.retries[RetryReason::Connection as usize]),
            },
            retries_denied_by_quota: get(&self.quota_denied),
        }
    }
}

/// A snapshot of [`ClientCounters`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientStats {
    /// Calls started.
    pub calls: u64,
    /// Calls that succeeded.
    pub succeeded: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Failed calls by kind (kinds with none left out).
    pub failed_by_kind: BTreeMap<ErrorKind, u64>,
    /// Attempts made (calls plus retries).
    pub attempts: u64,
    /// Retries by reason.
    pub retries: RetryCounts,
    /// Retryable failures not retried because the client's quota was short.
    pub retries_denied_by_quota: u64,
}
