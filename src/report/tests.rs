//! Rendering tests: every chart file is written and says what it shows (title, axis labels,
//! series labels, parsed from the SVG), the page links only files that exist, and failed points
//! are visible in both the page and the charts.

use std::collections::BTreeSet;
use std::path::Path;

use super::group::ChartKind;
use super::*;
use crate::render::color::FAILED_LABEL;
use crate::results::fixtures;
use crate::results::testutil::TempDir;
use crate::workload::Op;

fn fixture_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run-small.json")
}

/// Every text element of an SVG, trimmed.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    let doc =
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect()
}

fn assert_has(texts: &[String], wanted: &str, chart: &str) {
    assert!(
        texts.iter().any(|t| t == wanted),
        "{chart}: no text {wanted:?} in {texts:?}"
    );
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

/// Every `src="…"` and `href="…"` value in the page, unescaped.
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

/// Decodes the escapes `page::url_segment` writes.
fn url_decode(s: &str) -> String {
    s.replace("%20", " ")
        .replace("%23", "#")
        .replace("%3F", "?")
        .replace("%22", "\"")
        .replace("%25", "%")
}

fn assert_links_exist(html: &str, out_dir: &Path) {
    for link in links(html) {
        if let Some(anchor) = link.strip_prefix('#') {
            let id = format!("id=\"{anchor}\"");
            assert!(html.contains(&id), "anchor {link} has no target");
            continue;
        }
        assert!(!link.contains("://"), "external link {link}");
        let target = out_dir.join(url_decode(&link));
        assert!(
            target.exists(),
            "link {link} points to missing {}",
            target.display()
        );
    }
}

#[test]
fn renders_every_chart_from_the_fixture_file() {
    let out = TempDir::new("report-files");
    let files = render_from_file(&fixture_path(), out.path()).unwrap();
    assert_eq!(files.index, out.path().join("index.html"));
    let names: BTreeSet<String> = files
        .charts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = [
        "throughput.svg",
        "sockets.svg",
        "latency.svg",
        "heatmap.svg",
        "errors.svg",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(names, expected);
    for chart in &files.charts {
        assert!(chart.is_file(), "{}", chart.display());
        assert!(!svg_texts(chart).is_empty());
    }
    assert!(files.index.is_file());
}

#[test]
fn svgs_hold_titles_axis_labels_and_series_labels() {
    let out = TempDir::new("report-svg");
    let run = crate::results::RunFile::load(fixture_path()).unwrap();
    render(&run, out.path(), None).unwrap();

    let line_charts = [
        (ChartKind::Throughput, vec!["objects/s"]),
        (ChartKind::Sockets, vec!["sockets", "handshakes"]),
        (ChartKind::Latency, vec!["latency (ms)", "socket wait (ms)"]),
        (
            ChartKind::Errors,
            vec![
                "retries (all reasons)",
                "SlowDown replies",
                "failed after retries",
            ],
        ),
    ];
    for (kind, y_descs) in line_charts {
        let file = kind.file_name("");
        let texts = svg_texts(&out.path().join(&file));
        assert_has(&texts, kind.title(), &file);
        assert_has(&texts, "maxSockets (log scale)", &file);
        for y in y_descs {
            assert_has(&texts, y, &file);
        }
        for legend in ["batch 8", "batch 64"] {
            assert_has(&texts, legend, &file);
        }
        // Ticks: the swept values and Infinity as the last one.
        for tick in ["1", "4", "16", "64", "∞"] {
            assert_has(&texts, tick, &file);
        }
        // Panel captions name the client mode.
        for client in ["shared", "per-request"] {
            let caption = |t: &String| {
                *t == format!("client: {client}") || t.starts_with(&format!("{client} · "))
            };
            assert!(texts.iter().any(caption), "{file}: no panel for {client}");
        }
    }
    let throughput = svg_texts(&out.path().join("throughput.svg"));
    assert_has(
        &throughput,
        "median, band = min–max over repetitions",
        "throughput.svg",
    );
    assert_has(
        &throughput,
        "knee = recommended maxSockets",
        "throughput.svg",
    );
    assert!(
        throughput.iter().any(|t| t.starts_with("knee ")),
        "no knee label: {throughput:?}"
    );
    let latency = svg_texts(&out.path().join("latency.svg"));
    assert_has(&latency, "p99", "latency.svg");
    assert_has(&latency, "p50", "latency.svg");

    let heatmap = svg_texts(&out.path().join("heatmap.svg"));
    for t in [
        ChartKind::Heatmap.title(),
        "maxSockets",
        "objects/s",
        "batch 8",
        "batch 64",
        "∞",
        "client: shared",
    ] {
        assert_has(&heatmap, t, "heatmap.svg");
    }
    // One number per cell: 2 clients × 2 batches × 5 maxSockets.
    let cells = heatmap
        .iter()
        .filter(|t| t.chars().next().is_some_and(|c| c.is_ascii_digit()) && !t.contains(' '))
        .count();
    assert!(cells >= 20, "{heatmap:?}");
}

#[test]
fn page_links_only_files_in_the_output_dir() {
    let out = TempDir::new("report-links");
    let files = render_from_file(&fixture_path(), out.path()).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert_links_exist(&html, out.path());
    for chart in &files.charts {
        let name = chart.file_name().unwrap().to_string_lossy();
        assert!(
            html.contains(&format!("src=\"{name}\"")),
            "{name} not on the page"
        );
    }
    assert!(!html.contains("<script"), "the page needs no JavaScript");
}

#[test]
fn criterion_index_is_linked_relatively() {
    let root = TempDir::new("report-criterion");
    let out = root.path().join("report");
    let crit = root.path().join("target/criterion/report/index.html");
    std::fs::create_dir_all(crit.parent().unwrap()).unwrap();
    std::fs::write(&crit, "<html></html>").unwrap();
    let files = render(&fixtures::small(), &out, Some(&crit)).unwrap();
    let html = std::fs::read_to_string(files.index).unwrap();
    assert!(
        links(&html).contains(&"../target/criterion/report/index.html".to_owned()),
        "{html}"
    );
    assert_links_exist(&html, &out);
}

#[test]
fn failed_points_are_visible_in_page_and_charts() {
    let out = TempDir::new("report-failures");
    let run = fixtures::realistic();
    let failed: Vec<_> = run.points.iter().filter(|p| p.failed()).collect();
    assert!(
        failed.iter().any(|p| p.errors.emfile > 0) && failed.iter().any(|p| p.errors.slowdown > 0)
    );
    let files = render(&run, out.path(), None).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();

    assert!(html.contains("id=\"failures\""));
    assert!(html.contains(&format!("{} failed", failed.len())));
    // One row per failed point in the failures table, and the same rows marked in the points table.
    assert_eq!(
        html.matches("<tr class=\"failed\">").count(),
        2 * failed.len()
    );
    assert!(html.contains("EMFILE"));
    for p in &failed {
        assert!(
            html.contains(&p.failure_summary()),
            "{}",
            p.failure_summary()
        );
    }

    let red = "#C8001E";
    for kind in [
        ChartKind::Throughput,
        ChartKind::Sockets,
        ChartKind::Latency,
        ChartKind::Errors,
    ] {
        let path = out.path().join(kind.file_name(""));
        assert_has(&svg_texts(&path), FAILED_LABEL, &kind.file_name(""));
        let svg = std::fs::read_to_string(&path).unwrap();
        // A ring and a cross per failed point in each panel row, plus the legend sample.
        assert!(
            svg.matches(red).count() > failed.len(),
            "{}",
            kind.file_name("")
        );
    }
    let heatmap = svg_texts(&out.path().join("heatmap.svg"));
    assert_eq!(
        heatmap.iter().filter(|t| t.ends_with('✕')).count(),
        failed.len()
    );
}

#[test]
fn every_group_gets_charts_and_the_page_says_so() {
    let out = TempDir::new("report-groups");
    let mut run = fixtures::small();
    for p in &mut run.points[..5] {
        p.op = Op::Get;
    }
    let files = render(&run, out.path(), None).unwrap();
    assert_eq!(files.charts.len(), 10);
    assert!(out.path().join("throughput.svg").is_file());
    assert!(
        out.path()
            .join("throughput-agent-batch-get-s3-like.svg")
            .is_file()
    );
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert!(html.contains("This run holds 2 groups"), "{html}");
    assert_links_exist(&html, out.path());
}

#[test]
fn long_scenario_texts_get_short_distinct_chart_names() {
    let out = TempDir::new("report-long-names");
    let mut run = fixtures::small();
    let long = "too many: bursts of 50 PUTs 80 ms apart, sockets closed after 40 ms idle: every \
                burst pays its handshakes again (RSA-2048 as S3, the mock's on one core); latency"
        .repeat(2);
    // Two groups whose scenarios differ only at their ends.
    for (i, p) in run.points.iter_mut().enumerate() {
        p.scenario = Some(format!("{long} {}", if i < 5 { "one" } else { "two" }));
    }
    let files = render(&run, out.path(), None).unwrap();
    assert!(files.charts.len() >= 10, "{:?}", files.charts);
    let mut names = std::collections::BTreeSet::new();
    for chart in &files.charts {
        let name = chart.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.len() < 160, "{name}");
        assert!(chart.is_file(), "{name}");
        assert!(names.insert(name));
    }
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert!(html.contains("This run holds 2 groups"), "{html}");
    assert_links_exist(&html, out.path());
    // The scenario is drawn whole on every chart, wrapped into lines the figure's width holds.
    for chart in &files.charts {
        let texts = svg_texts(chart);
        let lines: Vec<&String> = texts
            .iter()
            .skip_while(|t| !t.starts_with("too many: bursts"))
            .take_while(|t| !t.starts_with("sdk "))
            .collect();
        assert!(lines.len() >= 2, "{chart:?}: {texts:?}");
        let joined = lines
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(joined.starts_with(&long), "{chart:?}: {joined}");
        // Unwrapped, the first line would hold the whole 200-odd characters.
        assert!(lines.iter().all(|l| l.len() < 190), "{chart:?}: {lines:?}");
    }
}

#[test]
fn a_new_render_removes_the_charts_of_groups_it_no_longer_has_and_nothing_else() {
    let out = TempDir::new("report-stale");
    let mut two = fixtures::small();
    for p in &mut two.points[..5] {
        p.op = Op::Get;
    }
    render(&two, out.path(), None).unwrap();
    let get_chart = out.path().join("throughput-agent-batch-get-s3-like.svg");
    assert!(get_chart.is_file());
    let mine = out.path().join("notes.svg");
    std::fs::write(&mine, "<svg/>").unwrap();
    let files = render(&fixtures::small(), out.path(), None).unwrap();
    assert!(
        !get_chart.exists(),
        "a chart of a group the run no longer has"
    );
    assert!(mine.is_file(), "a file poolsweep did not write stays");
    let mut svgs: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "svg") && *p != mine)
        .collect();
    svgs.sort();
    let mut charts = files.charts.clone();
    charts.sort();
    assert_eq!(svgs, charts);
}

