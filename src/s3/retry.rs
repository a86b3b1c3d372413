//! The AWS SDK for JavaScript v3's standard retry mode: which errors are retried, how long to
//! wait, and the per-client retry quota (smithy-typescript `util-retry`:
//! `StandardRetryStrategy.ts`, `defaultRetryToken.ts`, `DefaultRetryBackoffStrategy.ts`,
//! `constants.ts`; `service-error-classification`).
//!
//! Invariant: the quota never goes below zero nor above its initial capacity, and every
//! change to it is one atomic compare-and-swap, so clients sharing nothing but a runtime never
//! contend on a lock. A retry happens only if the error is retryable, attempts remain, and
//! the quota could pay for it, in that order, as in `shouldRetry`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::error::ErrorDetail;
use super::outcome::RetryReason;
use crate::pool::ConnectError;
use crate::transport::TimeoutKind;

/// Throttling error codes (smithy `service-error-classification/constants.ts`,
/// `THROTTLING_ERROR_CODES`).
const THROTTLING_CODES: [&str; 14] = [
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
    "LimitExceededException",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ThrottledException",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "TransactionInProgressException",
];

/// Timeout error codes the SDK treats as transient (`TRANSIENT_ERROR_CODES`).
const TIMEOUT_CODES: [&str; 3] = ["TimeoutError", "RequestTimeout", "RequestTimeoutException"];

/// HTTP statuses the SDK treats as transient (`TRANSIENT_ERROR_STATUS_CODES`).
const TRANSIENT_STATUSES: [u16; 4] = [500, 502, 503, 504];

/// The standard mode's settings. Each setter states its default, from smithy-typescript
/// `util-retry/src/constants.ts` and `config.ts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    max_attempts: u32,
    base_delay: Duration,
    throttling_base_delay: Duration,
    max_delay: Duration,
    initial_tokens: u32,
    retry_cost: u32,
    timeout_retry_cost: u32,
    no_retry_increment: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::standard()
    }
}

impl RetryConfig {
    /// The SDK's standard mode (its default): 3 attempts, full-jitter backoff with a 100 ms
    /// base (500 ms for throttling), capped at 20 s, and a quota of 500 tokens.
    pub fn standard() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            throttling_base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            initial_tokens: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            no_retry_increment: 1,
        }
    }

    /// No retries: one attempt per call.
    pub fn disabled() -> Self {
        Self::standard().max_attempts(1)
    }

    /// Attempts per call, the first included. Default: 3 (`DEFAULT_MAX_ATTEMPTS`). `0` means 1.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Backoff base for transient errors. Default: 100 ms (`DEFAULT_RETRY_DELAY_BASE`).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Backoff base for throttling errors. Default: 500 ms (`THROTTLING_RETRY_DELAY_BASE`).
    pub fn throttling_base_delay(mut self, delay: Duration) -> Self {
        self.throttling_base_delay = delay;
        self
    }

    /// Cap on one backoff. Default: 20 s (`MAXIMUM_RETRY_DELAY`).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The quota's capacity, which is also where it starts. Default: 500
    /// (`INITIAL_RETRY_TOKENS`).
    pub fn initial_tokens(mut self, tokens: u32) -> Self {
        self.initial_tokens = tokens;
        self
    }

    /// The quota's capacity.
    pub fn tokens(&self) -> u32 {
        self.initial_tokens
    }

    /// Attempts per call.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// What a retry for `reason` costs: 5 for throttling (`RETRY_COST`), 10 for transient
    /// errors (`TIMEOUT_RETRY_COST`), as `getCapacityAmount` decides.
    pub fn cost(&self, reason: RetryReason) -> u32 {
        if reason.is_throttling() {
            self.retry_cost
        } else {
            self.timeout_retry_cost
        }
    }

    /// The full-jitter delay before retry number `retries_so_far + 1`:
    /// `floor(random() * min(base * 2^i, 20 s))` in milliseconds, base 500 ms for throttling
    /// and 100 ms otherwise (`computeNextBackoffDelay`).
    pub fn backoff(&self, reason: RetryReason, retries_so_far: u32) -> Duration {
        self.backoff_with(reason, retries_so_far, rand::random::<f64>())
    }

    fn backoff_with(&self, reason: RetryReason, retries_so_far: u32, random: f64) -> Duration {
        let base = if reason.is_throttling() {
            self.throttling_base_delay
        } else {
            self.base_delay
        };
        let grown = base.saturating_mul(1u32.checked_shl(retries_so_far).unwrap_or(u32::MAX));
        let ceiling = grown.min(self.max_delay);
        Duration::from_millis((ceiling.as_secs_f64() * 1000.0 * random).floor() as u64)
    }
}

/// Which retry reason, if any, an error is: the SDK's classification order THROTTLING, then
/// TRANSIENT; anything else (SERVER_ERROR such as 501, CLIENT_ERROR, EMFILE, TLS failures,
/// credentials) is not retried.
pub(crate) fn classify(error: &ErrorDetail) -> Option<RetryReason> {
    match error {
        ErrorDetail::Service(e) => {
            if e.status == 429 || THROTTLING_CODES.contains(&e.code.as_str()) {
                Some(RetryReason::Throttling)
            } else if TIMEOUT_CODES.contains(&e.code.as_str()) {
                Some(RetryReason::Timeout)
            } else if TRANSIENT_STATUSES.contains(&e.status) {
                Some(RetryReason::ServerError)
            } else {
                None
            }
        }
        ErrorDetail::Timeout(t) => match t.kind {
            TimeoutKind::Connection { .. } | TimeoutKind::Request { .. } => {
                Some(RetryReason::Timeout)
            }
        },
        // ECONNREFUSED, ECONNRESET, EPIPE and unreachable hosts are in the SDK's transient
        // codes; EMFILE, TLS and configuration errors are not.
        ErrorDetail::Connect(c) => match c {
            ConnectError::Refused(_) | ConnectError::Reset(_) | ConnectError::Io(_) => {
                Some(RetryReason::Connection)
            }
            ConnectError::Http(_) => Some(RetryReason::Connection),
            _ => None,
        },
        ErrorDetail::Connection(_) => Some(RetryReason::Connection),
        ErrorDetail::FileDescriptorsExhausted(_)
        | ErrorDetail::Credentials(_)
        | ErrorDetail::InvalidResponse(_)
        | ErrorDetail::Verification(_)
        | ErrorDetail::InvalidRequest(_) => None,
    }
}

