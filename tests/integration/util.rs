//! Test helpers: a mock per test, client configs for it, batches of concurrent PUTs, and a
//! bounded wait for server counters that are bumped just after a response is written.

use std::time::Duration;

use bytes::Bytes;
use mock_s3::{MetricsSnapshot, MockS3};
use poolsweep::modes::ClientFactory;
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{ClientConfig, Output, PutObjectOutput, S3Client, S3Error};
use poolsweep::transport::PoolConfig;

/// A mock with a bucket `bkt`, on two server threads.
pub(crate) fn server() -> MockS3 {
    start(MockS3::builder())
}

/// Starts `builder` with two server threads and creates bucket `bkt`.
pub(crate) fn start(builder: mock_s3::MockS3Builder) -> MockS3 {
    let server = builder.worker_threads(2).start().expect("mock starts");
    server.create_bucket("bkt").expect("bucket");
    server
}

/// A config for `server` with the SDK's own agent and these options.
pub(crate) fn agent_config(server: &MockS3, options: AgentOptions) -> ClientConfig {
    ClientConfig::for_mock(server)
        .expect("config")
        .pool(PoolConfig::agent(options))
}

/// A 1 KiB body.
pub(crate) fn body() -> Bytes {
    Bytes::from(vec![b'x'; 1024])
}

/// Runs `n` PUTs at once, request `i` on `factory.client(first + i)`, and returns the results
/// in request order.
pub(crate) async fn put_batch(
    factory: &ClientFactory,
    first: usize,
    n: usize,
) -> Vec<Result<Output<PutObjectOutput>, S3Error>> {
    let tasks: Vec<_> = (first..first + n)
        .map(|i| {
            let client = factory.client(i).expect("client");
            tokio::spawn(async move { client.put_object("bkt", &format!("k/{i}"), body()).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("no panic"));
    }
    out
}

/// Runs `n` PUTs at once on one client.
pub(crate) async fn put_many(
    client: &S3Client,
    n: usize,
) -> Vec<Result<Output<PutObjectOutput>, S3Error>> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.put_object("bkt", &format!("k/{i}"), body()).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("no panic"));
    }
    out
}

/// How long a test waits for something that happens at any speed (a counter catching up, a
/// close reaching the client, a child process stopping) before it calls it a hang. Not a
/// speed bound: nothing waited for takes more than a fraction of it on a busy machine.
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(120);

/// Polls `check` every 10 ms until it holds; false only after [`HANG_GUARD`].
pub(crate) async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

/// The server's counters once `done` holds (they are bumped right after a response is
/// written, so the client can see its last response first), or after [`HANG_GUARD`] what
/// they are then, for the caller's assertions to show the difference.
pub(crate) async fn settled(
    server: &MockS3,
    done: impl Fn(&MetricsSnapshot) -> bool,
) -> MetricsSnapshot {
    eventually(|| done(&server.metrics())).await;
    server.metrics()
}
