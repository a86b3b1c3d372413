//! Socket counts of the Agent pool per client mode and keep-alive setting, as the pool counts
//! them and as the server counts them.

use std::time::Duration;

use mock_s3::MockS3;
use mock_s3::ops::Operation;
use poolsweep::modes::{ClientFactory, ClientMode};
use poolsweep::pool::{AgentOptions, Scheduling};
use poolsweep::s3::S3Client;

use crate::util::{agent_config, body, eventually, put_batch, put_many, server, settled, start};

#[tokio::test]
async fn shared_client_opens_max_sockets_once_and_reuses_them() {
    let server = server();
    let config = agent_config(&server, AgentOptions::sdk_default().max_sockets(10));
    let factory = ClientFactory::new(config, ClientMode::Shared).unwrap();
    server.reset_metrics();
    for batch in 0..10 {
        for r in put_batch(&factory, batch * 100, 100).await {
            let r = r.expect("PUT succeeds");
            assert_eq!(r.outcome.attempts, 1);
        }
    }
    let pool = factory.pool_stats();
    assert_eq!(pool.sockets_opened, 10);
    assert_eq!((pool.tls_full, pool.tls_resumed), (10, 0));
    assert_eq!(pool.peak_open, 10);
    assert_eq!((pool.requests, pool.reused), (1000, 990));
    let agent = factory.client(0).unwrap().pool().agent().unwrap().stats();
    assert_eq!((agent.sockets_created, agent.peak_open), (10, 10));
    assert_eq!(factory.clients_created(), 1);

    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 1000).await;
    assert_eq!(m.connections_accepted, 10);
    assert_eq!((m.tls_full, m.tls_resumed), (10, 0));
    assert_eq!(m.count(Operation::PutObject, 200), 1000);
}

#[tokio::test]
async fn per_request_clients_open_a_socket_and_do_a_full_handshake_each() {
    let server = server();
    let config = agent_config(&server, AgentOptions::sdk_default().max_sockets(10));
    let factory = ClientFactory::new(config, ClientMode::PerRequest).unwrap();
    server.reset_metrics();
    let requests = 1000;
    for batch in 0..requests / 100 {
        for r in put_batch(&factory, batch * 100, 100).await {
            let r = r.expect("PUT succeeds");
            let socket = r.outcome.socket.unwrap();
            assert!(!socket.reused, "a new client has no socket to reuse");
        }
    }
    let n = requests as u64;
    assert_eq!(factory.clients_created(), n);
    let pool = factory.pool_stats();
    assert_eq!(pool.sockets_opened, n);
    assert_eq!(
        (pool.tls_full, pool.tls_resumed),
        (n, 0),
        "no session cache to resume from"
    );
    assert_eq!(pool.reused, 0);

    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == n).await;
    assert_eq!(m.connections_accepted, n);
    assert_eq!((m.tls_full, m.tls_resumed), (n, 0));
}

#[tokio::test]
async fn keep_alive_false_with_finite_max_sockets_reuses_sockets_for_queued_requests() {
    let server = server();
    let options = AgentOptions::node_default()
        .keep_alive(false)
        .max_sockets(5);
    let client = S3Client::new(&agent_config(&server, options)).unwrap();
    let agent = client.pool().agent().unwrap();
    assert_eq!(agent.connection_header(), "keep-alive");
    server.reset_metrics();
    for r in put_many(&client, 100).await {
        r.expect("PUT succeeds");
    }
    let pool = client.pool_stats();
    assert_eq!(pool.sockets_opened, 5);
    assert_eq!(pool.reused, 95);
    let stats = agent.stats();
    assert_eq!(stats.sockets_created, 5);
    assert_eq!(
        stats.closed.not_kept, 5,
        "keepAlive false: closed once the queue is empty"
    );
    assert_eq!(stats.idle_now, 0);
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 100).await;
    assert_eq!(m.connections_accepted, 5);
}

