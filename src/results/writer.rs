//! The crash-safe result writer.
//!
//! Invariant: after `create` and after every `append_point`/`set_recommendations` that returned
//! `Ok`, the file at `path` is a complete result file holding every point appended so far.
//! Each update writes the whole document to a temporary file in the same directory, fsyncs it and
//! renames it over `path`; rename(2) within one filesystem is atomic, so a reader (or a run
//! killed at any instant) sees either the previous complete file or the new one, never a mix.
//!
//! Rewriting the whole file per point is O(points²) bytes in total, which is nothing next to the
//! seconds each point takes to measure (a sweep has tens to hundreds of points).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Error, Meta, RunFile};
use crate::analysis::Recommendation;
use crate::metrics::Point;

/// Keeps a result file on disk up to date, point by point.
#[derive(Debug)]
pub struct ResultWriter {
    path: PathBuf,
    run: RunFile,
}

impl ResultWriter {
    /// Creates (or replaces) the result file at `path` with `meta` and no points.
    ///
    /// The parent directory must exist.
    pub fn create(path: impl Into<PathBuf>, meta: Meta) -> Result<ResultWriter, Error> {
        let writer = ResultWriter {
            path: path.into(),
            run: RunFile::new(meta),
        };
        writer.persist()?;
        Ok(writer)
    }

    /// Adds a finished point and rewrites the file.
    ///
    /// A point with a NaN or infinite number is refused (JSON cannot hold it) and the file keeps
    /// its previous content.
    pub fn append_point(&mut self, point: &Point) -> Result<(), Error> {
        if let Some(field) = point.non_finite_field() {
            return Err(Error::NonFinite {
                point: point.label(),
                field,
            });
        }
        self.run.points.push(point.clone());
        if let Err(e) = self.persist() {
            // Keep memory in step with the disk so a retry does not duplicate the point.
            self.run.points.pop();
            return Err(e);
        }
        Ok(())
    }

    /// Replaces point number `slot` (or appends it when `slot` is the number of points) and
    /// rewrites the file: a point measured again (one more repetition) is updated in place.
    ///
    /// # Panics
    ///
    /// If `slot` is beyond the end (more than the number of points).
    pub fn set_point(&mut self, slot: usize, point: &Point) -> Result<(), Error> {
        assert!(
            slot <= self.run.points.len(),
            "slot {slot} is beyond the end"
        );
        if slot == self.run.points.len() {
            return self.append_point(point);
        }
        if let Some(field) = point.non_finite_field() {
            return Err(Error::NonFinite {
                point: point.label(),
                field,
            });
        }
        let previous = std::mem::replace(&mut self.run.points[slot], point.clone());
        if let Err(e) = self.persist() {
            self.run.points[slot] = previous;
            return Err(e);
        }
        Ok(())
    }

