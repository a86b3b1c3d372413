//! [`TransportError`]: why one attempt failed on the wire, before any S3 meaning is read into
//! it. The S3 client wraps it into its own error ([`ErrorDetail`](crate::s3::ErrorDetail)),
//! one variant for one variant.
//!
//! Invariant: every failure is classified once, here, where it is first seen. File-descriptor
//! exhaustion (EMFILE/ENFILE) is its own variant wherever in an error chain it is found, never
//! folded into other I/O: it is the failure of aws-sdk-js-v3#1959 and #4345.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use serde::Serialize;

use super::deadline::RequestTimeout;
use crate::pool::{ConnectError, TimeoutPhase};

/// A boxed error from the HTTP stack.
pub type BoxError = Box<dyn StdError + Send + Sync>;

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

/// Why an attempt failed on the wire.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
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
    /// The hyper-util pool's in-flight limit was closed (it never is; answered rather than
    /// panicking if it were).
    #[error("in-flight limit closed")]
    LimitClosed,
}

impl TransportError {
    /// Classifies a pool's connect error: EMFILE/ENFILE and the connection timeout get their
    /// own variants.
    pub(crate) fn from_connect(error: ConnectError) -> Self {
        match error {
            ConnectError::FileDescriptorsExhausted(io) => {
                TransportError::FileDescriptorsExhausted(io)
            }
            ConnectError::ConnectionTimeout { timeout, phase } => {
                TransportError::Timeout(TimeoutError {
                    kind: TimeoutKind::Connection {
                        queued: phase == TimeoutPhase::Queued,
                    },
                    after: timeout,
                })
            }
            other => TransportError::Connect(other),
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
                return TransportError::FileDescriptorsExhausted(io::Error::from_raw_os_error(
                    io.raw_os_error().unwrap_or(libc::EMFILE),
                ));
            }
            source = e.source();
        }
        if connect {
            return match find_connect_error(error) {
                Ok(connect) => TransportError::from_connect(connect),
                Err(error) => TransportError::Connection(error),
            };
        }
        TransportError::Connection(error)
    }

    /// The error for a fired `requestTimeout`.
    pub(crate) fn request_timeout(timeout: Option<RequestTimeout>, queued: bool) -> Self {
        TransportError::Timeout(TimeoutError {
            kind: TimeoutKind::Request { queued },
            after: timeout.map_or(Duration::ZERO, |t| t.after),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn is_fd_exhausted(e: &TransportError) -> bool {
        matches!(e, TransportError::FileDescriptorsExhausted(_))
    }

    #[test]
    fn emfile_is_its_own_variant_wherever_it_is_found() {
        let d =
            TransportError::from_connect(ConnectError::from_io(io::Error::from_raw_os_error(24)));
        assert!(is_fd_exhausted(&d), "{d:?}");
        let boxed: BoxError = Box::new(ConnectError::from_io(io::Error::from_raw_os_error(24)));
        assert!(is_fd_exhausted(&TransportError::from_http(boxed)));
        let refused: BoxError = Box::new(ConnectError::from_io(io::Error::from_raw_os_error(
            libc::ECONNREFUSED,
        )));
        assert!(matches!(
            TransportError::from_http(refused),
            TransportError::Connect(_)
        ));
        let other: BoxError = Box::new(io::Error::from_raw_os_error(libc::ECONNRESET));
        assert!(matches!(
            TransportError::from_http(other),
            TransportError::Connection(_)
        ));
    }

    #[test]
    fn connection_timeout_keeps_its_phase() {
        let d = TransportError::from_connect(ConnectError::ConnectionTimeout {
            timeout: Duration::from_millis(5),
            phase: TimeoutPhase::Queued,
        });
        let TransportError::Timeout(t) = d else {
            panic!("not a timeout: {d:?}");
        };
        assert!(t.while_queued());
    }
}
