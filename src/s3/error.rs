//! [`S3Error`]: a failed S3 call, typed by what went wrong, carrying the call's [`Outcome`].
//!
//! Invariant: every failure is classified once, where it is first seen, into one
//! [`ErrorDetail`] variant, and [`ErrorKind`] names that variant without its data so a sweep
//! can count failures per kind. File-descriptor exhaustion (EMFILE/ENFILE) is its own kind,
//! never folded into other I/O: it is the failure of aws-sdk-js-v3#1959 and #4345.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::credentials::CredentialsError;
use super::outcome::Outcome;
use crate::pool::{ConnectError, TimeoutPhase};

/// A boxed error from the HTTP stack.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// An error response from S3: its XML `<Error>` body and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceError {
    /// The HTTP status.
    pub status: u16,
    /// S3's error code (`SlowDown`, `NoSuchKey`, ...). For bodiless responses (HEAD) it is
    /// derived from the status as the SDK does: `NotFound` for 404, otherwise the status.
    pub code: String,
    /// S3's message, if any.
    pub message: String,
    /// `x-amz-request-id` (or `<RequestId>`).
    pub request_id: Option<String>,
    /// `x-amz-id-2` (or `<HostId>`).
    pub host_id: Option<String>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3 error {} (HTTP {})", self.code, self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// Which timer fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TimeoutKind {
    /// The SDK's `connectionTimeout`: from hand-over until the socket's TCP connect, so time
    /// queued for a socket counts.
    Connection {
        /// Whether the request was still queued or already connecting.
        queued: bool,
    },
    /// The SDK's `requestTimeout` with `throwOnRequestTimeout`: from hand-over until the
    /// response headers, queue wait included.
    Request {
        /// Whether the request was still waiting for a socket when it fired.
        queued: bool,
    },
    /// A credentials endpoint did not answer within its timeout (1 s, as in the SDK).
    Credentials,
}

/// A timer fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} timeout after {} ms", after.as_millis())]
pub struct TimeoutError {
    /// Which timer.
    pub kind: TimeoutKind,
    /// Its configured duration.
    pub after: Duration,
}

impl TimeoutError {
    /// Whether the request was still waiting for a socket when the timer fired.
    pub fn while_queued(&self) -> bool {
        matches!(
            self.kind,
            TimeoutKind::Connection { queued: true } | TimeoutKind::Request { queued: true }
        )
    }
}

