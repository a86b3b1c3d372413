//! Request authentication: SigV4 header and presigned-URL verification, and `aws-chunked` bodies.
//!
//! [`sigv4::verify`] checks the head of a request the way S3 does (an
//! `Authorization: AWS4-HMAC-SHA256 ...` header or a presigned URL) and tells
//! how the payload is covered ([`PayloadMode`]). The body is the caller's
//! business: for [`PayloadMode::Sha256`] it hashes the body and compares, and
//! for the streaming modes it hands the raw body to [`chunked::decode`]
//! together with the [`ChunkSigner`] that `verify` returned, which checks the
//! chained chunk signatures and strips the `aws-chunked` framing.

pub mod chunked;
pub mod sigv4;

pub use chunked::{ChunkSigner, ChunkedError, Decoded};
pub use sigv4::{AuthError, PayloadMode, SecretLookup, Verified, signing_key, verify};
