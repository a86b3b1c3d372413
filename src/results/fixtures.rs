//! Synthetic result files for tests and the report demo: the model points of
//! [`metrics::fixtures`](crate::metrics::fixtures) with a fixed meta and their recommendations.

use serde_json::{Value, json};

use super::{Meta, RlimitNofile, RunFile};
use crate::metrics::fixtures::{REALISTIC, SMALL, Sweep, points};

/// 20 points: [`SMALL`].
pub(crate) fn small() -> RunFile {
    build(&SMALL)
}

/// 132 points: [`REALISTIC`].
pub(crate) fn realistic() -> RunFile {
    build(&REALISTIC)
}

/// A fixed meta (no machine facts) so fixtures are deterministic.
pub(crate) fn meta(config: Value, nofile_soft: u64) -> Meta {
    Meta {
        git_commit: Some("3f2c9d0e1b7a4c5d6e8f9a0b1c2d3e4f5a6b7c8d".to_owned()),
        git_dirty: Some(false),
        toolchain: Some("rustc 1.95.0 (fixture)".to_owned()),
        os: "linux x86_64 6.1.0-fixture (Debian GNU/Linux 12 (bookworm))".to_owned(),
        cpu_model: Some("Fixture CPU @ 2.20GHz".to_owned()),
        cores: 2,
        rlimit_nofile: Some(RlimitNofile {
            soft: Some(nofile_soft),
            hard: Some(524_288),
        }),
        date: "2026-11-29T10:25:00Z".to_owned(),
        config,
        server_profile: json!({
            "name": "s3-like",
            "latency_ms": {"base": 12, "per_mib": 6},
            "slowdown_above_connections": 256,
            "max_requests_per_connection": 100,
            "idle_timeout_s": 5
        }),
        command_line: ["poolsweep", "sweep", "--profile", "s3-like"]
            .map(str::to_owned)
            .to_vec(),
        tool_version: "0.1.0".to_owned(),
        sdks: [("poolsweep".to_owned(), "poolsweep 0.1.0".to_owned())].into(),
    }
}

fn build(s: &Sweep) -> RunFile {
    let config = json!({
        "clients": s.clients.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "batches": s.batches,
        "max_sockets": s.max_sockets.iter().map(|m| m.map_or(json!("Infinity"), |n| json!(n))).collect::<Vec<_>>(),
        "objects": s.objects,
        "repetitions": s.repetitions,
        "object_size": 262_144,
        "pattern": "batch",
        "op": "put",
    });
    let mut run = RunFile::new(meta(config, s.nofile_soft));
    run.points = points(s);
    run.recommendations = crate::analysis::recommend(&run.points);
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modes::ClientMode;

    #[test]
    fn realistic_has_a_knee_a_falloff_and_failures() {
        let run = realistic();
        assert_eq!(run.points.len(), 3 * 4 * 11);
        let r = run
            .recommendations
            .iter()
            .find(|r| r.client == ClientMode::Shared && r.batch == 1024)
            .unwrap();
        assert!(matches!(r.knee_max_sockets, Some(64..=256)), "{r:?}");
        assert!(r.falloff.is_some(), "{r:?}");
        assert!(run.points.iter().any(|p| p.errors.emfile > 0));
        assert!(run.points.iter().any(|p| p.errors.slowdown > 0));
    }

    /// The committed fixture is what `small()` produces, so tests that read the file and tests
    /// that build the run in code see the same data. After changing `small()`, rewrite the file
    /// with `POOLSWEEP_BLESS=1 cargo test -p poolsweep --lib committed_fixture_is_current`.
    #[test]
    fn committed_fixture_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-small.json");
        let fresh = small().to_json_pretty();
        if std::env::var_os("POOLSWEEP_BLESS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read(&path).unwrap();
        assert!(
            committed == fresh,
            "{} is stale: rerun with POOLSWEEP_BLESS=1",
            path.display()
        );
    }
}
