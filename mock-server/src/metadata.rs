//! The metadata listener: the credential endpoints on plain HTTP at the paths clients use on
//! EC2 and ECS, for SDKs that cannot be pointed at the TLS endpoint's `/__mock/` prefix.
//!
//! EC2's instance metadata service answers plain HTTP at `169.254.169.254` with IMDSv2 at
//! root paths, and the AWS SDK for JavaScript v3 requests exactly those paths with
//! `node:http` (`@smithy/credential-provider-imds`: `httpRequest` uses `node:http`, the
//! endpoint's path is dropped), so a TLS endpoint under a prefix cannot serve it. This listener
//! serves the same handlers as [`crate::server::router`] (same counters, same latency, same
//! keys) at:
//!
//! - `PUT /latest/api/token`, `GET /latest/meta-data/iam/security-credentials/` and
//!   `GET /latest/meta-data/iam/security-credentials/{role}` (IMDSv2);
//! - `GET /credentials/container` (ECS's `169.254.170.2` is plain HTTP too).
//!
//! Invariant: nothing but credentials is served here (everything else is 404), and its
//! connections are not counted as S3 connections: a credential fetch is counted once, by
//! its handler, whichever listener it came in on.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, put};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower_service::Service as _;

use crate::credentials;
use crate::ops::App;

/// The routes of the metadata listener.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/latest/api/token", put(credentials::imds_token))
        .route(
            "/latest/meta-data/iam/security-credentials/",
            get(credentials::imds_role),
        )
        .route(
            "/latest/meta-data/iam/security-credentials/{role}",
            get(credentials::imds_credentials),
        )
        .route("/credentials/container", get(credentials::container))
        .with_state(app)
}

/// Serves [`router`] on `listener` until the runtime stops.
pub async fn run(listener: TcpListener, app: Arc<App>) {
    let router = router(app.clone());
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("metadata listener: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let idle = std::time::Duration::from_millis(app.profile().connections.idle_timeout_ms);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                router.clone().call(req)
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(idle)
                .keep_alive(true);
            if let Err(e) = http.serve_connection(TokioIo::new(tcp), service).await {
                tracing::debug!(%peer, "metadata connection ended: {e}");
            }
        });
    }
}