    /// Replaces the recommendations and rewrites the file.
    pub fn set_recommendations(&mut self, recommendations: &[Recommendation]) -> Result<(), Error> {
        for r in recommendations {
            let rot = &r.rule_of_thumb;
            if rot.objects_per_s.is_some_and(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    point: recommendation_label(r),
                    field: "rule_of_thumb.objects_per_s",
                });
            }
            if rot.vs_best_pct.is_some_and(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    point: recommendation_label(r),
                    field: "rule_of_thumb.vs_best_pct",
                });
            }
        }
        let previous = std::mem::replace(&mut self.run.recommendations, recommendations.to_vec());
        if let Err(e) = self.persist() {
            self.run.recommendations = previous;
            return Err(e);
        }
        Ok(())
    }

    /// The run as written so far.
    pub fn run(&self) -> &RunFile {
        &self.run
    }

    /// The result file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends writing and returns the run. The file is already complete; this only drops the
    /// writer, so dropping it without calling `finish` (say, on a panic) loses nothing.
    pub fn finish(self) -> RunFile {
        self.run
    }

    /// Writes the whole run to a sibling temporary file, fsyncs it and renames it into place.
    fn persist(&self) -> Result<(), Error> {
        let write_err = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Write { path, source }
        };
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let file_name = self
            .path
            .file_name()
            .map_or_else(|| "result.json".into(), |n| n.to_string_lossy());
        // Same directory so the rename never crosses a filesystem; the pid keeps two runs that
        // (wrongly) target one path from clobbering each other's temporary file.
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));

        let bytes = self.run.to_json_pretty();
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()
        })();
        if let Err(source) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(write_err(&tmp)(source));
        }
        std::fs::rename(&tmp, &self.path).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            write_err(&self.path)(source)
        })?;
        // Make the rename itself durable across a power loss. Some filesystems refuse to fsync a
        // directory; the file is complete either way, so that error is not worth failing a run.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn recommendation_label(r: &Recommendation) -> String {
    format!("recommendation {} batch={}", r.client, r.batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;
    use crate::results::testutil::TempDir;

    #[test]
    fn file_is_complete_after_every_call() {
        let dir = TempDir::new("writer-each");
        let path = dir.path().join("run.json");
        let run = fixtures::small();
        let mut writer = ResultWriter::create(&path, run.meta.clone()).unwrap();
        assert_eq!(RunFile::load(&path).unwrap().points.len(), 0);
        for (i, p) in run.points.iter().enumerate() {
            writer.append_point(p).unwrap();
            let on_disk = RunFile::load(&path).unwrap();
            assert_eq!(on_disk.points, run.points[..=i], "after point {i}");
            assert!(on_disk.recommendations.is_empty());
        }
        writer.set_recommendations(&run.recommendations).unwrap();
        assert_eq!(RunFile::load(&path).unwrap(), run);
        assert_eq!(writer.finish(), run);
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["run.json"]);
    }

    #[test]
    fn set_point_updates_in_place_or_appends() {
        let dir = TempDir::new("writer-set");
        let path = dir.path().join("run.json");
        let run = fixtures::small();
        let mut writer = ResultWriter::create(&path, run.meta.clone()).unwrap();
        writer.set_point(0, &run.points[0]).unwrap();
        writer.set_point(1, &run.points[1]).unwrap();
        let mut again = run.points[0].clone();
        again.repetitions += 1;
        writer.set_point(0, &again).unwrap();
        let on_disk = RunFile::load(&path).unwrap();
        assert_eq!(on_disk.points, [again, run.points[1].clone()]);
    }

    #[test]
    fn dropped_writer_leaves_a_loadable_file() {
        let dir = TempDir::new("writer-crash");
        let path = dir.path().join("run.json");
        let run = fixtures::small();
        let written = 3;
        {
            let mut writer = ResultWriter::create(&path, run.meta.clone()).unwrap();
            for p in &run.points[..written] {
                writer.append_point(p).unwrap();
            }
            // "Crash": the writer goes away without finish() or recommendations.
            drop(writer);
        }
        let on_disk = RunFile::load(&path).unwrap();
        assert_eq!(on_disk.points, run.points[..written]);
        assert_eq!(on_disk.meta, run.meta);
    }

    #[test]
    fn stale_temp_file_from_a_killed_run_does_not_matter() {
        // A kill between write and rename leaves a temporary file; the result file is intact.
        let dir = TempDir::new("writer-kill");
        let path = dir.path().join("run.json");
        let run = fixtures::small();
        let mut writer = ResultWriter::create(&path, run.meta.clone()).unwrap();
        writer.append_point(&run.points[0]).unwrap();
        std::fs::write(
            dir.path()
                .join(format!(".run.json.{}.tmp", std::process::id())),
            b"{\"trunc",
        )
        .unwrap();
        assert_eq!(RunFile::load(&path).unwrap().points.len(), 1);
        writer.append_point(&run.points[1]).unwrap();
        assert_eq!(RunFile::load(&path).unwrap().points.len(), 2);
    }

    #[test]
    fn non_finite_point_is_refused_and_file_unchanged() {
        let dir = TempDir::new("writer-nan");
        let path = dir.path().join("run.json");
        let run = fixtures::small();
        let mut writer = ResultWriter::create(&path, run.meta.clone()).unwrap();
        writer.append_point(&run.points[0]).unwrap();
        let mut bad = run.points[1].clone();
        bad.latency_ms.p99 = f64::NAN;
        let msg = writer.append_point(&bad).unwrap_err().to_string();
        assert!(msg.contains("latency_ms.p99"), "{msg}");
        assert_eq!(RunFile::load(&path).unwrap().points, run.points[..1]);
    }

    #[test]
    fn write_error_names_the_path() {
        let dir = TempDir::new("writer-nodir");
        let path = dir.path().join("missing-dir").join("run.json");
        let msg = ResultWriter::create(&path, fixtures::small().meta)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("missing-dir"), "{msg}");
    }
}
