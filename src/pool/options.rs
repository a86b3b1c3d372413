//! Agent options: Node's `https.Agent` constructor options plus the AWS SDK handler's timers.
//!
//! Invariant: an [`AgentOptions`] value is always valid. Each setter applies Node's own
//! "falsy means default" rule (`options.maxSockets || Infinity`), so a zero never means
//! "no sockets" and no option needs checking again when the agent is built.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The AWS SDK for JavaScript v3 handler's default `maxSockets`: `new https.Agent({ keepAlive:
/// true, maxSockets: 50 })` in `@smithy/node-http-handler` `resolveDefaultConfig`
/// (smithy-typescript PR #2024, after aws-sdk-js-v3#1959).
pub const SDK_MAX_SOCKETS: usize = 50;

/// Node's default `maxFreeSockets` (`options.maxFreeSockets || 256`, `lib/_http_agent.js`).
pub const NODE_MAX_FREE_SOCKETS: usize = 256;

/// Node's default `maxCachedSessions` for `https.Agent` (`lib/https.js`).
pub const NODE_MAX_CACHED_SESSIONS: usize = 100;

/// The SDK's default `socketAcquisitionWarningTimeout`:
/// `(requestTimeout ?? 2000) + (connectionTimeout ?? 1000)` ms with neither set.
pub const DEFAULT_SOCKET_ACQUISITION_WARNING_TIMEOUT: Duration = Duration::from_secs(3);

/// The SDK emits the capacity warning at most once per this interval per handler.
/// `checkSocketUsage` returns early while `Date.now() - 15_000 < socketWarningTimestamp`.
pub const SOCKET_WARNING_INTERVAL: Duration = Duration::from_secs(15);

/// Default bound on `ready()` after a response body was read to its end. Past this, the
/// socket is closed and not reused.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(1);

/// The socket `timeout` of Node's `https.globalAgent` since v19.0.0 (nodejs/node PR #43522).
pub const NODE_GLOBAL_AGENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which free socket a request gets when several are idle: Node's `scheduling` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheduling {
    /// Most recently freed socket first. This keeps the number of open sockets low. Node's
    /// default since v15.6.0/v14.17.0 (nodejs/node PR #36685).
    #[default]
    Lifo,
    /// Least recently freed socket first. This keeps every open socket in use.
    Fifo,
}

/// Options for an [`Agent`](super::Agent). The setters consume and return the value, so
/// calls chain. Each setter's doc gives the default and the Node or SDK rule it models.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentOptions {
    pub(super) keep_alive: bool,
    pub(super) max_sockets: Option<NonZeroUsize>,
    pub(super) max_total_sockets: Option<NonZeroUsize>,
    pub(super) max_free_sockets: usize,
    pub(super) scheduling: Scheduling,
    pub(super) idle_timeout: Option<Duration>,
    pub(super) connection_timeout: Option<Duration>,
    pub(super) socket_acquisition_warning_timeout: Option<Duration>,
    pub(super) ready_timeout: Duration,
}

impl Default for AgentOptions {
    /// The same as [`AgentOptions::node_default`].
    fn default() -> Self {
        Self::node_default()
    }
}

impl AgentOptions {
    /// `new https.Agent()`: keepAlive false, maxSockets Infinity, maxTotalSockets Infinity,
    /// maxFreeSockets 256, scheduling lifo, no socket timeout. The SDK timers are off, except
    /// the capacity warning, which only fires when maxSockets is finite.
    pub fn node_default() -> Self {
        Self {
            keep_alive: false,
            max_sockets: None,
            max_total_sockets: None,
            max_free_sockets: NODE_MAX_FREE_SOCKETS,
            scheduling: Scheduling::Lifo,
            idle_timeout: None,
            connection_timeout: None,
            socket_acquisition_warning_timeout: Some(DEFAULT_SOCKET_ACQUISITION_WARNING_TIMEOUT),
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }

    /// The agent that the AWS SDK for JavaScript v3 creates when given none:
    /// `new https.Agent({ keepAlive: true, maxSockets: 50 })`. Node's defaults apply to the
    /// rest, and `connectionTimeout` is 0 (off) in the default "legacy" defaults mode.
    pub fn sdk_default() -> Self {
        Self::node_default()
            .keep_alive(true)
            .max_sockets(SDK_MAX_SOCKETS)
    }

    /// Node's `https.globalAgent` (v19+): keepAlive true, scheduling lifo, `timeout: 5000`,
    /// and maxSockets Infinity.
    pub fn node_global_agent() -> Self {
        Self::node_default()
            .keep_alive(true)
            .idle_timeout(NODE_GLOBAL_AGENT_TIMEOUT)
    }

    /// Node's `keepAlive`: keep freed sockets for later requests.
    ///
    /// Default: `false` (`options.keepAlive || false`). [`sdk_default`](Self::sdk_default)
    /// sets it to `true`. A socket freed while requests are queued goes to the queue head
    /// even when this is `false`, if maxSockets is finite. With `false` and an infinite
    /// maxSockets, every request must send `Connection: close` and gets its own socket
    /// (`lib/_http_client.js`).
    pub fn keep_alive(mut self, keep_alive: bool) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Node's `maxSockets`: sockets per origin, counting connecting, in-use and idle ones.
    ///
    /// Default: Infinity (`Agent.defaultMaxSockets`). `0` also means Infinity, because Node
    /// reads `options.maxSockets || Agent.defaultMaxSockets`. [`sdk_default`](Self::sdk_default)
    /// uses [`SDK_MAX_SOCKETS`] (50).
    pub fn max_sockets(mut self, max_sockets: usize) -> Self {
        self.max_sockets = finite(max_sockets);
        self
    }

    /// Node's `maxTotalSockets`: sockets across all origins of this agent.
    ///
    /// Default: Infinity. Node rejects values below 1. Here `0` means Infinity.
    pub fn max_total_sockets(mut self, max_total_sockets: usize) -> Self {
        self.max_total_sockets = finite(max_total_sockets);
        self
    }

    /// Node's `maxFreeSockets`: idle sockets kept per origin. This only matters when
    /// keepAlive is on.
    ///
    /// Default: [`NODE_MAX_FREE_SOCKETS`] (256). `0` also means 256
    /// (`options.maxFreeSockets || 256`).
    pub fn max_free_sockets(mut self, max_free_sockets: usize) -> Self {
        self.max_free_sockets = if max_free_sockets == 0 {
            NODE_MAX_FREE_SOCKETS
        } else {
            max_free_sockets
        };
        self
    }

    /// Node's `scheduling`: which idle socket a request gets.
    ///
    /// Default: [`Scheduling::Lifo`].
    pub fn scheduling(mut self, scheduling: Scheduling) -> Self {
        self.scheduling = scheduling;
        self
    }

    /// Node's Agent `timeout`, applied to idle sockets: an idle socket with no activity for
    /// this long is closed ("Sockets in the freeSockets list will be automatically destroyed
    /// ... on 'timeout'").
    ///
    /// Default: none, and zero also means none. The SDK's own agent sets none, so idle
    /// sockets live until the server closes them.
    /// [`node_global_agent`](Self::node_global_agent) uses 5 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = (!timeout.is_zero()).then_some(timeout);
        self
    }

