//! The real connector: TCP (`TCP_NODELAY`), then rustls for `https:` origins, then hyper's
//! HTTP/1.1 client handshake. The connection task is spawned, and the pool holds the
//! [`SendRequest`] half.
//!
//! Invariant: one connector per agent, holding one TLS config and one session cache
//! (`tls.rs`, Node's per-Agent `maxCachedSessions` cache). [`HttpConnector`] is deliberately
//! not `Clone`. Each socket records whether its handshake was full or resumed
//! (`CommonState::handshake_kind`).

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::{HandshakeKind, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::conn::{Connect, ConnectCtx, Handshake, PoolConn};
use super::error::ConnectError;
use super::options::NODE_MAX_CACHED_SESSIONS;
use super::origin::{Origin, Scheme};
use super::tls::{self, SessionCache};

/// Opens HTTP/1.1 connections over TCP, with TLS for `https:` origins. `B` is the request
/// body type.
pub struct HttpConnector<B = Full<Bytes>> {
    tls: Option<Tls>,
    _body: PhantomData<fn(B)>,
}

/// The TLS side: the agent's config, and its session cache unless `maxCachedSessions` is 0.
struct Tls {
    config: Arc<rustls::ClientConfig>,
    sessions: Option<Arc<SessionCache>>,
}

impl Tls {
    /// The connector for one new socket to `origin`, bound to the origin's cached session.
    fn connector_for(&self, origin: &Origin) -> TlsConnector {
        match &self.sessions {
            Some(sessions) => TlsConnector::from(sessions.config_for(&self.config, origin)),
            None => TlsConnector::from(Arc::clone(&self.config)),
        }
    }
}

impl HttpConnector {
    /// A connector for `http:` and `https:` origins that trusts `roots`. Its TLS session cache
    /// holds one session for each of [`NODE_MAX_CACHED_SESSIONS`] (100) origins, as Node's
    /// `https.Agent` does. Request bodies are `Full<Bytes>`; use
    /// [`with_body`](Self::with_body) for another body type.
    pub fn new(roots: impl Into<Arc<RootCertStore>>) -> Result<Self, rustls::Error> {
        Self::with_max_cached_sessions(roots, NODE_MAX_CACHED_SESSIONS)
    }

    /// Like [`new`](Self::new), with Node's `maxCachedSessions` (`0` disables resumption).
    pub fn with_max_cached_sessions(
        roots: impl Into<Arc<RootCertStore>>,
        max_cached_sessions: usize,
    ) -> Result<Self, rustls::Error> {
        let config = Arc::new(tls::client_config(roots.into())?);
        let sessions =
            (max_cached_sessions > 0).then(|| Arc::new(SessionCache::new(max_cached_sessions)));
        Ok(Self {
            tls: Some(Tls { config, sessions }),
            _body: PhantomData,
        })
    }

    /// A connector for `http:` origins only. `https:` origins fail with
    /// [`ConnectError::TlsNotConfigured`].
    pub fn plain() -> Self {
        Self {
            tls: None,
            _body: PhantomData,
        }
    }
}

impl<B> HttpConnector<B> {
    /// The same connector, and the same TLS session cache, for request bodies of type `B2`.
    pub fn with_body<B2>(self) -> HttpConnector<B2> {
        HttpConnector {
            tls: self.tls,
            _body: PhantomData,
        }
    }
}

impl<B> fmt::Debug for HttpConnector<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConnector")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl<B> Connect for HttpConnector<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Conn = HttpConn<B>;

    async fn connect(
        &self,
        origin: &Origin,
        ctx: &ConnectCtx,
    ) -> Result<HttpConn<B>, ConnectError> {
        let https = match origin.scheme() {
            Scheme::Http => None,
            Scheme::Https => {
                let tls = self
                    .tls
                    .as_ref()
                    .ok_or_else(|| ConnectError::TlsNotConfigured(origin.clone()))?;
                let name = ServerName::try_from(origin.host().to_owned())
                    .map_err(|_| ConnectError::InvalidServerName(origin.host().to_owned()))?;
                // Bound to its session now, at creation, as in Node.
                Some((tls.connector_for(origin), name, tls.sessions.as_ref()))
            }
        };
        // Node evicts the origin's session when a socket closes with an error
        // (`lib/https.js` lines 181-185), connect errors included.
        let evict_on_error = https
            .as_ref()
            .and_then(|(_, _, sessions)| sessions.map(|s| (Arc::clone(s), origin.clone())));
        let connected = async {
            let tcp = TcpStream::connect((origin.host(), origin.port())).await?;
            // Node's `noDelay` defaults to true.
            tcp.set_nodelay(true)?;
            ctx.mark_tcp_connected();
            let Some((connector, name, _)) = https else {
                let sender = handshake(tcp, ctx, None).await?;
                return Ok(HttpConn {
                    sender,
                    handshake: Handshake::Plain,
                });
            };
            let stream = connector.connect(name, tcp).await?;
            let handshake_kind = match stream.get_ref().1.handshake_kind() {
                Some(HandshakeKind::Resumed) => Handshake::Resumed,
                _ => Handshake::Full,
            };
            let sender = handshake(stream, ctx, evict_on_error.clone()).await?;
            Ok(HttpConn {
                sender,
                handshake: handshake_kind,
            })
        };
        let result = connected.await;
        if result.is_err()
            && let Some((sessions, origin)) = &evict_on_error
        {
            sessions.evict(origin);
        }
        result
    }
}

/// The HTTP/1.1 client handshake. The connection task is spawned with the socket's
/// lifecycle: it ends when the server closes the connection, when the last [`SendRequest`]
/// is dropped, or when the agent is destroyed, and then the agent hears of it.
async fn handshake<I, B>(
    io: I,
    ctx: &ConnectCtx,
    evict_on_error: Option<(Arc<SessionCache>, Origin)>,
) -> Result<SendRequest<B>, ConnectError>
where
    I: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(ConnectError::Http)?;
    let socket = ctx.socket_id();
    ctx.lifecycle().spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(socket, %error, "connection ended with an error");
            if let Some((sessions, origin)) = evict_on_error {
                sessions.evict(&origin);
            }
        }
    });
    Ok(sender)
}

/// An HTTP/1.1 connection in the pool: hyper's [`SendRequest`] and the handshake kind.
pub struct HttpConn<B = Full<Bytes>> {
    sender: SendRequest<B>,
    handshake: Handshake,
}

impl<B: Body + 'static> HttpConn<B> {
    /// Sends a request on this connection. Read the response body to its end before
    /// releasing the socket.
    pub fn send_request(
        &mut self,
        request: Request<B>,
    ) -> impl Future<Output = hyper::Result<Response<Incoming>>> + use<B> {
        self.sender.send_request(request)
    }
}

impl<B> HttpConn<B> {
    /// hyper's sender, for `try_send_request` (which returns the request when the server
    /// closed an idle connection just as it was reused).
    pub fn sender_mut(&mut self) -> &mut SendRequest<B> {
        &mut self.sender
    }
}

impl<B> fmt::Debug for HttpConn<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConn")
            .field("handshake", &self.handshake)
            .field("closed", &self.sender.is_closed())
            .finish()
    }
}

impl<B: Send + 'static> PoolConn for HttpConn<B> {
    fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    async fn ready(&mut self) -> bool {
        self.sender.ready().await.is_ok()
    }

    fn handshake(&self) -> Handshake {
        self.handshake
    }
}

#[cfg(test)]
mod node_burst;
#[cfg(test)]
mod tests;
