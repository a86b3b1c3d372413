//! Exports of one result file for CI dashboards that track benchmarks across commits:
//! [Bencher Metric Format] JSON and github-action-benchmark's `customBiggerIsBetter` JSON.
//!
//! Benchmark names are the sweep axes, `shared/agent/batch/put/b100/ms16` (`msinf` for
//! Infinity; a real SDK's start with it, `js-v3/shared/...`; see
//! [`WorkloadKey::benchmark_name`]), so a dashboard keeps one series per point
//! across commits. When a file holds more than one profile, object size or object count, the
//! name gets `/<profile>`, `/<size>` (e.g. `256KiB`) and `/n<objects>` appended for the
//! dimensions that vary, so names stay unique; the single-workload files poolsweep writes get
//! the short names. A file holding two points of the same workload (which poolsweep never
//! writes) exports the first.
//!
//! [Bencher Metric Format]: https://bencher.dev/docs/reference/bencher-metric-format

use std::collections::BTreeMap;

use serde::Serialize;

use super::key::{WorkloadKey, profile_segment, size_segment};
use super::view;
use crate::metrics::Point;
use crate::render::format::human_bytes;
use crate::results::RunFile;

/// Bencher Metric Format: benchmark name → measure → metric.
///
/// Measures: `throughput` (Bencher's built-in measure, operations/s: median objects/s with the
/// slowest and fastest repetition as bounds), and the exact counters `sockets_opened`,
/// `tls_full`, `tls_resumed`, `retries` and `errors` (totals over repetitions).
///
/// # Examples
///
/// ```no_run
/// let run = poolsweep::results::RunFile::load("results/local/run.json")?;
/// std::fs::write("bmf.json", poolsweep::compare::export::bencher(&run))?;
/// // bencher run --file bmf.json --adapter json …
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn bencher(run: &RunFile) -> String {
    let mut out: BTreeMap<String, BTreeMap<&'static str, Metric>> = BTreeMap::new();
    for (name, p) in named_points(run) {
        let count = |v: u64| Metric {
            value: v as f64,
            lower_value: None,
            upper_value: None,
        };
        let measures = BTreeMap::from([
            (
                "throughput",
                Metric {
                    value: p.objects_per_s.median,
                    lower_value: Some(p.objects_per_s.min),
                    upper_value: Some(p.objects_per_s.max),
                },
            ),
            ("sockets_opened", count(p.sockets_opened)),
            ("tls_full", count(p.tls_full)),
            ("tls_resumed", count(p.tls_resumed)),
            ("retries", count(p.retries.total)),
            ("errors", count(p.errors.total.max(p.errors.emfile))),
        ]);
        out.entry(name).or_insert(measures);
    }
    to_json(&out)
}

/// github-action-benchmark's `customBiggerIsBetter` input: one entry per point, median
/// objects/s as the value, `range` as "± r" (r = the larger distance from the median to the
/// slowest or fastest repetition, the form the action parses) and the exact range, counters
/// and workload in `extra` (shown in the chart's tooltip).
///
/// # Examples
///
/// ```no_run
/// let run = poolsweep::results::RunFile::load("results/local/run.json")?;
/// std::fs::write("bench.json", poolsweep::compare::export::github_action_benchmark(&run))?;
/// // - uses: benchmark-action/github-action-benchmark@v1
/// //   with: { tool: customBiggerIsBetter, output-file-path: bench.json }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn github_action_benchmark(run: &RunFile) -> String {
    let mut seen = std::collections::BTreeSet::new();
    let entries: Vec<Entry> = named_points(run)
        .into_iter()
        .filter(|(name, _)| seen.insert(name.clone()))
        .map(|(name, p)| {
            let s = p.objects_per_s;
            let half = (s.median - s.min).max(s.max - s.median).max(0.0);
            let mut extra = format!(
                "min {} – max {} objects/s over {} repetitions; sockets opened {}, TLS full {} / resumed {}, \
                 retries {}, errors {}; profile {}, {} objects × {}",
                view::obj_s(s.min),
                view::obj_s(s.max),
                p.repetitions,
                view::int(p.sockets_opened),
                view::int(p.tls_full),
                view::int(p.tls_resumed),
                view::int(p.retries.total),
                view::int(p.errors.total.max(p.errors.emfile)),
                p.profile,
                human_bytes(p.object_size),
                p.objects
            );
            if p.failed() {
                extra.push_str(&format!("; FAILED: {}", p.failure_summary()));
            }
            Entry {
                name,
                unit: "objects/s",
                value: s.median,
                range: format!("± {}", round3(half)),
                extra,
            }
        })
        .collect();
    to_json(&entries)
}

