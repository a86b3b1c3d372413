//! Comparison tests over fixture runs built in code: the verdicts and exit status for identical
//! runs, real and noisy drops, counter changes and mismatched files; then the renderings
//! (terminal alignment, Markdown verdict line and tables, HTML links and both SVG series).

use std::path::Path;

use super::*;
use crate::metrics::Point;
use crate::modes::ClientMode;
use crate::results::testutil::TempDir;
use crate::results::{RunFile, fixtures};

/// The point of `run` at (client, batch, maxSockets).
fn point_mut(run: &mut RunFile, client: ClientMode, batch: u32, ms: Option<u32>) -> &mut Point {
    run.points
        .iter_mut()
        .find(|p| p.client == client && p.batch == batch && p.max_sockets == ms)
        .expect("fixture point")
}

/// Scales a point's throughput (median, min, max, and MB/s alike) by `factor`.
fn scale(p: &mut Point, factor: f64) {
    for s in [&mut p.objects_per_s, &mut p.mb_per_s] {
        s.median *= factor;
        s.min *= factor;
        s.max *= factor;
    }
}

fn regressed_run() -> (RunFile, RunFile) {
    let base = fixtures::small();
    let mut new = base.clone();
    scale(point_mut(&mut new, ClientMode::Shared, 64, Some(16)), 0.7);
    (base, new)
}

fn behaviour_changed_run() -> (RunFile, RunFile) {
    let base = fixtures::small();
    let mut new = base.clone();
    point_mut(&mut new, ClientMode::Shared, 8, Some(4)).sockets_opened += 12;
    (base, new)
}

#[test]
fn identical_runs_are_unchanged_with_exit_0() {
    let run = fixtures::small();
    let cmp = compare(&run, &run, &CompareOptions::default()).unwrap();
    let s = cmp.summary();
    assert_eq!(s.points, run.points.len());
    assert_eq!(s.unchanged, s.points);
    assert_eq!((s.regressed, s.improved, s.behaviour_changes), (0, 0, 0));
    assert_eq!(s.knees_moved, 0);
    assert!(cmp.points.iter().all(|p| !p.changed()));
    assert!(cmp.notes.is_empty(), "{:?}", cmp.notes);
    assert_eq!(cmp.exit_code(), EXIT_OK);
}

#[test]
fn a_drop_beyond_the_noise_is_a_regression_with_exit_1() {
    let (base, new) = regressed_run();
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    let regressed: Vec<&PointComparison> = cmp
        .points
        .iter()
        .filter(|p| p.throughput.verdict == Verdict::Regressed)
        .collect();
    assert_eq!(regressed.len(), 1);
    let p = regressed[0];
    assert_eq!(p.key.benchmark_name(), "shared/agent/batch/put/b64/ms16");
    assert!((p.throughput.change - -0.3).abs() < 1e-9);
    assert!(
        p.throughput.interval.high < 0.0,
        "{:?}",
        p.throughput.interval
    );
    assert!(p.counters.is_empty());
    assert_eq!(cmp.summary().behaviour_changes, 0);
    assert_eq!(cmp.exit_code(), EXIT_REGRESSION);
}

#[test]
fn a_drop_within_the_noise_is_unchanged() {
    let base = fixtures::small();
    // A small drop: ranges overlap.
    let mut small = base.clone();
    scale(
        point_mut(&mut small, ClientMode::Shared, 64, Some(16)),
        0.96,
    );
    let cmp = compare(&base, &small, &CompareOptions::default()).unwrap();
    assert_eq!(cmp.summary().regressed, 0);
    assert_eq!(cmp.exit_code(), EXIT_OK);

    // A drop beyond the threshold whose repetitions still overlap base's: noise, not a regression.
    let mut noisy = base.clone();
    let p = point_mut(&mut noisy, ClientMode::Shared, 64, Some(16));
    scale(p, 0.85);
    p.objects_per_s.max = p.objects_per_s.median * 1.3;
    let cmp = compare(&base, &noisy, &CompareOptions::default()).unwrap();
    let pc = cmp
        .points
        .iter()
        .find(|p| {
            p.key.batch == 64 && p.key.max_sockets == Some(16) && p.key.client == ClientMode::Shared
        })
        .unwrap();
    assert!(pc.throughput.change < -0.10);
    assert!(!pc.throughput.interval.excludes_zero());
    assert_eq!(pc.throughput.verdict, Verdict::Unchanged);
    assert_eq!(cmp.exit_code(), EXIT_OK);
}

