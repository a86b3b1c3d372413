use std::time::Duration;

use mock_s3::Config;
use mock_s3::ops::Operation;
use mock_s3::profile::{Latency, Profile, RateLimit};
use mock_s3::{MetricsSnapshot, ResetOptions};

use crate::util::{HANG_GUARD, TestServer, eventually};

/// A throttled, seeded profile whose SlowDown count does not depend on timing: a budget of
/// 20 writes per prefix that refills one write per 100 s. The bucket reads the real clock, as
/// S3's does; a refill interval far longer than the test makes the clock irrelevant, so the
/// counts are exact without a virtual clock (which would test a different limiter). Admitted
/// requests draw a 500 InternalError with probability 0.2 and a latency, both from the seed.
fn throttled() -> Profile {
    let mut p = Profile::ideal();
    p.name = "throttled".to_owned();
    p.seed = 1234;
    p.rate_limit = Some(RateLimit {
        read_per_s: 1000.0,
        write_per_s: 0.01,
        prefix_depth: 1,
        burst_s: 2000.0,
        ramp: None,
    });
    p.write_latency = Latency {
        fixed_ms: 0.5,
        median_ms: 1.0,
        p99_ms: 5.0,
    };
    p.faults.internal_error = 0.2;
    p
}

/// Whether the client sees the connection closed (false only after the hang guard).
async fn closed(c: &crate::util::KeepAlive) -> bool {
    eventually(|| c.send.is_closed()).await
}

fn server(profile: Profile) -> TestServer {
    let t = TestServer::with_config(Config {
        profile,
        ..Default::default()
    });
    t.server.create_bucket("reset").unwrap();
    t
}

/// 60 PUTs to one prefix over one keep-alive connection; the statuses in order.
async fn sequential_puts(t: &TestServer) -> Vec<u16> {
    let mut c = t.connection().await;
    let mut out = Vec::new();
    for i in 0..60 {
        let r = c
            .send(t.signed("PUT", &format!("/reset/hot/{i}"), &[], b"x"))
            .await
            .unwrap();
        out.push(r.status);
    }
    out
}

/// 60 PUTs to one prefix over 4 connections at once; the number of each status.
async fn concurrent_puts(t: &TestServer) -> [usize; 3] {
    let mut tasks = Vec::new();
    for c in 0..4 {
        let mut conn = t.connection().await;
        let reqs: Vec<_> = (0..15)
            .map(|i| t.signed("PUT", &format!("/reset/hot/c{c}-{i}"), &[], b"x"))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for req in reqs {
                statuses.push(conn.send(req).await.unwrap().status);
            }
            statuses
        }));
    }
    let mut counts = [0; 3];
    for task in tasks {
        for s in task.await.unwrap() {
            match s {
                200 => counts[0] += 1,
                503 => counts[1] += 1,
                500 => counts[2] += 1,
                other => panic!("unexpected status {other}"),
            }
        }
    }
    counts
}

/// The counters without the CPU time (which a reset zeroes too, but which then grows with the
/// server's idle housekeeping).
fn counters(mut m: MetricsSnapshot) -> MetricsSnapshot {
    assert!(m.cpu_ns.is_some(), "CPU time is read on Linux");
    m.cpu_ns = None;
    m
}

/// What must repeat exactly between two identical runs.
fn repeatable(m: &MetricsSnapshot) -> (u64, u64, u64, u64, u64) {
    (
        m.slowdown,
        m.faults.internal_error,
        m.count(Operation::PutObject, 200),
        m.count(Operation::PutObject, 503),
        m.count(Operation::PutObject, 500),
    )
}

