use std::time::Duration;

use mock_s3::Config;
use mock_s3::profile::{OverLimit, Profile, RateLimit};

use crate::util::{HANG_GUARD, TestServer, eventually};

fn with_profile(profile: Profile) -> TestServer {
    TestServer::with_config(Config {
        profile,
        ..Default::default()
    })
}

#[tokio::test]
async fn n_requests_over_m_keep_alive_connections_accept_m() {
    let t = TestServer::start();
    t.server.create_bucket("conns").unwrap();
    t.server.reset_metrics();
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(t.connection().await);
    }
    for i in 0..100 {
        let r = conns[i % 4]
            .send(t.signed("PUT", &format!("/conns/k{i}"), &[], b"x"))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    let m = t.server.metrics();
    assert_eq!(m.connections_accepted, 4);
    assert_eq!(m.tls_full, 4);
    assert_eq!(m.count(mock_s3::ops::Operation::PutObject, 200), 100);
}

#[tokio::test]
async fn idle_timeout_closes_parked_connections() {
    let mut p = Profile::ideal();
    p.connections.idle_timeout_ms = 200;
    let t = with_profile(p);
    t.server.create_bucket("idle").unwrap();
    let mut conns = Vec::new();
    for _ in 0..3 {
        let mut c = t.connection().await;
        assert_eq!(
            c.send(t.signed("GET", "/idle?list-type=2", &[], b""))
                .await
                .unwrap()
                .status,
            200
        );
        conns.push(c);
    }
    assert!(eventually(|| conns.iter().all(|c| c.send.is_closed())).await);
    // The server counts an idle close right after closing, so wait for the count too.
    assert!(
        eventually(|| t.server.metrics().closed_idle == 3).await,
        "{:?}",
        t.server.metrics()
    );
    assert!(eventually(|| t.server.metrics().connections_open == 0).await);
}

#[tokio::test]
async fn max_requests_per_connection_closes_after_the_nth() {
    let mut p = Profile::ideal();
    p.connections.max_requests_per_connection = Some(5);
    let t = with_profile(p);
    t.server.create_bucket("maxreq").unwrap();
    let mut c = t.connection().await;
    for i in 1..=5 {
        let r = c
            .send(t.signed("PUT", &format!("/maxreq/{i}"), &[], b"x"))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        let close = r.headers.get("connection").and_then(|v| v.to_str().ok()) == Some("close");
        assert_eq!(close, i == 5, "request {i}");
    }
    assert!(
        c.send(t.signed("PUT", "/maxreq/6", &[], b"x"))
            .await
            .is_err()
    );
    let mut c2 = t.connection().await;
    assert_eq!(
        c2.send(t.signed("PUT", "/maxreq/6", &[], b"x"))
            .await
            .unwrap()
            .status,
        200
    );
    let m = t.server.metrics();
    assert_eq!(m.closed_max_requests, 1);
    assert_eq!(m.connections_accepted, 2);
}

