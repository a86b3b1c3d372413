//! What a client under test reports: per operation ([`OpReport`]) and per run
//! ([`RunReport`]), in the units poolsweep's own client reports.
//!
//! Invariant: every operation ends as exactly one [`OpReport`], success or one error kind, so
//! a run's totals add up as they do for poolsweep's client
//! ([`Repetition::check`](crate::metrics::Repetition::check)).

use std::time::Duration;

/// How a failed operation is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// File descriptors exhausted (EMFILE/ENFILE).
    Emfile,
    /// Connection or request timeout.
    Timeout,
    /// Connection reset or broken mid-response.
    Reset,
    /// 503 SlowDown after the retries ran out.
    SlowDown,
    /// Anything else.
    Other,
}

/// Why a failed attempt was retried, in the order of [`OpReport::retries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryReason {
    /// A throttling reply (S3 `SlowDown`, HTTP 429).
    Throttling = 0,
    /// A transient failure: HTTP 500–504, connection reset or refused.
    Transient = 1,
    /// A timeout.
    Timeout = 2,
    /// Anything else the SDK chose to retry.
    Other = 3,
}

/// One finished operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpReport {
    /// From the operation's start to its end, as the client measured it.
    pub latency: Duration,
    /// Time spent waiting for a socket (queued at maxSockets), over all attempts.
    pub socket_wait: Duration,
    /// Attempts made (1 without retries).
    pub attempts: u32,
    /// Time slept between attempts (the SDK's backoff).
    pub retry_delay: Duration,
    /// Retries by reason: throttling, transient, timeout, other.
    pub retries: [u32; 4],
    /// Bytes moved (sent for PUT, received for GET) by a successful operation.
    pub bytes: u64,
    /// `None` on success, else the kind it failed with after any retries.
    pub error: Option<ErrorClass>,
    /// What the client said about the failure (empty on success). poolsweep's own client
    /// leaves it empty: its failures are typed and counted by kind, and a message per failure
    /// would be an allocation on the request path.
    pub message: String,
}

impl OpReport {
    /// A failed operation that never reached the client (e.g. the runner was gone).
    pub fn failed(kind: ErrorClass, message: impl Into<String>) -> Self {
        OpReport {
            attempts: 0,
            error: Some(kind),
            message: message.into(),
            ..OpReport::default()
        }
    }
}

/// One finished run, counted by the client under test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Operations the run served.
    pub ops: u64,
    /// Clients made (1 for a shared client, one per operation per request).
    pub clients: u64,
    /// Sockets (TCP connections) opened by the S3 clients' pools.
    pub sockets_opened: u64,
    /// Most of them open at one time.
    pub peak_open: u64,
    /// Full TLS handshakes; `None` where the client cannot tell (the server's count applies).
    pub tls_full: Option<u64>,
    /// Resumed TLS handshakes; `None` where the client cannot tell.
    pub tls_resumed: Option<u64>,
    /// Connection attempts that failed before a connection was made.
    pub connect_errors: u64,
    /// CPU time of the client's process over the run, for clients in their own process
    /// (`None` in-process: the sweep measures its own threads).
    pub cpu: Option<Duration>,
}
