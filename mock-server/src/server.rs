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
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower_service::Service as _;

use crate::credentials;
use crate::ops::{self, App};
use crate::profile::{OverLimit, Profile};

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
        .route(
            "/__mock/profile",
            get(admin_get_profile).put(admin_put_profile),
        )
        .route("/__mock/credentials/container", get(credentials::container))
        .route(
            "/__mock/imds/latest/api/token",
            axum::routing::put(credentials::imds_token),
        )
        .route(
            "/__mock/imds/latest/meta-data/iam/security-credentials/",
            get(credentials::imds_role),
        )
        .route(
            "/__mock/imds/latest/meta-data/iam/security-credentials/{role}",
            get(credentials::imds_credentials),
        )
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

/// `POST /__mock/reset[?seed=N][&wait_ms=N]`: the server as it started (see [`crate::reset`]),
/// answered with a [`ResetReport`](crate::reset::ResetReport). The connection that asked
/// closes after the answer, like every connection from before the reset.
async fn admin_reset(State(app): State<Arc<App>>, req: Request) -> axum::response::Response {
    if !admin_allowed(&req) {
        return http::StatusCode::FORBIDDEN.into_response();
    }
    let mut options = crate::reset::ResetOptions::default();
    for (k, v) in form_pairs(req.uri().query()) {
        let parsed = v.parse::<u64>();
        match (k, parsed) {
            ("seed", Ok(n)) => options.seed = Some(n),
            ("wait_ms", Ok(n)) => options.wait = Duration::from_millis(n),
            ("seed" | "wait_ms", Err(_)) => {
                let message = format!("{k}={v}: not a non-negative integer");
                return (http::StatusCode::BAD_REQUEST, message).into_response();
            }
            _ => {
                let message = format!("unknown parameter `{k}`; parameters: seed, wait_ms");
                return (http::StatusCode::BAD_REQUEST, message).into_response();
            }
        }
    }
    let own_connection = req.extensions().get::<Peer>().is_some();
    json(&app.reset(&options, own_connection).await)
}

/// `k=v` pairs of a query, `k` alone as `(k, "")`.
fn form_pairs(query: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
}

async fn admin_get_profile(State(app): State<Arc<App>>, req: Request) -> axum::response::Response {
    if !admin_allowed(&req) {
        return http::StatusCode::FORBIDDEN.into_response();
    }
    json(&*app.profile())
}

/// `PUT /__mock/profile` with a JSON profile, or `?preset=NAME`.
async fn admin_put_profile(State(app): State<Arc<App>>, req: Request) -> axum::response::Response {
    if !admin_allowed(&req) {
        return http::StatusCode::FORBIDDEN.into_response();
    }
    let preset = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("preset=")))
        .map(str::to_owned);
    let profile = match preset {
        Some(name) => Profile::preset(&name).ok_or_else(|| {
            format!(
                "unknown preset `{name}`; presets: {}",
                crate::profile::PRESETS.join(", ")
            )
        }),
        None => match axum::body::to_bytes(req.into_body(), 1 << 20).await {
            Ok(body) => serde_json::from_slice::<Profile>(&body)
                .map_err(|e| format!("invalid profile JSON: {e}")),
            Err(e) => Err(format!("reading the body: {e}")),
        },
    };
    match profile.and_then(|p| app.set_profile(p)) {
        Ok(()) => json(&*app.profile()),
        Err(message) => (http::StatusCode::BAD_REQUEST, message).into_response(),
    }
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
    tokio::pin!(shutdown);
    loop {
        let profile = app.profile();
        let gate = profile.connections.max_connections;
        if let (Some(max), OverLimit::Backlog) = (gate, profile.connections.over_limit) {
            // At the limit, stop accepting: new connections wait in the kernel's backlog.
            loop {
                let closed = app.connection_closed.notified();
                tokio::pin!(closed);
                closed.as_mut().enable();
                if app.metrics.connections_open() < max as u64 {
                    break;
                }
                tokio::select! {
                    () = &mut shutdown => return finish(listener, &app).await,
                    () = closed => {}
                }
            }
        }
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
        if let (Some(max), OverLimit::Refuse) = (gate, profile.connections.over_limit)
            && app.metrics.connections_open() >= max as u64
        {
            app.metrics.connection_refused();
            drop(tcp);
            continue;
        }
        app.metrics.connection_opened();
        let mut cohort = app.cohorts.enter();
        let app = app.clone();
        let router = router.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                None => serve(tcp, peer, &app, router, &mut cohort).await,
                Some(acceptor) => {
                    let handshake = tokio::select! {
                        // A reset or shutdown does not wait for a handshake to finish.
                        () = cohort.closing() => None,
                        h = tokio::time::timeout(
                            Duration::from_millis(profile.connections.tls_handshake_timeout_ms),
                            acceptor.accept(tcp),
                        ) => Some(h),
                    };
                    match handshake {
                        Some(Ok(Ok(tls))) => {
                            let resumed = tls.get_ref().1.handshake_kind()
                                == Some(rustls::HandshakeKind::Resumed);
                            app.metrics.tls_handshake(resumed);
                            serve(tls, peer, &app, router, &mut cohort).await;
                        }
                        Some(Ok(Err(e))) => {
                            app.metrics.tls_failed();
                            tracing::debug!(%peer, "TLS handshake failed: {e}");
                        }
                        Some(Err(_)) => {
                            app.metrics.tls_failed();
                            tracing::debug!(%peer, "TLS handshake timed out");
                        }
                        None => {
                            tracing::debug!(%peer, "closed during its TLS handshake by a reset or shutdown");
                        }
                    }
                }
            }
            app.metrics.connection_closed();
            // The cohort counts the connection until here, so a reset that waited for it
            // sees every counter it touched.
            drop(cohort);
            app.connection_closed.notify_waiters();
        });
    }
    finish(listener, &app).await;
}

