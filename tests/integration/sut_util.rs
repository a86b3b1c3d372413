//! Helpers for the real-SDK tests: a mock with a metadata listener, and batches of operations
//! through any client under test.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use mock_s3::MockS3;
use poolsweep::sut::{ClientUnderTest, OpKind, OpReport, Request, Run, RunReport, RunSettings};
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

/// `n` PUTs of 1 KiB in batches of `batch` in one run of `client` with `settings`, through
/// the seam the sweep uses.
pub(crate) async fn run_puts<C: ClientUnderTest>(
    client: &C,
    settings: &RunSettings,
    n: u64,
    batch: u64,
) -> (Vec<OpReport>, RunReport) {
    let run = Arc::new(client.start(settings).await.expect("start"));
    let reports = put_batches(&run, n, batch, 1024, |r, index, op, key, body| async move {
        r.call(Request {
            index,
            op,
            key,
            body,
        })
        .await
    })
    .await;
    let run = Arc::into_inner(run).expect("no operation left");
    (reports, run.finish().await.expect("finish"))
}

/// Fails with the first operation that failed or was retried.
pub(crate) fn assert_all_ok(reports: &[OpReport]) {
    for (i, r) in reports.iter().enumerate() {
        assert!(
            r.error.is_none(),
            "operation {i}: {:?} {}",
            r.error,
            r.message
        );
        assert_eq!(r.attempts, 1, "operation {i}");
    }
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

/// Waits for process `pid` to be gone (false only after the hang guard).
pub(crate) async fn wait_gone(pid: u32) -> bool {
    crate::util::eventually(|| process_gone(pid)).await
}
