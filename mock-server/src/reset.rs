//! One reset that puts a running server back as it started, so that every measured run
//! begins from the same state: no connection from before, fresh request-rate budgets, the
//! random sequence at its start, every counter at zero.
//!
//! Invariant: once [`App::reset`] returns with `still_open == 0`, nothing that happened before
//! it can change what the server does or counts afterwards. Connections are grouped in
//! cohorts: a reset closes the current cohort (an idle keep-alive connection at once, one with
//! a request in flight after its response, one still in its TLS handshake at once) and waits
//! until it has drained; only then are the budgets, the sequence and the counters reset, so
//! no late event of an old connection lands in the new counts. Server shutdown drains the
//! same way.
//!
//! What a reset keeps, and why: the profile (it is configuration; set it with
//! `PUT /__mock/profile` — only its seed can be replaced, to start another random sequence),
//! stored objects (a GET workload's fixture, written once before a sweep), the TLS session
//! cache (a client resumes only a session it holds, and a new client holds none), and issued
//! IMDS tokens (clients may still hold them).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::ops::App;

/// Connections accepted between two resets.
#[derive(Debug)]
pub struct Cohort {
    /// Set once: the cohort's connections must close.
    closing: watch::Sender<bool>,
    /// Connections of this cohort still open (from accept to the end of their task).
    open: watch::Sender<usize>,
}

impl Cohort {
    fn new() -> Self {
        Self {
            closing: watch::Sender::new(false),
            open: watch::Sender::new(0),
        }
    }

    /// Connections of this cohort open now.
    pub fn open(&self) -> usize {
        *self.open.borrow()
    }

    /// Waits until at most `left` connections of this cohort are open, for up to `limit`;
    /// returns how many are.
    pub async fn drained(&self, left: usize, limit: Duration) -> usize {
        let mut rx = self.open.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|&n| n <= left)).await;
        self.open()
    }
}

/// The current cohort of connections, replaced at each reset.
#[derive(Debug)]
pub struct Cohorts {
    current: ArcSwap<Cohort>,
}

impl Default for Cohorts {
    fn default() -> Self {
        Self {
            current: ArcSwap::from_pointee(Cohort::new()),
        }
    }
}

impl Cohorts {
    /// Registers a newly accepted connection; it stays counted until the guard drops.
    pub fn enter(&self) -> ConnectionGuard {
        let cohort = self.current.load_full();
        cohort.open.send_modify(|n| *n += 1);
        // A reset between the load and here closed this cohort: the connection sees
        // `closing` already set and closes at once, so it is still waited for correctly.
        let closing = cohort.closing.subscribe();
        ConnectionGuard { cohort, closing }
    }

    /// Starts a new cohort for connections accepted from now on and tells the previous one to
    /// close; returns the previous one, to wait for it, and how many of its connections were
    /// open when told (read before telling: idle ones close at once).
    pub fn rotate(&self) -> (Arc<Cohort>, usize) {
        let old = self.current.swap(Arc::new(Cohort::new()));
        let open = old.open();
        old.closing.send_replace(true);
        (old, open)
    }
}

/// One open connection's membership in its cohort.
#[derive(Debug)]
pub struct ConnectionGuard {
    cohort: Arc<Cohort>,
    closing: watch::Receiver<bool>,
}

impl ConnectionGuard {
    /// The cohort's closing signal (`true` once a reset or shutdown closes the connection),
    /// to read synchronously.
    pub fn closing_signal(&self) -> watch::Receiver<bool> {
        self.closing.clone()
    }

    /// Completes when the connection should close (a reset or shutdown); never otherwise.
    ///
    /// A connection's task polls this beside hyper on every wake-up, several times per
    /// request. A waiting `watch` future takes its channel's waiter lock, one shared by the
    /// cohort's connections, on every poll; [`Closing`] goes to the channel only when it
    /// changed (an atomic version compare) or the task's waker is not the one it registered.
    pub fn closing(&mut self) -> Closing<'_> {
        let probe = self.closing.clone();
        Closing {
            probe,
            waker: None,
            wait: Box::pin(wait_closing(&mut self.closing)),
        }
    }
}

async fn wait_closing(rx: &mut watch::Receiver<bool>) {
    // The sender lives in the cohort the guard holds, so `wait_for` cannot fail; if it ever
    // did, pending forever is the safe answer (the connection just keeps serving).
    if rx.wait_for(|&c| c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The future of [`ConnectionGuard::closing`].
pub struct Closing<'a> {
    /// A second receiver of the channel, to ask cheaply whether it changed.
    probe: watch::Receiver<bool>,
    /// The waker `wait` registered with the channel.
    waker: Option<std::task::Waker>,
    wait: std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
}

impl Future for Closing<'_> {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let this = &mut *self;
        // Unchanged (`Ok(false)`) and registered with this waker: the channel wakes the task
        // when it changes, so there is nothing to look at.
        if matches!(this.probe.has_changed(), Ok(false))
            && this.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
        {
            return std::task::Poll::Pending;
        }
        let ready = this.wait.as_mut().poll(cx);
        if ready.is_pending() {
            this.waker = Some(cx.waker().clone());
        }
        ready
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.cohort.open.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// What a reset may change beyond putting the state back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResetOptions {
    /// A new seed for the profile's random draws (None: keep the profile's seed). Either way
    /// the sequence starts again from request 0.
    pub seed: Option<u64>,
    /// Longest wait for the connections from before the reset to close. Default: 10 s.
    #[serde(with = "millis")]
    pub wait: Duration,
}

