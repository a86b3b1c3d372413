//! A body wrapper that holds a byte rate (S3's per-connection bandwidth) and notices stalls.
//!
//! Invariant: after `n` bytes have passed, the next frame is not yielded before
//! `start + n / rate`; and when the inner body yields nothing for `stall` the wrapper ends with
//! [`Stalled`] instead of waiting forever. Time is tokio's, so tests can pause it.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Buf as _;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The body sent nothing for longer than the stall timeout.
#[derive(Debug, thiserror::Error)]
#[error("the body stalled for longer than {0:?}")]
pub struct Stalled(pub Duration);

/// Paces and watches a body. See the module docs.
#[derive(Debug)]
pub struct Paced<B> {
    inner: B,
    bytes_per_s: Option<f64>,
    stall: Option<Duration>,
    start: Option<Instant>,
    passed: u64,
    wait: Option<Pin<Box<Sleep>>>,
    stall_timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Paced<B> {
    /// Wraps `inner`; `mb_per_s` in MB/s (10^6 bytes), `stall` the longest silence allowed.
    pub fn new(inner: B, mb_per_s: Option<f64>, stall: Option<Duration>) -> Self {
        Self {
            inner,
            bytes_per_s: mb_per_s.map(|m| m * 1e6),
            stall,
            start: None,
            passed: 0,
            wait: None,
            stall_timer: None,
        }
    }
}

impl<B> Body for Paced<B>
where
    B: Body + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(wait) = &mut this.wait {
            ready!(wait.as_mut().poll(cx));
            this.wait = None;
        }
        // The clock starts at the first poll; it is read only when pacing.
        let start = match this.bytes_per_s {
            Some(_) => Some(*this.start.get_or_insert_with(Instant::now)),
            None => None,
        };
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                if let Some(stall) = this.stall {
                    let timer = this
                        .stall_timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
                    if timer.as_mut().poll(cx).is_ready() {
                        this.stall_timer = None;
                        return Poll::Ready(Some(Err(Box::new(Stalled(stall)))));
                    }
                }
                Poll::Pending
            }
            Poll::Ready(Some(Ok(frame))) => {
                this.stall_timer = None;
                if let (Some(rate), Some(start), Some(data)) =
                    (this.bytes_per_s, start, frame.data_ref())
                {
                    this.passed += data.remaining() as u64;
                    let due = start + Duration::from_secs_f64(this.passed as f64 / rate);
                    if due > Instant::now() {
                        this.wait = Some(Box::pin(tokio::time::sleep_until(due)));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.wait.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt as _, StreamBody};

    fn chunks(
        n: usize,
        size: usize,
    ) -> impl Body<Data = Bytes, Error = std::convert::Infallible> + Unpin {
        let frames = (0..n).map(move |_| Ok(Frame::data(Bytes::from(vec![0u8; size]))));
        StreamBody::new(futures_util::stream::iter(frames))
    }

    #[tokio::test(start_paused = true)]
    async fn holds_the_rate() {
        // 10 MB at 1 MB/s takes 10 s of (paused) time.
        let start = Instant::now();
        let body = Paced::new(chunks(100, 100_000), Some(1.0), None);
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.len(), 10_000_000);
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(9_900) && took <= Duration::from_millis(10_100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_passes_at_once() {
        let start = Instant::now();
        let body = Paced::new(chunks(10, 1000), None, None);
        body.collect().await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_is_a_stall() {
        let (tx, rx) =
            tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::convert::Infallible>>(1);
        tx.send(Ok(Frame::data(Bytes::from_static(b"abc"))))
            .await
            .unwrap();
        let stream =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|f| (f, rx)) },
            );
        let body = Paced::new(
            StreamBody::new(Box::pin(stream)),
            None,
            Some(Duration::from_secs(5)),
        );
        let err = body.collect().await.unwrap_err();
        assert!(err.is::<Stalled>(), "{err}");
        drop(tx);
    }
}
