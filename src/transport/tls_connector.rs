//! [`TlsConnector`]: the hyper-util legacy client's connector, a `tower::Service<Uri>` that
//! opens TCP (`TCP_NODELAY`), then rustls for `https:`, and counts every connect, handshake
//! and close in the pool's [`PoolCounters`], as the Agent's counting connector does.
//!
//! Invariant: every connection the legacy client holds is a [`TlsConn`], counted open from
//! its successful connect until the client drops it. Each connection tells the client its id,
//! handshake kind and a request counter through `Connected::extra`, which hyper-util copies
//! into every response's extensions, so a request learns which socket served it and whether
//! that socket was reused.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::{HandshakeKind, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::stats::PoolCounters;
use super::tls;
use crate::pool::{ConnectError, Handshake, Origin};

/// Which socket served a response (a response extension).
#[derive(Clone, Debug)]
pub(crate) struct ConnInfo {
    pub(crate) id: u64,
    pub(crate) handshake: Handshake,
    served: Arc<AtomicU64>,
}

impl ConnInfo {
    /// Counts a request on this connection; true if it had served one before.
    pub(crate) fn next_request_is_reuse(&self) -> bool {
        self.served.fetch_add(1, Ordering::Relaxed) > 0
    }
}

/// Connects for the hyper-util legacy client. Clones share the TLS session cache and the
/// counters.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    tls: tokio_rustls::TlsConnector,
    counters: Arc<PoolCounters>,
    next_id: Arc<AtomicU64>,
}

impl TlsConnector {
    pub(crate) fn new(
        roots: Arc<RootCertStore>,
        counters: Arc<PoolCounters>,
    ) -> Result<Self, rustls::Error> {
        Ok(Self {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls::client_config(roots)?)),
            counters,
            next_id: Arc::new(AtomicU64::new(0)),
        })
    }

    async fn connect(self, dst: Uri) -> Result<TlsConn, ConnectError> {
        self.counters.connect_started();
        match self.open(&dst).await {
            Ok((stream, handshake)) => {
                self.counters.opened(handshake, false);
                Ok(TlsConn {
                    stream,
                    info: ConnInfo {
                        id: self.next_id.fetch_add(1, Ordering::Relaxed),
                        handshake,
                        served: Arc::new(AtomicU64::new(0)),
                    },
                    counters: self.counters,
                })
            }
            Err(error) => {
                self.counters.connect_failed(&error);
                Err(error)
            }
        }
    }

    async fn open(&self, dst: &Uri) -> Result<(Stream, Handshake), ConnectError> {
        let origin =
            Origin::from_uri(dst).map_err(|_| ConnectError::InvalidServerName(dst.to_string()))?;
        let tcp = TcpStream::connect((origin.host(), origin.port())).await?;
        tcp.set_nodelay(true)?;
        if dst.scheme_str() != Some("https") {
            return Ok((Stream::Plain(TokioIo::new(tcp)), Handshake::Plain));
        }
        let name = ServerName::try_from(origin.host().to_owned())
            .map_err(|_| ConnectError::InvalidServerName(origin.host().to_owned()))?;
        let stream = self.tls.connect(name, tcp).await?;
        let handshake = match stream.get_ref().1.handshake_kind() {
            Some(HandshakeKind::Resumed) => Handshake::Resumed,
            _ => Handshake::Full,
        };
        Ok((Stream::Tls(Box::new(TokioIo::new(stream))), handshake))
    }
}

impl tower_service::Service<Uri> for TlsConnector {
    type Response = TlsConn;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<TlsConn, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        Box::pin(self.clone().connect(dst))
    }
}

enum Stream {
    Plain(TokioIo<TcpStream>),
    Tls(Box<TokioIo<TlsStream<TcpStream>>>),
}

/// One connection of the hyper-util pool.
pub(crate) struct TlsConn {
    stream: Stream,
    info: ConnInfo,
    counters: Arc<PoolCounters>,
}

impl Drop for TlsConn {
    fn drop(&mut self) {
        self.counters.closed();
    }
}

impl Connection for TlsConn {
    fn connected(&self) -> Connected {
        Connected::new().extra(self.info.clone())
    }
}

impl Read for TlsConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl Write for TlsConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
