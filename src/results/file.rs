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
/// - 2: `sdk` on every point and recommendation (which S3 client was measured: a point of
///   another SDK read as version 1 would pass for poolsweep's), `failure` on every point
///   (why runs could not be measured) and `meta.sdks` (what each client ran). Version 1 files are read as version 2: their points
///   and recommendations are poolsweep's, with no failure.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest schema version this build reads (upgrading it on load).
pub const OLDEST_READABLE_VERSION: u32 = 1;

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
        let mut value = value;
        if found == 1 {
            upgrade_from_1(&mut value);
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

/// Version 1 → 2: every point and recommendation was poolsweep's own client's, and no point
/// carried a failure reason.
fn upgrade_from_1(run: &mut serde_json::Value) {
    use serde_json::Value;
    for (list, fields) in [
        (
            "points",
            &[("sdk", Value::from("poolsweep")), ("failure", Value::Null)][..],
        ),
        ("recommendations", &[("sdk", Value::from("poolsweep"))][..]),
    ] {
        let items = run
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten();
        for item in items.filter_map(Value::as_object_mut) {
            for (k, v) in fields {
                item.entry(*k).or_insert_with(|| v.clone());
            }
        }
    }
    if let Some(meta) = run.get_mut("meta").and_then(Value::as_object_mut) {
        meta.entry("sdks").or_insert_with(|| serde_json::json!({}));
    }
    run["schema_version"] = Value::from(SCHEMA_VERSION);
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
                    found: 3,
                    supported: 2,
                    ..
                }
            ),
            "{msg}"
        );
        assert!(msg.contains("future.json"), "{msg}");
        assert!(
            msg.contains(&format!("reads schema_version 1 to {SCHEMA_VERSION}")),
            "{msg}"
        );
        assert!(msg.contains("newer poolsweep"), "{msg}");
    }

    #[test]
    fn a_version_1_file_is_read_as_poolsweeps_points() {
        let run = fixtures::small();
        let mut v1 = serde_json::to_value(&run).unwrap();
        v1["schema_version"] = 1.into();
        for p in v1["points"].as_array_mut().unwrap() {
            let p = p.as_object_mut().unwrap();
            p.remove("sdk");
            p.remove("failure");
        }
        for r in v1["recommendations"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("sdk");
        }
        v1["meta"].as_object_mut().unwrap().remove("sdks");
        let back =
            RunFile::from_slice(&serde_json::to_vec(&v1).unwrap(), Path::new("v1.json")).unwrap();
        let mut expected = run.clone();
        expected.meta.sdks.clear();
        assert_eq!(back, expected, "upgraded to version 2");
        assert_eq!(back.schema_version, SCHEMA_VERSION);
        // The committed baseline CI compares against was written as version 1.
        let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/baseline-quick.json");
        let b = RunFile::load(&baseline).unwrap();
        assert!(b.points.iter().all(|p| p.sdk == crate::sut::Sdk::Poolsweep));
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