#[test]
fn text_from_the_file_is_escaped() {
    let out = TempDir::new("report-escape");
    let mut run = fixtures::small();
    run.points[0].profile = "<script>alert(1)</script>".to_owned();
    run.recommendations[0].reason = "a < b & \"c\"".to_owned();
    let files = render(&run, out.path(), None).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("a &lt; b &amp; &quot;c&quot;"));
    for chart in &files.charts {
        svg_texts(chart); // still well-formed XML
    }
}

#[test]
fn a_run_without_points_or_recommendations_still_renders() {
    let out = TempDir::new("report-empty");
    let mut run = fixtures::small();
    run.points.clear();
    run.recommendations.clear();
    let files = render(&run, out.path(), None).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert!(html.contains("No recommendations"));
}

#[test]
fn missing_result_file_error_names_it() {
    let out = TempDir::new("report-missing");
    let err = render_from_file(&out.path().join("nope.json"), out.path()).unwrap_err();
    assert!(err.to_string().contains("nope.json"), "{err}");
}

#[test]
fn a_run_of_several_sdks_overlays_their_curves_and_gives_the_ratios() {
    let mut run = fixtures::small();
    run.meta.config = serde_json::json!({ "credentials": "container" });
    run.meta.sdks.insert(
        "js-v3".to_owned(),
        "@aws-sdk/client-s3 3.1178.0 on Node.js v20".to_owned(),
    );
    let js: Vec<crate::metrics::Point> = run
        .points
        .iter()
        .map(|p| {
            let mut q = p.clone();
            q.sdk = crate::sut::Sdk::JsV3;
            q.objects_per_s.median *= 0.5;
            q.objects_per_s.min *= 0.5;
            q.objects_per_s.max *= 0.5;
            q
        })
        .collect();
    run.points.extend(js);
    run.recommendations = crate::analysis::recommend(&run.points);
    let out = TempDir::new("report-sdks");
    let files = render(&run, out.path(), None).unwrap();
    let sdks_svg = out.path().join("sdks.svg");
    assert!(files.charts.contains(&sdks_svg));
    let texts = svg_texts(&sdks_svg);
    assert_has(&texts, charts::sdks::TITLE, "sdks.svg");
    assert_has(&texts, "js-v3", "sdks.svg");
    assert_has(&texts, "poolsweep", "sdks.svg");
    assert!(
        texts.iter().any(|t| t.starts_with("js-v3 knee")),
        "each SDK's knee is marked: {texts:?}"
    );
    // Each SDK also gets its own group of charts.
    assert!(
        out.path()
            .join("throughput-js-v3-agent-batch-put-s3-like.svg")
            .is_file()
    );
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert!(html.contains("id=\"sdks\""));
    assert!(
        html.contains("×2.00"),
        "poolsweep is twice js-v3's objects/s"
    );
    assert!(html.contains("Credentials: container"));
    assert!(html_unescape(&html).contains("@aws-sdk/client-s3 3.1178.0"));
    assert!(
        html.contains("<th>SDK</th>"),
        "recommendations name their SDK"
    );
    assert_links_exist(&html, out.path());
}
