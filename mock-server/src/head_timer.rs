//! hyper's header-read timeout on one tokio timer per connection.
//!
//! hyper arms its header-read timer afresh for every request head it waits for, that is once
//! per request on a keep-alive connection. With tokio's timer that is an insertion into the
//! runtime's timer wheel and a removal from it, each under the wheel's one lock, and a wake of
//! the parked worker that drives the timers whenever it parked with none pending: about two
//! microseconds of server CPU per small request under load, as much as the rest of a PUT's
//! S3 work.
//!
//! Invariant: hyper's sleeps complete at the same instants as with tokio's timer. A sleep of
//! [`HeadTimer`] only notes its deadline in the connection's [`Deadline`] when hyper polls it;
//! the connection task also polls [`Deadline::drive`], one tokio timer that is re-armed to the
//! noted deadline only when it would fire after it, or when it fired before it. Deadlines only
//! move forward (each is "now + timeout" when hyper starts waiting), so a busy connection
//! re-arms its timer about once per timeout period instead of once per request; when the timer
//! fires at or after the noted deadline, the sleep is woken and completes.
//!
//! [`Deadline::drive`] must be polled after the connection in the same task (a `biased`
//! select, connection first), so that it sees a deadline noted during that poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The deadline hyper's current sleep waits for, shared with that sleep.
#[derive(Debug, Default)]
struct Slot {
    /// Which sleep noted it (`0`: none).
    id: u64,
    deadline: Option<Instant>,
    waker: Option<Waker>,
    /// The deadline passed: the sleep completes when polled.
    fired: bool,
    /// The id of the next sleep.
    next_id: u64,
}

/// One connection's header-read deadline: hyper's timer ([`Deadline::timer`]) writes it, and
/// [`Deadline::drive`] watches it.
#[derive(Clone, Debug, Default)]
pub struct Deadline {
    slot: Arc<Mutex<Slot>>,
}

impl Deadline {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        // Every change is a few assignments: a panic cannot leave the slot half-written.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The timer to give hyper for this connection.
    pub fn timer(&self) -> HeadTimer {
        HeadTimer {
            deadline: self.clone(),
        }
    }

    /// Fires the noted deadline when it passes. Never completes: poll it beside the
    /// connection, after it.
    pub fn drive(&self) -> Drive<'_> {
        Drive {
            deadline: self,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
            registered: None,
        }
    }
}

/// hyper's [`Timer`](hyper::rt::Timer) for one connection.
#[derive(Debug)]
pub struct HeadTimer {
    deadline: Deadline,
}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let id = {
            let mut slot = self.deadline.lock();
            slot.next_id += 1;
            slot.next_id
        };
        Box::pin(HeadSleep {
            deadline: self.deadline.clone(),
            at: deadline,
            id,
        })
    }
}

/// A sleep of [`HeadTimer`].
struct HeadSleep {
    deadline: Deadline,
    at: Instant,
    id: u64,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slot = self.deadline.lock();
        if slot.id == self.id {
            if slot.fired {
                return Poll::Ready(());
            }
        } else {
            slot.id = self.id;
            slot.deadline = Some(self.at);
            slot.fired = false;
            slot.waker = None;
        }
        match &slot.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => slot.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for HeadSleep {
    fn drop(&mut self) {
        let mut slot = self.deadline.lock();
        if slot.id == self.id {
            slot.id = 0;
            slot.deadline = None;
            slot.waker = None;
            slot.fired = false;
        }
    }
}

impl hyper::rt::Sleep for HeadSleep {}

/// The future of [`Deadline::drive`].
pub struct Drive<'a> {
    deadline: &'a Deadline,
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// When `sleep` fires, if armed.
    armed: Option<Instant>,
    /// The waker `sleep` was last polled with since it was armed: while it has not fired, it
    /// wakes that one, and polling it again with the same one changes nothing.
    registered: Option<Waker>,
}

impl Future for Drive<'_> {
    type Output = std::convert::Infallible;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut slot = this.deadline.lock();
        let Some(due) = slot.deadline.filter(|_| !slot.fired) else {
            // Nothing to watch; the timer, if armed, fires early and is re-armed then.
            return Poll::Pending;
        };
        loop {
            if this.armed.is_none_or(|armed| armed > due) {
                this.sleep.as_mut().reset(due.into());
                this.armed = Some(due);
                this.registered = None;
            } else if !this.sleep.is_elapsed()
                && this
                    .registered
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
            {
                // Armed, not fired, and it wakes this task when it fires: as a poll would
                // leave it (tokio's poll registers the waker and checks the state, once per
                // poll of the connection's task, which is once or twice per request).
                return Poll::Pending;
            }
            match this.sleep.as_mut().poll(cx) {
                Poll::Pending => {
                    this.registered = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Poll::Ready(()) => {
                    this.registered = None;
                    if this.armed.take().is_some_and(|armed| armed >= due) {
                        slot.fired = true;
                        if let Some(waker) = slot.waker.take() {
                            waker.wake();
                        }
                        return Poll::Pending;
                    }
                    // Fired before the deadline now noted: re-armed to it above.
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer as _;

    /// Now on tokio's clock (paused in these tests), as hyper's `Instant`.
    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    /// Polls `sleep`, then `drive`, then `sleep` again, as a connection task does
    /// (connection first).
    fn poll_both(
        sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>,
        drive: &mut Pin<&mut Drive<'_>>,
    ) -> bool {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let ready = sleep.as_mut().poll(&mut cx).is_ready();
        let _ = drive.as_mut().poll(&mut cx);
        ready || sleep.as_mut().poll(&mut cx).is_ready()
    }

    #[tokio::test(start_paused = true)]
    async fn a_sleep_completes_at_its_deadline_and_not_before() {
        let d = Deadline::default();
        let timer = d.timer();
        let drive = d.drive();
        tokio::pin!(drive);
        let start = now();
        let mut sleep = timer.sleep_until(start + Duration::from_secs(20));
        assert!(!poll_both(&mut sleep, &mut drive));
        tokio::time::advance(Duration::from_millis(19_999)).await;
        assert!(!poll_both(&mut sleep, &mut drive));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(poll_both(&mut sleep, &mut drive));
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_sleep_re_arms_once_and_a_dropped_one_never_fires() {
        let d = Deadline::default();
        let timer = d.timer();
        let drive = d.drive();
        tokio::pin!(drive);
        let start = now();
        // A sleep for 20 s, dropped after 5 s (the head arrived); the next waits until 25 s.
        let mut first = timer.sleep_until(start + Duration::from_secs(20));
        assert!(!poll_both(&mut first, &mut drive));
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(first);
        let mut second = timer.sleep_until(start + Duration::from_secs(25));
        assert!(!poll_both(&mut second, &mut drive));
        // At 20 s the timer fires early, and is re-armed to 25 s.
        tokio::time::advance(Duration::from_secs(15)).await;
        assert!(!poll_both(&mut second, &mut drive));
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert!(!poll_both(&mut second, &mut drive));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(poll_both(&mut second, &mut drive));
        // An earlier deadline than the armed one re-arms at once.
        let mut third = timer.sleep_until(now() + Duration::from_millis(10));
        assert!(!poll_both(&mut third, &mut drive));
        tokio::time::advance(Duration::from_millis(10)).await;
        assert!(poll_both(&mut third, &mut drive));
    }
}
