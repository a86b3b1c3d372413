//! A lingering close: when hyper closes a connection, the server closes its sending side
//! first, then reads and discards what the client is still sending until the client closes
//! too (or a bound is reached), and only then drops the socket.
//!
//! Without it, a connection closed while a request body is still arriving (an answer that
//! comes before the whole body was read: a bad chunk signature, a refused upload, hyper's own
//! 4xx to a malformed head) is closed with unread data, which makes the kernel send a TCP
//! reset instead of a FIN. A client still writing its body then gets a broken pipe or a
//! connection reset and never reads the answer, which a real S3 client does read. nginx does
//! the same for the same reason (`lingering_close`, with `lingering_timeout` 5 s and
//! `lingering_time` 30 s); the bounds here are [`IDLE`], [`TOTAL`] and [`MAX_DISCARD`].
//!
//! hyper calls `poll_shutdown` once a connection is done, so the linger costs nothing on the
//! request path: this wrapper only forwards reads and writes until then. A connection the
//! server closes for a reset or shutdown (its cohort is closing: idle connections, or busy
//! ones after their response) closes at once, as before: the reset or shutdown must not wait
//! for a client that does not close its side.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

/// The linger ends when the client sends nothing for this long.
pub const IDLE: Duration = Duration::from_secs(5);
/// The linger ends after this long in all.
pub const TOTAL: Duration = Duration::from_secs(10);
/// The linger ends after this many discarded bytes (the rest is then reset, as any server
/// does with a client that goes on sending a large body it will never read).
pub const MAX_DISCARD: usize = 64 << 20;

/// An I/O stream whose `poll_shutdown` closes the sending side and then drains the receiving
/// side within the bounds above.
pub struct Linger<IO> {
    io: IO,
    /// Set when the server closes its connections (a reset or shutdown): no linger then.
    server_closing: watch::Receiver<bool>,
    draining: Option<Draining>,
}

struct Draining {
    /// Whether the sending side is closed (the inner `poll_shutdown` finished).
    shut: bool,
    discarded: usize,
    end: Instant,
    timer: Pin<Box<Sleep>>,
}

impl<IO> Linger<IO> {
    /// Wraps `io`; `server_closing` is the connection's cohort signal
    /// ([`crate::reset::ConnectionGuard::closing_signal`]).
    pub fn new(io: IO, server_closing: watch::Receiver<bool>) -> Self {
        Self {
            io,
            server_closing,
            draining: None,
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Linger<IO> {
    /// Reads and discards until end of stream, an error, or a bound; `Ready` when done.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(d) = self.draining.as_mut() else {
            return Poll::Ready(());
        };
        let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); 8192];
        loop {
            let mut buf = ReadBuf::uninit(&mut scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {
                    d.discarded += buf.filled().len();
                    if d.discarded >= MAX_DISCARD {
                        return Poll::Ready(());
                    }
                    let next = (Instant::now() + IDLE).min(d.end);
                    d.timer.as_mut().reset(next);
                }
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => {
                    ready!(d.timer.as_mut().poll(cx));
                    return Poll::Ready(());
                }
            }
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Linger<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Linger<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.draining.is_none() && *this.server_closing.borrow() {
            return Pin::new(&mut this.io).poll_shutdown(cx);
        }
        let d = this.draining.get_or_insert_with(|| {
            let now = Instant::now();
            Draining {
                shut: false,
                discarded: 0,
                end: now + TOTAL,
                timer: Box::pin(tokio::time::sleep_until(now + IDLE.min(TOTAL))),
            }
        });
        if !d.shut {
            ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            d.shut = true;
        }
        ready!(this.poll_drain(cx));
        Poll::Ready(Ok(()))
    }
}