/// Stops accepting and closes every connection (as a reset does), waiting up to [`GRACE`].
async fn finish(listener: TcpListener, app: &App) {
    drop(listener);
    if app.cohorts.rotate().0.drained(0, GRACE).await > 0 {
        tracing::debug!("connections still open after the grace period");
    }
}

async fn serve<IO>(
    io: IO,
    peer: SocketAddr,
    app: &Arc<App>,
    router: Router,
    cohort: &mut crate::reset::ConnectionGuard,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let profile = app.profile();
    let max_requests = profile.connections.max_requests_per_connection;
    let served = std::sync::atomic::AtomicU64::new(0);
    let s3_app = app.clone();
    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
        let n = served.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        // The Nth response says so; hyper then closes the connection after it.
        let last = max_requests.is_some_and(|max| n >= max);
        let metrics = last.then(|| s3_app.metrics.clone());
        let call = route(&router, &s3_app, peer, req);
        async move {
            let mut resp = call.await;
            if let Some(metrics) = metrics {
                resp.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
                metrics.closed_max_requests();
            }
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    // hyper's header-read timeout, which also closes a keep-alive connection left idle, on
    // one timer per connection that the connection's polls carry (see `head_timer`).
    let mut clock = crate::head_timer::HeadClock::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(crate::head_timer::HeadClock::timer())
        .header_read_timeout(Duration::from_millis(profile.connections.idle_timeout_ms))
        .keep_alive(true)
        .max_buf_size(app.config.max_header_bytes.max(8192));
    // A lingering close (see `linger`): an answer sent before the whole body was read reaches
    // a client that is still sending it.
    let io = crate::linger::Linger::new(HeadErrors::new(io), cohort.closing_signal());
    let conn = http.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let outcome = tokio::select! {
        biased;
        r = clock.around(conn.as_mut()) => r,
        () = cohort.closing() => {
            // Reset or shutdown: an idle connection closes now, a busy one after its response.
            conn.as_mut().graceful_shutdown();
            clock.around(conn.as_mut()).await
        }
    };
    if let Err(e) = outcome {
        if e.is_timeout() {
            // hyper's header-read timer also runs while a keep-alive connection is idle.
            app.metrics.closed_idle();
        } else {
            tracing::debug!(%peer, "connection ended: {e}");
        }
    }
}

/// The admin API (`/__mock/...`) through the router, with the peer's address for its
/// loopback check; every other request straight to [`ops::handle`], the router's fallback,
/// without the router's per-request work (path matching, boxed handler futures, extensions)
/// on the path every S3 request takes. The response is finished as the router finishes its
/// fallback's ([`finish_fallback`]), so both ways answer byte for byte alike.
fn route(
    router: &Router,
    app: &Arc<App>,
    peer: SocketAddr,
    mut req: http::Request<Incoming>,
) -> futures_util::future::Either<
    impl Future<Output = axum::response::Response> + use<>,
    impl Future<Output = axum::response::Response> + use<>,
> {
    use futures_util::future::Either;
    if req.uri().path().starts_with("/__mock/") {
        req.extensions_mut().insert(Peer(peer));
        let call = router.clone().call(req);
        // Boxed: the router's future holds the request, and inline it would make the future
        // of every request (which hyper moves into place) as large.
        Either::Left(Box::pin(async move {
            match call.await {
                Ok(resp) => resp,
                Err(never) => match never {},
            }
        }))
    } else {
        let method = req.method().clone();
        // Boxed once here rather than moved through every layer above: an S3 request's
        // future holds its body checks (hash states) and is large.
        let call = Box::pin(ops::handle(app.clone(), req));
        Either::Right(async move { finish_fallback(&method, call.await) })
    }
}

/// What axum's router does to a response of its fallback (a top-level route): a CONNECT's
/// success loses any body, any other response gets `Content-Length` from its body's exact
/// size when it has none, and a HEAD's body is dropped (axum 0.8, `routing/route.rs`,
/// `RouteFuture::poll`). The same bytes go out; where hyper would write that `Content-Length`
/// itself, it is left to hyper (one header map insertion less per request; only a response
/// that also gets `Connection: close` afterwards lists the two headers the other way round).
fn finish_fallback(
    method: &http::Method,
    mut resp: axum::response::Response,
) -> axum::response::Response {
    use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
    use http_body::Body as _;
    if *method == http::Method::CONNECT && resp.status().is_success() {
        if resp.headers().contains_key(CONTENT_LENGTH)
            || resp.headers().contains_key(TRANSFER_ENCODING)
            || resp.body().size_hint().lower() != 0
        {
            resp = resp.map(|_| axum::body::Body::empty());
        }
        return resp;
    }
    // hyper writes `content-length: N` itself, last among the headers as this would put it,
    // for a body of exact size N on a response that may carry it (not 1xx, 204, 304, nor an
    // answer to HEAD or CONNECT): only the others need it inserted here, or a HEAD's whose body
    // is dropped below.
    let hyper_writes_length = *method != http::Method::HEAD
        && !resp.status().is_informational()
        && resp.status() != http::StatusCode::NO_CONTENT
        && resp.status() != http::StatusCode::NOT_MODIFIED;
    if !hyper_writes_length
        && !resp.headers().contains_key(CONTENT_LENGTH)
        && let Some(size) = resp.body().size_hint().exact()
    {
        let value = match size {
            0 => http::HeaderValue::from_static("0"),
            n => http::HeaderValue::from(n),
        };
        resp.headers_mut().insert(CONTENT_LENGTH, value);
    }
    if *method == http::Method::HEAD {
        *resp.body_mut() = axum::body::Body::empty();
    }
    resp
}

/// hyper answers a request head it refuses for its size with 431: a Content-Length of 2^64 - 2
/// or more (which does not parse as a number for S3), a head beyond its read buffer, too many
/// headers. S3 answers these with 400: a Content-Length that is not a number gets a bare
/// `400 Bad Request` (ceph/s3-tests `test_object_create_bad_contentlength_empty` and
/// `_negative`, written against S3: status 400, no S3 error code; hyper already answers the
/// other unparsable values so), and an oversized head 400 (RequestHeaderSectionTooLarge). hyper
/// has no hook for its own error responses, so this watches a connection's writes for that one
/// response and writes S3's 400 instead; everything else passes through untouched (one
/// 13-byte comparison per write).
struct HeadErrors<IO> {
    io: IO,
    /// What is left to write of the replacement.
    replacement: &'static [u8],
}

const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

impl<IO> HeadErrors<IO> {
    fn new(io: IO) -> Self {
        Self {
            io,
            replacement: &[],
        }
    }

    /// Whether `buf` starts hyper's 431 response.
    fn is_431(buf: &[u8]) -> bool {
        buf.len() >= 13 && buf.starts_with(b"HTTP/1.") && &buf[8..13] == b" 431 "
    }
}

impl<IO: AsyncWrite + Unpin> HeadErrors<IO> {
    /// Writes what is left of the replacement.
    fn drain(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        while !self.replacement.is_empty() {
            match std::pin::Pin::new(&mut self.io).poll_write(cx, self.replacement) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => self.replacement = &self.replacement[n..],
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for HeadErrors<IO> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for HeadErrors<IO> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.drain(cx))?;
        if Self::is_431(buf) {
            // The error response is the last thing hyper writes on this connection.
            this.replacement = BAD_REQUEST;
            let _ = this.drain(cx)?;
            return std::task::Poll::Ready(Ok(buf.len()));
        }
        std::pin::Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.drain(cx))?;
        if bufs
            .iter()
            .find(|b| !b.is_empty())
            .is_some_and(|b| Self::is_431(b))
        {
            this.replacement = BAD_REQUEST;
            let _ = this.drain(cx)?;
            return std::task::Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        std::pin::Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.drain(cx))?;
        std::pin::Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.drain(cx))?;
        std::pin::Pin::new(&mut this.io).poll_shutdown(cx)
    }
}
