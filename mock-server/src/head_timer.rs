//! hyper's header-read timeout on one tokio timer per connection, without an allocation or a
//! lock per request.
//!
//! hyper arms its header-read timer afresh for every request head it waits for, that is once
//! per request on a keep-alive connection. With tokio's timer that is an insertion into the
//! runtime's timer wheel and a removal from it, each under the wheel's one lock, and a wake of
//! the parked worker that drives the timers whenever it parked with none pending: about two
//! microseconds of server CPU per small request under load, as much as the rest of a PUT's
//! S3 work.
//!
//! Invariant: hyper's sleeps complete at the same instants as with tokio's timer. Each
//! connection's task owns one [`HeadClock`]: its deadline and one tokio timer. While the task
//! polls the connection ([`HeadClock::around`]), the clock is this thread's current one, and
//! the sleeps of [`HeadTimer`] (which hyper makes, polls and drops only while it is polled)
//! act on it: a sleep notes its deadline, and polling it polls the timer, which is re-armed to
//! the noted deadline only when it would fire after it, or when it fired before it. Deadlines
//! only move forward (each is "now + timeout" when hyper starts waiting), so a busy connection
//! re-arms its timer about once per timeout period instead of once per request; the sleep
//! completes when the timer fires at or after the noted deadline.
//!
//! A sleep holds nothing (it is zero-sized: boxing it allocates nothing), and the clock moves
//! into the thread's slot and back around each poll of the connection: no reference count,
//! no lock.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

thread_local! {
    /// The clock of the connection being polled on this thread, if any.
    static CURRENT: RefCell<Option<HeadClock>> = const { RefCell::new(None) };
}

/// One connection's header-read deadline and the tokio timer that fires it.
#[derive(Debug, Default)]
pub struct HeadClock {
    /// The deadline of hyper's current sleep, if one is waiting.
    deadline: Option<Instant>,
    /// The timer, made when first armed.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// When `sleep` fires, if armed.
    armed: Option<Instant>,
    /// The waker `sleep` was last polled with since it was armed: while it has not fired, it
    /// wakes that one, and polling it again with the same one changes nothing.
    registered: Option<Waker>,
}

impl HeadClock {
    /// The timer to give hyper (for every connection: it acts on the current clock).
    pub fn timer() -> HeadTimer {
        HeadTimer
    }

    /// `fut` (the connection), polled with this clock as the thread's current one.
    pub fn around<'a, F: Future + ?Sized>(&'a mut self, fut: Pin<&'a mut F>) -> Around<'a, F> {
        Around { clock: self, fut }
    }

    /// Whether the noted deadline has passed; registers `cx`'s waker with the timer if not.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(due) = self.deadline else {
            // No sleep waiting (hyper only polls one it made).
            return Poll::Pending;
        };
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::ZERO)));
        loop {
            if self.armed.is_none_or(|armed| armed > due) {
                sleep.as_mut().reset(due.into());
                self.armed = Some(due);
                self.registered = None;
            } else if !sleep.is_elapsed()
                && self
                    .registered
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
            {
                // Armed, not fired, and it wakes this task when it fires: as a poll would
                // leave it.
                return Poll::Pending;
            }
            match sleep.as_mut().poll(cx) {
                Poll::Pending => {
                    self.registered = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(()) => {
                    self.registered = None;
                    if self.armed.take().is_some_and(|armed| armed >= due) {
                        return Poll::Ready(());
                    }
                    // Fired before the deadline now noted: re-armed to it above.
                }
            }
        }
    }

    /// Runs `f` on the thread's current clock, if a connection is being polled.
    fn with_current<R>(f: impl FnOnce(&mut HeadClock) -> R) -> Option<R> {
        CURRENT.with_borrow_mut(|current| current.as_mut().map(f))
    }
}

/// The future of [`HeadClock::around`].
#[derive(Debug)]
pub struct Around<'a, F: ?Sized> {
    clock: &'a mut HeadClock,
    fut: Pin<&'a mut F>,
}

impl<F: Future + ?Sized> Future for Around<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        CURRENT.with_borrow_mut(|current| *current = Some(std::mem::take(this.clock)));
        let result = this.fut.as_mut().poll(cx);
        if let Some(clock) = CURRENT.with_borrow_mut(Option::take) {
            *this.clock = clock;
        }
        result
    }
}

