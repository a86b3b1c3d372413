//! The S3 client: operations, SigV4 signing, credentials, the SDK's standard retry mode and
//! typed errors, over either pool of [`crate::transport`].
//!
//! Invariant: every call returns what happened with its result: an [`Output`] (value and
//! [`Outcome`]) or an [`S3Error`] (typed detail and `Outcome`). Failures during a run are
//! data, counted by [`ErrorKind`], never panics.
//!
//! # Layout
//!
//! - `client`: [`S3Client`] and its retry loop.
//! - `config`: [`ClientConfig`], what a client is built from.
//! - `ops`: one file per operation (PutObject, GetObject, HeadObject, DeleteObject,
//!   ListObjectsV2, CreateBucket).
//! - `signer`: [`Signer`], SigV4 with `aws-sigv4`'s key derivation and HMAC and a per-signer
//!   signing-key cache, as the JS SDK; [`PayloadSigning`].
//! - [`credentials`]: sources (static, environment, container, IMDSv2) and the memoizing
//!   provider.
//! - `retry`: [`RetryConfig`], classification, backoff and the retry quota.
//! - `error`, `xml`: [`S3Error`] (wrapping the transport's errors) and S3's XML error body.
//! - `outcome`, `stats`: per-call [`Outcome`] and per-run [`ClientStats`].

mod client;
mod config;
pub mod credentials;
mod error;
mod ops;
mod outcome;
mod retry;
mod signer;
mod stats;
mod xml;

pub use client::{Output, S3Client};
pub use config::{BuildError, ClientConfig, DEFAULT_EXPECT_CONTINUE_THRESHOLD};
pub use credentials::{Credentials, CredentialsProvider, CredentialsSource};
pub use error::{ErrorDetail, ErrorKind, S3Error, ServiceError};
pub use ops::{
    CommonPrefix, CreateBucketOutput, DeleteObjectOutput, GetObjectOutput, HeadObjectOutput,
    ListObjectsV2Output, ListObjectsV2Request, Object, PutObjectOutput, Verify,
};
pub use outcome::{Op, Outcome, RetryCounts, RetryReason};
pub use retry::RetryConfig;
pub use signer::{PayloadSigning, Signer};
pub use stats::{ClientCounters, ClientStats};
