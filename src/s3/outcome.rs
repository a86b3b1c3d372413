//! [`Outcome`]: what happened while one S3 call ran, returned with its result or its error so a
//! sweep can aggregate per-request data without a second bookkeeping path.
//!
//! Invariant: an outcome describes the whole call, all attempts included. `attempts` is
//! `1 + retries.total()`. Timings are measured from the first hand-over to the pool, so queue
//! wait is inside `latency`, as it is inside the SDK's timers.

use std::time::Duration;

use serde::Serialize;

use crate::transport::{ContinueWait, SocketUse};

/// The S3 operations the client speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Op {
    /// `PUT /bucket/key`.
    #[default]
    PutObject,
    /// `GET /bucket/key`.
    GetObject,
    /// `HEAD /bucket/key`.
    HeadObject,
    /// `DELETE /bucket/key`.
    DeleteObject,
    /// `GET /bucket?list-type=2`.
    ListObjectsV2,
    /// `PUT /bucket`.
    CreateBucket,
}

impl Op {
    /// The operation's S3 name.
    pub fn name(self) -> &'static str {
        match self {
            Op::PutObject => "PutObject",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::DeleteObject => "DeleteObject",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::CreateBucket => "CreateBucket",
        }
    }
}

/// Why a retry happened. The SDK's standard mode retries only `THROTTLING` and `TRANSIENT`
/// errors; the transient ones are split here by cause, since a sweep wants to tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum RetryReason {
    /// HTTP 429 or a throttling code such as `SlowDown` (SDK `THROTTLING`: base delay 500 ms,
    /// cost 5).
    Throttling,
    /// HTTP 500, 502, 503 or 504 without a throttling code (SDK `TRANSIENT`, cost 10).
    ServerError,
    /// A timeout: the SDK's `TimeoutError` or S3's `400 RequestTimeout` (SDK `TRANSIENT`, cost 10).
    Timeout,
    /// The connection failed: refused, reset, or closed mid-request (Node's `ECONNRESET`,
    /// `ECONNREFUSED`, `EPIPE`; SDK `TRANSIENT`, cost 10).
    Connection,
}

impl RetryReason {
    /// Every reason, in the order of [`RetryCounts`]'s fields.
    pub const ALL: [RetryReason; 4] = [
        RetryReason::Throttling,
        RetryReason::ServerError,
        RetryReason::Timeout,
        RetryReason::Connection,
    ];

    /// Whether the SDK classifies it as `THROTTLING` (otherwise `TRANSIENT`).
    pub fn is_throttling(self) -> bool {
        self == RetryReason::Throttling
    }
}

/// Retries counted by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RetryCounts {
    /// [`RetryReason::Throttling`].
    pub throttling: u32,
    /// [`RetryReason::ServerError`].
    pub server_error: u32,
    /// [`RetryReason::Timeout`].
    pub timeout: u32,
    /// [`RetryReason::Connection`].
    pub connection: u32,
}

impl RetryCounts {
    /// Counts one retry.
    pub fn add(&mut self, reason: RetryReason) {
        *self.slot(reason) += 1;
    }

    /// Retries for `reason`.
    pub fn get(&self, reason: RetryReason) -> u32 {
        match reason {
            RetryReason::Throttling => self.throttling,
            RetryReason::ServerError => self.server_error,
            RetryReason::Timeout => self.timeout,
            RetryReason::Connection => self.connection,
        }
    }

    /// All retries.
    pub fn total(&self) -> u32 {
        self.throttling + self.server_error + self.timeout + self.connection
    }

    fn slot(&mut self, reason: RetryReason) -> &mut u32 {
        match reason {
            RetryReason::Throttling => &mut self.throttling,
            RetryReason::ServerError => &mut self.server_error,
            RetryReason::Timeout => &mut self.timeout,
            RetryReason::Connection => &mut self.connection,
        }
    }
}

/// What happened while one S3 call ran, all attempts included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The operation.
    pub op: Op,
    /// Attempts made (1 when the first one settled it).
    pub attempts: u32,
    /// Retries, by reason.
    pub retries: RetryCounts,
    /// A retryable error was not retried because the client's retry quota was short.
    pub quota_exhausted: bool,
    /// From the first hand-over to the pool until the call settled: queue waits, connects,
    /// exchanges, bodies and backoff sleeps.
    pub latency: Duration,
    /// Time spent waiting for a socket (hand-over to a usable socket), summed over attempts.
    /// For the Agent this is queue wait plus connecting; for the hyper-util pool it is the wait
    /// for an in-flight permit.
    pub socket_wait: Duration,
    /// Time slept between attempts.
    pub backoff: Duration,
    /// The last attempt's socket, if it got one.
    pub socket: Option<SocketUse>,
    /// The last HTTP status received.
    pub status: Option<u16>,
    /// How the body of an `Expect: 100-continue` request was released (`None`: no header).
    pub expect_continue: Option<ContinueWait>,
    /// Attempts that passed `requestTimeout` and, as the SDK does unless
    /// `throwOnRequestTimeout` is set, only logged a warning.
    pub request_timeout_warnings: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_by_reason() {
        let mut c = RetryCounts::default();
        c.add(RetryReason::Throttling);
        c.add(RetryReason::Throttling);
        c.add(RetryReason::Connection);
        assert_eq!(c.total(), 3);
        assert_eq!(c.get(RetryReason::Throttling), 2);
        assert_eq!(c.get(RetryReason::ServerError), 0);
        assert!(
            RetryReason::ALL
                .iter()
                .filter(|r| r.is_throttling())
                .count()
                == 1
        );
    }
}