impl Default for ResetOptions {
    fn default() -> Self {
        Self {
            seed: None,
            wait: Duration::from_secs(10),
        }
    }
}

impl ResetOptions {
    /// Default options with a new seed.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed: Some(seed),
            ..Self::default()
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// What a reset did, as `POST /__mock/reset` answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetReport {
    /// Connections open when the reset began, told to close.
    pub connections_closed: u64,
    /// Of those, still open when the wait ran out (0 unless a request was stuck). Their late
    /// events may show in the new counters.
    pub still_open: u64,
    /// The seed the random sequence now starts from.
    pub seed: u64,
}

impl App {
    /// Puts the server back as it started (see the module docs). `own_connection` is set when
    /// the reset was asked for over a connection of the server (the admin API): that one
    /// closes after its response instead of being waited for.
    pub async fn reset(&self, options: &ResetOptions, own_connection: bool) -> ResetReport {
        let (old, open) = self.cohorts.rotate();
        let closing = open.saturating_sub(usize::from(own_connection));
        let still_open = old
            .drained(usize::from(own_connection), options.wait)
            .await
            .saturating_sub(usize::from(own_connection));
        let seed = self.restart_sequence(options.seed);
        self.metrics.reset();
        ResetReport {
            connections_closed: closing as u64,
            still_open: still_open as u64,
            seed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rotation_closes_and_drains_only_the_old_cohort() {
        let cohorts = Cohorts::default();
        let mut a = cohorts.enter();
        let b = cohorts.enter();
        let (old, open) = cohorts.rotate();
        let mut c = cohorts.enter();
        assert_eq!((open, old.open()), (2, 2));
        // The old cohort is told to close; the new one is not.
        tokio::time::timeout(Duration::from_secs(1), a.closing())
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(20), c.closing())
                .await
                .is_err()
        );
        drop(b);
        assert_eq!(old.drained(1, Duration::from_secs(1)).await, 1);
        drop(a);
        assert_eq!(old.drained(0, Duration::from_secs(1)).await, 0);
        assert_eq!(cohorts.current.load().open(), 1);
    }

    #[tokio::test]
    async fn a_waiting_connection_is_woken_by_the_rotation_however_often_it_was_polled() {
        let cohorts = Arc::new(Cohorts::default());
        let mut guard = cohorts.enter();
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let task = {
            let woken = woken.clone();
            tokio::spawn(async move {
                let mut closing = std::pin::pin!(guard.closing());
                // Polled again and again, as beside hyper, with the same waker and another.
                std::future::poll_fn(|cx| {
                    woken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if closing.as_mut().poll(cx).is_ready() {
                        return std::task::Poll::Ready(());
                    }
                    let other = futures_util::task::noop_waker();
                    let _ = closing
                        .as_mut()
                        .poll(&mut std::task::Context::from_waker(&other));
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                })
                .await;
            })
        };
        while woken.load(std::sync::atomic::Ordering::Relaxed) < 100 {
            tokio::task::yield_now().await;
        }
        assert!(!task.is_finished());
        cohorts.rotate();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("woken by the rotation")
            .unwrap();
    }

    #[tokio::test]
    async fn an_idle_connection_is_woken_by_the_rotation() {
        let cohorts = Arc::new(Cohorts::default());
        let mut guard = cohorts.enter();
        let task = tokio::spawn(async move { guard.closing().await });
        // The task parks, registered with the channel once.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!task.is_finished());
        cohorts.rotate();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("woken by the rotation")
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn the_drain_wait_is_bounded() {
        let cohorts = Cohorts::default();
        let _stuck = cohorts.enter();
        let (old, _) = cohorts.rotate();
        assert_eq!(old.drained(0, Duration::from_secs(10)).await, 1);
    }

    #[test]
    fn options_read_from_json_with_defaults() {
        let o: ResetOptions = serde_json::from_str(r#"{"seed": 7}"#).unwrap();
        assert_eq!(o, ResetOptions::seeded(7));
        let o: ResetOptions = serde_json::from_str(r#"{"wait": 250}"#).unwrap();
        assert_eq!(o.wait, Duration::from_millis(250));
        assert!(serde_json::from_str::<ResetOptions>(r#"{"sed": 7}"#).is_err());
    }
}
