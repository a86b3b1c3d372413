//! Test helpers: a connector that counts connects and makes plain values, in the manner of
//! hyper-util's `DebugConnector`, so pool tests need neither sockets nor TLS. Each fake
//! connection has a driver task, as a real one does, so that the agent hears when it
//! closes and can destroy it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::agent::Agent;
use super::conn::{Connect, ConnectCtx, Handshake, PoolConn};
use super::error::ConnectError;
use super::options::AgentOptions;
use super::origin::Origin;
use super::pooled::Pooled;

/// An agent over the fake connector.
pub(super) type Fake = Agent<FakeConnector>;

/// A spawned checkout.
pub(super) type Checkout = JoinHandle<Result<Pooled<FakeConnector>, ConnectError>>;

pub(super) fn agent(options: AgentOptions) -> Fake {
    Agent::new(FakeConnector::default(), options)
}

pub(super) fn origin() -> Origin {
    Origin::https("bucket.s3.local", 443)
}

/// Lets every runnable task run until it waits. Pool tests run on a current-thread
/// runtime, so this brings every spawned checkout and driver to its resting point.
pub(super) async fn settle() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

pub(super) fn spawn_checkout(agent: &Fake, origin: &Origin) -> Checkout {
    tokio::spawn(agent.checkout(origin))
}

/// A checkout of [`origin`] that must succeed. Under paused time, a checkout that would
/// wait forever (a leaked slot) fails after a virtual minute instead of hanging the test.
pub(super) async fn take(agent: &Fake) -> Pooled<FakeConnector> {
    tokio::time::timeout(Duration::from_secs(60), agent.checkout(&origin()))
        .await
        .expect("a socket within a minute: no slot may leak")
        .expect("checkout")
}

/// The agent's books balance for [`origin`], at rest (no checkout in flight): every socket
/// made is closed or open, the agent's state agrees with its counters, and nobody waits.
pub(super) fn assert_consistent(agent: &Fake) {
    let s = agent.stats();
    let (active, idle, queued, total) = agent.shared().lock().counts(&origin());
    assert_eq!(s.sockets_created, s.closed.total() + s.open_now, "{s:?}");
    assert_eq!(
        (active as u64, idle as u64, queued as u64, total as u64),
        (s.in_use_now, s.idle_now, s.queued_now, s.open_now),
        "{s:?}"
    );
    assert_eq!(s.queued_now, 0, "{s:?}");
}

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
    closers: Mutex<Vec<Closer>>,
}

/// How a test closes a fake connection "from the server": the flag `is_closed` reads, and
/// the wake-up that ends the connection's driver task.
#[derive(Debug)]
struct Closer {
    closed: Arc<AtomicBool>,
    end: Arc<Notify>,
}

/// Sets the connection's closed flag when its driver ends or is dropped (the agent
/// destroyed it), as a real connection is closed once its driver is gone.
struct CloseOnDrop(Arc<AtomicBool>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
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

    /// The server closes connection number `n`: it reports itself closed at once, and its
    /// driver ends when the runtime next runs it.
    pub(super) fn close(&self, n: usize) {
        let closers = self.closers.lock().unwrap();
        closers[n].closed.store(true, Ordering::SeqCst);
        closers[n].end.notify_one();
    }

    /// Whether connection number `n` is closed (by the server or by the agent).
    pub(super) fn is_closed(&self, n: usize) -> bool {
        self.closers.lock().unwrap()[n]
            .closed
            .load(Ordering::SeqCst)
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
        let end = Arc::new(Notify::new());
        let driver = {
            let (closed, end) = (CloseOnDrop(Arc::clone(&closed)), Arc::clone(&end));
            async move {
                let _closed = closed;
                end.notified().await;
            }
        };
        ctx.lifecycle().spawn(driver);
        let mut closers = self.closers.lock().unwrap();
        closers.push(Closer {
            closed: Arc::clone(&closed),
            end,
        });
        Ok(FakeConn {
            n: closers.len() - 1,
            closed,
            ready: !self.not_ready.load(Ordering::SeqCst),
        })
    }
}
