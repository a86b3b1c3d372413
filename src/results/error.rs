//! Errors from reading and writing result files; every variant names the file it is about.

use std::io;
use std::path::PathBuf;

/// A result file could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read result file {}: {source}", path.display())]
    Read {
        /// The result file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not JSON, or does not match the result schema.
    #[error("result file {} is not a valid poolsweep result: {source}", path.display())]
    Parse {
        /// The result file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
    /// The file has no usable `schema_version`.
    #[error("result file {} has no integer `schema_version`; is it a poolsweep result file?", path.display())]
    MissingVersion {
        /// The result file.
        path: PathBuf,
    },
    /// The file was written with a schema version this build cannot read.
    #[error(
        "result file {} has schema_version {found}, but this poolsweep reads schema_version {oldest} to {supported}{hint}",
        path.display(),
        oldest = super::file::OLDEST_READABLE_VERSION,
        hint = if *found > u64::from(*supported) {
            " (it was written by a newer poolsweep: upgrade to read it)"
        } else {
            " (it was written by an older poolsweep, which measured differently: re-run it with this one)"
        }
    )]
    UnsupportedVersion {
        /// The result file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// A point holds a NaN or infinite number, which JSON cannot represent.
    #[error("point {point} has a non-finite `{field}`; JSON cannot hold NaN or infinity")]
    NonFinite {
        /// The point, as "client batch=… maxSockets=…".
        point: String,
        /// The offending field, e.g. `latency_ms.p99`.
        field: &'static str,
    },
    /// The file (or its temporary sibling) could not be written.
    #[error("cannot write result file {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}
