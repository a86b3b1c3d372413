//! The SDK's standard retry mode against S3 throttling: repeated `503 SlowDown` drains the
//! client's retry quota (cost 5 per throttling retry), after which retryable failures are no
//! longer retried; the server counts every attempt.

use mock_s3::Profile;
use mock_s3::ops::Operation;
use mock_s3::profile::RateLimit;
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{ErrorKind, RetryReason, S3Client};

use crate::util::{agent_config, body, put_many, server, settled};

#[tokio::test]
async fn repeated_slowdown_drains_the_retry_quota_and_retries_stop() {
    let server = server();
    let client = S3Client::new(&agent_config(
        &server,
        AgentOptions::sdk_default().max_sockets(50),
    ))
    .unwrap();
    // Writes: one admitted, then one per 1000 s: every later PUT is answered 503 SlowDown.
    server
        .set_profile(Profile {
            rate_limit: Some(RateLimit {
                read_per_s: 1000.0,
                write_per_s: 0.001,
                prefix_depth: 1,
                burst_s: 1.0,
                ramp: None,
            }),
            ..Profile::ideal()
        })
        .unwrap();
    let first = client.put_object("bkt", "k/first", body()).await.unwrap();
    assert_eq!(first.outcome.attempts, 1);
    assert_eq!(
        client.retry_quota(),
        500,
        "a first-try success refunds 1, capped at 500"
    );
    server.reset_metrics();

    // 100 concurrent PUTs all throttled: 500 tokens pay for exactly 100 retries of cost 5.
    let mut attempts = 0;
    for r in put_many(&client, 100).await {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Service);
        assert_eq!(e.code(), Some("SlowDown"));
        assert_eq!(e.service().unwrap().status, 503);
        assert!(e.service().unwrap().request_id.is_some());
        let o = e.outcome();
        assert!((1..=3).contains(&o.attempts));
        assert_eq!(o.retries.total(), o.retries.get(RetryReason::Throttling));
        attempts += u64::from(o.attempts);
    }
    let stats = client.stats();
    assert_eq!(stats.retries.throttling, 100);
    assert_eq!(attempts, 200);
    assert_eq!(client.retry_quota(), 0);

    // The quota is empty: no more retries at all.
    for r in put_many(&client, 100).await {
        let e = r.unwrap_err();
        assert_eq!(e.code(), Some("SlowDown"));
        assert_eq!(e.outcome().attempts, 1);
        assert!(e.outcome().quota_exhausted);
    }
    let stats = client.stats();
    assert_eq!(stats.retries.throttling, 100);
    assert_eq!(stats.failed_by_kind.get(&ErrorKind::Service), Some(&200));
    assert!(client.retries_denied_by_quota() >= 100);

    let m = settled(&server, |m| m.count(Operation::PutObject, 503) == 300).await;
    assert_eq!(m.count(Operation::PutObject, 503), 300);
    assert_eq!(m.slowdown, 300);
}