/// hyper's [`Timer`](hyper::rt::Timer): its sleeps act on the clock of the connection being
/// polled (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub struct HeadTimer;

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        HeadClock::with_current(|clock| clock.deadline = Some(deadline));
        Box::pin(HeadSleep)
    }

    fn reset(&self, _sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        // The connection's one sleep (hyper has at most one): its deadline moves.
        HeadClock::with_current(|clock| clock.deadline = Some(new_deadline));
    }
}

/// A sleep of [`HeadTimer`]: the current connection's deadline.
struct HeadSleep;

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        HeadClock::with_current(|clock| clock.poll_deadline(cx)).unwrap_or(Poll::Pending)
    }
}

impl Drop for HeadSleep {
    fn drop(&mut self) {
        // hyper drops the sleep once the head is read: nothing waits any more. (A sleep dropped
        // with its connection, outside a poll, has no clock left to clear.)
        HeadClock::with_current(|clock| clock.deadline = None);
    }
}

impl hyper::rt::Sleep for HeadSleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer as _;

    /// Now on tokio's clock (paused in these tests), as hyper's `Instant`.
    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    /// Polls `sleep` as hyper does: inside a poll of the connection, around `clock`.
    fn poll_in(clock: &mut HeadClock, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>) -> bool {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let conn = std::future::poll_fn(|cx| sleep.as_mut().poll(cx));
        let conn = std::pin::pin!(conn);
        let mut around = clock.around(conn);
        Pin::new(&mut around).poll(&mut cx).is_ready()
    }

    /// Runs `f` inside a poll of the connection, around `clock` (where hyper makes and drops
    /// its sleeps).
    fn inside<R>(clock: &mut HeadClock, f: impl FnOnce() -> R) -> R {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut f = Some(f);
        let conn = std::future::poll_fn(|_| Poll::Ready(f.take().map(|f| f())));
        let conn = std::pin::pin!(conn);
        let mut around = clock.around(conn);
        match Pin::new(&mut around).poll(&mut cx) {
            Poll::Ready(Some(r)) => r,
            _ => unreachable!("the closure runs once"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_sleep_completes_at_its_deadline_and_not_before() {
        let mut clock = HeadClock::default();
        let start = now();
        let mut sleep = inside(&mut clock, || {
            HeadTimer.sleep_until(start + Duration::from_secs(20))
        });
        assert!(!poll_in(&mut clock, &mut sleep));
        tokio::time::advance(Duration::from_millis(19_999)).await;
        assert!(!poll_in(&mut clock, &mut sleep));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(poll_in(&mut clock, &mut sleep));
        // Outside a poll of its connection, a sleep is never ready.
        let waker = futures_util::task::noop_waker();
        assert!(
            sleep
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        inside(&mut clock, || drop(sleep));
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_sleep_re_arms_once_and_a_dropped_one_never_fires() {
        let mut clock = HeadClock::default();
        let start = now();
        // A sleep for 20 s, dropped after 5 s (the head arrived); the next waits until 25 s.
        let mut first = inside(&mut clock, || {
            HeadTimer.sleep_until(start + Duration::from_secs(20))
        });
        assert!(!poll_in(&mut clock, &mut first));
        tokio::time::advance(Duration::from_secs(5)).await;
        inside(&mut clock, || drop(first));
        assert_eq!(clock.deadline, None);
        let mut second = inside(&mut clock, || {
            HeadTimer.sleep_until(start + Duration::from_secs(25))
        });
        assert!(!poll_in(&mut clock, &mut second));
        // At 20 s the timer fires early, and is re-armed to 25 s.
        tokio::time::advance(Duration::from_secs(15)).await;
        assert!(!poll_in(&mut clock, &mut second));
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert!(!poll_in(&mut clock, &mut second));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(poll_in(&mut clock, &mut second));
        inside(&mut clock, || drop(second));
        // An earlier deadline than the armed one re-arms at once.
        let mut third = inside(&mut clock, || {
            HeadTimer.sleep_until(now() + Duration::from_millis(10))
        });
        assert!(!poll_in(&mut clock, &mut third));
        tokio::time::advance(Duration::from_millis(10)).await;
        assert!(poll_in(&mut clock, &mut third));
        // A sleep boxes nothing.
        assert_eq!(std::mem::size_of::<HeadSleep>(), 0);
    }
}
