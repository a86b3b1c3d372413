//! The comparison pool, hyper-util's legacy client with a semaphore: the same workload as the
//! Agent's shared-client test, counted by the same counters. The semaphore caps requests in
//! flight; it does not cap sockets, and the server agrees with whatever the client counted.

use mock_s3::ops::Operation;
use poolsweep::modes::{ClientFactory, ClientMode};
use poolsweep::s3::ClientConfig;
use poolsweep::transport::{PoolConfig, PoolKind};

use crate::util::{put_batch, server, settled};

#[tokio::test]
async fn hyper_util_pool_caps_in_flight_requests_and_counts_like_the_agent() {
    let server = server();
    let config = ClientConfig::for_mock(&server)
        .unwrap()
        .pool(PoolConfig::hyper_util(10));
    let factory = ClientFactory::new(config, ClientMode::Shared).unwrap();
    assert_eq!(
        factory.client(0).unwrap().pool().kind(),
        PoolKind::HyperUtil
    );
    server.reset_metrics();
    for batch in 0..10 {
        for r in put_batch(&factory, batch * 100, 100).await {
            let r = r.expect("PUT succeeds");
            assert_eq!(r.outcome.attempts, 1);
            assert!(r.outcome.socket.is_some());
        }
    }
    let pool = factory.pool_stats();
    eprintln!("hyper-util pool, 1000 PUTs at cap 10: {pool:?}");
    assert_eq!(pool.requests, 1000);
    assert!(pool.sockets_opened >= 10);
    assert_eq!(pool.tls_full + pool.tls_resumed, pool.sockets_opened);
    // A socket the legacy client opened as the loser of its connect-vs-idle race may never
    // carry a request, so first uses are at most the sockets opened.
    assert!(pool.requests - pool.reused <= pool.sockets_opened);

    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 1000).await;
    assert_eq!(m.connections_accepted, pool.sockets_opened);
    assert_eq!(
        (m.tls_full, m.tls_resumed),
        (pool.tls_full, pool.tls_resumed)
    );
    assert!(
        m.peak_in_flight <= 10,
        "peak in flight {}",
        m.peak_in_flight
    );
}

#[tokio::test]
async fn hyper_util_per_request_clients_each_do_a_full_handshake() {
    let server = server();
    let config = ClientConfig::for_mock(&server)
        .unwrap()
        .pool(PoolConfig::hyper_util(10));
    let factory = ClientFactory::new(config, ClientMode::PerRequest).unwrap();
    server.reset_metrics();
    for r in put_batch(&factory, 0, 100).await {
        r.expect("PUT succeeds");
    }
    let pool = factory.pool_stats();
    assert_eq!(
        (pool.sockets_opened, pool.tls_full, pool.reused),
        (100, 100, 0)
    );
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 100).await;
    assert_eq!((m.connections_accepted, m.tls_full), (100, 100));
}
