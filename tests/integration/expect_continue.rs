//! `Expect: 100-continue` for bodies of 2 MiB and more: on the SDK's own agent the request
//! goes on a brand-new connection outside the pool (full handshake, closed after), and the
//! body waits for `100 Continue`; on an agent the caller supplied, or on the hyper-util pool,
//! it is pooled and the body is sent at once.

use bytes::Bytes;
use mock_s3::ops::Operation;
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{S3Client, Verify};
use poolsweep::transport::ContinueWait;
use poolsweep::transport::PoolConfig;

use crate::util::{body, server, settled};

fn big() -> Bytes {
    Bytes::from(vec![7u8; 2 * 1024 * 1024])
}

#[tokio::test]
async fn sdk_owned_agent_sends_large_bodies_on_fresh_unpooled_connections() {
    let server = server();
    let config = poolsweep::s3::ClientConfig::for_mock(&server)
        .unwrap()
        .pool(PoolConfig::agent(
            AgentOptions::sdk_default().max_sockets(2),
        ));
    let client = S3Client::new(&config).unwrap();
    server.reset_metrics();
    for i in 0..3 {
        let r = client
            .put_object("bkt", &format!("big/{i}"), big())
            .await
            .unwrap();
        assert_eq!(r.outcome.expect_continue, Some(ContinueWait::Continue));
        let socket = r.outcome.socket.unwrap();
        assert!(socket.unpooled && !socket.reused);
    }
    let small = client.put_object("bkt", "small", body()).await.unwrap();
    assert_eq!(small.outcome.expect_continue, None);
    assert!(!small.outcome.socket.unwrap().unpooled);

    let pool = client.pool_stats();
    assert_eq!((pool.sockets_opened, pool.unpooled_opened), (4, 3));
    assert_eq!(
        pool.tls_full, 4,
        "a brand-new agent has no session to resume"
    );
    assert_eq!(
        pool.open_now, 1,
        "the unpooled connections closed after their request"
    );
    assert_eq!(client.pool().agent().unwrap().stats().sockets_created, 1);
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 4).await;
    assert_eq!(m.connections_accepted, 4);
    assert_eq!(m.tls_full, 4);

    let got = client
        .get_object_verified("bkt", "big/0", Verify::Bytes(big()))
        .await
        .unwrap();
    assert_eq!(got.value.body.len(), 2 * 1024 * 1024);
}

#[tokio::test]
async fn external_agent_and_hyper_util_pool_send_large_bodies_pooled_and_at_once() {
    let server = server();
    for pool in [
        PoolConfig::external_agent(AgentOptions::sdk_default().max_sockets(2)),
        PoolConfig::hyper_util(2),
    ] {
        let config = poolsweep::s3::ClientConfig::for_mock(&server)
            .unwrap()
            .pool(pool);
        let client = S3Client::new(&config).unwrap();
        for i in 0..3 {
            let r = client
                .put_object("bkt", &format!("big/{i}"), big())
                .await
                .unwrap();
            assert_eq!(r.outcome.expect_continue, Some(ContinueWait::Immediate));
            let socket = r.outcome.socket.unwrap();
            assert!(!socket.unpooled);
            assert_eq!(socket.reused, i > 0);
        }
        let pool = client.pool_stats();
        assert_eq!((pool.sockets_opened, pool.unpooled_opened), (1, 0));
    }
}

#[tokio::test]
async fn the_threshold_is_configurable() {
    let server = server();
    let config = poolsweep::s3::ClientConfig::for_mock(&server)
        .unwrap()
        .expect_continue_threshold(Some(1024));
    let client = S3Client::new(&config).unwrap();
    let r = client.put_object("bkt", "k", body()).await.unwrap();
    assert_eq!(r.outcome.expect_continue, Some(ContinueWait::Continue));
    let config = config.expect_continue_threshold(None);
    let client = S3Client::new(&config).unwrap();
    let r = client.put_object("bkt", "k", big()).await.unwrap();
    assert_eq!(r.outcome.expect_continue, None);
}
