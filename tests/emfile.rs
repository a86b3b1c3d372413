//! File-descriptor exhaustion (aws-sdk-js-v3#1959, #4345): with the soft `RLIMIT_NOFILE`
//! lowered, new sockets fail with EMFILE, the client reports that as its own error kind
//! (not as a generic I/O or connect error), and nothing panics, in the client or in the
//! embedded server. The limit is per process, so this is a test binary of its own with a
//! single test; the limit is restored before the test ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mock_s3::MockS3;
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{ClientConfig, ErrorKind, RetryConfig, S3Client};
use poolsweep::transport::PoolConfig;
use rlimit::Resource;

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

#[test]
fn emfile_is_its_own_error_kind_and_nothing_panics() {
    let panics = Arc::new(AtomicUsize::new(0));
    let hook = std::panic::take_hook();
    std::panic::set_hook({
        let panics = Arc::clone(&panics);
        Box::new(move |info| {
            panics.fetch_add(1, Ordering::SeqCst);
            hook(info);
        })
    });

    let server = MockS3::builder()
        .worker_threads(1)
        .start()
        .expect("mock starts");
    server.create_bucket("bkt").expect("bucket");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // maxSockets Infinity: every concurrent request wants its own socket, as with the SDK's
    // old default. A throwing request timeout bounds requests whose connection sits in the
    // server's backlog while the server cannot accept it for lack of descriptors.
    let config = ClientConfig::for_mock(&server)
        .expect("config")
        .pool(PoolConfig::agent(
            AgentOptions::sdk_default().max_sockets(0),
        ))
        .request_timeout(Duration::from_secs(2), true)
        .retry(RetryConfig::disabled());
    let client = S3Client::new(&config).expect("client");
    let body = Bytes::from_static(b"x");
    runtime
        .block_on(client.put_object("bkt", "warm", body.clone()))
        .expect("a request before the limit is lowered");

    let (soft, hard) = Resource::NOFILE.get().expect("getrlimit");
    let lowered = open_fds() + 24;
    Resource::NOFILE
        .set(lowered, hard)
        .expect("lowering the soft limit");
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let client = client.clone();
                let body = body.clone();
                tokio::spawn(async move { client.put_object("bkt", &format!("k/{i}"), body).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await);
        }
        out
    });
    Resource::NOFILE
        .set(soft, hard)
        .expect("restoring the soft limit");

    let mut by_kind = std::collections::BTreeMap::new();
    for r in results {
        let r = r.expect("no task panicked");
        let key = match &r {
            Ok(_) => None,
            Err(e) => Some(e.kind()),
        };
        *by_kind.entry(key).or_insert(0u64) += 1;
        if let Err(e) = r
            && e.is_fd_exhausted()
        {
            assert!(e.to_string().contains("too many open files"), "{e}");
            assert_eq!(e.outcome().attempts, 1, "EMFILE is not retried");
        }
    }
    eprintln!("soft limit {lowered}: outcomes by error kind {by_kind:?}");
    let emfile = by_kind
        .get(&Some(ErrorKind::FileDescriptorsExhausted))
        .copied()
        .unwrap_or(0);
    assert!(emfile > 0, "{by_kind:?}");
    for kind in by_kind.keys().flatten() {
        assert!(
            matches!(
                kind,
                ErrorKind::FileDescriptorsExhausted
                    | ErrorKind::Timeout
                    | ErrorKind::Connect
                    | ErrorKind::Connection
            ),
            "unexpected failure kind {kind:?}: {by_kind:?}"
        );
    }
    let pool = client.pool_stats();
    assert_eq!(pool.connect_errors_fd_exhausted, emfile);
    assert_eq!(
        client
            .stats()
            .failed_by_kind
            .get(&ErrorKind::FileDescriptorsExhausted),
        Some(&emfile)
    );

    // With the limit back, the same client and server work again.
    runtime
        .block_on(client.put_object("bkt", "after", body))
        .expect("a request after the limit is restored");
    drop(client);
    server.shutdown();
    assert_eq!(panics.load(Ordering::SeqCst), 0, "something panicked");
}
