//! Timeouts run from hand-over, so time queued for a socket counts: the Agent's
//! `connectionTimeout` and the client's `requestTimeout` both fire on a request that never got
//! a socket. A timeout is retried as transient (cost 10).

use std::time::Duration;

use mock_s3::ops::Operation;
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{ErrorKind, RetryConfig, S3Client};
use poolsweep::transport::Endpoint;
use poolsweep::transport::TimeoutKind;

use crate::util::{agent_config, body, server, settled};

#[tokio::test]
async fn connection_timeout_counts_queue_wait() {
    let server = server();
    let options = AgentOptions::sdk_default()
        .max_sockets(1)
        .connection_timeout(Duration::from_millis(100));
    let client = S3Client::new(&agent_config(&server, options)).unwrap();
    let agent = client.pool().agent().unwrap();
    let origin = Endpoint::parse(server.endpoint()).unwrap().origin().clone();
    // The only socket is taken and never given back while the request waits.
    let held = agent.checkout(&origin).await.unwrap();
    server.reset_metrics();

    let e = client.put_object("bkt", "t/1", body()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let t = e.timeout().unwrap();
    assert_eq!(t.kind, TimeoutKind::Connection { queued: true });
    assert!(t.while_queued());
    assert_eq!(e.outcome().attempts, 3, "a timeout is transient: retried");
    assert_eq!(e.outcome().retries.timeout, 2);
    assert!(e.outcome().socket.is_none());
    assert_eq!(client.retry_quota(), 500 - 2 * 10);
    assert_eq!(agent.stats().connection_timeouts, 3);

    drop(held);
    let ok = client.put_object("bkt", "t/2", body()).await.unwrap();
    assert_eq!(ok.outcome.attempts, 1);
    assert_eq!(client.retry_quota(), 500 - 2 * 10 + 1);
    // The timed-out attempts never reached the server; only the last request did.
    let m = settled(&server, |m| m.count_op(Operation::PutObject) == 1).await;
    assert_eq!(m.count_op(Operation::PutObject), 1);
}

#[tokio::test]
async fn request_timeout_counts_queue_wait_and_throws_when_asked() {
    let server = server();
    let config = agent_config(&server, AgentOptions::sdk_default().max_sockets(1))
        .request_timeout(Duration::from_millis(100), true)
        .retry(RetryConfig::standard().max_attempts(2));
    let client = S3Client::new(&config).unwrap();
    let origin = Endpoint::parse(server.endpoint()).unwrap().origin().clone();
    let held = client
        .pool()
        .agent()
        .unwrap()
        .checkout(&origin)
        .await
        .unwrap();

    let e = client.put_object("bkt", "t/1", body()).await.unwrap_err();
    assert_eq!(
        e.timeout().map(|t| t.kind),
        Some(TimeoutKind::Request { queued: true })
    );
    assert_eq!(e.outcome().attempts, 2);
    assert!(e.outcome().socket.is_none(), "it never got a socket");
    drop(held);
}

#[tokio::test]
async fn request_timeout_only_warns_by_default() {
    let server = server();
    let config = agent_config(&server, AgentOptions::sdk_default().max_sockets(1))
        .request_timeout(Duration::from_millis(50), false);
    let client = S3Client::new(&config).unwrap();
    let origin = Endpoint::parse(server.endpoint()).unwrap().origin().clone();
    let held = client
        .pool()
        .agent()
        .unwrap()
        .checkout(&origin)
        .await
        .unwrap();
    let request = tokio::spawn({
        let client = client.clone();
        async move { client.put_object("bkt", "t/1", body()).await }
    });
    // Wait until the request has waited past its timeout in the queue, then free the socket.
    while client.pool().agent().unwrap().stats().queued_now == 0 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    drop(held);
    let r = request
        .await
        .unwrap()
        .expect("completes despite the timeout");
    assert_eq!(r.outcome.request_timeout_warnings, 1);
    assert_eq!(r.outcome.attempts, 1);
}
