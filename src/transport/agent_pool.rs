//! [`AgentPool`]: the S3 client's transport over poolsweep's Node-style [`Agent`].
//!
//! Invariant: a request's socket comes from the agent and goes back to it only after the
//! response body was read to its end ([`read_body_and_release`]); a failed exchange closes
//! it. One exception, the SDK's: an `Expect: 100-continue` request on an agent the SDK made
//! itself goes on a brand-new connection outside the pool and outside `maxSockets`, as if on
//! `new Agent({ keepAlive: false, maxSockets: Infinity })` (smithy-typescript PR #1754), and
//! holds its body until `100 Continue` (PR #1505). On an agent the caller supplied, the body
//! goes at once on a pooled socket (PR #1757).

use std::pin::pin;
use std::sync::{Arc, OnceLock};

use http::header::CONNECTION;
use http::{Request, StatusCode, Uri};
use rustls::RootCertStore;
use serde::{Deserialize, Serialize};

use super::attempt::{Attempt, AttemptFacts, ContinueWait, Prepared, SocketUse};
use super::body::{MIN_CONTINUE_WAIT, S3Body};
use super::counting::CountingConnector;
use super::deadline::{Deadline, RequestTimeout};
use super::endpoint::Endpoint;
use super::error::TransportError;
use super::stats::PoolCounters;
use crate::pool::{
    Agent, AgentOptions, ConnectError, HttpConnector, Origin, read_body_and_release,
};

/// The Agent type the S3 client uses: poolsweep's connector (TCP, rustls, hyper HTTP/1.1)
/// with [`S3Body`] request bodies, counted into the client's [`PoolCounters`].
pub type S3Agent = Agent<CountingConnector<HttpConnector<S3Body>>>;

/// Who made the agent, which decides how `Expect: 100-continue` requests are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentOwnership {
    /// The SDK made it from options (`requestHandler: { httpsAgent: { maxSockets } }`, or no
    /// configuration at all): `Expect: 100-continue` requests use a fresh connection outside
    /// the pool and wait for `100 Continue`. Default.
    #[default]
    Sdk,
    /// The caller passed an `https.Agent` instance (`httpsAgent: new Agent(...)`): every
    /// request is pooled and bodies are sent at once.
    External,
}

/// The Agent transport of one client (or of several sharing a handler).
pub struct AgentPool {
    agent: S3Agent,
    origin: Origin,
    ownership: AgentOwnership,
    roots: Arc<RootCertStore>,
    counters: Arc<PoolCounters>,
    unpooled: OnceLock<Result<S3Agent, rustls::Error>>,
}

impl std::fmt::Debug for AgentPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentPool")
            .field("origin", &self.origin)
            .field("ownership", &self.ownership)
            .field("options", self.agent.options())
            .finish_non_exhaustive()
    }
}

impl AgentPool {
    pub(crate) fn new(
        options: AgentOptions,
        ownership: AgentOwnership,
        endpoint: &Endpoint,
        roots: Arc<RootCertStore>,
        counters: Arc<PoolCounters>,
    ) -> Result<Self, rustls::Error> {
        let connector = HttpConnector::new(Arc::clone(&roots))?.with_body::<S3Body>();
        Ok(Self {
            agent: Agent::new(
                CountingConnector::new(connector, Arc::clone(&counters), false),
                options,
            ),
            origin: endpoint.origin().clone(),
            ownership,
            roots,
            counters,
            unpooled: OnceLock::new(),
        })
    }

    /// The agent.
    pub fn agent(&self) -> &S3Agent {
        &self.agent
    }

    /// Who made the agent.
    pub fn ownership(&self) -> AgentOwnership {
        self.ownership
    }