#[tokio::test]
async fn keep_alive_false_with_infinite_max_sockets_opens_a_connection_per_request() {
    let server = server();
    let options = AgentOptions::node_default()
        .keep_alive(false)
        .max_sockets(0);
    let client = S3Client::new(&agent_config(&server, options)).unwrap();
    let agent = client.pool().agent().unwrap();
    assert_eq!(agent.connection_header(), "close");
    server.reset_metrics();
    for i in 0..20 {
        let r = client
            .put_object("bkt", &format!("s/{i}"), body())
            .await
            .unwrap();
        assert!(!r.outcome.socket.unwrap().reused);
    }
    for r in put_many(&client, 30).await {
        r.expect("PUT succeeds");
    }
    let pool = client.pool_stats();
    assert_eq!(pool.sockets_opened, 50);
    assert_eq!(pool.reused, 0);
    assert_eq!(agent.stats().closed.connection_close, 50);
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 50).await;
    assert_eq!(m.connections_accepted, 50);
    // One agent, one session cache: the server saw the same full/resumed split.
    assert_eq!(pool.tls_full + pool.tls_resumed, 50);
    assert_eq!(
        (m.tls_full, m.tls_resumed),
        (pool.tls_full, pool.tls_resumed)
    );
}

async fn socket_order(server: &MockS3, scheduling: Scheduling) -> Vec<u64> {
    let options = AgentOptions::sdk_default()
        .max_sockets(3)
        .scheduling(scheduling);
    let client = S3Client::new(&agent_config(server, options)).unwrap();
    for r in put_many(&client, 3).await {
        r.unwrap();
    }
    assert_eq!(client.pool_stats().sockets_opened, 3);
    let mut order = Vec::new();
    for i in 0..6 {
        let r = client
            .put_object("bkt", &format!("o/{i}"), body())
            .await
            .unwrap();
        order.push(r.outcome.socket.unwrap().id);
    }
    assert_eq!(client.pool_stats().sockets_opened, 3);
    order
}

#[tokio::test]
async fn lifo_reuses_the_last_freed_socket_and_fifo_rotates() {
    let server = server();
    let lifo = socket_order(&server, Scheduling::Lifo).await;
    assert!(lifo.iter().all(|&id| id == lifo[0]), "lifo: {lifo:?}");

    let fifo = socket_order(&server, Scheduling::Fifo).await;
    let mut distinct = fifo.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "fifo: {fifo:?}");
    assert_eq!(
        fifo[..3],
        fifo[3..],
        "fifo cycles through the free list: {fifo:?}"
    );
}

#[tokio::test]
async fn server_idle_close_means_a_new_socket_and_no_failed_request() {
    let server = start(MockS3::builder().header_timeout(Duration::from_millis(300)));
    let client = S3Client::new(&agent_config(
        &server,
        AgentOptions::sdk_default().max_sockets(4),
    ))
    .unwrap();
    server.reset_metrics();
    for r in put_many(&client, 4).await {
        assert_eq!(r.unwrap().outcome.attempts, 1);
    }
    assert_eq!(client.pool_stats().sockets_opened, 4);
    // Past the server's idle timeout: it closes all four.
    let m = settled(&server, |m| m.closed_idle == 4).await;
    assert_eq!(m.closed_idle, 4);
    // The agent drops each closed socket from its free list when the close reaches it (Node's
    // 'close' -> removeSocket); wait for that, not for a time, before the next requests.
    let agent = client.pool().agent().unwrap();
    assert!(
        eventually(|| agent.stats().idle_now == 0).await,
        "the four closes reached the agent: {:?}",
        agent.stats()
    );

    for r in put_many(&client, 4).await {
        let r = r.expect("no request fails");
        assert_eq!(r.outcome.attempts, 1);
        assert!(!r.outcome.socket.unwrap().reused);
    }
    let pool = client.pool_stats();
    assert_eq!(pool.sockets_opened, 8);
    assert_eq!(client.stats().retries.total(), 0);
    assert_eq!(agent.stats().closed.server_closed_idle, 4);
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 8).await;
    assert_eq!(m.connections_accepted, 8);
}
