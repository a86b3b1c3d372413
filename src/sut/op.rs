//! [`Request`]: one operation a client under test is asked to do.

use bytes::Bytes;

/// The operation of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// PutObject.
    Put,
    /// GetObject (body read fully).
    Get,
}

/// One request to send.
#[derive(Clone, Debug)]
pub struct Request {
    /// Sequence number within the run (a shared-handler client is picked by it).
    pub index: u64,
    /// The operation.
    pub op: OpKind,
    /// Object key.
    pub key: String,
    /// Body for PUTs (a slice of a shared buffer: no copy per request); empty for GETs. A
    /// client in another process sends its length and makes the bytes there.
    pub body: Bytes,
}
