//! Cancel-safety of the checkout: whatever point a checkout is dropped at (before its first
//! poll, as an aborted task that never ran or a `select!` branch never polled; or while it
//! waits), it gives back its slot or queue place, and a socket or slot granted to it goes to
//! the next request. Each test ends with the agent serving at full capacity. maxSockets 1 is
//! the sharpest case: one leaked slot and the agent never serves again.

use std::time::Duration;

use tokio::time::sleep;

use crate::pool::testing::{Fake, agent, assert_consistent, origin, settle, spawn_checkout, take};
use crate::pool::{AgentOptions, ReleaseOutcome};

fn one_socket() -> Fake {
    agent(AgentOptions::sdk_default().max_sockets(1))
}

/// `max` requests get a socket at once (none queued), then all are released, and the books
/// balance. `take` fails after a virtual minute if a slot leaked.
async fn serves_at_full_capacity(a: &Fake, max: usize) {
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(take(a).await);
    }
    let s = a.stats();
    assert_eq!((s.in_use_now, s.queued_now), (max as u64, 0), "{s:?}");
    for p in held {
        assert_eq!(p.release(true).await, ReleaseOutcome::Parked);
    }
    assert_consistent(a);
}

#[tokio::test(start_paused = true)]
async fn unpolled_checkout_gives_back_its_slot() {
    let a = one_socket();
    let checkout = a.checkout(&origin());
    assert_eq!(a.stats().open_now, 1, "the slot is counted at hand-over");
    drop(checkout);
    assert_eq!(a.stats().open_now, 0);
    assert_eq!(a.connector().connects(), 0);
    serves_at_full_capacity(&a, 1).await;
}

#[tokio::test(start_paused = true)]
async fn unpolled_queued_checkout_leaves_the_queue() {
    let a = one_socket();
    let held = take(&a).await;
    let checkout = a.checkout(&origin());
    assert_eq!(a.stats().queued_now, 1);
    drop(checkout);
    assert_eq!(a.stats().queued_now, 0);
    assert_eq!(held.release(true).await, ReleaseOutcome::Parked);
    serves_at_full_capacity(&a, 1).await;
}

#[tokio::test(start_paused = true)]
async fn socket_handed_to_an_unpolled_checkout_goes_to_the_next_one() {
    let a = one_socket();
    let held = take(&a).await;
    let n = held.conn().n;
    let first = a.checkout(&origin());
    let second = spawn_checkout(&a, &origin());
    settle().await;
    assert_eq!(a.stats().queued_now, 2);
    // Node's 'free' handler gives the socket to the head of the queue, which never ran.
    assert_eq!(held.release(true).await, ReleaseOutcome::HandedOver);
    drop(first);
    let second = second.await.unwrap().unwrap();
    assert_eq!((second.conn().n, second.is_reused()), (n, true));
    assert_eq!(second.release(true).await, ReleaseOutcome::Parked);

    // With nobody behind it, the socket is parked.
    let held = take(&a).await;
    let third = a.checkout(&origin());
    assert_eq!(held.release(true).await, ReleaseOutcome::HandedOver);
    drop(third);
    let s = a.stats();
    assert_eq!(
        (s.idle_now, s.open_now, s.closed.total()),
        (1, 1, 0),
        "{s:?}"
    );
    serves_at_full_capacity(&a, 1).await;
    assert_eq!(a.connector().connects(), 1);
}

#[tokio::test(start_paused = true)]
async fn slot_granted_to_an_unpolled_checkout_goes_to_the_next_one() {
    let a = one_socket();
    let held = take(&a).await;
    let first = a.checkout(&origin());
    let second = spawn_checkout(&a, &origin());
    settle().await;
    // The socket closes: removeSocket grants its slot to the head of the queue.
    held.close_on_error();
    drop(first);
    let second = second.await.unwrap().unwrap();
    assert!(!second.is_reused());
    second.release(true).await;

    // With nobody behind it, the slot is given back.
    let held = take(&a).await;
    let third = a.checkout(&origin());
    held.close_on_error();
    assert_eq!(
        a.stats().open_now,
        1,
        "the slot went to the queued checkout"
    );
    drop(third);
    assert_eq!(a.stats().open_now, 0);
    serves_at_full_capacity(&a, 1).await;
}

#[tokio::test(start_paused = true)]
async fn task_aborted_before_it_runs_leaks_nothing() {
    let a = one_socket();
    // A checkout that would connect.
    let task = spawn_checkout(&a, &origin());
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(a.stats().open_now, 0);
    serves_at_full_capacity(&a, 1).await;

    // A checkout that would wait in the queue, and one that was handed a socket.
    let held = take(&a).await;
    let queued = spawn_checkout(&a, &origin());
    queued.abort();
    let granted = spawn_checkout(&a, &origin());
    assert_eq!(held.release(true).await, ReleaseOutcome::HandedOver);
    granted.abort();
    assert!(queued.await.unwrap_err().is_cancelled());
    assert!(granted.await.unwrap_err().is_cancelled());
    serves_at_full_capacity(&a, 1).await;
    assert_eq!(a.connector().connects(), 1);
}

#[tokio::test(start_paused = true)]
async fn select_branch_never_polled_leaks_nothing() {
    let a = one_socket();
    for queued in [false, true] {
        let held = if queued { Some(take(&a).await) } else { None };
        tokio::select! {
            biased;
            () = std::future::ready(()) => {}
            _ = a.checkout(&origin()) => panic!("never polled"),
        }
        assert_eq!(a.stats().queued_now, 0);
        if let Some(held) = held {
            assert_eq!(held.release(true).await, ReleaseOutcome::Parked);
        }
        serves_at_full_capacity(&a, 1).await;
    }
}

#[tokio::test(start_paused = true)]
async fn select_race_with_the_grant_leaks_nothing() {
    // The socket is freed at the same instant the waiting checkout's select! gives up:
    // either the checkout got it, or the socket is parked.
    let a = one_socket();
    for _ in 0..3 {
        let held = take(&a).await;
        let releaser = tokio::spawn(async move {
            sleep(Duration::from_secs(1)).await;
            held.release(true).await
        });
        tokio::select! {
            () = sleep(Duration::from_secs(1)) => {}
            p = a.checkout(&origin()) => {
                p.unwrap().release(true).await;
            }
        }
        releaser.await.unwrap();
        serves_at_full_capacity(&a, 1).await;
    }
    assert_eq!(a.connector().connects(), 1);
}

/// Many checkouts on two worker threads, a third of them dropped before they are ever
/// polled, the others aborted while running or used. Whatever the interleaving, every slot
/// comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpolled_drops_under_concurrent_churn_leak_nothing() {
    let a = agent(AgentOptions::sdk_default().max_sockets(2));
    let tasks: Vec<_> = (0..300u32)
        .map(|i| {
            let a = a.clone();
            let task = tokio::spawn(async move {
                let checkout = a.checkout(&origin());
                if i % 3 == 0 {
                    drop(checkout);
                    return;
                }
                if let Ok(p) = checkout.await {
                    tokio::task::yield_now().await;
                    p.release(true).await;
                }
            });
            if i % 5 == 1 {
                task.abort();
            }
            task
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let s = a.stats();
    assert!(s.peak_open <= 2, "{s:?}");
    assert_consistent(&a);
    let held = [
        a.checkout(&origin()).await.unwrap(),
        a.checkout(&origin()).await.unwrap(),
    ];
    assert_eq!(a.stats().queued_now, 0);
    drop(held);
    assert_consistent(&a);
}
