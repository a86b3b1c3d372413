//! Test helpers: a connector that counts connects and makes plain values, in the manner of
//! hyper-util's `DebugConnector`, so pool tests need neither sockets nor TLS.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::conn::{Connect, ConnectCtx, Handshake, PoolConn};
use super::error::ConnectError;
use super::origin::Origin;

/// A fake connection: its connect number and a flag the test flips to "close" it.
#[derive(Debug)]
pub(super) struct FakeConn {
    pub(super) n: usize,
    closed: Arc<AtomicBool>,
    ready: bool,
}

impl PoolConn for FakeConn {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    async fn ready(&mut self) -> bool {
        self.ready && !self.is_closed()
    }

    fn handshake(&self) -> Handshake {
        Handshake::Plain
    }
}

/// Counts connects. Optional delays before and after the simulated TCP connect. Can fail
/// the next connects or make connections that never become ready again.
#[derive(Debug, Default)]
pub(super) struct FakeConnector {
    connects: AtomicUsize,
    tcp_delay: Option<Duration>,
    tls_delay: Option<Duration>,
    fail_next: AtomicUsize,
    not_ready: AtomicBool,
    closers: Mutex<Vec<Arc<AtomicBool>>>,
}

impl FakeConnector {
    /// Delay before the TCP connect completes.
    pub(super) fn tcp_delay(mut self, delay: Duration) -> Self {
        self.tcp_delay = Some(delay);
        self
    }

    /// Delay after the TCP connect (the TLS handshake, say).
    pub(super) fn tls_delay(mut self, delay: Duration) -> Self {
        self.tls_delay = Some(delay);
        self
    }

    /// Connects started so far.
    pub(super) fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }

    /// The next `n` connects fail with ECONNREFUSED.
    pub(super) fn fail_next(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Connections made from now on never become ready after a response.
    pub(super) fn make_not_ready(&self) {
        self.not_ready.store(true, Ordering::SeqCst);
    }

    /// The server closes connection number `n`.
    pub(super) fn close(&self, n: usize) {
        self.closers.lock().unwrap()[n].store(true, Ordering::SeqCst);
    }
}

impl Connect for FakeConnector {
    type Conn = FakeConn;

    async fn connect(&self, _origin: &Origin, ctx: &ConnectCtx) -> Result<FakeConn, ConnectError> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        // Give other tasks a chance to run mid-connect, as a real connect would.
        tokio::task::yield_now().await;
        if let Some(delay) = self.tcp_delay {
            tokio::time::sleep(delay).await;
        }
        let fail = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Err(ConnectError::from_io(std::io::Error::from_raw_os_error(
                libc::ECONNREFUSED,
            )));
        }
        ctx.mark_tcp_connected();
        if let Some(delay) = self.tls_delay {
            tokio::time::sleep(delay).await;
        }
        let closed = Arc::new(AtomicBool::new(false));
        let mut closers = self.closers.lock().unwrap();
        closers.push(Arc::clone(&closed));
        Ok(FakeConn {
            n: closers.len() - 1,
            closed,
            ready: !self.not_ready.load(Ordering::SeqCst),
        })
    }
}
