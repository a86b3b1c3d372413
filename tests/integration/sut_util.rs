//! Helpers for the real-SDK tests: a mock with a metadata listener, and batches of operations
//! through any client under test.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use mock_s3::MockS3;
use poolsweep::sut::OpKind;
use poolsweep::sut::OpReport;
use tokio::task::JoinSet;

/// A mock with bucket `bkt` and its plain-HTTP metadata listener (IMDS).
pub(crate) fn server() -> MockS3 {
    crate::util::start(MockS3::builder().metadata_listener())
}

/// `n` PUTs of `size` bytes in batches of `batch` (`Promise.all` over each batch, as in the
/// guide), operation `i` with key `k/{i}`; the reports in operation order.
pub(crate) async fn put_batches<C, F, Fut>(
    client: &Arc<C>,
    n: u64,
    batch: u64,
    size: usize,
    call: F,
) -> Vec<OpReport>
where
    C: Send + Sync + 'static,
    F: Fn(Arc<C>, u64, OpKind, String, Bytes) -> Fut,
    Fut: Future<Output = OpReport> + Send + 'static,
{
    let body = Bytes::from(vec![0x5a; size]);
    let mut out = vec![OpReport::default(); n as usize];
    let mut first = 0;
    while first < n {
        let mut set = JoinSet::new();
        for i in first..(first + batch).min(n) {
            let fut = call(
                client.clone(),
                i,
                OpKind::Put,
                format!("k/{i}"),
                body.clone(),
            );
            set.spawn(async move { (i, fut.await) });
        }
        while let Some(done) = set.join_next().await {
            let (i, report) = done.expect("no panic");
            out[i as usize] = report;
        }
        first += batch;
    }
    out
}

/// Whether process `pid` is gone (no such process, or a zombie waiting to be reaped).
pub(crate) fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// Waits (at most 10 s) for process `pid` to be gone.
pub(crate) async fn wait_gone(pid: u32) -> bool {
    for _ in 0..1000 {
        if process_gone(pid) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    process_gone(pid)
}
