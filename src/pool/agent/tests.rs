//! Agent behaviour against Node's rules, with a fake connector that counts connects.
//! Time is paused. Tasks run on the test's current-thread runtime, so `settle()` lets every
//! spawned checkout reach its resting point.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::pool::testing::{
    Checkout, FakeConnector, agent, assert_consistent, origin, settle, spawn_checkout, take,
};
use crate::pool::{
    Agent, AgentOptions, CloseReason, ConnectError, Origin, Pooled, ReleaseOutcome, Scheduling,
    TimeoutPhase,
};

#[tokio::test(start_paused = true)]
async fn cap_holds_and_the_rest_queue() {
    let a = agent(AgentOptions::sdk_default().max_sockets(3));
    let o = origin();
    let tasks: Vec<Checkout> = (0..10).map(|_| spawn_checkout(&a, &o)).collect();
    settle().await;
    assert_eq!(a.connector().connects(), 3);
    let s = a.stats();
    assert_eq!((s.open_now, s.queued_now, s.max_queue_len), (3, 7, 7));

    for task in tasks {
        let p = task.await.unwrap().unwrap();
        p.release(true).await;
    }
    let s = a.stats();
    assert_eq!(a.connector().connects(), 3);
    assert_eq!(
        (s.sockets_created, s.reuses, s.peak_open, s.queued_now),
        (3, 7, 3, 0)
    );
    assert_eq!(
        (s.idle_now, s.in_use_now, s.checkouts, s.queued_checkouts),
        (3, 0, 10, 7)
    );
    assert_eq!(s.queue_wait.count, 10);
}

#[tokio::test(start_paused = true)]
async fn connecting_sockets_count_toward_the_cap() {
    let a = Agent::new(
        FakeConnector::default().tcp_delay(Duration::from_secs(1)),
        AgentOptions::sdk_default().max_sockets(1),
    );
    let first = spawn_checkout(&a, &origin());
    let second = spawn_checkout(&a, &origin());
    settle().await;
    assert_eq!(
        a.connector().connects(),
        1,
        "the second waits instead of connecting"
    );
    assert_eq!(a.stats().queued_now, 1);
    let p = first.await.unwrap().unwrap();
    assert_eq!(p.release(true).await, ReleaseOutcome::HandedOver);
    assert!(second.await.unwrap().unwrap().is_reused());
    assert_eq!(a.connector().connects(), 1);
}

#[tokio::test(start_paused = true)]
async fn queue_is_fifo() {
    let a = agent(AgentOptions::sdk_default().max_sockets(1));
    let first = take(&a).await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..5 {
        let (a, order) = (a.clone(), Arc::clone(&order));
        tasks.push(tokio::spawn(async move {
            let p = a.checkout(&origin()).await.unwrap();
            order.lock().unwrap().push(i);
            p.release(true).await
        }));
        settle().await;
    }
    assert_eq!(a.stats().queued_now, 5);
    first.release(true).await;
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    assert_eq!(a.connector().connects(), 1);
}