#[test]
fn the_threshold_is_configurable() {
    let base = fixtures::small();
    let mut new = base.clone();
    scale(point_mut(&mut new, ClientMode::Shared, 64, Some(16)), 0.7);
    let loose = CompareOptions {
        threshold: 0.5,
        ..CompareOptions::default()
    };
    assert_eq!(compare(&base, &new, &loose).unwrap().exit_code(), EXIT_OK);
    for bad in [-0.1, f64::NAN, f64::INFINITY] {
        let opts = CompareOptions {
            threshold: bad,
            ..CompareOptions::default()
        };
        let err = compare(&base, &new, &opts).unwrap_err();
        assert!(
            matches!(err, CompareError::InvalidThreshold { .. }),
            "{err}"
        );
        assert_eq!(err.exit_code(), EXIT_INCOMPARABLE);
    }
}

#[test]
fn a_changed_socket_count_is_a_behaviour_change_with_exit_1() {
    let (base, new) = behaviour_changed_run();
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    let s = cmp.summary();
    assert_eq!((s.behaviour_changes, s.regressed), (1, 0));
    let p = cmp.points.iter().find(|p| p.behaviour_changed()).unwrap();
    assert_eq!(p.counters.len(), 1);
    assert_eq!(p.counters[0].counter, Counter::SocketsOpened);
    assert_eq!(p.counters[0].new, p.counters[0].base + 12);
    assert_eq!(cmp.exit_code(), EXIT_REGRESSION);
    // Not on the ideal profile: the comparison says counters may be noise there.
    assert!(
        cmp.notes.iter().any(|n| n.contains("strict_counters off")),
        "{:?}",
        cmp.notes
    );
}

#[test]
fn a_point_cut_by_the_time_budget_has_its_counters_listed_not_compared_strictly() {
    // A per-request point that reached fewer objects in time opened fewer sockets: that is
    // the budget, not the client behaving differently.
    let (base, mut new) = behaviour_changed_run();
    let p = point_mut(&mut new, ClientMode::Shared, 8, Some(4));
    p.completed = p.objects - 40;
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    let s = cmp.summary();
    assert_eq!((s.behaviour_changes, s.counter_differences), (0, 1));
    assert_eq!(cmp.exit_code(), EXIT_OK);
    assert!(
        cmp.notes
            .iter()
            .any(|n| n.contains("cut by the time budget")),
        "{:?}",
        cmp.notes
    );
}

#[test]
fn without_strict_counters_differences_are_informational() {
    let (base, new) = behaviour_changed_run();
    let opts = CompareOptions {
        strict_counters: false,
        ..CompareOptions::default()
    };
    let cmp = compare(&base, &new, &opts).unwrap();
    let s = cmp.summary();
    assert_eq!((s.behaviour_changes, s.counter_differences), (0, 1));
    assert_eq!(cmp.exit_code(), EXIT_OK);
    assert!(cmp.to_markdown().contains("ℹ️ sockets_opened"));
}

#[test]
fn report_only_throughput_passes_regressions_but_not_behaviour_changes() {
    let opts = CompareOptions {
        report_only_throughput: true,
        ..CompareOptions::default()
    };
    let (base, new) = regressed_run();
    let cmp = compare(&base, &new, &opts).unwrap();
    assert_eq!(cmp.summary().regressed, 1, "still reported");
    assert_eq!(cmp.exit_code(), EXIT_OK);
    assert!(
        cmp.to_markdown()
            .starts_with("**⚠️ poolsweep compare: throughput regression, reported only** (exit 0)"),
        "{}",
        cmp.to_markdown()
    );

    let (base, mut new) = behaviour_changed_run();
    scale(point_mut(&mut new, ClientMode::Shared, 64, Some(16)), 0.7);
    let cmp = compare(&base, &new, &opts).unwrap();
    assert_eq!(cmp.exit_code(), EXIT_REGRESSION);
}

