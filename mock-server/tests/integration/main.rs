//! Integration tests of the mock endpoint, driven by the real AWS SDK for Rust and by raw
//! HTTP/TLS where an SDK would refuse to send what we need to test.

/// Test helpers: a server per test, an SDK client that trusts its CA, a raw HTTPS client.
mod util;

/// Every S3 operation through `aws-sdk-s3` with its default checksum settings.
mod sdk_ops;

/// Each S3 error code the mock promises, with status and XML body.
mod errors;

/// Bodies as SDKs send them: signed chunks, unsigned chunks with trailers, 100-continue,
/// presigned URLs.
mod bodies;

/// Every x-amz-content-sha256 value × Content-Encoding × framing: verified or refused, and
/// nothing stored on refusal.
mod payload_modes;

/// HTTP/1.1 chunked uploads as boto3 and the JS SDK send them, the framings S3 refuses, and
/// bad chunked input.
mod framing;

/// The memory cap bounds bodies before they are read, in flight and in RSS; the accounting
/// stays exact under storms of concurrent writes.
mod memory_cap;

/// S3's input limits: key length, CompleteMultipartUpload's schema, DeleteObjects' integrity
/// header, Content-Length values that are not numbers.
mod input_limits;

/// Malformed input never crashes the server or corrupts stored data.
mod bad_input;

/// Each profile knob proved by counts: connections, idle close, max requests, rate limits,
/// the connection gate, faults at their probability, stalled uploads, the admin API.
mod profile;

/// The credential endpoints with the AWS SDK's own IMDS provider.
mod credentials;

/// One reset puts the server back as it started: same SlowDown and fault counts for two
/// identical runs, connections from before closed, the gate free, the admin API's reset.
mod reset;
