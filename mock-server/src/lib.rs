//! mock-s3: a local S3-compatible endpoint over TLS that real S3 SDKs talk to unchanged.
//!
//! It is the server side of poolsweep's measurements: every curve poolsweep draws comes from
//! traffic to this endpoint, so it speaks S3 as current SDKs send it (SigV4, `aws-chunked`
//! bodies with trailing checksums, `Expect: 100-continue`) and counts exactly what happened
//! (connections, TLS handshakes, requests).
//!
//! # Layout
//!
//! - [`config`]: validated settings ([`Config`]) and their defaults.
//! - [`tls`]: the crypto provider, the generated CA and leaf certificate, the rustls server config.
//! - [`server`]: the accept loop: one function of (listener, TLS config, shutdown).
//! - [`head_timer`]: hyper's header-read timeout on one tokio timer per connection.
//! - [`handle`]: [`MockS3`], the embeddable server on its own runtime threads.
//! - [`metrics`]: exact counters kept in atomics, and the server threads' CPU time.
//! - [`cpu`]: CPU time of a set of threads in nanoseconds (per-thread kernel accounting).
//! - [`profile`]: how the server behaves under load (presets `ideal`, `s3-like`, `congested`).
//! - [`ratelimit`]: S3's per-prefix request-rate limits (lock-free GCRA).
//! - [`reset`]: one reset that puts a running server back as it started (between runs).
//! - [`pace`]: per-connection bandwidth and stalled-upload detection for bodies.
//! - [`credentials`]: container and IMDSv2 credential endpoints.
//! - [`metadata`]: the same endpoints on plain HTTP at EC2's and ECS's paths.
//! - [`auth`]: SigV4 verification and `aws-chunked` decoding.
//! - [`store`]: buckets, objects and multipart uploads, with no global lock.
//! - [`ops`]: one file per S3 operation and the router that picks one.
//! - [`error`]: the one error type, rendered as S3's XML.
//! - [`xml`]: request and response bodies.
//! - [`checksum`]: Content-MD5 and the `x-amz-checksum-*` algorithms.
//! - [`body_md5`]: a body's MD5 (its ETag), hashed once per distinct body on each thread.
//! - [`cli`]: the standalone binary's flags.
//!
//! # Examples
//!
//! ```no_run
//! let server = mock_s3::MockS3::builder().start()?;
//! println!("{} trusts {} bytes of CA PEM", server.endpoint(), server.ca_pem().len());
//! server.shutdown();
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod auth;
pub mod body_md5;
pub mod checksum;
pub mod cli;
pub mod config;
pub mod cpu;
pub mod credentials;
pub mod error;
pub mod handle;
pub mod head_timer;
mod header_value;
pub mod linger;
pub mod metadata;
pub mod metrics;
pub mod ops;
pub mod pace;
pub mod profile;
pub mod ratelimit;
pub mod reset;
pub mod server;
pub mod store;
pub mod tls;
pub mod xml;

pub use config::{Config, KeyType, StorageMode};
pub use handle::{MockS3, MockS3Builder};
pub use metrics::{Metrics, MetricsSnapshot};
pub use profile::Profile;
pub use reset::{ResetOptions, ResetReport};
