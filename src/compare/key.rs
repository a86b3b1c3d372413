//! The workload key: what a point measured, so a point of one run pairs with the same point of
//! another, and the stable names CI dashboards track it under.
//!
//! Two points with equal keys ran the same workload (S3 client, client mode, pool, pattern,
//! op, batch, maxSockets, server profile, object size and count); everything else in a point
//! is a result. poolsweep's own client keeps the names it had before other SDKs were measured;
//! another SDK's names start with it (`js-v3/shared/agent/...`).

use std::cmp::Ordering;
use std::fmt;

use crate::metrics::{Point, max_sockets_sort_key};
use crate::modes::ClientMode;
use crate::render::format::human_bytes;
use crate::sut::Sdk;
use crate::transport::PoolKind;
use crate::workload::{Op, Pattern};

/// Everything that defines what a point measured.
///
/// Displayed as a full benchmark-style name, `shared/agent/batch/put/b64/ms16/s3-like/256KiB/n200`
/// (see [`WorkloadKey::benchmark_name`] for the short form CI dashboards use).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkloadKey {
    /// The S3 client.
    pub sdk: Sdk,
    /// Client mode.
    pub client: ClientMode,
    /// Pool implementation.
    pub pool: PoolKind,
    /// Request pattern.
    pub pattern: Pattern,
    /// Operation.
    pub op: Op,
    /// Batch size.
    pub batch: u32,
    /// The socket cap; `None` is Infinity.
    pub max_sockets: Option<u32>,
    /// Server profile name.
    pub profile: String,
    /// The sweep's scenario label, if any.
    pub scenario: Option<String>,
    /// Object size in bytes.
    pub object_size: u64,
    /// Objects requested per repetition.
    pub objects: u64,
}

impl WorkloadKey {
    /// The key of `point`.
    pub fn of(point: &Point) -> WorkloadKey {
        WorkloadKey {
            sdk: point.sdk,
            client: point.client,
            pool: point.pool,
            pattern: point.pattern,
            op: point.op,
            batch: point.batch,
            max_sockets: point.max_sockets,
            profile: point.profile.clone(),
            scenario: point.scenario.clone(),
            object_size: point.object_size,
            objects: point.objects,
        }
    }

    /// The sweep axes as a stable benchmark name, `shared/agent/batch/put/b100/ms16`
    /// (`msinf` for Infinity). It leaves out the profile, object size and object count, which
    /// are usually the same for a whole run; [`super::export`] appends them when a run varies
    /// them, so names stay unique.
    pub fn benchmark_name(&self) -> String {
        format!(
            "{}{}/{}/{}/{}/b{}/{}",
            sdk_prefix(self.sdk),
            self.client,
            self.pool,
            self.pattern,
            self.op,
            self.batch,
            ms_segment(self.max_sockets)
        )
    }

    /// The part of the key shared by a whole chart: everything but client, batch and maxSockets.
    pub(crate) fn group(&self) -> GroupKey {
        GroupKey {
            sdk: self.sdk,
            profile: self.profile.clone(),
            scenario: self.scenario.clone(),
            object_size: self.object_size,
            objects: self.objects,
            pool: self.pool,
            pattern: self.pattern,
            op: self.op,
        }
    }

    /// Group first, then client, batch and maxSockets with ∞ after every finite cap.
    fn sort_key(&self) -> (GroupKey, ClientMode, u32, u64) {
        (
            self.group(),
            self.client,
            self.batch,
            max_sockets_sort_key(self.max_sockets),
        )
    }
}

impl Ord for WorkloadKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for WorkloadKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for WorkloadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/n{}",
            self.benchmark_name(),
            profile_segment(&self.profile),
            size_segment(self.object_size),
            self.objects
        )?;
        match &self.scenario {
            Some(s) => write!(f, "/{}", profile_segment(s)),
            None => Ok(()),
        }
    }
}