#[test]
fn mismatched_files_are_errors_with_exit_2_naming_what_differs() {
    let base = fixtures::small();

    let mut other_version = base.clone();
    other_version.schema_version += 1;
    let err = compare(&base, &other_version, &CompareOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), EXIT_INCOMPARABLE);
    assert_eq!(
        err.to_string(),
        format!(
            "cannot compare: base has schema_version {} but new has schema_version {}; \
             re-run the older one with the same poolsweep",
            crate::results::SCHEMA_VERSION,
            crate::results::SCHEMA_VERSION + 1
        )
    );

    let mut other_profile = base.clone();
    for p in &mut other_profile.points {
        p.profile = "ideal".to_owned();
    }
    let err = compare(&base, &other_profile, &CompareOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .contains("profile is s3-like in base but ideal in new"),
        "{err}"
    );

    let mut fewer = base.clone();
    fewer.points.retain(|p| p.batch == 8);
    let err = compare(&base, &fewer, &CompareOptions::default()).unwrap_err();
    assert!(
        matches!(err, CompareError::DifferentPoints { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("10 only in base"), "{msg}");
    assert!(msg.contains("batch is 8, 64 in base but 8 in new"), "{msg}");

    let mut disjoint = base.clone();
    for p in &mut disjoint.points {
        p.op = crate::workload::Op::Get;
    }
    let err = compare(&base, &disjoint, &CompareOptions::default()).unwrap_err();
    assert!(
        matches!(err, CompareError::NoCommonPoints { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("op is put in base but get in new"),
        "{err}"
    );
}

/// Scales every repetition of a point's throughput by `factor` (the knee reads them).
fn scale_runs(p: &mut Point, factor: f64) {
    for v in &mut p.objects_per_s_by_run {
        *v *= factor;
    }
    scale(p, factor);
}

#[test]
fn a_knee_that_moves_beyond_the_noise_is_a_behaviour_change() {
    let base = fixtures::small();
    let knee = |run: &RunFile| {
        crate::analysis::recommend(&run.points)
            .into_iter()
            .find(|r| r.client == ClientMode::Shared && r.batch == 8)
            .unwrap()
            .knee_max_sockets
    };
    assert_eq!(knee(&base), Some(16), "fixture changed");
    // 16 sockets 30 % slower in every round: the knee moves to 64, beyond the noise.
    let mut new = base.clone();
    scale_runs(point_mut(&mut new, ClientMode::Shared, 8, Some(16)), 0.7);
    assert_eq!(knee(&new), Some(64));
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    let s = cmp.summary();
    assert_eq!((s.knees_moved, s.knees_beyond_noise), (1, 1));
    assert_eq!(s.behaviour_changes, 0, "no counter changed");
    assert_eq!(cmp.exit_code(), EXIT_REGRESSION);
    let md = cmp.to_markdown();
    assert!(md.contains("#### Knee moved (1 of "), "{md}");
    assert!(
        md.contains(
            "knee moved for 1 of 3 (client, batch), 1 beyond the noise (a behaviour change)"
        ),
        "{md}"
    );
    assert!(
        md.contains("| +1 step | ∞ → ∞ | ⚠️ beyond the noise (16: "),
        "{md}"
    );
    // 16 is also a throughput regression of its own.
    assert!(
        md.starts_with("**❌ poolsweep compare: regression and behaviour change"),
        "{md}"
    );
    // Read from throughput, so reported only against a baseline from another machine.
    let ci = CompareOptions {
        report_only_throughput: true,
        ..CompareOptions::default()
    };
    let cmp = compare(&base, &new, &ci).unwrap();
    assert_eq!(cmp.exit_code(), EXIT_OK);
    assert!(
        cmp.to_text().contains("1 beyond the noise (report only)"),
        "{}",
        cmp.to_text()
    );
}

#[test]
fn notes_flag_different_machines_and_repetitions() {
    let base = fixtures::small();
    let mut new = base.clone();
    new.meta.cpu_model = Some("Other CPU".to_owned());
    new.meta.cores = 8;
    for p in &mut new.points {
        p.repetitions = 5;
    }
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    assert!(
        cmp.notes.iter().any(|n| n.contains("different machines")
            && n.contains("Other CPU, 8 cores")
            && n.contains("report_only_throughput")),
        "{:?}",
        cmp.notes
    );
    assert!(
        cmp.notes
            .iter()
            .any(|n| n.contains("Repetitions differ (base 3, new 5)")),
        "{:?}",
        cmp.notes
    );
}

#[test]
fn terminal_table_is_aligned() {
    let (base, new) = regressed_run();
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    let text = cmp.to_text();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("poolsweep compare: REGRESSION (exit 1): 1 of 20 points regressed"),
        "{first}"
    );
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("client") && l.contains("base obj/s"))
        .unwrap();
    // The right edge of the right-aligned "change" column is the same on every row.
    let edge = |l: &str| {
        let col = lines[header].find("change").unwrap() + "change".len();
        l.chars()
            .take(lines[header][..col].chars().count())
            .collect::<String>()
    };
    let rows = &lines[header + 1..header + 1 + 20];
    for row in rows {
        let cut = edge(row);
        assert!(
            cut.ends_with('%') || cut.ends_with("change"),
            "{row:?} / {cut:?}"
        );
    }
    assert!(text.contains("−30.0 %"), "{text}");
    assert!(text.contains("regressed"), "{text}");
    assert!(text.contains("knee (recommended maxSockets)"), "{text}");
    assert!(lines.iter().all(|l| !l.ends_with(' ')), "trailing spaces");
}

#[test]
fn markdown_has_the_verdict_line_and_tables() {
    let (base, mut new) = regressed_run();
    point_mut(&mut new, ClientMode::Shared, 8, Some(4)).sockets_opened += 12;
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    let md = cmp.to_markdown();
    let mut lines = md.lines();
    assert_eq!(
        lines.next().unwrap(),
        "**❌ poolsweep compare: regression and behaviour change** (exit 1): 1 of 20 points \
         regressed, 1 behaviour change, 0 improved, 19 unchanged (threshold 10 %, outside the \
         run-to-run range); knee unchanged for all 3 (client, batch)"
    );
    assert!(md.contains("#### Changed points (2)"), "{md}");
    // Regression first, then the behaviour change.
    let regressed = md.find("| 🔴 regressed | shared | 64 | 16 |").unwrap();
    let behaviour = md
        .find("⚠️ behaviour change: sockets_opened")
        .expect("behaviour change row");
    assert!(regressed < behaviour);
    assert!(
        md.contains("<details>\n<summary>All 20 points</summary>\n\n| verdict |"),
        "{md}"
    );
    assert!(md.trim_end().ends_with("</details>"), "{md}");
    // Tables have no blank lines inside: every row follows the previous line directly.
    for table_start in md.match_indices("| verdict |").map(|(i, _)| i) {
        let table: Vec<&str> = md[table_start..]
            .lines()
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert!(table.len() >= 3, "{table:?}");
        let cols = table[0].matches(" | ").count();
        assert!(
            table.iter().all(|r| r.matches('|').count() >= cols),
            "{table:?}"
        );
    }
}

#[test]
fn markdown_for_identical_runs_says_nothing_changed() {
    let run = fixtures::small();
    let md = compare(&run, &run, &CompareOptions::default())
        .unwrap()
        .to_markdown();
    assert!(
        md.starts_with("**✅ poolsweep compare: unchanged** (exit 0)"),
        "{md}"
    );
    assert!(md.contains("No point changed"), "{md}");
    assert!(!md.contains("#### Changed points"), "{md}");
}

#[test]
fn markdown_escapes_text_from_the_files() {
    let mut base = fixtures::small();
    for p in &mut base.points {
        p.profile = "a|b<x>".to_owned();
    }
    let mut new = base.clone();
    new.points[0].sockets_opened += 1;
    let md = compare(&base, &new, &CompareOptions::default())
        .unwrap()
        .to_markdown();
    assert!(md.contains("a\\|b&lt;x&gt;"), "{md}");
    assert!(!md.contains("<x>"), "{md}");
}

/// Undoes minijinja's HTML escaping of attribute values (it writes `/` as `&#x2f;`).
fn html_unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `src="…"` and `href="…"` value in the page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(html_unescape(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

fn assert_links_exist(html: &str, out_dir: &Path) {
    let links = links(html);
    assert!(!links.is_empty());
    for link in links {
        if let Some(anchor) = link.strip_prefix('#') {
            assert!(
                html.contains(&format!("id=\"{anchor}\"")),
                "anchor {link} has no target"
            );
            continue;
        }
        assert!(!link.contains("://"), "external link {link}");
        assert!(
            out_dir.join(&link).is_file(),
            "link {link} points to a missing file"
        );
    }
}

/// The SVG's `<polyline>`s of one stroke colour: their point counts.
fn polylines(svg: &roxmltree::Document<'_>, stroke: &str) -> Vec<usize> {
    svg.descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(stroke))
        .map(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .collect()
}

#[test]
fn html_links_only_written_files_and_the_chart_has_both_series() {
    let out = TempDir::new("compare-html");
    let (base, new) = regressed_run();
    let cmp = compare(&base, &new, &CompareOptions::default()).unwrap();
    let files = cmp.write_html(out.path()).unwrap();
    assert_eq!(files.index, out.path().join("index.html"));
    assert_eq!(files.charts, [out.path().join("throughput.svg")]);
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert_links_exist(&html, out.path());
    assert!(html.contains("src=\"throughput.svg\""));
    assert!(!html.contains("<script"), "the page needs no JavaScript");
    assert!(html.contains("poolsweep compare: regression (exit 1)"));

    let svg_text = std::fs::read_to_string(&files.charts[0]).unwrap();
    let svg = roxmltree::Document::parse(&svg_text).unwrap();
    let texts: Vec<String> = svg
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect();
    let commit = "3f2c9d0e1b7a";
    for wanted in [
        chart::TITLE.to_owned(),
        chart::base_label(commit),
        chart::new_label(commit),
        "batch 8".to_owned(),
        "batch 64".to_owned(),
        "client: shared".to_owned(),
        "client: per-request".to_owned(),
        "∞".to_owned(),
        "−30.0 %".to_owned(),
    ] {
        assert!(texts.contains(&wanted), "no text {wanted:?} in {texts:?}");
    }
    // Per batch colour and panel: the new series is one solid polyline through all five
    // maxSockets values; the base series is dashed, drawn as many short segments.
    let blue = "#0072B2"; // batch 8, the first colour of the report's palette
    let lines = polylines(&svg, blue);
    let solid = lines.iter().filter(|&&n| n == 5).count();
    let dashes = lines.iter().filter(|&&n| n == 2).count();
    assert_eq!(solid, 2, "one solid new line per client panel: {lines:?}");
    assert!(dashes >= 2 * 4, "dashed base lines: {lines:?}");
}

#[test]
fn html_with_several_workloads_has_one_chart_each() {
    let out = TempDir::new("compare-html-groups");
    let mut base = fixtures::small();
    for p in base
        .points
        .iter_mut()
        .filter(|p| p.client == ClientMode::PerRequest)
    {
        p.profile = "ideal".to_owned();
    }
    let cmp = compare(&base, &base, &CompareOptions::default()).unwrap();
    let files = cmp.write_html(out.path()).unwrap();
    let names: Vec<String> = files
        .charts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "throughput-agent-batch-put-ideal-256kib-n200.svg",
            "throughput-agent-batch-put-s3-like-256kib-n200.svg"
        ]
    );
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert_links_exist(&html, out.path());
    let text = cmp.to_text();
    assert!(
        text.contains("profile ideal") && text.contains("profile s3-like"),
        "{text}"
    );
}

#[test]
fn html_escapes_text_from_the_files() {
    let out = TempDir::new("compare-html-escape");
    let mut base = fixtures::small();
    base.meta.cpu_model = Some("<script>alert(1)</script>".to_owned());
    let cmp = compare(&base, &base, &CompareOptions::default()).unwrap();
    let files = cmp.write_html(out.path()).unwrap();
    let html = std::fs::read_to_string(files.index).unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
}
