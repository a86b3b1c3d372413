//! The S3 client as a workload [`Target`]: each request goes to the client its mode picks
//! (shared, a new one, or one of the shared-handler clients), and its outcome becomes a
//! [`Reply`] with retries by reason and the error class a sweep counts.

use crate::modes::ClientFactory;
use crate::s3::{ErrorKind, Outcome, RetryReason, S3Error};
use crate::workload::{ErrorClass, OpKind, Reply, Request, Target};

/// A client factory serving one bucket.
#[derive(Debug)]
pub struct FactoryTarget {
    /// Hands out clients per mode and keeps their counters.
    pub factory: ClientFactory,
    /// The bucket requests go to.
    pub bucket: String,
}

fn retries(outcome: &Outcome) -> [u32; 4] {
    let r = &outcome.retries;
    [
        r.get(RetryReason::Throttling),
        r.get(RetryReason::ServerError) + r.get(RetryReason::Connection),
        r.get(RetryReason::Timeout),
        0,
    ]
}

/// How a failed call is counted in a result file.
pub fn classify(e: &S3Error) -> ErrorClass {
    if e.is_fd_exhausted() {
        return ErrorClass::Emfile;
    }
    match e.kind() {
        ErrorKind::Timeout => ErrorClass::Timeout,
        ErrorKind::Connection => ErrorClass::Reset,
        ErrorKind::Service if e.code() == Some("SlowDown") => ErrorClass::SlowDown,
        _ => ErrorClass::Other,
    }
}

impl Target for FactoryTarget {
    async fn call(&self, request: Request) -> Reply {
        let client = match self.factory.client(request.index as usize) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("building a client failed: {e}");
                return Reply {
                    error: Some(ErrorClass::Other),
                    ..Reply::default()
                };
            }
        };
        let result = match request.op {
            OpKind::Put => {
                let bytes = request.body.len() as u64;
                client
                    .put_object(&self.bucket, &request.key, request.body)
                    .await
                    .map(|o| (o.outcome, bytes))
            }
            OpKind::Get => client
                .get_object(&self.bucket, &request.key)
                .await
                .map(|o| (o.outcome, o.value.body.len() as u64)),
        };
        match result {
            Ok((outcome, bytes)) => Reply {
                bytes,
                socket_wait: outcome.socket_wait,
                error: None,
                retries: retries(&outcome),
            },
            Err(e) => {
                let outcome = e.outcome();
                Reply {
                    bytes: 0,
                    socket_wait: outcome.socket_wait,
                    error: Some(classify(&e)),
                    retries: retries(outcome),
                }
            }
        }
    }
}