#[tokio::test]
async fn two_identical_runs_after_a_reset_see_the_same_slowdowns_and_faults() {
    let t = server(throttled());
    let first = sequential_puts(&t).await;
    let first_counts = repeatable(&t.server.metrics());
    // 20 admitted (some of them drawn a 500), 40 SlowDown.
    assert_eq!(first_counts.0, 40, "{first_counts:?}");
    assert!(
        first_counts.1 > 0,
        "the seed draws some faults: {first_counts:?}"
    );

    // Without a reset the budget is spent and the sequence goes on: a different run.
    t.server.reset_metrics();
    let unreset = sequential_puts(&t).await;
    assert_eq!(t.server.metrics().slowdown, 60);
    assert_ne!(unreset, first);

    let report = t.server.reset(ResetOptions::default()).await;
    assert_eq!((report.still_open, report.seed), (0, 1234));
    let second = sequential_puts(&t).await;
    assert_eq!(second, first, "the same statuses in the same order");
    assert_eq!(repeatable(&t.server.metrics()), first_counts);

    // Concurrent requests reorder the draws but not the number of SlowDown responses.
    t.server.reset(ResetOptions::default()).await;
    let a = concurrent_puts(&t).await;
    let slow_a = t.server.metrics().slowdown;
    t.server.reset(ResetOptions::default()).await;
    let b = concurrent_puts(&t).await;
    assert_eq!((a[1], slow_a), (40, 40), "{a:?}");
    assert_eq!((b[1], t.server.metrics().slowdown), (40, 40), "{b:?}");
    assert_eq!(a[0] + a[2], 20);

    // Another seed, another sequence of faults; the same one again repeats it.
    t.server.reset(ResetOptions::seeded(99)).await;
    let other = sequential_puts(&t).await;
    assert_eq!(t.server.profile().seed, 99);
    assert_eq!(other.iter().filter(|&&s| s == 503).count(), 40);
    assert_ne!(other, first);
}

#[tokio::test]
async fn a_reset_closes_connections_from_before_and_frees_the_gate() {
    let mut p = Profile::ideal();
    p.connections.max_connections = Some(2);
    let t = server(p);
    let mut a = t.connection().await;
    let mut b = t.connection().await;
    for c in [&mut a, &mut b] {
        let r = c
            .send(t.signed("PUT", "/reset/k", &[], b"x"))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    // Two TLS handshakes and two PUTs ran on the server's threads.
    assert!(t.server.metrics().cpu_ns.unwrap() > 0);
    let report = t.server.reset(ResetOptions::default()).await;
    assert_eq!((report.connections_closed, report.still_open), (2, 0));
    // The client's connections were closed by the server; the gate has room for two more.
    assert!(closed(&a).await && closed(&b).await);
    assert_eq!(counters(t.server.metrics()), MetricsSnapshot::default());
    let _c = tokio::time::timeout(HANG_GUARD, t.connection())
        .await
        .expect("the gate is free");
    let _d = tokio::time::timeout(HANG_GUARD, t.connection())
        .await
        .expect("the gate is free");
    let m = t.server.metrics();
    assert_eq!((m.connections_accepted, m.connections_open), (2, 2));
}

#[tokio::test]
async fn a_request_in_flight_finishes_before_the_counters_restart() {
    let mut p = Profile::ideal();
    p.write_latency.fixed_ms = 300.0;
    let t = server(p);
    let mut c = t.connection().await;
    let req = t.signed("PUT", "/reset/slow", &[], b"x");
    let put = tokio::spawn(async move { c.send(req).await.map(|r| r.status) });
    // Wait until the request is in the server's hands.
    while t.server.metrics().in_flight == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let report = t.server.reset(ResetOptions::default()).await;
    assert_eq!(put.await.unwrap().unwrap(), 200, "answered, then closed");
    assert_eq!((report.connections_closed, report.still_open), (1, 0));
    // The request finished before the counters were zeroed: nothing of it after the reset.
    assert_eq!(counters(t.server.metrics()), MetricsSnapshot::default());
}

#[tokio::test]
async fn the_admin_api_resets_with_a_seed_and_closes_the_asking_connection() {
    let t = server(throttled());
    let mut old = t.connection().await;
    let r = old
        .send(t.signed("PUT", "/reset/hot/0", &[], b"x"))
        .await
        .unwrap();
    assert!(matches!(r.status, 200 | 500), "{r:?}");
    let post = |uri: &str| {
        http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("host", "localhost")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    let mut admin = t.connection().await;
    let r = admin.send(post("/__mock/reset?seed=9")).await.unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    let report: mock_s3::ResetReport = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (report.connections_closed, report.still_open, report.seed),
        (1, 0, 9),
        "the other connection is closed; the asking one is not waited for"
    );
    assert_eq!(t.server.profile().seed, 9);
    assert!(closed(&old).await, "closed by the reset");
    assert!(closed(&admin).await, "closed after its answer");
    // The budget is whole again: 20 writes admitted.
    let statuses = sequential_puts(&t).await;
    assert_eq!(statuses.iter().filter(|&&s| s == 503).count(), 40);

    for bad in ["/__mock/reset?seed=x", "/__mock/reset?sed=1"] {
        let r = t.request(post(bad)).await;
        assert_eq!(r.status, 400, "{bad}: {r:?}");
    }
}