#[derive(Serialize)]
struct Metric {
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_value: Option<f64>,
}

#[derive(Serialize)]
struct Entry {
    name: String,
    unit: &'static str,
    value: f64,
    range: String,
    extra: String,
}

/// Every point with its export name, in file order.
fn named_points(run: &RunFile) -> Vec<(String, &Point)> {
    let varies = |f: fn(&Point) -> String| {
        let mut v: Vec<String> = run.points.iter().map(f).collect();
        v.sort_unstable();
        v.dedup();
        v.len() > 1
    };
    let profile = varies(|p| p.profile.clone());
    let size = varies(|p| p.object_size.to_string());
    let objects = varies(|p| p.objects.to_string());
    run.points
        .iter()
        .map(|p| {
            let mut name = WorkloadKey::of(p).benchmark_name();
            if profile {
                name = format!("{name}/{}", profile_segment(&p.profile));
            }
            if size {
                name = format!("{name}/{}", size_segment(p.object_size));
            }
            if objects {
                name = format!("{name}/n{}", p.objects);
            }
            (name, p)
        })
        .collect()
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Pretty JSON with a trailing newline. Our values are finite (result files cannot hold NaN or
/// infinity), so serialising into memory cannot fail.
fn to_json(v: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("export values serialise to JSON");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::results::fixtures;

    #[test]
    fn bencher_json_has_every_point_and_measure() {
        let run = fixtures::small();
        let v: Value = serde_json::from_str(&bencher(&run)).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), run.points.len());
        let p = run
            .points
            .iter()
            .find(|p| p.batch == 64 && p.max_sockets == Some(16) && p.client.as_str() == "shared")
            .unwrap();
        let m = &obj["shared/agent/batch/put/b64/ms16"];
        assert_eq!(m["throughput"]["value"], p.objects_per_s.median);
        assert_eq!(m["throughput"]["lower_value"], p.objects_per_s.min);
        assert_eq!(m["throughput"]["upper_value"], p.objects_per_s.max);
        assert_eq!(m["sockets_opened"]["value"], p.sockets_opened as f64);
        for measure in ["tls_full", "tls_resumed", "retries", "errors"] {
            assert!(m[measure]["value"].is_number(), "{measure}");
            assert!(m[measure].get("lower_value").is_none(), "{measure}");
        }
        assert!(obj.contains_key("per-request/agent/batch/put/b8/msinf"));
    }

    #[test]
    fn github_action_benchmark_json_is_bigger_is_better_entries() {
        let run = fixtures::small();
        let v: Value = serde_json::from_str(&github_action_benchmark(&run)).unwrap();
        let entries = v.as_array().unwrap();
        assert_eq!(entries.len(), run.points.len());
        let e = entries
            .iter()
            .find(|e| e["name"] == "shared/agent/batch/put/b8/ms4")
            .unwrap();
        assert_eq!(e["unit"], "objects/s");
        assert!(e["value"].as_f64().unwrap() > 0.0);
        // The action reads `range` with /(\+-|±)\s*(\d.+)/ (src/extractRangeInfo.ts).
        let range = e["range"].as_str().unwrap();
        let r: f64 = range.strip_prefix("± ").unwrap().parse().unwrap();
        assert!(r > 0.0, "{range}");
        assert!(e["extra"].as_str().unwrap().contains("repetitions"));
        let failed = entries
            .iter()
            .find(|e| e["name"] == "per-request/agent/batch/put/b64/ms1")
            .unwrap();
        assert!(
            failed["extra"].as_str().unwrap().contains("FAILED: "),
            "{failed}"
        );
    }

    #[test]
    fn names_qualify_only_the_dimensions_that_vary() {
        let mut run = fixtures::small();
        let n = run.points.len();
        for p in &mut run.points[..n / 2] {
            p.profile = "ideal".to_owned();
        }
        let v: Value = serde_json::from_str(&bencher(&run)).unwrap();
        let names: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(names.len(), n, "names must stay unique");
        assert!(
            names
                .iter()
                .all(|k| k.ends_with("/ideal") || k.ends_with("/s3-like")),
            "{names:?}"
        );
        assert!(names.iter().all(|k| !k.contains("KiB")), "{names:?}");
    }
}