#[tokio::test]
async fn a_burst_over_the_rate_limit_gets_slowdown() {
    let mut p = Profile::ideal();
    // A burst of 20 writes that refills one write per 100 s: the counts below are exact
    // however slowly a busy machine sends the 80 requests.
    p.rate_limit = Some(RateLimit {
        read_per_s: 1000.0,
        write_per_s: 0.01,
        prefix_depth: 1,
        burst_s: 2000.0,
        ramp: None,
    });
    let t = with_profile(p);
    t.server.create_bucket("burst").unwrap();
    let mut c = t.connection().await;
    let (mut ok, mut slowdown) = (0, 0);
    for i in 0..80 {
        let r = c
            .send(t.signed("PUT", &format!("/burst/hot/{i}"), &[], b"x"))
            .await
            .unwrap();
        match r.status {
            200 => ok += 1,
            503 => {
                assert_eq!(r.code(), Some("SlowDown"));
                assert!(
                    r.body
                        .contains("<Message>Please reduce your request rate.</Message>"),
                    "{}",
                    r.body
                );
                assert_eq!(r.headers.get("content-type").unwrap(), "application/xml");
                slowdown += 1;
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!(
        (ok, slowdown),
        (20, 60),
        "the burst budget is admitted, then refused"
    );
    assert_eq!(t.server.metrics().slowdown, slowdown);
    // Another prefix has its own budget.
    let r = c
        .send(t.signed("PUT", "/burst/cold/1", &[], b"x"))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn max_connections_gate_holds_with_backlog() {
    let mut p = Profile::ideal();
    p.connections.max_connections = Some(2);
    let t = with_profile(p);
    let a = t.connection().await;
    let _b = t.connection().await;
    // The third connection waits in the kernel's backlog: its TLS handshake cannot finish.
    let (connector, addr) = (t.tls_connector(), t.server.addr());
    let third = tokio::spawn(async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        connector.connect(name, tcp).await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!third.is_finished());
    assert_eq!(t.server.metrics().connections_accepted, 2);
    drop(a);
    let _c = tokio::time::timeout(HANG_GUARD, third)
        .await
        .unwrap()
        .unwrap();
    let m = t.server.metrics();
    assert_eq!(m.connections_accepted, 3);
    assert_eq!(m.connections_peak, 2, "{m:?}");
}

#[tokio::test]
async fn max_connections_refuse_closes_the_extra() {
    let mut p = Profile::ideal();
    p.connections.max_connections = Some(1);
    p.connections.over_limit = OverLimit::Refuse;
    let t = with_profile(p);
    let _a = t.connection().await;
    let mut s = tokio::net::TcpStream::connect(t.server.addr())
        .await
        .unwrap();
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(HANG_GUARD, tokio::io::AsyncReadExt::read(&mut s, &mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "refused connection is closed");
    let m = t.server.metrics();
    assert_eq!((m.connections_accepted, m.connections_refused), (1, 1));
}

/// Sends `n` GETs, reconnecting after resets; returns the statuses (0 = connection broke).
async fn run_gets(t: &TestServer, n: usize) -> Vec<u16> {
    let mut c = t.connection().await;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match c.send(t.signed("GET", "/faults/obj", &[], b"")).await {
            Ok(r) => out.push(r.status),
            Err(_) => {
                out.push(0);
                c = t.connection().await;
            }
        }
    }
    out
}

fn faulty() -> Profile {
    let mut p = Profile::ideal();
    p.seed = 42;
    p.faults.internal_error = 0.1;
    p.faults.service_unavailable = 0.1;
    p.faults.reset = 0.05;
    p.faults.stall = 0.05;
    p.faults.stall_ms = 1;
    p
}

fn faulty_server() -> TestServer {
    let t = TestServer::start();
    t.server.create_bucket("faults").unwrap();
    t.server.set_profile(faulty()).unwrap();
    t
}

#[tokio::test]
async fn faults_appear_at_their_probability() {
    let t = faulty_server();
    // Put the object before faults are on for it... faults apply to every request, so retry.
    let mut put = t.connection().await;
    while put
        .send(t.signed("PUT", "/faults/obj", &[], b"data"))
        .await
        .map(|r| r.status)
        .unwrap_or(0)
        != 200
    {
        put = t.connection().await;
    }
    t.server.reset_metrics();
    let n = 1000;
    let statuses = run_gets(&t, n).await;
    let count = |s: u16| statuses.iter().filter(|&&x| x == s).count() as f64;
    let m = t.server.metrics();
    // Within 5 standard deviations of the binomial mean (fixed seed: the same every run).
    let within = |observed: f64, p: f64| {
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        (observed - mean).abs() <= 5.0 * sd
    };
    assert!(within(count(500), 0.1), "500s: {}", count(500));
    assert!(within(count(503), 0.1), "503s: {}", count(503));
    assert!(within(count(0), 0.05), "resets: {}", count(0));
    assert!(
        within(m.faults.stall as f64, 0.05),
        "stalls: {}",
        m.faults.stall
    );
    // The client saw exactly what the server counted.
    assert_eq!(m.faults.internal_error as f64, count(500));
    assert_eq!(m.faults.service_unavailable as f64, count(503));
    assert_eq!(m.faults.reset as f64, count(0));
    assert_eq!(count(200) + count(500) + count(503) + count(0), n as f64);
}

#[tokio::test]
async fn the_same_seed_repeats_the_same_faults() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let t = TestServer::start();
        t.server.create_bucket("faults").unwrap();
        let mut c = t.connection().await;
        assert_eq!(
            c.send(t.signed("PUT", "/faults/obj", &[], b"data"))
                .await
                .unwrap()
                .status,
            200
        );
        t.server.set_profile(faulty()).unwrap();
        runs.push(run_gets(&t, 200).await);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].iter().any(|&s| s != 200));
}

#[tokio::test]
async fn stalled_upload_gets_request_timeout() {
    let mut p = Profile::ideal();
    p.connections.upload_stall_timeout_ms = 300;
    let t = with_profile(p);
    t.server.create_bucket("stall").unwrap();
    let req = t.signed_at(
        "PUT",
        "/stall/k",
        &[],
        b"",
        std::time::SystemTime::now(),
        Some("UNSIGNED-PAYLOAD"),
    );
    let mut head = String::from("PUT /stall/k HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    // Sends 10 of 100 bytes, then nothing while keeping the connection open.
    let out = t
        .raw(format!("{head}content-length: 100\r\n\r\n0123456789").as_bytes())
        .await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("<Code>RequestTimeout</Code>"), "{out}");
    let m = t.server.metrics();
    assert_eq!(m.request_timeouts, 1);
    assert_eq!(t.server.stored_bytes(), 0);
}

#[tokio::test]
async fn profile_is_readable_and_settable_through_the_admin_api() {
    let t = TestServer::start();
    let get = || {
        http::Request::builder()
            .uri("/__mock/profile")
            .header("host", "localhost")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    let r = t.request(get()).await;
    assert_eq!(r.status, 200);
    let p: Profile = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p.name, "ideal");
    let put = |uri: &str, body: &'static [u8]| {
        http::Request::builder()
            .method("PUT")
            .uri(uri)
            .header("host", "localhost")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(body)))
            .unwrap()
    };
    let r = t.request(put("/__mock/profile?preset=s3-like", b"")).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(t.server.profile().name, "s3-like");
    let r = t
        .request(put("/__mock/profile", b"{\"faults\": {\"reset\": 3.0}}"))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("probability"), "{}", r.body);
    let r = t.request(put("/__mock/profile?preset=nope", b"")).await;
    assert_eq!(r.status, 400);
    assert_eq!(t.server.profile().name, "s3-like");
    let r = t
        .request(put("/__mock/profile", b"{\"name\": \"mine\", \"seed\": 9}"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(t.server.profile().seed, 9);

    let r = t
        .request(
            http::Request::builder()
                .uri("/__mock/metrics")
                .header("host", "localhost")
                .body(http_body_util::Full::new(bytes::Bytes::new()))
                .unwrap(),
        )
        .await;
    let m: mock_s3::MetricsSnapshot = serde_json::from_str(&r.body).unwrap();
    assert!(m.connections_accepted >= 1);
}
