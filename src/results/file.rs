//! The whole result file, and reading it back with a version check.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Error, Meta};
use crate::analysis::Recommendation;
use crate::metrics::Point;

/// The schema version this build writes and reads.
///
/// Bump it when a field is removed, renamed or changes meaning; readers refuse newer versions
/// with a message saying which one they support. Adding an optional field does not need a bump.
///
/// - 1: poolsweep's own client only.
/// - 2: `sdk` on every point and recommendation (which S3 client was measured), `failure` on
///   every point (why runs could not be measured) and `meta.sdks` (what each client ran).
/// - 3: each run measured as a start-up and a steady window (`startup`; rates and latency are
///   the steady window's, where 1 and 2 timed the whole run of a cold client), the throughput
///   of each repetition (`objects_per_s_by_run`), CPU per request in ns for client and server
///   (`cpu_ns_per_request`, replacing the 10 ms ticks of `cpu_s_per_1k`), a `scenario` label,
///   and recommendations per group (SDK, pool, pattern, op, profile, scenario) with a
///   `verdict`, a `falloff` that may be at Infinity and the costs `beyond_knee`. Versions 1
///   and 2 measured something else, so they are not read: re-run them.
pub const SCHEMA_VERSION: u32 = 3;

/// The oldest schema version this build reads.
pub const OLDEST_READABLE_VERSION: u32 = 3;

/// A result file: one run of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// [`SCHEMA_VERSION`] at the time of writing.
    pub schema_version: u32,
    /// How, where and with what the run was made.
    pub meta: Meta,
    /// Every finished point, in the order measured.
    pub points: Vec<Point>,
    /// The recommendations, once the sweep has computed them (empty until then).
    pub recommendations: Vec<Recommendation>,
}

impl RunFile {
    /// A run with no points yet, at the current [`SCHEMA_VERSION`].
    pub fn new(meta: Meta) -> RunFile {
        RunFile {
            schema_version: SCHEMA_VERSION,
            meta,
            points: Vec::new(),
            recommendations: Vec::new(),
        }
    }

    /// Reads a result file, checking its `schema_version` before anything else so that a file
    /// from a newer poolsweep gets a version message rather than a confusing field error.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let run = poolsweep::results::RunFile::load("results/local/run.json")?;
    /// println!("{} points", run.points.len());
    /// # Ok::<(), poolsweep::results::Error>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<RunFile, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_slice(&bytes, path)
    }

    /// Parses result-file bytes; `path` is only used in error messages.
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<RunFile, Error> {
        let parse_err = |source| Error::Parse {
            path: path.to_owned(),
            source,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(parse_err)?;
        let found = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| Error::MissingVersion {
                path: path.to_owned(),
            })?;
        if !(u64::from(OLDEST_READABLE_VERSION)..=u64::from(SCHEMA_VERSION)).contains(&found) {
            return Err(Error::UnsupportedVersion {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        serde_json::from_value(value).map_err(parse_err)
    }

    /// Serialises the file as pretty-printed JSON with a trailing newline (diff-friendly).
    pub fn to_json_pretty(&self) -> Vec<u8> {
        // Our types only hold string-keyed maps and finite numbers (the writer rejects NaN), so
        // serialisation into memory cannot fail.
        let mut bytes =
            serde_json::to_vec_pretty(self).expect("a RunFile always serialises to JSON");
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;
    use crate::results::testutil::TempDir;

    #[test]
    fn round_trips_through_json() {
        let run = fixtures::realistic();
        let back = RunFile::from_slice(&run.to_json_pretty(), Path::new("mem.json")).unwrap();
        assert_eq!(back, run);
    }

    #[test]
    fn load_names_the_path_and_reason() {
        let dir = TempDir::new("load-errors");
        let missing = dir.path().join("nope.json");
        let msg = RunFile::load(&missing).unwrap_err().to_string();
        assert!(
            msg.contains("nope.json") && msg.contains("cannot read"),
            "{msg}"
        );

        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, "{\"schema_version\": 1, \"meta\": ").unwrap();
        let msg = RunFile::load(&garbage).unwrap_err().to_string();
        assert!(
            msg.contains("garbage.json") && msg.contains("not a valid poolsweep result"),
            "{msg}"
        );

        let not_ours = dir.path().join("other.json");
        std::fs::write(&not_ours, "[1, 2, 3]").unwrap();
        let msg = RunFile::load(&not_ours).unwrap_err().to_string();
        assert!(msg.contains("schema_version"), "{msg}");
    }

    #[test]
    fn newer_schema_version_is_refused_with_the_supported_version() {
        let mut value = serde_json::to_value(fixtures::small()).unwrap();
        value["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
        let bytes = serde_json::to_vec(&value).unwrap();
        let err = RunFile::from_slice(&bytes, Path::new("future.json")).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                Error::UnsupportedVersion {
                    found,
                    supported: SCHEMA_VERSION,
                    ..
                } if found == u64::from(SCHEMA_VERSION) + 1
            ),
            "{msg}"
        );
        assert!(msg.contains("future.json"), "{msg}");
        assert!(
            msg.contains(&format!(
                "reads schema_version {OLDEST_READABLE_VERSION} to {SCHEMA_VERSION}"
            )),
            "{msg}"
        );
        assert!(msg.contains("newer poolsweep"), "{msg}");
    }

    #[test]
    fn an_older_schema_version_is_refused_saying_to_re_run() {
        let mut value = serde_json::to_value(fixtures::small()).unwrap();
        value["schema_version"] = serde_json::json!(2);
        let bytes = serde_json::to_vec(&value).unwrap();
        let msg = RunFile::from_slice(&bytes, Path::new("old.json"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("old.json") && msg.contains("schema_version 2"),
            "{msg}"
        );
        assert!(msg.contains("older poolsweep"), "{msg}");
    }

    #[test]
    fn committed_fixture_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-small.json");
        let run = RunFile::load(&path).unwrap();
        assert!(!run.points.is_empty());
        assert!(
            run.points.iter().any(Point::failed),
            "the fixture must hold a failed point"
        );
    }
}