/// One client's retry quota (the SDK's `availableCapacity`, one per client instance).
#[derive(Debug)]
pub(crate) struct RetryQuota {
    available: AtomicU32,
    capacity: u32,
    denied: AtomicU64,
}

impl RetryQuota {
    pub(crate) fn new(capacity: u32) -> Self {
        Self {
            available: AtomicU32::new(capacity),
            capacity,
            denied: AtomicU64::new(0),
        }
    }

    /// Takes `cost` tokens if there are that many (`hasRetryTokens` then
    /// `availableCapacity -= capacityAmount`).
    pub(crate) fn try_acquire(&self, cost: u32) -> bool {
        let taken = self
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| a.checked_sub(cost))
            .is_ok();
        if !taken {
            self.denied.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    /// A call succeeded: give back `amount` (1 after a first-try success, the last retry's
    /// cost after a retried one), capped at the capacity (`releaseRetryTokens`).
    pub(crate) fn release(&self, amount: u32) {
        let capacity = self.capacity;
        let _ = self
            .available
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |a| {
                Some(a.saturating_add(amount).min(capacity))
            });
    }

    pub(crate) fn available(&self) -> u32 {
        self.available.load(Ordering::Acquire)
    }

    pub(crate) fn denied(&self) -> u64 {
        self.denied.load(Ordering::Relaxed)
    }

    pub(crate) fn refund_for_success(config: &RetryConfig, last_cost: Option<u32>) -> u32 {
        last_cost.unwrap_or(config.no_retry_increment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::error::ServiceError;
    use crate::transport::TimeoutError;

    fn service(status: u16, code: &str) -> ErrorDetail {
        ErrorDetail::Service(ServiceError {
            status,
            code: code.to_owned(),
            message: String::new(),
            request_id: None,
            host_id: None,
        })
    }

    #[test]
    fn classification_follows_the_sdk() {
        assert_eq!(
            classify(&service(503, "SlowDown")),
            Some(RetryReason::Throttling)
        );
        assert_eq!(
            classify(&service(429, "Whatever")),
            Some(RetryReason::Throttling)
        );
        assert_eq!(
            classify(&service(503, "ServiceUnavailable")),
            Some(RetryReason::ServerError)
        );
        assert_eq!(
            classify(&service(500, "InternalError")),
            Some(RetryReason::ServerError)
        );
        assert_eq!(
            classify(&service(400, "RequestTimeout")),
            Some(RetryReason::Timeout)
        );
        assert_eq!(classify(&service(501, "NotImplemented")), None);
        assert_eq!(classify(&service(404, "NoSuchKey")), None);
        let emfile = ErrorDetail::FileDescriptorsExhausted(std::io::Error::from_raw_os_error(24));
        assert_eq!(classify(&emfile), None);
        let timeout = ErrorDetail::Timeout(TimeoutError {
            kind: TimeoutKind::Request { queued: true },
            after: Duration::from_millis(1),
        });
        assert_eq!(classify(&timeout), Some(RetryReason::Timeout));
    }

    #[test]
    fn backoff_is_full_jitter_with_the_sdks_bases_and_cap() {
        let c = RetryConfig::standard();
        assert_eq!(
            c.backoff_with(RetryReason::ServerError, 0, 0.999),
            Duration::from_millis(99)
        );
        assert_eq!(
            c.backoff_with(RetryReason::Throttling, 0, 0.999),
            Duration::from_millis(499)
        );
        assert_eq!(
            c.backoff_with(RetryReason::Throttling, 1, 0.5),
            Duration::from_millis(500)
        );
        assert_eq!(
            c.backoff_with(RetryReason::Timeout, 2, 0.5),
            Duration::from_millis(200)
        );
        assert_eq!(
            c.backoff_with(RetryReason::Throttling, 40, 0.5),
            Duration::from_secs(10)
        );
        assert_eq!(
            c.backoff_with(RetryReason::Connection, 3, 0.0),
            Duration::ZERO
        );
        for _ in 0..100 {
            assert!(c.backoff(RetryReason::Throttling, 0) < Duration::from_millis(500));
        }
    }

    #[test]
    fn quota_costs_refunds_and_caps() {
        let c = RetryConfig::standard();
        let q = RetryQuota::new(500);
        assert_eq!(c.cost(RetryReason::Throttling), 5);
        assert_eq!(c.cost(RetryReason::ServerError), 10);
        assert!(q.try_acquire(10));
        assert_eq!(q.available(), 490);
        q.release(RetryQuota::refund_for_success(&c, Some(10)));
        assert_eq!(q.available(), 500);
        q.release(RetryQuota::refund_for_success(&c, None));
        assert_eq!(q.available(), 500, "capped at the capacity");
        let small = RetryQuota::new(7);
        assert!(small.try_acquire(5));
        assert!(!small.try_acquire(5));
        assert_eq!(small.available(), 2);
        assert_eq!(small.denied(), 1);
    }
}
