//! [`HyperUtilPool`]: what a Rust user writes today for a capped pool: hyper-util's legacy
//! `Client` with `pool_max_idle_per_host = maxSockets`, and in-flight requests capped at
//! `maxSockets` by a semaphore, since the legacy client itself has no per-host connection cap
//! (hyperium/hyper#3785).
//!
//! Invariant: at most `maxSockets` requests are in flight; a request holds its permit until
//! its response body has been read to its end. The number of *sockets* is not bounded by
//! this: the legacy client races a new connect against waiting for an idle connection, so a
//! connection not yet back in its idle list when the next request checks out makes it open
//! another (hyperium/hyper#4134). The counters show how often that happens.

use std::num::NonZeroUsize;
use std::pin::pin;
use std::sync::Arc;

use http::Request;
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use tokio::sync::Semaphore;

use super::attempt::{Attempt, AttemptFacts, ContinueWait, Prepared, SocketUse};
use super::body::S3Body;
use super::deadline::{Deadline, RequestTimeout};
use super::endpoint::Endpoint;
use super::error::TransportError;
use super::stats::PoolCounters;
use super::tls_connector::{ConnInfo, TlsConnector};

/// The hyper-util legacy client transport.
pub struct HyperUtilPool {
    client: Client<TlsConnector, S3Body>,
    limit: Option<Semaphore>,
    max_sockets: Option<NonZeroUsize>,
    endpoint: Endpoint,
    counters: Arc<PoolCounters>,
}

impl std::fmt::Debug for HyperUtilPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperUtilPool")
            .field("endpoint", &self.endpoint)
            .field("max_sockets", &self.max_sockets)
            .finish_non_exhaustive()
    }
}

impl HyperUtilPool {
    pub(crate) fn new(
        max_sockets: Option<NonZeroUsize>,
        endpoint: &Endpoint,
        roots: Arc<RootCertStore>,
        counters: Arc<PoolCounters>,
    ) -> Result<Self, rustls::Error> {
        let connector = TlsConnector::new(roots, Arc::clone(&counters))?;
        let mut builder = Client::builder(TokioExecutor::new());
        // The idle timeout (90 s by default) only runs with a timer, as reqwest sets it up.
        builder.pool_timer(TokioTimer::new());
        if let Some(max) = max_sockets {
            builder.pool_max_idle_per_host(max.get());
        }
        Ok(Self {
            client: builder.build(connector),
            limit: max_sockets.map(|m| Semaphore::new(m.get())),
            max_sockets,
            endpoint: endpoint.clone(),
            counters,
        })
    }

    /// The in-flight cap, `None` for unlimited.
    pub fn max_sockets(&self) -> Option<NonZeroUsize> {
        self.max_sockets
    }

    pub(crate) async fn send(
        &self,
        prepared: Prepared,
        timeout: Option<RequestTimeout>,
    ) -> Attempt {
        let Prepared {
            method,
            path,
            headers,
            body,
            expect_continue,
            handed_over,
        } = prepared;
        let mut facts = AttemptFacts {
            // No gate: the body follows the head at once, as with an external Node agent.
            expect_continue: expect_continue.then_some(ContinueWait::Immediate),
            ..AttemptFacts::default()
        };
        let mut request = Request::new(S3Body::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = self.endpoint.absolute(path);
        *request.headers_mut() = headers;

        let mut deadline = Deadline::new(timeout, handed_over);
        let _permit = match &self.limit {
            None => None,
            Some(limit) => match deadline.run(pin!(limit.acquire())).await {
                Ok(Ok(permit)) => Some(permit),
                Ok(Err(_closed)) => {
                    // The semaphore is never closed; answer rather than panic if it were.
                    return Attempt::failed(facts, TransportError::LimitClosed);
                }
                Err(_) => {
                    facts.socket_wait = handed_over.elapsed();
                    return Attempt::failed(facts, TransportError::request_timeout(timeout, true));
                }
            },
        };
        facts.socket_wait = handed_over.elapsed();
        let exchange = pin!(self.client.request(request));
        let response = match deadline.run(exchange).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                facts.timeout_warning = deadline.warned();
                return Attempt::failed(facts, TransportError::from_http(Box::new(error)));
            }
            Err(_) => {
                return Attempt::failed(facts, TransportError::request_timeout(timeout, false));
            }
        };
        facts.timeout_warning = deadline.warned();
        if let Some(info) = response.extensions().get::<ConnInfo>() {
            let reused = info.next_request_is_reuse();
            facts.socket = Some(SocketUse {
                id: info.id,
                reused,
                handshake: info.handshake,
                unpooled: false,
            });
            self.counters.request(facts.socket_wait, reused);
        }
        let (parts, body) = response.into_parts();
        match body.collect().await {
            Ok(collected) => Attempt::done(
                facts,
                http::Response::from_parts(parts, collected.to_bytes()),
            ),
            Err(error) => Attempt::failed(facts, TransportError::Connection(Box::new(error))),
        }
    }
}
