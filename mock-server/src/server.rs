//! The accept loop: a function of (listener, TLS config, app state, shutdown).
//!
//! Each accepted connection is counted, its TLS handshake (bounded by a timeout) is classified
//! as full or resumed, and it is served as HTTP/1.1 by hyper with the axum router. A client
//! that sends garbage instead of a ClientHello, or connects and never sends, costs one task
//! until its timeout, never the server. On shutdown the loop stops accepting and open
//! connections finish their current request.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower_service::Service as _;

use crate::ops::{self, App};

/// How long open connections get to finish after shutdown is asked for.
const GRACE: Duration = Duration::from_secs(5);

/// The peer of the connection a request came in on (a request extension).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

/// The router: the admin API under `/__mock/` (a prefix no bucket name can have, since bucket
/// names cannot contain `_`), and S3 for everything else.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/__mock/metrics", get(admin_metrics))
        .route("/__mock/reset", post(admin_reset))
        .route("/__mock/health", get(|| async { "ok" }))
        .fallback(|State(app): State<Arc<App>>, req: Request| ops::handle(app, req))
        .with_state(app)
}

/// The admin API answers loopback peers only (the mock binds loopback by default; if it is
/// bound elsewhere, remote hosts still cannot read or reset it).
fn admin_allowed(req: &Request) -> bool {
    req.extensions()
        .get::<Peer>()
        .is_none_or(|p| p.0.ip().is_loopback())
}

async fn admin_metrics(State(app): State<Arc<App>>, req: Request) -> axum::response::Response {
    if !admin_allowed(&req) {
        return http::StatusCode::FORBIDDEN.into_response();
    }
    json(&app.metrics.snapshot())
}

async fn admin_reset(State(app): State<Arc<App>>, req: Request) -> axum::response::Response {
    if !admin_allowed(&req) {
        return http::StatusCode::FORBIDDEN.into_response();
    }
    app.metrics.reset();
    http::StatusCode::NO_CONTENT.into_response()
}

/// A JSON response.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> axum::response::Response {
    match serde_json::to_vec_pretty(value) {
        Ok(body) => ([(http::header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Accepts connections on `listener` until `shutdown` completes, then lets open connections
/// finish for up to 5 s.
pub async fn run(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let router = router(app.clone());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    app.metrics.accept_error();
                    tracing::warn!("accept failed: {e}");
                    // EMFILE and friends: the connection stays in the backlog; back off
                    // instead of spinning on a listener that is immediately ready again.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        app.metrics.connection_opened();
        let app = app.clone();
        let router = router.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match acceptor {
                None => serve(tcp, peer, &app, router, watcher).await,
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        app.config.tls_handshake_timeout,
                        acceptor.accept(tcp),
                    )
                    .await;
                    match handshake {
                        Ok(Ok(tls)) => {
                            let resumed = tls.get_ref().1.handshake_kind()
                                == Some(rustls::HandshakeKind::Resumed);
                            app.metrics.tls_handshake(resumed);
                            serve(tls, peer, &app, router, watcher).await;
                        }
                        Ok(Err(e)) => {
                            app.metrics.tls_failed();
                            tracing::debug!(%peer, "TLS handshake failed: {e}");
                        }
                        Err(_) => {
                            app.metrics.tls_failed();
                            tracing::debug!(%peer, "TLS handshake timed out");
                        }
                    }
                }
            }
            app.metrics.connection_closed();
        });
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("connections still open after the grace period");
    }
}

async fn serve<IO>(
    io: IO,
    peer: SocketAddr,
    app: &App,
    router: Router,
    watcher: hyper_util::server::graceful::Watcher,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(Peer(peer));
        router.clone().call(req)
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(app.config.header_timeout)
        .keep_alive(true)
        .max_buf_size(app.config.max_header_bytes.max(8192));
    let conn = http.serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(conn).await {
        if e.is_timeout() {
            // hyper's header-read timer also runs while a keep-alive connection is idle.
            app.metrics.closed_idle();
        } else {
            tracing::debug!(%peer, "connection ended: {e}");
        }
    }
}