    /// The SDK's `connectionTimeout`. It runs from the moment the request is handed to the
    /// agent, so queue wait counts, until a socket is assigned and (for a new socket) its TCP
    /// connect completes. The SDK clears the timer on the socket's `'connect'` event, which
    /// comes before the TLS handshake (`set-connection-timeout.ts`). On expiry the checkout
    /// fails with [`ConnectError::ConnectionTimeout`](super::ConnectError::ConnectionTimeout).
    ///
    /// Default: none, and zero also means none (the SDK's default of 0).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = (!timeout.is_zero()).then_some(timeout);
        self
    }

    /// The SDK's `socketAcquisitionWarningTimeout`: how long after hand-over the
    /// "socket usage at capacity" check runs for a request that is still waiting. `None`
    /// turns the check off (an addition; the SDK always arms it).
    ///
    /// Default: [`DEFAULT_SOCKET_ACQUISITION_WARNING_TIMEOUT`] (3 s). The SDK computes
    /// `(requestTimeout ?? 2000) + (connectionTimeout ?? 1000)`, so callers that model a
    /// configured request or connection timeout should pass that sum.
    pub fn socket_acquisition_warning_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.socket_acquisition_warning_timeout = timeout;
        self
    }

    /// Bound on waiting for the connection's `ready()` once a response body has been read to
    /// its end. Node has no such step: it frees the socket on the response's `'end'`. hyper
    /// reports readiness a few polls later. A connection that is not ready within this bound
    /// is closed as [`CloseReason::NotReusable`](super::CloseReason::NotReusable).
    ///
    /// Default: [`DEFAULT_READY_TIMEOUT`] (1 s).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Whether requests must carry `Connection: close`: keepAlive is off and maxSockets is
    /// Infinity. `ClientRequest` sets `shouldKeepAlive = false` exactly then
    /// (`!agent.keepAlive && !Number.isFinite(agent.maxSockets)`, `lib/_http_client.js`).
    pub fn sends_connection_close(&self) -> bool {
        !self.keep_alive && self.max_sockets.is_none()
    }
}

/// Node's `n || Infinity`: zero and `usize::MAX` are Infinity (`None`).
fn finite(n: usize) -> Option<NonZeroUsize> {
    NonZeroUsize::new(n).filter(|n| n.get() != usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_node_and_the_sdk() {
        let node = AgentOptions::node_default();
        assert!(!node.keep_alive);
        assert_eq!(node.max_sockets, None);
        assert_eq!(node.max_free_sockets, 256);
        assert_eq!(node.scheduling, Scheduling::Lifo);
        assert!(node.sends_connection_close());

        let sdk = AgentOptions::sdk_default();
        assert!(sdk.keep_alive);
        assert_eq!(sdk.max_sockets.map(NonZeroUsize::get), Some(50));
        assert!(!sdk.sends_connection_close());
    }

    #[test]
    fn falsy_values_mean_the_node_default() {
        let o = AgentOptions::sdk_default()
            .max_sockets(0)
            .max_free_sockets(0)
            .max_total_sockets(0)
            .connection_timeout(Duration::ZERO);
        assert_eq!(o.max_sockets, None);
        assert_eq!(o.max_free_sockets, NODE_MAX_FREE_SOCKETS);
        assert_eq!(o.max_total_sockets, None);
        assert_eq!(o.connection_timeout, None);
    }

    #[test]
    fn keep_alive_false_with_finite_cap_keeps_sockets_for_the_queue() {
        let o = AgentOptions::node_default().max_sockets(4);
        assert!(!o.sends_connection_close());
    }
}
