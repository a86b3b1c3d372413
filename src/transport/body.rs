//! [`S3Body`]: the request body type of both pools. Usually one `Bytes` chunk sent at once;
//! for an `Expect: 100-continue` request on the SDK's own agent, the chunk is held back until
//! the server answers `100 Continue`, or the wait timer fires (smithy-typescript
//! `write-request-body.ts`).
//!
//! Invariant: the chunk is yielded at most once, and only after its gate (if any) opened. The
//! gate records why it opened in a `ContinueSignal` the caller reads after the response, so
//! "the final response came first" is told apart from "100 Continue" and "timer".

use std::convert::Infallible;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::oneshot;
use tokio::time::Sleep;

use super::attempt::ContinueWait;

/// The SDK waits at least this long for `100 Continue` before sending the body anyway:
/// `max(6000, requestTimeout)` ms (`write-request-body.ts`, smithy-typescript PR #1505).
pub const MIN_CONTINUE_WAIT: Duration = Duration::from_secs(6);

const WAITING: u8 = 0;
const CONTINUED: u8 = 1;
const TIMED_OUT: u8 = 2;

/// Why an `Expect: 100-continue` body was released, shared by the gate and the response hook.
#[derive(Debug, Default)]
pub(crate) struct ContinueSignal {
    state: AtomicU8,
    tx: Mutex<Option<oneshot::Sender<()>>>,
}

impl ContinueSignal {
    /// hyper's informational-response hook saw `100 Continue`.
    pub(crate) fn on_continue(&self) {
        let _ =
            self.state
                .compare_exchange(WAITING, CONTINUED, Ordering::AcqRel, Ordering::Acquire);
        let tx = self
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
    }

    /// How the body was released, read once the response has arrived.
    pub(crate) fn outcome(&self) -> ContinueWait {
        match self.state.load(Ordering::Acquire) {
            CONTINUED => ContinueWait::Continue,
            TIMED_OUT => ContinueWait::Timer,
            _ => ContinueWait::Response,
        }
    }
}

/// The gate in front of a held-back body.
struct Gate {
    opened: oneshot::Receiver<()>,
    timer: Pin<Box<Sleep>>,
    signal: Arc<ContinueSignal>,
}

/// A request body: empty, or one chunk of bytes (cheap to clone for a retry), optionally held
/// back behind an `Expect: 100-continue` gate.
pub struct S3Body {
    data: Option<Bytes>,
    gate: Option<Gate>,
}

impl S3Body {
    /// A body of `data`, sent at once.
    pub fn new(data: Bytes) -> Self {
        Self {
            data: (!data.is_empty()).then_some(data),
            gate: None,
        }
    }

    /// No body.
    pub fn empty() -> Self {
        Self {
            data: None,
            gate: None,
        }
    }

    /// A body held back until [`ContinueSignal::on_continue`] or until `wait` passes.
    pub(crate) fn gated(data: Bytes, wait: Duration) -> (Self, Arc<ContinueSignal>) {
        let (tx, rx) = oneshot::channel();
        let signal = Arc::new(ContinueSignal {
            state: AtomicU8::new(WAITING),
            tx: Mutex::new(Some(tx)),
        });
        let body = Self {
            data: (!data.is_empty()).then_some(data),
            gate: Some(Gate {
                opened: rx,
                timer: Box::pin(tokio::time::sleep(wait)),
                signal: Arc::clone(&signal),
            }),
        };
        (body, signal)
    }

    /// Bytes not yet sent.
    pub fn len(&self) -> usize {
        self.data.as_ref().map_or(0, Bytes::len)
    }

    /// Whether there is nothing (left) to send.
    pub fn is_empty(&self) -> bool {
        self.data.is_none()
    }
}

impl std::fmt::Debug for S3Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Body")
            .field("len", &self.len())
            .field("gated", &self.gate.is_some())
            .finish()
    }
}

impl Body for S3Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(gate) = &mut self.gate {
            // Either event opens the gate; a dropped sender (the signal went away) too.
            let opened = Pin::new(&mut gate.opened).poll(cx).is_ready();
            if !opened {
                if gate.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let _ = gate.signal.state.compare_exchange(
                    WAITING,
                    TIMED_OUT,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
            self.gate = None;
        }
        Poll::Ready(self.data.take().map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn plain_body_yields_its_bytes_once() {
        let mut b = S3Body::new(Bytes::from_static(b"abc"));
        assert_eq!(b.size_hint().exact(), Some(3));
        let frame = b.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "abc");
        assert!(b.frame().await.is_none());
        assert!(S3Body::empty().is_end_stream());
    }

    #[tokio::test(start_paused = true)]
    async fn gated_body_waits_for_continue_or_the_timer() {
        let (mut b, signal) = S3Body::gated(Bytes::from_static(b"x"), Duration::from_secs(6));
        let s = Arc::clone(&signal);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            s.on_continue();
        });
        let start = tokio::time::Instant::now();
        assert!(b.frame().await.is_some());
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert_eq!(signal.outcome(), ContinueWait::Continue);

        let (mut b, signal) = S3Body::gated(Bytes::from_static(b"x"), Duration::from_secs(6));
        assert_eq!(signal.outcome(), ContinueWait::Response);
        assert!(b.frame().await.is_some());
        assert_eq!(signal.outcome(), ContinueWait::Timer);
    }
}
