//! [`S3Error`]: a failed S3 call, typed by what went wrong, carrying the call's [`Outcome`].
//!
//! Invariant: every failure is classified once, where it is first seen, into one
//! [`ErrorDetail`] variant, and [`ErrorKind`] names that variant without its data so a sweep
//! can count failures per kind. Failures on the wire are classified by the transport
//! ([`TransportError`]) and wrapped here one variant for one variant. File-descriptor
//! exhaustion (EMFILE/ENFILE) is its own kind, never folded into other I/O: it is the failure
//! of aws-sdk-js-v3#1959 and #4345.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;

use serde::Serialize;

use super::credentials::CredentialsError;
use super::outcome::Outcome;
use crate::pool::ConnectError;
use crate::transport::{BoxError, TimeoutError, TransportError};

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
}

impl From<TransportError> for ErrorDetail {
    /// The transport's failure, one variant for one variant: the transport classified it
    /// already (EMFILE apart, connect apart from in-flight, which timer fired).
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::FileDescriptorsExhausted(io) => {
                ErrorDetail::FileDescriptorsExhausted(io)
            }
            TransportError::Connect(c) => ErrorDetail::Connect(c),
            TransportError::Timeout(t) => ErrorDetail::Timeout(t),
            TransportError::Connection(e) => ErrorDetail::Connection(e),
            TransportError::LimitClosed => {
                ErrorDetail::InvalidRequest(TransportError::LimitClosed.to_string())
            }
        }
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
    fn transport_errors_keep_their_kind() {
        let emfile = TransportError::FileDescriptorsExhausted(io::Error::from_raw_os_error(24));
        assert_eq!(
            ErrorDetail::from(emfile).kind(),
            ErrorKind::FileDescriptorsExhausted
        );
        let refused = TransportError::Connect(ConnectError::from_io(io::Error::from_raw_os_error(
            libc::ECONNREFUSED,
        )));
        assert_eq!(ErrorDetail::from(refused).kind(), ErrorKind::Connect);
        assert_eq!(
            ErrorDetail::from(TransportError::LimitClosed).kind(),
            ErrorKind::InvalidRequest
        );
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
