//! Why a checkout failed to produce a socket.
//!
//! Invariant: an OS error is classified once, when it is converted
//! ([`ConnectError::from_io`]). File-descriptor exhaustion (EMFILE/ENFILE) is told apart
//! from other I/O, because that is the failure Node's `maxSockets: Infinity` produced in
//! aws-sdk-js-v3#1959.

use std::io;
use std::time::Duration;

use super::origin::Origin;

/// Where a checkout was when its connection timeout fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Still waiting in the origin's queue for a socket.
    Queued,
    /// Connecting a new socket. The TCP connect had not completed.
    Connecting,
}

/// A failed checkout or connect.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// `socket()` or `connect()` failed with EMFILE (24) or ENFILE (23).
    #[error("connect failed: too many open files (EMFILE/ENFILE)")]
    FileDescriptorsExhausted(#[source] io::Error),
    /// The server refused the connection (ECONNREFUSED).
    #[error("connection refused")]
    Refused(#[source] io::Error),
    /// The connection was reset or aborted while connecting or during the handshake.
    #[error("connection reset during connect")]
    Reset(#[source] io::Error),
    /// Any other I/O error while connecting: DNS, unreachable, and so on.
    #[error("connect I/O error")]
    Io(#[source] io::Error),
    /// The TLS handshake failed (certificate, protocol, ALPN).
    #[error("TLS handshake failed")]
    Tls(#[source] rustls::Error),
    /// The host is not a valid TLS server name.
    #[error("invalid TLS server name {0:?}")]
    InvalidServerName(String),
    /// An `https:` origin was used with a connector built without TLS.
    #[error("no TLS configuration for {0}")]
    TlsNotConfigured(Origin),
    /// The HTTP/1.1 handshake over the new connection failed.
    #[error("HTTP/1.1 connection handshake failed")]
    Http(#[source] hyper::Error),
    /// The SDK's `connectionTimeout` fired. It runs from hand-over, so queue wait counts.
    /// The message is the SDK's older wording. Newer releases say "the request socket did not
    /// establish a connection with the server within the configured timeout of N ms".
    #[error("Socket timed out without establishing a connection within {} ms ({phase:?})", timeout.as_millis())]
    ConnectionTimeout {
        /// The configured timeout.
        timeout: Duration,
        /// Where the checkout was when it fired.
        phase: TimeoutPhase,
    },
    /// The agent was destroyed ([`Agent::destroy`](super::Agent::destroy)) before a socket
    /// was assigned.
    #[error("the agent was destroyed")]
    AgentDestroyed,
}

impl ConnectError {
    /// Classifies an I/O error from connecting or from the TLS handshake. tokio-rustls
    /// reports TLS failures as `io::Error`s that wrap a `rustls::Error`.
    pub fn from_io(error: io::Error) -> Self {
        if matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
            return Self::FileDescriptorsExhausted(error);
        }
        match error.kind() {
            io::ErrorKind::ConnectionRefused => Self::Refused(error),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => Self::Reset(error),
            _ => match error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(tls) => Self::Tls(tls.clone()),
                None => Self::Io(error),
            },
        }
    }

    /// True for EMFILE/ENFILE.
    pub fn is_fd_exhausted(&self) -> bool {
        matches!(self, Self::FileDescriptorsExhausted(_))
    }

    /// True for the connection timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::ConnectionTimeout { .. })
    }
}

impl From<io::Error> for ConnectError {
    fn from(error: io::Error) -> Self {
        Self::from_io(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emfile_and_enfile_are_told_apart_from_other_io() {
        assert!(ConnectError::from_io(io::Error::from_raw_os_error(24)).is_fd_exhausted());
        assert!(ConnectError::from_io(io::Error::from_raw_os_error(23)).is_fd_exhausted());
        assert!(matches!(
            ConnectError::from_io(io::Error::from_raw_os_error(libc::ECONNREFUSED)),
            ConnectError::Refused(_)
        ));
        assert!(matches!(
            ConnectError::from_io(io::Error::from_raw_os_error(libc::ECONNRESET)),
            ConnectError::Reset(_)
        ));
        assert!(matches!(
            ConnectError::from_io(io::Error::from_raw_os_error(libc::EHOSTUNREACH)),
            ConnectError::Io(_)
        ));
    }

    #[test]
    fn tls_errors_are_unwrapped_from_io() {
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::General("bad cert".into()),
        );
        assert!(matches!(ConnectError::from_io(io), ConnectError::Tls(_)));
    }

    #[test]
    fn timeout_message_is_the_sdks() {
        let e = ConnectError::ConnectionTimeout {
            timeout: Duration::from_millis(1500),
            phase: TimeoutPhase::Queued,
        };
        assert!(
            e.to_string()
                .starts_with("Socket timed out without establishing a connection within 1500 ms")
        );
    }
}
