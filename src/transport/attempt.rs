//! One attempt as a pool sees it: the signed request handed over ([`Prepared`]), and what
//! came back ([`Attempt`]): the response or a [`TransportError`], with the facts learned on
//! the way ([`AttemptFacts`]: the socket used, the wait for it, how an `Expect:
//! 100-continue` body was released, whether `requestTimeout` only warned).
//!
//! Invariant: both pools report the same facts the same way, so the S3 client above folds
//! them into its per-call outcome without knowing which pool ran the attempt.

use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderMap, Method, Response};
use serde::Serialize;
use tokio::time::Instant;

use super::error::TransportError;
use crate::pool::Handshake;

/// The socket an attempt ran on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SocketUse {
    /// The socket's id, unique within its pool (not across pools).
    pub id: u64,
    /// Whether it had carried a request before this one.
    pub reused: bool,
    /// How its TLS handshake went.
    pub handshake: Handshake,
    /// Whether it was a fresh connection outside the pool, opened for an
    /// `Expect: 100-continue` request (the SDK's behaviour with its own agent).
    pub unpooled: bool,
}

/// How an `Expect: 100-continue` request's body was released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ContinueWait {
    /// The server answered `100 Continue`; the body followed.
    Continue,
    /// The final response came first; the body was not sent (an early error).
    Response,
    /// Nothing came within `max(6 s, requestTimeout)`; the body was sent anyway.
    Timer,
    /// The header was sent and the body with it at once: what the SDK does with an agent the
    /// caller supplied (smithy-typescript PR #1757), and what the hyper-util pool does.
    Immediate,
}

/// A signed request, ready for a pool.
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) path: PathAndQuery,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) expect_continue: bool,
    /// When the attempt was handed to the pool: its request timeout and socket wait run
    /// from here.
    pub(crate) handed_over: Instant,
}

/// What one attempt learned, whatever its result.
#[derive(Debug, Default)]
pub(crate) struct AttemptFacts {
    pub(crate) socket: Option<SocketUse>,
    pub(crate) socket_wait: Duration,
    pub(crate) expect_continue: Option<ContinueWait>,
    pub(crate) timeout_warning: bool,
}

/// One attempt: its facts and the response (body read) or the error.
pub(crate) struct Attempt {
    pub(crate) facts: AttemptFacts,
    pub(crate) result: Result<Response<Bytes>, TransportError>,
}

impl Attempt {
    pub(crate) fn done(facts: AttemptFacts, response: Response<Bytes>) -> Self {
        Self {
            facts,
            result: Ok(response),
        }
    }

    pub(crate) fn failed(facts: AttemptFacts, error: TransportError) -> Self {
        Self {
            facts,
            result: Err(error),
        }
    }
}