/// What went wrong, with its data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorDetail {
    /// S3 answered with an error status.
    #[error("{0}")]
    Service(ServiceError),
    /// `socket()`/`connect()` failed with EMFILE (24) or ENFILE (23).
    #[error("too many open files (EMFILE/ENFILE)")]
    FileDescriptorsExhausted(#[source] io::Error),
    /// A connection could not be made: refused, reset during the handshake, TLS failure,
    /// other connect I/O.
    #[error("connect failed")]
    Connect(#[source] ConnectError),
    /// A timer fired.
    #[error(transparent)]
    Timeout(TimeoutError),
    /// The connection failed while the request was in flight: reset, closed before the
    /// response, body cut short.
    #[error("connection failed during the request")]
    Connection(#[source] BoxError),
    /// The credentials provider failed.
    #[error("credentials provider failed")]
    Credentials(#[source] Arc<CredentialsError>),
    /// The response could not be understood.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// A GetObject body did not match what the caller expected.
    #[error("body verification failed: {0}")]
    Verification(String),
    /// The request could not be built or signed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// [`ErrorDetail`]'s variant, without its data: the key to count failures by.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
pub enum ErrorKind {
    /// [`ErrorDetail::Service`].
    Service,
    /// [`ErrorDetail::FileDescriptorsExhausted`].
    FileDescriptorsExhausted,
    /// [`ErrorDetail::Connect`].
    Connect,
    /// [`ErrorDetail::Timeout`].
    Timeout,
    /// [`ErrorDetail::Connection`].
    Connection,
    /// [`ErrorDetail::Credentials`].
    Credentials,
    /// [`ErrorDetail::InvalidResponse`].
    InvalidResponse,
    /// [`ErrorDetail::Verification`].
    Verification,
    /// [`ErrorDetail::InvalidRequest`].
    InvalidRequest,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Service,
        ErrorKind::FileDescriptorsExhausted,
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::Credentials,
        ErrorKind::InvalidResponse,
        ErrorKind::Verification,
        ErrorKind::InvalidRequest,
    ];
}

impl ErrorDetail {
    /// The variant, without its data.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ErrorDetail::Service(_) => ErrorKind::Service,
            ErrorDetail::FileDescriptorsExhausted(_) => ErrorKind::FileDescriptorsExhausted,
            ErrorDetail::Connect(_) => ErrorKind::Connect,
            ErrorDetail::Timeout(_) => ErrorKind::Timeout,
            ErrorDetail::Connection(_) => ErrorKind::Connection,
            ErrorDetail::Credentials(_) => ErrorKind::Credentials,
            ErrorDetail::InvalidResponse(_) => ErrorKind::InvalidResponse,
            ErrorDetail::Verification(_) => ErrorKind::Verification,
            ErrorDetail::InvalidRequest(_) => ErrorKind::InvalidRequest,
        }
    }

    /// Classifies a pool's connect error: EMFILE/ENFILE and the connection timeout get their
    /// own variants.
    pub(crate) fn from_connect(error: ConnectError) -> Self {
        match error {
            ConnectError::FileDescriptorsExhausted(io) => ErrorDetail::FileDescriptorsExhausted(io),
            ConnectError::ConnectionTimeout { timeout, phase } => {
                ErrorDetail::Timeout(TimeoutError {
                    kind: TimeoutKind::Connection {
                        queued: phase == TimeoutPhase::Queued,
                    },
                    after: timeout,
                })
            }
            other => ErrorDetail::Connect(other),
        }
    }

    /// Classifies an error from the HTTP stack. A connect error anywhere in its source chain
    /// (the hyper-util pool boxes it) is classified as [`from_connect`](Self::from_connect)
    /// does; an EMFILE `io::Error` in the chain is fd exhaustion.
    pub(crate) fn from_http(error: BoxError) -> Self {
        let mut source: Option<&(dyn StdError + 'static)> = Some(error.as_ref());
        let mut connect = false;
        while let Some(e) = source {
            if e.downcast_ref::<ConnectError>().is_some() {
                connect = true;
                break;
            }
            if let Some(io) = e.downcast_ref::<io::Error>()
                && matches!(io.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
            {
                return ErrorDetail::FileDescriptorsExhausted(io::Error::from_raw_os_error(
                    io.raw_os_error().unwrap_or(libc::EMFILE),
                ));
            }
            source = e.source();
        }
        if connect {
            return match find_connect_error(error) {
                Ok(connect) => ErrorDetail::from_connect(connect),
                Err(error) => ErrorDetail::Connection(error),
            };
        }
        ErrorDetail::Connection(error)
    }
}

/// Takes the [`ConnectError`] out of an error chain whose head is, or whose direct source is,
/// one. hyper-util's legacy client wraps connector errors once.
fn find_connect_error(error: BoxError) -> Result<ConnectError, BoxError> {
    let error = match error.downcast::<ConnectError>() {
        Ok(connect) => return Ok(*connect),
        Err(error) => error,
    };
    // The legacy client's error keeps its cause private; rebuild an equivalent connect error
    // from what the chain exposes.
    let mut source: Option<&(dyn StdError + 'static)> = Some(error.as_ref());
    while let Some(e) = source {
        if let Some(c) = e.downcast_ref::<ConnectError>() {
            return Ok(clone_connect_error(c));
        }
        source = e.source();
    }
    Err(error)
}

/// A stand-in copy of a borrowed connect error, keeping its variant and OS error code.
fn clone_connect_error(error: &ConnectError) -> ConnectError {
    let io_of = |e: &io::Error| match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    };
    match error {
        ConnectError::FileDescriptorsExhausted(e) => {
            ConnectError::FileDescriptorsExhausted(io_of(e))
        }
        ConnectError::Refused(e) => ConnectError::Refused(io_of(e)),
        ConnectError::Reset(e) => ConnectError::Reset(io_of(e)),
        ConnectError::Io(e) => ConnectError::Io(io_of(e)),
        ConnectError::Tls(e) => ConnectError::Tls(e.clone()),
        ConnectError::InvalidServerName(name) => ConnectError::InvalidServerName(name.clone()),
        ConnectError::TlsNotConfigured(origin) => ConnectError::TlsNotConfigured(origin.clone()),
        ConnectError::ConnectionTimeout { timeout, phase } => ConnectError::ConnectionTimeout {
            timeout: *timeout,
            phase: *phase,
        },
        other => ConnectError::Io(io::Error::other(other.to_string())),
    }
}

/// A failed S3 call: what went wrong ([`detail`](Self::detail)) and what happened on the way
/// ([`outcome`](Self::outcome): attempts, retries by reason, waits).
pub struct S3Error {
    detail: ErrorDetail,
    outcome: Box<Outcome>,
}

impl S3Error {
    pub(crate) fn new(detail: ErrorDetail, outcome: Outcome) -> Self {
        Self {
            detail,
            outcome: Box::new(outcome),
        }
    }

    /// What went wrong.
    pub fn detail(&self) -> &ErrorDetail {
        &self.detail
    }

    /// The kind of failure, for counting.
    pub fn kind(&self) -> ErrorKind {
        self.detail.kind()
    }

    /// The call's attempts, retries and timings.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// S3's error response, if that is what failed the call.
    pub fn service(&self) -> Option<&ServiceError> {
        match &self.detail {
            ErrorDetail::Service(e) => Some(e),
            _ => None,
        }
    }

    /// S3's error code, if S3 answered with an error.
    pub fn code(&self) -> Option<&str> {
        self.service().map(|e| e.code.as_str())
    }

    /// The timer that fired, if a timeout failed the call.
    pub fn timeout(&self) -> Option<&TimeoutError> {
        match &self.detail {
            ErrorDetail::Timeout(t) => Some(t),
            _ => None,
        }
    }

    /// True for EMFILE/ENFILE.
    pub fn is_fd_exhausted(&self) -> bool {
        matches!(self.detail, ErrorDetail::FileDescriptorsExhausted(_))
    }

    /// The detail and the outcome, by value.
    pub fn into_parts(self) -> (ErrorDetail, Outcome) {
        (self.detail, *self.outcome)
    }
}

impl fmt::Debug for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Error")
            .field("detail", &self.detail)
            .field("attempts", &self.outcome.attempts)
            .field("retries", &self.outcome.retries)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed after {} attempt(s): {}",
            self.outcome.op.name(),
            self.outcome.attempts,
            self.detail
        )
    }
}