/// What the points of one chart share: (SDK, profile, object size, objects, pool, pattern,
/// op).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupKey {
    pub(crate) sdk: Sdk,
    pub(crate) profile: String,
    pub(crate) scenario: Option<String>,
    pub(crate) object_size: u64,
    pub(crate) objects: u64,
    pub(crate) pool: PoolKind,
    pub(crate) pattern: Pattern,
    pub(crate) op: Op,
}

impl GroupKey {
    /// "sdk poolsweep · pool agent · pattern batch · op put · profile s3-like · 256 KiB
    /// objects × 200".
    pub(crate) fn title(&self) -> String {
        let t = format!(
            "sdk {} · pool {} · pattern {} · op {} · profile {} · {} objects × {}",
            self.sdk,
            self.pool,
            self.pattern,
            self.op,
            self.profile,
            human_bytes(self.object_size),
            self.objects
        );
        match &self.scenario {
            Some(s) => format!("{s}: {t}"),
            None => t,
        }
    }

    /// A file-name-safe name: "agent-batch-put-s3-like-256kib-n200".
    pub(crate) fn slug(&self) -> String {
        let mut raw = format!(
            "{}{}-{}-{}-{}-{}-n{}",
            sdk_prefix(self.sdk),
            self.pool,
            self.pattern,
            self.op,
            self.profile,
            size_segment(self.object_size),
            self.objects
        );
        if let Some(s) = &self.scenario {
            raw.push('-');
            raw.push_str(s);
        }
        crate::render::slug(&raw)
    }
}

/// "" for poolsweep's own client (its names predate the SDK axis), else "js-v3/".
fn sdk_prefix(sdk: Sdk) -> String {
    match sdk {
        Sdk::Poolsweep => String::new(),
        other => format!("{other}/"),
    }
}

/// "ms16", or "msinf" for Infinity: ASCII, so names survive every dashboard and shell.
fn ms_segment(max_sockets: Option<u32>) -> String {
    max_sockets.map_or_else(|| "msinf".to_owned(), |n| format!("ms{n}"))
}

/// The profile name with `/` replaced, so it stays one segment of a slash-separated name.
pub(crate) fn profile_segment(profile: &str) -> String {
    profile.replace('/', "_")
}

/// "256KiB", "1.5MiB", "100B".
pub(crate) fn size_segment(bytes: u64) -> String {
    human_bytes(bytes).replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;

    #[test]
    fn names_are_stable_ascii_paths() {
        let run = fixtures::small();
        let p = run
            .points
            .iter()
            .find(|p| p.client == ClientMode::Shared && p.batch == 64 && p.max_sockets == Some(16))
            .unwrap();
        let key = WorkloadKey::of(p);
        assert_eq!(key.benchmark_name(), "shared/agent/batch/put/b64/ms16");
        assert_eq!(
            key.to_string(),
            "shared/agent/batch/put/b64/ms16/s3-like/256KiB/n200"
        );
        let inf = WorkloadKey {
            max_sockets: None,
            ..key.clone()
        };
        assert_eq!(inf.benchmark_name(), "shared/agent/batch/put/b64/msinf");
        assert_eq!(key.group().slug(), "agent-batch-put-s3-like-256kib-n200");
        let js = WorkloadKey {
            sdk: Sdk::JsV3,
            ..key.clone()
        };
        assert_eq!(js.benchmark_name(), "js-v3/shared/agent/batch/put/b64/ms16");
        assert_eq!(
            js.group().slug(),
            "js-v3-agent-batch-put-s3-like-256kib-n200"
        );
        assert_ne!(js, key, "another SDK's point never pairs with poolsweep's");
    }

    #[test]
    fn infinity_sorts_after_every_cap() {
        let run = fixtures::small();
        let mut keys: Vec<WorkloadKey> = run.points.iter().map(WorkloadKey::of).collect();
        keys.sort();
        let shared_8: Vec<Option<u32>> = keys
            .iter()
            .filter(|k| k.client == ClientMode::Shared && k.batch == 8)
            .map(|k| k.max_sockets)
            .collect();
        assert_eq!(shared_8, [Some(1), Some(4), Some(16), Some(64), None]);
    }
}
