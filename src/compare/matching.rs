//! Pairs the points of two runs by [`WorkloadKey`], or explains why they cannot be paired.
//!
//! Only identical point sets are compared: a point without a counterpart could hide a
//! regression (a run that stopped early "loses" its slow points), so a partial overlap is an
//! error that lists what is missing, not a smaller comparison.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{CompareError, Difference, Side};
use super::key::WorkloadKey;
use crate::metrics::{Point, display_max_sockets, max_sockets_sort_key};
use crate::render::format::human_bytes;
use crate::results::RunFile;

/// The points of both runs, paired and sorted by workload key.
pub(crate) fn pair<'a>(
    base: &'a RunFile,
    new: &'a RunFile,
) -> Result<Vec<(&'a Point, &'a Point)>, CompareError> {
    let b = index(base, Side::Base)?;
    let n = index(new, Side::New)?;

    let workload = differences(&base.points, &new.points, &WORKLOAD_FIELDS);
    if !workload.is_empty() {
        return Err(CompareError::WorkloadDiffers {
            differences: workload,
        });
    }
    let only_in_base: Vec<String> = b
        .keys()
        .filter(|k| !n.contains_key(*k))
        .map(ToString::to_string)
        .collect();
    let only_in_new: Vec<String> = n
        .keys()
        .filter(|k| !b.contains_key(*k))
        .map(ToString::to_string)
        .collect();
    if only_in_base.is_empty() && only_in_new.is_empty() {
        return Ok(b.into_iter().map(|(k, bp)| (bp, n[&k])).collect());
    }
    let differences = differences(&base.points, &new.points, &AXIS_FIELDS);
    if only_in_base.len() == b.len() {
        Err(CompareError::NoCommonPoints { differences })
    } else {
        Err(CompareError::DifferentPoints {
            only_in_base,
            only_in_new,
            differences,
        })
    }
}

/// The run's points by key; an empty run or a repeated key is an error.
fn index(run: &RunFile, side: Side) -> Result<BTreeMap<WorkloadKey, &Point>, CompareError> {
    if run.points.is_empty() {
        return Err(CompareError::NoPoints { side });
    }
    let mut map = BTreeMap::new();
    for p in &run.points {
        let key = WorkloadKey::of(p);
        if map.contains_key(&key) {
            return Err(CompareError::DuplicatePoint {
                side,
                point: key.to_string(),
            });
        }
        map.insert(key, p);
    }
    Ok(map)
}

/// A dimension of the workload key: its name and how to show (and sort) a point's value.
type Field = (&'static str, fn(&Point) -> (u64, String));

/// Dimensions that describe the workload as a whole: runs differing here measured different
/// things, whatever their sweep axes.
const WORKLOAD_FIELDS: [Field; 3] = [
    ("profile", |p| (0, p.profile.clone())),
    ("object size", |p| {
        (p.object_size, human_bytes(p.object_size))
    }),
    ("objects per repetition", |p| {
        (p.objects, p.objects.to_string())
    }),
];

/// The sweep axes.
const AXIS_FIELDS: [Field; 6] = [
    ("client", |p| (p.client as u64, p.client.to_string())),
    ("pool", |p| (p.pool as u64, p.pool.to_string())),
    ("pattern", |p| (p.pattern as u64, p.pattern.to_string())),
    ("op", |p| (p.op as u64, p.op.to_string())),
    ("batch", |p| (u64::from(p.batch), p.batch.to_string())),
    ("maxSockets", |p| {
        (
            max_sockets_sort_key(p.max_sockets),
            display_max_sockets(p.max_sockets).to_string(),
        )
    }),
];

/// The fields whose sets of values differ between the two runs.
fn differences(base: &[Point], new: &[Point], fields: &[Field]) -> Vec<Difference> {
    fields
        .iter()
        .filter_map(|(field, value)| {
            let set = |ps: &[Point]| -> BTreeSet<(u64, String)> { ps.iter().map(value).collect() };
            let (b, n) = (set(base), set(new));
            (b != n).then(|| Difference {
                field,
                base: b.into_iter().map(|(_, s)| s).collect(),
                new: n.into_iter().map(|(_, s)| s).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;

    #[test]
    fn identical_runs_pair_every_point() {
        let run = fixtures::small();
        let pairs = pair(&run, &run).unwrap();
        assert_eq!(pairs.len(), run.points.len());
        assert!(pairs.iter().all(|(b, n)| std::ptr::eq(*b, *n)));
    }

    #[test]
    fn file_order_does_not_matter() {
        let base = fixtures::small();
        let mut new = base.clone();
        new.points.reverse();
        let pairs = pair(&base, &new).unwrap();
        assert!(pairs.iter().all(|(b, n)| b == n));
    }

    #[test]
    fn a_different_profile_is_named() {
        let base = fixtures::small();
        let mut new = base.clone();
        for p in &mut new.points {
            p.profile = "ideal".to_owned();
        }
        let err = pair(&base, &new).unwrap_err();
        assert!(
            matches!(err, CompareError::WorkloadDiffers { .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "cannot compare: the runs measured different workloads: \
             profile is s3-like in base but ideal in new"
        );
    }

    #[test]
    fn a_different_object_size_is_named() {
        let base = fixtures::small();
        let mut new = base.clone();
        for p in &mut new.points {
            p.object_size = 1 << 20;
        }
        let msg = pair(&base, &new).unwrap_err().to_string();
        assert!(
            msg.contains("object size is 256 KiB in base but 1 MiB in new"),
            "{msg}"
        );
    }

    #[test]
    fn disjoint_axes_mean_no_common_points() {
        let base = fixtures::small();
        let mut new = base.clone();
        for p in &mut new.points {
            p.batch *= 2;
        }
        let err = pair(&base, &new).unwrap_err();
        assert!(
            matches!(err, CompareError::NoCommonPoints { .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("batch is 8, 64 in base but 16, 128 in new"),
            "{msg}"
        );
    }

    #[test]
    fn missing_points_are_listed_with_a_hint() {
        let base = fixtures::small();
        let mut new = base.clone();
        new.points.retain(|p| p.max_sockets.is_some());
        let err = pair(&base, &new).unwrap_err();
        let CompareError::DifferentPoints {
            only_in_base,
            only_in_new,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!((only_in_base.len(), only_in_new.len()), (4, 0));
        let msg = err.to_string();
        assert!(
            msg.contains("4 only in base (shared/agent/batch/put/b8/msinf/s3-like/256KiB/n200, "),
            "{msg}"
        );
        assert!(msg.contains("and 1 more"), "{msg}");
        assert!(
            msg.contains("maxSockets is 1, 4, 16, 64, ∞ in base but 1, 4, 16, 64 in new"),
            "{msg}"
        );
        assert!(msg.contains("did the new run stop early"), "{msg}");
    }

    #[test]
    fn empty_and_duplicated_runs_are_refused() {
        let base = fixtures::small();
        let mut empty = base.clone();
        empty.points.clear();
        let msg = pair(&base, &empty).unwrap_err().to_string();
        assert!(msg.contains("the new run has no points"), "{msg}");

        let mut dup = base.clone();
        dup.points.push(dup.points[0].clone());
        let err = pair(&dup, &base).unwrap_err();
        assert!(
            matches!(
                err,
                CompareError::DuplicatePoint {
                    side: Side::Base,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