#[tokio::test(start_paused = true)]
async fn freed_socket_goes_to_queue_head_even_without_keep_alive() {
    // Node: the 'free' handler shifts requests[name] before it looks at keepAlive, and
    // ClientRequest sends keep-alive because maxSockets is finite.
    let a = agent(AgentOptions::node_default().max_sockets(1));
    assert!(!a.sends_connection_close());
    assert_eq!(a.connection_header(), "keep-alive");
    let first = take(&a).await;
    let n = first.conn().n;
    let waiter = spawn_checkout(&a, &origin());
    settle().await;
    assert_eq!(first.release(true).await, ReleaseOutcome::HandedOver);
    let second = waiter.await.unwrap().unwrap();
    assert_eq!(second.conn().n, n);
    assert!(second.is_reused());
    // No one is waiting now, and keepAlive is off: Node destroys the socket.
    assert_eq!(
        second.release(true).await,
        ReleaseOutcome::Closed(CloseReason::NotKept)
    );
    let s = a.stats();
    assert_eq!(
        (
            a.connector().connects(),
            s.reuses,
            s.closed.not_kept,
            s.open_now
        ),
        (1, 1, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn keep_alive_off_and_infinite_cap_never_reuses() {
    let a = agent(AgentOptions::node_default());
    assert!(a.sends_connection_close());
    assert_eq!(a.connection_header(), "close");
    for _ in 0..3 {
        let p = take(&a).await;
        assert!(!p.is_reused());
        assert_eq!(
            p.release(true).await,
            ReleaseOutcome::Closed(CloseReason::ConnectionClose)
        );
    }
    let s = a.stats();
    assert_eq!(
        (
            a.connector().connects(),
            s.reuses,
            s.closed.connection_close,
            s.open_now
        ),
        (3, 0, 3, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn lifo_takes_the_newest_idle_socket_and_fifo_the_oldest() {
    for (scheduling, expected) in [(Scheduling::Lifo, 2), (Scheduling::Fifo, 0)] {
        let a = agent(AgentOptions::sdk_default().scheduling(scheduling));
        let held = [take(&a).await, take(&a).await, take(&a).await];
        for p in held {
            assert_eq!(p.release(true).await, ReleaseOutcome::Parked);
        }
        let ids = a.shared().lock().idle_ids(&origin());
        assert_eq!(ids.len(), 3);
        let next = take(&a).await;
        assert_eq!(next.conn().n, expected, "{scheduling:?}");
        assert_eq!(a.connector().connects(), 3);
    }
}

#[tokio::test(start_paused = true)]
async fn idle_socket_closed_by_server_is_skipped() {
    let a = agent(AgentOptions::sdk_default());
    let (p0, p1) = (take(&a).await, take(&a).await);
    p0.release(true).await;
    p1.release(true).await;

    // lifo would pick socket 1. The server closed it, so it is dropped and socket 0 is used.
    a.connector().close(1);
    let p = take(&a).await;
    assert_eq!(p.conn().n, 0);
    assert_eq!(a.connector().connects(), 2);
    p.release(true).await;

    // With every idle socket closed, a new one is opened.
    a.connector().close(0);
    let p = take(&a).await;
    assert_eq!(p.conn().n, 2);
    let s = a.stats();
    assert_eq!(
        (
            a.connector().connects(),
            s.closed.server_closed_idle,
            s.open_now,
            s.idle_now
        ),
        (3, 2, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn queued_request_gets_a_new_socket_when_one_closes() {
    let a = agent(AgentOptions::sdk_default().max_sockets(1));
    // Two ways a socket in use can go away: an error, or a guard dropped unreleased
    // (`release(false)` has its own test).
    let endings: [fn(Pooled<FakeConnector>); 2] = [
        |p| {
            p.close_on_error();
        },
        drop,
    ];
    let mut held = take(&a).await;
    for end in endings {
        let n = held.conn().n;
        let waiter = spawn_checkout(&a, &origin());
        settle().await;
        assert_eq!(a.stats().queued_now, 1);
        end(held);
        held = waiter.await.unwrap().unwrap();
        assert_ne!(held.conn().n, n);
        assert!(!held.is_reused());
    }
    let s = a.stats();
    assert_eq!(a.connector().connects(), 3);
    assert_eq!((s.closed.error, s.closed.unconsumed), (1, 1));
    assert_eq!((s.open_now, s.peak_open), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn release_without_keep_alive_closes_and_rescues() {
    let a = agent(AgentOptions::sdk_default().max_sockets(1));
    let held = take(&a).await;
    let waiter = spawn_checkout(&a, &origin());
    settle().await;
    assert_eq!(
        held.release(false).await,
        ReleaseOutcome::Closed(CloseReason::ConnectionClose)
    );
    let p = waiter.await.unwrap().unwrap();
    assert_eq!((p.conn().n, a.stats().closed.connection_close), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn max_free_sockets_is_respected() {
    let a = agent(AgentOptions::sdk_default().max_free_sockets(2));
    let held = [
        take(&a).await,
        take(&a).await,
        take(&a).await,
        take(&a).await,
    ];
    let mut outcomes = Vec::new();
    for p in held {
        outcomes.push(p.release(true).await);
    }
    let not_kept = ReleaseOutcome::Closed(CloseReason::NotKept);
    assert_eq!(
        outcomes,
        [
            ReleaseOutcome::Parked,
            ReleaseOutcome::Parked,
            not_kept,
            not_kept
        ]
    );
    let s = a.stats();
    assert_eq!((s.idle_now, s.open_now, s.closed.not_kept), (2, 2, 2));
}

#[tokio::test(start_paused = true)]
async fn max_total_sockets_is_respected_across_origins() {
    let a = agent(
        AgentOptions::sdk_default()
            .max_sockets(0)
            .max_total_sockets(2),
    );
    let (oa, ob, oc) = (
        Origin::https("a", 443),
        Origin::https("b", 443),
        Origin::https("c", 443),
    );
    let a1 = a.checkout(&oa).await.unwrap();
    let b1 = a.checkout(&ob).await.unwrap();
    let c1 = spawn_checkout(&a, &oc);
    settle().await;
    let a2 = spawn_checkout(&a, &oa);
    settle().await;
    let s = a.stats();
    assert_eq!(
        (a.connector().connects(), s.queued_now, s.open_now),
        (2, 2, 2)
    );

    // b's socket closes and b has no queue. Node's removeSocket gives the slot to the first
    // queued origin with no sockets: c (queued first, and a has a socket).
    b1.close_on_error();
    let c1 = c1.await.unwrap().unwrap();
    assert_eq!(c1.origin(), &oc);
    assert_eq!(a.connector().connects(), 3);

    // a's freed socket goes to a's own queue.
    assert_eq!(a1.release(true).await, ReleaseOutcome::HandedOver);
    assert!(a2.await.unwrap().unwrap().is_reused());
    assert_eq!(a.stats().peak_open, 2);
}

#[tokio::test(start_paused = true)]
async fn connection_timeout_includes_queue_wait() {
    let a = agent(
        AgentOptions::sdk_default()
            .max_sockets(1)
            .connection_timeout(Duration::from_secs(1)),
    );
    let held = take(&a).await;
    let start = Instant::now();
    let error = a.checkout(&origin()).await.unwrap_err();
    assert_eq!(Instant::now() - start, Duration::from_secs(1));
    assert!(
        matches!(
            error,
            ConnectError::ConnectionTimeout {
                phase: TimeoutPhase::Queued,
                ..
            }
        ),
        "{error:?}"
    );
    let s = a.stats();
    assert_eq!((s.connection_timeouts, s.queued_now), (1, 0));
    // The timed-out request left the queue, so the freed socket is parked.
    assert_eq!(held.release(true).await, ReleaseOutcome::Parked);
}

#[tokio::test(start_paused = true)]
async fn connection_timeout_spans_queue_wait_and_connect() {
    let a = Agent::new(
        FakeConnector::default().tcp_delay(Duration::from_millis(600)),
        AgentOptions::sdk_default()
            .max_sockets(1)
            .connection_timeout(Duration::from_secs(1)),
    );
    let held = take(&a).await;
    let waiter = spawn_checkout(&a, &origin());
    sleep(Duration::from_millis(600)).await;
    // The socket closes, and the waiter gets a slot after 600 ms in the queue. Its connect
    // needs 600 ms more, so the timer fires while it connects.
    held.close_on_error();
    let error = waiter.await.unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            ConnectError::ConnectionTimeout {
                phase: TimeoutPhase::Connecting,
                ..
            }
        ),
        "{error:?}"
    );
    let s = a.stats();
    assert_eq!(
        (s.open_now, s.connection_timeouts, s.connect_errors),
        (0, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn connection_timeout_stops_at_tcp_connect() {
    // The SDK clears the timer on 'connect', so a slow TLS handshake does not time out.
    let a = Agent::new(
        FakeConnector::default()
            .tcp_delay(Duration::from_millis(500))
            .tls_delay(Duration::from_secs(5)),
        AgentOptions::sdk_default().connection_timeout(Duration::from_secs(1)),
    );
    let start = Instant::now();
    let p = take(&a).await;
    assert_eq!(Instant::now() - start, Duration::from_millis(5500));
    assert_eq!(p.queue_wait(), Duration::from_millis(5500));
    assert_eq!(p.socket().connect_duration, Duration::from_millis(5500));
    assert_eq!(a.stats().connection_timeouts, 0);
}

#[tokio::test(start_paused = true)]
async fn failed_connect_lets_the_queue_head_try() {
    let a = agent(AgentOptions::sdk_default().max_sockets(1));
    a.connector().fail_next(1);
    let first = spawn_checkout(&a, &origin());
    let second = spawn_checkout(&a, &origin());
    let error = first.await.unwrap().unwrap_err();
    assert!(matches!(error, ConnectError::Refused(_)), "{error:?}");
    let p = second.await.unwrap().unwrap();
    assert!(!p.is_reused());
    let s = a.stats();
    assert_eq!(
        (
            a.connector().connects(),
            s.connect_errors,
            s.sockets_created,
            s.open_now
        ),
        (2, 1, 1, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn dropped_waiter_leaves_the_queue() {
    let a = agent(AgentOptions::sdk_default().max_sockets(1));
    let held = take(&a).await;
    let gone = spawn_checkout(&a, &origin());
    let next = spawn_checkout(&a, &origin());
    settle().await;
    gone.abort();
    settle().await;
    assert_eq!(a.stats().queued_now, 1);
    assert_eq!(held.release(true).await, ReleaseOutcome::HandedOver);
    assert!(next.await.unwrap().unwrap().is_reused());
}

#[tokio::test(start_paused = true)]
async fn socket_that_is_not_ready_is_not_reused() {
    let a = agent(AgentOptions::sdk_default());
    a.connector().make_not_ready();
    let p = take(&a).await;
    assert_eq!(
        p.release(true).await,
        ReleaseOutcome::Closed(CloseReason::NotReusable)
    );
    let s = a.stats();
    assert_eq!((s.closed.not_reusable, s.open_now, s.idle_now), (1, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_closes_parked_sockets() {
    let a = agent(AgentOptions::sdk_default().idle_timeout(Duration::from_secs(5)));
    let p = take(&a).await;
    assert_eq!(p.release(true).await, ReleaseOutcome::Parked);
    sleep(Duration::from_millis(4_999)).await;
    assert_eq!(a.stats().idle_now, 1);
    sleep(Duration::from_millis(2)).await;
    settle().await;
    let s = a.stats();
    assert_eq!((s.idle_now, s.open_now, s.closed.idle_timeout), (0, 0, 1));

    // The reaper sleeps until the next socket is parked, then times it out too.
    let p = take(&a).await;
    p.release(true).await;
    sleep(Duration::from_secs(6)).await;
    assert_eq!(a.stats().closed.idle_timeout, 2);
}

#[tokio::test(start_paused = true)]
async fn capacity_warning_fires_once_per_fifteen_seconds() {
    let a = agent(AgentOptions::sdk_default().max_sockets(1));
    let _held = take(&a).await;
    let o = origin();
    // in_use 1 >= 1 and queued 2 >= 2: the rule holds from t = 0.
    let _waiters = [spawn_checkout(&a, &o), spawn_checkout(&a, &o)];
    sleep(Duration::from_millis(2_999)).await;
    assert_eq!(
        a.stats().capacity_warnings,
        0,
        "the check runs 3 s after hand-over"
    );
    sleep(Duration::from_millis(2)).await;
    settle().await;
    // Both waiters checked at t = 3 s; the second was inside the lockout.
    assert_eq!(a.stats().capacity_warnings, 1);
    assert!(!a.check_socket_usage());

    // A check at t = 17 s is still locked out (3 + 15 = 18).
    sleep(Duration::from_secs(11)).await;
    let _late = spawn_checkout(&a, &o);
    sleep(Duration::from_secs(4)).await;
    assert_eq!(a.stats().capacity_warnings, 1);

    // Any check at or after t = 18 s may warn again.
    sleep(Duration::from_secs(1)).await;
    assert!(a.check_socket_usage());
    assert_eq!(a.stats().capacity_warnings, 2);
}

#[tokio::test(start_paused = true)]
async fn capacity_warning_needs_twice_max_sockets_queued_and_a_finite_cap() {
    let a = agent(AgentOptions::sdk_default().max_sockets(2));
    let _held = [take(&a).await, take(&a).await];
    let _waiters: Vec<Checkout> = (0..3).map(|_| spawn_checkout(&a, &origin())).collect();
    sleep(Duration::from_secs(4)).await;
    assert_eq!(a.stats().capacity_warnings, 0, "3 queued < 2 * 2");

    let unbounded = agent(AgentOptions::sdk_default().max_sockets(0));
    let _held = take(&unbounded).await;
    assert!(!unbounded.check_socket_usage());
}

#[tokio::test(start_paused = true)]
async fn destroy_destroys_every_socket_and_the_agent_keeps_serving() {
    // Node's destroy() (lib/_http_agent.js:517-529) destroys free and in-use sockets and
    // nothing else: queued requests get new sockets as the old ones close (removeSocket,
    // lines 461-470), and later requests are served as before.
    let a = agent(AgentOptions::sdk_default().max_sockets(2));
    let (p0, p1) = (take(&a).await, take(&a).await);
    let waiter = spawn_checkout(&a, &origin());
    settle().await;
    assert_eq!(a.stats().queued_now, 1);
    a.destroy();
    settle().await;
    assert!(a.connector().is_closed(0) && a.connector().is_closed(1));
    assert_eq!(a.stats().queued_now, 1, "the queued request stays queued");

    // The in-use sockets' requests fail and come back; each one's close rescues the queue.
    assert_eq!(
        p0.release(true).await,
        ReleaseOutcome::Closed(CloseReason::Destroyed)
    );
    let p2 = waiter.await.unwrap().unwrap();
    assert_eq!((p2.conn().n, p2.is_reused()), (2, false));
    assert_eq!(
        p1.close_on_error(),
        ReleaseOutcome::Closed(CloseReason::Destroyed)
    );
    // A later request is served on a new socket, and the new sockets are pooled as usual.
    let p3 = take(&a).await;
    assert_eq!(p3.conn().n, 3);
    assert_eq!(p2.release(true).await, ReleaseOutcome::Parked);
    assert_eq!(p3.release(true).await, ReleaseOutcome::Parked);
    let p4 = take(&a).await;
    assert!(p4.is_reused());
    p4.release(true).await;
    let s = a.stats();
    assert_eq!((s.closed.destroyed, s.closed.total()), (2, 2), "{s:?}");
    assert_consistent(&a);
}

#[tokio::test(start_paused = true)]
async fn destroy_closes_free_sockets_and_rescues_the_queue() {
    // maxTotalSockets 2 over two origins: b's request waits while a's socket idles. Destroying
    // the idle socket closes it now, and its close makes a socket for b (removeSocket's
    // cross-origin rescue, lib/_http_agent.js:443-458).
    let a = agent(
        AgentOptions::sdk_default()
            .max_sockets(0)
            .max_total_sockets(2),
    );
    let (oa, ob) = (Origin::https("a", 443), Origin::https("b", 443));
    let a1 = a.checkout(&oa).await.unwrap();
    let a2 = a.checkout(&oa).await.unwrap();
    assert_eq!(a1.release(true).await, ReleaseOutcome::Parked);
    let b1 = spawn_checkout(&a, &ob);
    settle().await;
    assert_eq!(a.stats().queued_now, 1);
    a.destroy();
    let s = a.stats();
    assert_eq!((s.closed.destroyed, s.idle_now), (1, 0), "{s:?}");
    let b1 = b1.await.unwrap().unwrap();
    assert_eq!((b1.origin(), b1.conn().n), (&ob, 2));
    assert_eq!(
        a2.release(true).await,
        ReleaseOutcome::Closed(CloseReason::Destroyed)
    );
    assert_eq!(b1.release(true).await, ReleaseOutcome::Parked);
}

#[tokio::test(start_paused = true)]
async fn destroy_fails_a_connecting_checkout_and_frees_its_slot() {
    // Node destroys a connecting socket too; its request fails ("socket hang up").
    let a = Agent::new(
        FakeConnector::default().tcp_delay(Duration::from_secs(1)),
        AgentOptions::sdk_default().max_sockets(1),
    );
    let connecting = spawn_checkout(&a, &origin());
    settle().await;
    assert_eq!((a.connector().connects(), a.stats().open_now), (1, 1));
    a.destroy();
    let error = connecting.await.unwrap().unwrap_err();
    assert!(matches!(error, ConnectError::AgentDestroyed), "{error:?}");
    assert_eq!(a.stats().open_now, 0);
    take(&a).await.release(true).await;
    assert_consistent(&a);
}

#[tokio::test(start_paused = true)]
async fn idle_socket_the_server_closes_leaves_the_free_list_at_once() {
    // Node: the free socket's 'close' runs removeSocket, which takes it out of freeSockets
    // and lowers totalSocketCount (lib/_http_agent.js:375-383, 421-437), with no idle timeout
    // set (the SDK's agent has none) and no checkout needed.
    let a = agent(AgentOptions::sdk_default());
    let (p0, p1) = (take(&a).await, take(&a).await);
    p0.release(true).await;
    p1.release(true).await;
    a.connector().close(0);
    settle().await;
    let s = a.stats();
    assert_eq!(
        (s.idle_now, s.open_now, s.closed.server_closed_idle),
        (1, 1, 1),
        "{s:?}"
    );
    assert_eq!(a.shared().lock().idle_ids(&origin()), [1]);
    assert_consistent(&a);
}

#[tokio::test(start_paused = true)]
async fn idle_socket_closing_lets_a_request_queued_on_another_origin_in() {
    // maxTotalSockets 1: b's request waits while a's socket idles. Without a checkout on a,
    // only the idle socket's close can let b in (removeSocket's cross-origin rescue).
    let a = agent(
        AgentOptions::sdk_default()
            .max_sockets(0)
            .max_total_sockets(1),
    );
    let (oa, ob) = (Origin::https("a", 443), Origin::https("b", 443));
    a.checkout(&oa).await.unwrap().release(true).await;
    let b = spawn_checkout(&a, &ob);
    settle().await;
    assert_eq!(a.stats().queued_now, 1);
    a.connector().close(0);
    let b = b.await.unwrap().unwrap();
    assert_eq!((b.origin(), b.conn().n), (&ob, 1));
    let s = a.stats();
    assert_eq!(
        (s.open_now, s.idle_now, s.closed.server_closed_idle),
        (1, 0, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn parking_a_socket_lets_the_first_queued_origin_in_past_max_total_sockets() {
    // Node's 'free' handler parks the socket and calls removeSocket (lib/_http_agent.js:175),
    // whose createSocket for the first queued origin checks no limit (lines 443-470). Measured
    // with Node v20.20.2: maxTotalSockets 1, a's socket parked and b served on a second
    // socket, totalSocketCount 2; b's socket is then destroyed on 'free' (line 164).
    let a = agent(
        AgentOptions::sdk_default()
            .max_sockets(0)
            .max_total_sockets(1),
    );
    let (oa, ob) = (Origin::https("a", 443), Origin::https("b", 443));
    let a1 = a.checkout(&oa).await.unwrap();
    let b1 = spawn_checkout(&a, &ob);
    settle().await;
    assert_eq!(a.stats().queued_now, 1);
    assert_eq!(a1.release(true).await, ReleaseOutcome::Parked);
    let b1 = b1.await.unwrap().unwrap();
    assert_eq!(b1.origin(), &ob);
    let s = a.stats();
    assert_eq!((s.open_now, s.idle_now, s.peak_open), (2, 1, 2), "{s:?}");
    assert_eq!(
        b1.release(true).await,
        ReleaseOutcome::Closed(CloseReason::NotKept)
    );
    let s = a.stats();
    assert_eq!((s.open_now, s.idle_now, s.queued_now), (1, 1, 0), "{s:?}");
}

#[tokio::test(start_paused = true)]
async fn checkout_reports_its_waits() {
    let a = agent(AgentOptions::sdk_default().max_sockets(1));
    let held = take(&a).await;
    assert_eq!(held.queue_wait(), Duration::ZERO);
    let waiter = spawn_checkout(&a, &origin());
    sleep(Duration::from_millis(250)).await;
    held.release(true).await;
    let p = waiter.await.unwrap().unwrap();
    assert_eq!(p.queue_wait(), Duration::from_millis(250));
    assert_eq!(p.queued(), Duration::from_millis(250));
    assert_eq!(
        p.socket_usage_check_at(),
        Some(p.handed_over() + Duration::from_secs(3))
    );
    let s = a.stats();
    assert_eq!((s.queue_wait.count, s.queue_wait.max_us), (2, 250_000));
}

/// Many tasks on two worker threads. Each checks out, then releases, fails, drops, or
/// abandons its checkout. Whatever the interleaving, the cap holds and every slot comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invariants_hold_under_concurrent_churn() {
    let a = agent(
        AgentOptions::sdk_default()
            .max_sockets(4)
            .max_free_sockets(3),
    );
    let tasks: Vec<_> = (0..400u32)
        .map(|i| {
            let a = a.clone();
            tokio::spawn(async move {
                let checkout = a.checkout(&origin());
                if i % 7 == 3 {
                    // Abandon the checkout almost at once, whatever state it reached.
                    let _ = tokio::time::timeout(Duration::from_micros(50), checkout).await;
                    return;
                }
                let p = checkout.await.unwrap();
                tokio::task::yield_now().await;
                match i % 5 {
                    0 => drop(p),
                    1 => {
                        p.close_on_error();
                    }
                    _ => {
                        p.release(i % 11 != 0).await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let s = a.stats();
    assert!(s.peak_open <= 4, "{s:?}");
    assert_eq!((s.queued_now, s.in_use_now), (0, 0), "{s:?}");
    assert_eq!(s.open_now, s.idle_now, "{s:?}");
    assert!(s.idle_now <= 3, "{s:?}");
    assert_eq!(s.sockets_created, s.closed.total() + s.open_now, "{s:?}");
    let (active, idle, queued, total) = a.shared().lock().counts(&origin());
    assert_eq!(
        (active, queued, total as u64),
        (0, 0, s.open_now),
        "idle {idle}"
    );
}
