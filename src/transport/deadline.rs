//! The SDK's `requestTimeout` over the stages of one attempt: waiting for a socket, then for
//! the response headers. One timer spans both, started at hand-over, so queue wait counts
//! (`set-request-timeout.ts` starts it in `handle()`, before the agent assigns a socket).
//!
//! Invariant: with no timeout configured no timer exists and a stage is awaited as is. Once
//! the deadline passes, the attempt fails (with `throwOnRequestTimeout`) or one warning is
//! recorded and the timer is gone for the rest of the attempt, as the SDK only logs once.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The SDK's `requestTimeout` and `throwOnRequestTimeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestTimeout {
    pub(crate) after: Duration,
    pub(crate) throw: bool,
}

/// The deadline passed and the timeout throws.
#[derive(Debug)]
pub(crate) struct Elapsed;

/// One attempt's request timer.
pub(crate) struct Deadline {
    sleep: Option<Pin<Box<Sleep>>>,
    timeout: Option<RequestTimeout>,
    warned: bool,
}

impl Deadline {
    pub(crate) fn new(timeout: Option<RequestTimeout>, handed_over: Instant) -> Self {
        Self {
            sleep: timeout.map(|t| Box::pin(tokio::time::sleep_until(handed_over + t.after))),
            timeout,
            warned: false,
        }
    }

    /// Whether the deadline passed with a warning only.
    pub(crate) fn warned(&self) -> bool {
        self.warned
    }

    /// Awaits `stage` within the deadline. The stage is pinned by the caller, so a large
    /// future (the Agent's checkout is several KiB) is never moved into this one.
    pub(crate) async fn run<F: Future>(
        &mut self,
        mut stage: Pin<&mut F>,
    ) -> Result<F::Output, Elapsed> {
        let fired = match self.sleep.as_mut() {
            None => return Ok(stage.await),
            Some(sleep) => {
                tokio::select! {
                    biased;
                    out = &mut stage => return Ok(out),
                    () = sleep.as_mut() => true,
                }
            }
        };
        debug_assert!(fired);
        self.sleep = None;
        let timeout = self.timeout.unwrap_or(RequestTimeout {
            after: Duration::ZERO,
            throw: false,
        });
        if timeout.throw {
            return Err(Elapsed);
        }
        self.warned = true;
        tracing::warn!(
            "a request has exceeded the configured {} ms requestTimeout",
            timeout.after.as_millis()
        );
        Ok(stage.await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::pin::pin;

    #[tokio::test(start_paused = true)]
    async fn throws_or_warns_once_across_stages() {
        let t = RequestTimeout {
            after: Duration::from_millis(100),
            throw: true,
        };
        let mut d = Deadline::new(Some(t), Instant::now());
        assert!(
            d.run(pin!(tokio::time::sleep(Duration::from_millis(60))))
                .await
                .is_ok()
        );
        assert!(
            d.run(pin!(tokio::time::sleep(Duration::from_millis(60))))
                .await
                .is_err()
        );

        let t = RequestTimeout { throw: false, ..t };
        let mut d = Deadline::new(Some(t), Instant::now());
        assert!(
            d.run(pin!(tokio::time::sleep(Duration::from_millis(150))))
                .await
                .is_ok()
        );
        assert!(d.warned());
        assert!(
            d.run(pin!(tokio::time::sleep(Duration::from_millis(150))))
                .await
                .is_ok()
        );

        let mut none = Deadline::new(None, Instant::now());
        assert!(none.run(pin!(async { 1 })).await.is_ok());
        assert!(!none.warned());
    }
}