    /// The brand-new-agent stand-in for `Expect: 100-continue` requests: keepAlive false,
    /// maxSockets Infinity (so `Connection: close` and a socket per request) and no session
    /// cache (a new Node agent has none, so every handshake is full). Made on first use.
    fn unpooled(&self) -> Result<&S3Agent, rustls::Error> {
        self.unpooled
            .get_or_init(|| {
                let connector =
                    HttpConnector::with_max_cached_sessions(Arc::clone(&self.roots), 0)?
                        .with_body::<S3Body>();
                Ok(Agent::new(
                    CountingConnector::new(connector, Arc::clone(&self.counters), true),
                    AgentOptions::node_default(),
                ))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub(crate) async fn send(
        &self,
        prepared: Prepared,
        timeout: Option<RequestTimeout>,
    ) -> Attempt {
        // The fields are moved out of `prepared` where they are used, not into locals first:
        // a local held across an await is one more copy in this future.
        let expect_continue = prepared.expect_continue;
        let handed_over = prepared.handed_over;
        let gated = expect_continue && self.ownership == AgentOwnership::Sdk;
        let mut facts = AttemptFacts {
            expect_continue: expect_continue.then_some(ContinueWait::Immediate),
            ..AttemptFacts::default()
        };
        let agent = if gated {
            match self.unpooled() {
                Ok(agent) => agent,
                Err(e) => {
                    return Attempt::failed(facts, TransportError::Connect(ConnectError::Tls(e)));
                }
            }
        } else {
            &self.agent
        };
        let (body, signal) = if gated {
            let wait = timeout.map_or(MIN_CONTINUE_WAIT, |t| t.after.max(MIN_CONTINUE_WAIT));
            let (body, signal) = S3Body::gated(prepared.body, wait);
            (body, Some(signal))
        } else {
            (S3Body::new(prepared.body), None)
        };
        let mut request = Request::new(body);
        *request.method_mut() = prepared.method;
        *request.uri_mut() = Uri::from(prepared.path);
        *request.headers_mut() = prepared.headers;
        request
            .headers_mut()
            .insert(CONNECTION, agent.connection_header());
        if let Some(signal) = &signal {
            let signal = Arc::clone(signal);
            hyper::ext::on_informational(&mut request, move |response| {
                if response.status() == StatusCode::CONTINUE {
                    signal.on_continue();
                }
            });
        }

        let mut deadline = Deadline::new(timeout, handed_over);
        // Each stage is pinned in a block of its own, so that the stages share their space in
        // this future instead of adding up.
        let checked_out = {
            let checkout = pin!(agent.checkout_at(&self.origin, handed_over));
            deadline.run(checkout).await
        };
        let mut socket = match checked_out {
            Ok(Ok(socket)) => socket,
            Ok(Err(error)) => {
                facts.socket_wait = handed_over.elapsed();
                return Attempt::failed(facts, TransportError::from_connect(error));
            }
            Err(_) => {
                facts.socket_wait = handed_over.elapsed();
                return Attempt::failed(facts, TransportError::request_timeout(timeout, true));
            }
        };
        facts.socket_wait = socket.queue_wait();
        let info = *socket.socket();
        let reused = socket.is_reused();
        facts.socket = Some(SocketUse {
            id: info.id,
            reused,
            handshake: info.handshake,
            unpooled: gated,
        });
        self.counters.request(facts.socket_wait, reused);

        let exchanged = {
            let exchange = pin!(socket.send_request(request));
            deadline.run(exchange).await
        };
        let response = match exchanged {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                socket.close_on_error();
                facts.timeout_warning = deadline.warned();
                return Attempt::failed(facts, TransportError::Connection(Box::new(error)));
            }
            Err(_) => {
                socket.close_on_error();
                return Attempt::failed(facts, TransportError::request_timeout(timeout, false));
            }
        };
        facts.timeout_warning = deadline.warned();
        if let Some(signal) = signal {
            facts.expect_continue = Some(signal.outcome());
        }
        match read_body_and_release(socket, response).await {
            Ok((response, _released)) => Attempt::done(facts, response),
            Err(error) => Attempt::failed(facts, TransportError::Connection(Box::new(error))),
        }
    }
}
