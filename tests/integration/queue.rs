//! The Agent's queue, seen through the S3 client: requests waiting at `maxSockets` get the
//! socket in the order they were handed over.

use std::sync::{Arc, Mutex};

use poolsweep::pool::AgentOptions;
use poolsweep::s3::S3Client;

use crate::util::{agent_config, body, server};

#[tokio::test]
async fn requests_queued_at_the_cap_are_served_first_in_first_out() {
    let server = server();
    let client = S3Client::new(&agent_config(
        &server,
        AgentOptions::sdk_default().max_sockets(1),
    ))
    .unwrap();
    let done = Arc::new(Mutex::new(Vec::new()));
    // On the current-thread runtime tasks first run in the order they were spawned, so
    // request i is handed to the agent i-th; the first connects, the others queue.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let r = client.put_object("bkt", &format!("q/{i}"), body()).await;
                done.lock().unwrap().push(i);
                r
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert_eq!(r.outcome.attempts, 1);
    }
    assert_eq!(*done.lock().unwrap(), (0..8).collect::<Vec<_>>());
    let agent = client.pool().agent().unwrap().stats();
    assert_eq!(agent.max_queue_len, 7);
    assert_eq!(agent.queued_checkouts, 7);
    assert_eq!(client.pool_stats().sockets_opened, 1);
}
