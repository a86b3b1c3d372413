//! The guide's shared-handler mode: several clients over one pool and one credentials
//! provider, each with its own retry quota.

use std::num::NonZeroUsize;

use mock_s3::ops::Operation;
use poolsweep::modes::{ClientFactory, ClientMode};
use poolsweep::pool::AgentOptions;

use crate::util::{agent_config, put_batch, server, settled};

#[tokio::test]
async fn shared_handler_clients_share_the_pool_and_credentials_but_not_the_quota() {
    let server = server();
    let config = agent_config(&server, AgentOptions::sdk_default().max_sockets(10));
    let clients = NonZeroUsize::new(3).unwrap();
    let factory = ClientFactory::with_clients(config, ClientMode::SharedHandler, clients).unwrap();
    let (a, b) = (factory.client(0).unwrap(), factory.client(1).unwrap());
    assert!(a.pool().same_as(b.pool()));
    assert!(a.credentials().same_as(b.credentials()));
    assert_eq!(factory.clients_created(), 3);
    assert_eq!(factory.mode().to_string(), "shared-handler");

    server.reset_metrics();
    for batch in 0..3 {
        for r in put_batch(&factory, batch * 100, 100).await {
            r.expect("PUT succeeds");
        }
    }
    let pool = factory.pool_stats();
    assert_eq!(pool.sockets_opened, 10, "one pool for all three clients");
    assert_eq!(factory.client_stats().succeeded, 300);
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 300).await;
    assert_eq!(m.connections_accepted, 10);

    // Quotas are per client: spending one client's leaves the others' alone.
    assert_eq!(a.retry_quota(), 500);
    assert_eq!(factory.client(2).unwrap().retry_quota(), 500);
}
