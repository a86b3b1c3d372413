//! The AWS SDK's "socket usage at capacity" warning (`NodeHttpHandler.checkSocketUsage`,
//! smithy-typescript PR #1164, after aws-sdk-js-v3#3560).
//!
//! Invariant: at most one warning per [`SOCKET_WARNING_INTERVAL`] per agent. A warning fires
//! only for an origin with `sockets >= maxSockets` and `requests >= 2 * maxSockets`, and
//! never when maxSockets is Infinity. The check runs `socketAcquisitionWarningTimeout` (3 s by
//! default) after a request was handed over, if that request is still pending.

use tokio::time::Instant;

use super::options::SOCKET_WARNING_INTERVAL;
use super::origin::Origin;

/// The SDK's rule for one origin. `in_use` is Node's `sockets[origin].length` (connecting and
/// in use, idle excluded). `queued` is `requests[origin].length`.
pub(super) fn at_capacity(in_use: usize, queued: usize, max_sockets: usize) -> bool {
    in_use >= max_sockets && queued >= max_sockets.saturating_mul(2)
}

/// The 15 s lockout. The SDK keeps `socketWarningTimestamp` (initially 0) per handler and
/// returns early while `Date.now() - 15_000 < socketWarningTimestamp`.
#[derive(Debug, Default)]
pub(super) struct WarningGate {
    last: Option<Instant>,
}

impl WarningGate {
    pub(super) fn is_open(&self, now: Instant) -> bool {
        self.last
            .is_none_or(|last| now >= last + SOCKET_WARNING_INTERVAL)
    }

    pub(super) fn fired(&mut self, now: Instant) {
        self.last = Some(now);
    }
}

/// The SDK's warning text, verbatim.
pub(super) fn message(in_use: usize, queued: usize) -> String {
    format!(
        "@smithy/node-http-handler:WARN - socket usage at capacity={in_use} and {queued} additional requests are enqueued.\n\
         See https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html\n\
         or increase socketAcquisitionWarningTimeout=(millis) in the NodeHttpHandler config."
    )
}

/// Emits the warning through `tracing`.
pub(super) fn emit(origin: &Origin, in_use: usize, queued: usize) {
    tracing::warn!(%origin, in_use, queued, "{}", message(in_use, queued));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rule_needs_full_sockets_and_twice_as_many_queued() {
        assert!(at_capacity(50, 100, 50));
        assert!(!at_capacity(50, 99, 50));
        assert!(!at_capacity(49, 1000, 50));
    }

    #[tokio::test(start_paused = true)]
    async fn gate_locks_out_for_fifteen_seconds() {
        let mut gate = WarningGate::default();
        let t0 = Instant::now();
        assert!(gate.is_open(t0));
        gate.fired(t0);
        assert!(!gate.is_open(t0 + Duration::from_millis(14_999)));
        assert!(gate.is_open(t0 + SOCKET_WARNING_INTERVAL));
    }

    #[test]
    fn message_is_the_sdks() {
        let m = message(50, 766);
        assert!(m.starts_with(
            "@smithy/node-http-handler:WARN - socket usage at capacity=50 and 766 additional requests are enqueued."
        ));
        assert!(m.contains("\nSee https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html\n"));
    }
}