impl StdError for S3Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.detail.source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_is_its_own_kind_wherever_it_is_found() {
        let d = ErrorDetail::from_connect(ConnectError::from_io(io::Error::from_raw_os_error(24)));
        assert_eq!(d.kind(), ErrorKind::FileDescriptorsExhausted);
        let boxed: BoxError = Box::new(ConnectError::from_io(io::Error::from_raw_os_error(24)));
        assert_eq!(
            ErrorDetail::from_http(boxed).kind(),
            ErrorKind::FileDescriptorsExhausted
        );
        let refused: BoxError = Box::new(ConnectError::from_io(io::Error::from_raw_os_error(
            libc::ECONNREFUSED,
        )));
        assert_eq!(ErrorDetail::from_http(refused).kind(), ErrorKind::Connect);
        let other: BoxError = Box::new(io::Error::from_raw_os_error(libc::ECONNRESET));
        assert_eq!(ErrorDetail::from_http(other).kind(), ErrorKind::Connection);
    }

    #[test]
    fn connection_timeout_keeps_its_phase() {
        let d = ErrorDetail::from_connect(ConnectError::ConnectionTimeout {
            timeout: Duration::from_millis(5),
            phase: TimeoutPhase::Queued,
        });
        let ErrorDetail::Timeout(t) = d else {
            panic!("not a timeout: {d:?}");
        };
        assert!(t.while_queued());
    }

    #[test]
    fn service_errors_render_code_status_and_request_id() {
        let e = ServiceError {
            status: 503,
            code: "SlowDown".to_owned(),
            message: "Please reduce your request rate.".to_owned(),
            request_id: Some("ABC".to_owned()),
            host_id: None,
        };
        assert_eq!(
            e.to_string(),
            "S3 error SlowDown (HTTP 503): Please reduce your request rate. [request id ABC]"
        );
    }
}
