//! The HTML page: a `Serialize` context built from the run, rendered by minijinja from the
//! templates in `templates/` (HTML auto-escaping on, undefined variables are errors).
//!
//! All formatting of numbers happens here so the templates only place strings; the templates
//! hold all markup.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use super::group::{ChartKind, Group};
use super::sdks::SdksView;
use crate::analysis::Recommendation;
use crate::metrics::{Point, display_max_sockets};
use crate::render::Error;
use crate::results::RunFile;

const TEMPLATES: [(&str, &str); 7] = [
    ("index.html", include_str!("templates/index.html")),
    ("style.css", crate::render::STYLE_CSS),
    (
        "recommendations.html",
        include_str!("templates/recommendations.html"),
    ),
    ("failures.html", include_str!("templates/failures.html")),
    ("points.html", include_str!("templates/points.html")),
    ("meta.html", include_str!("templates/meta.html")),
    ("sdks.html", include_str!("templates/sdks.html")),
];

#[derive(Debug, Serialize)]
struct Page<'a> {
    run: RunSummary,
    notes: Vec<String>,
    /// Where every client's credentials came from, in a sentence.
    credentials: String,
    /// The SDKs compared, when the run measured more than one.
    sdks: Option<SdksView>,
    /// Whether the recommendations span more than one SDK (an SDK column is shown).
    several_sdks: bool,
    recommendations: Vec<RecRow>,
    failures: Vec<FailureRow>,
    groups: Vec<GroupView>,
    criterion_href: Option<&'a str>,
    meta: Vec<KeyValue>,
    command_line: String,
    config_json: String,
    profile_json: String,
}

#[derive(Debug, Serialize)]
struct RunSummary {
    date: String,
    commit: String,
    dirty: bool,
    points: usize,
    failed: usize,
    groups: usize,
}

#[derive(Debug, Serialize)]
struct RecRow {
    sdk: String,
    /// The group: its scenario, or its profile, pool, pattern and op.
    group: String,
    client: String,
    batch: u32,
    knee: String,
    /// "3,033 obj/s".
    knee_tput: String,
    /// "95 % of best".
    knee_pct: String,
    /// "3,195 obj/s".
    best_tput: String,
    /// "at 256".
    best_at: String,
    falloff: String,
    /// "maxSockets 256".
    rule: String,
    /// "3,195 obj/s" or "not measured".
    rule_tput: String,
    /// "−0.3 % vs best", or empty.
    rule_vs_best: String,
    /// The rule of thumb is clearly worse than the best (more than 5 % slower).
    rule_bad: bool,
    reason: String,
}

#[derive(Debug, Serialize)]
struct FailureRow {
    group: String,
    client: String,
    batch: u32,
    max_sockets: String,
    completed: String,
    errors: String,
    retries: String,
    summary: String,
}

#[derive(Debug, Serialize)]
struct GroupView {
    anchor: String,
    title: String,
    is_main: bool,
    charts: Vec<ChartView>,
    points: Vec<PointRow>,
}

#[derive(Debug, Serialize)]
struct ChartView {
    file: String,
    title: String,
    caption: String,
}

#[derive(Debug, Serialize)]
struct PointRow {
    client: String,
    batch: u32,
    max_sockets: String,
    tput: String,
    tput_range: String,
    mb_s: String,
    p50: String,
    p99: String,
    wait_p99: String,
    sockets: String,
    peak: String,
    tls: String,
    retries: String,
    errors: String,
    /// Client CPU µs per request.
    client_cpu: String,
    /// Server CPU µs per request.
    server_cpu: String,
    /// "850 (2 batches)".
    startup_ms: String,
    /// Sockets / handshakes of the start-ups.
    startup_sockets: String,
    /// Projected seconds for all objects.
    projected: String,
    failed: bool,
    failure: String,
    /// Why the time budget cut it, with the projection; empty if it did not.
    cut: String,
}

#[derive(Debug, Serialize)]
struct KeyValue {
    key: &'static str,
    value: String,
}

/// Renders `index.html` for `run`; `drawn[i]` lists the chart files of `groups[i]`; `sdks`
/// is the comparison of the SDKs measured, when there are several.
pub(crate) fn render_html(
    run: &RunFile,
    groups: &[Group<'_>],
    drawn: &[Vec<(ChartKind, String)>],
    sdks: Option<SdksView>,
    criterion_href: Option<&str>,
) -> Result<String, Error> {
    let mut page = build(run, groups, drawn, criterion_href);
    page.sdks = sdks;
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| Error::Template(format!("{e:#}")))?;
    }
    env.get_template("index.html")
        .and_then(|t| t.render(&page))
        .map_err(|e| Error::Template(format!("{e:#}")))
}

fn build<'a>(
    run: &RunFile,
    groups: &[Group<'_>],
    drawn: &[Vec<(ChartKind, String)>],
    criterion_href: Option<&'a str>,
) -> Page<'a> {
    let meta = &run.meta;
    let failed: Vec<&Point> = run.points.iter().filter(|p| p.failed()).collect();

    let mut notes = Vec::new();
    if groups.len() > 1 {
        notes.push(format!(
            "This run holds {} groups of points (different SDK, pool, pattern, op, profile or scenario); each has its \
             own charts and its own recommendations.",
            groups.len(),
        ));
    }
    if !run.recommendations.is_empty() {
        // Curves of any group with no recommendation: every point of them failed.
        let mut missing: Vec<(String, crate::modes::ClientMode, u32)> = Vec::new();
        for g in groups {
            for p in &g.points {
                let has = run
                    .recommendations
                    .iter()
                    .any(|r| r.group == g.key && r.client == p.client && r.batch == p.batch);
                if !has {
                    missing.push((g.title(), p.client, p.batch));
                }
            }
        }
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            let names: Vec<String> = missing
                .iter()
                .map(|(g, c, b)| format!("{c} batch {b} ({g})"))
                .collect();
            notes.push(format!(
                "No recommendation for {}: every point of these failed, so no maxSockets is safe to recommend (see Failures).",
                names.join(", "),
            ));
        }
    }
    if run.recommendations.is_empty() {
        notes.push(format!(
            "No recommendations in this file: the run stopped before computing them ({} points were measured).",
            run.points.len()
        ));
    }

    let recommendations = run
        .recommendations
        .iter()
        .map(|r| rec_row(r, &run.points))
        .collect();
    let failures = failed
        .iter()
        .map(|p| FailureRow {
            group: if groups.len() > 1 {
                group_title_of(groups, p)
            } else {
                String::new()
            },
            client: p.client.to_string(),
            batch: p.batch,
            max_sockets: display_max_sockets(p.max_sockets).to_string(),
            completed: format!("{} / {}", int(p.completed), int(p.objects)),
            errors: int(p.errors.total.max(p.errors.emfile)),
            retries: int(p.retries.total),
            summary: p.failure_summary(),
        })
        .collect();

    let group_views = groups
        .iter()
        .zip(drawn)
        .enumerate()
        .map(|(i, (g, files))| GroupView {
            anchor: if i == 0 {
                "charts".to_owned()
            } else {
                format!("charts-{}", g.suffix)
            },
            title: g.subtitle(),
            is_main: g.is_main,
            charts: files
                .iter()
                .map(|(kind, file)| ChartView {
                    file: file.clone(),
                    title: kind.title().to_owned(),
                    caption: kind.caption().to_owned(),
                })
                .collect(),
            points: g.points.iter().map(|p| point_row(p)).collect(),
        })
        .collect();

    let rl = meta.rlimit_nofile.map_or_else(
        || "unknown".to_owned(),
        |r| {
            let show = |v: Option<u64>| v.map_or_else(|| "unlimited".to_owned(), int);
            format!("soft {} / hard {}", show(r.soft), show(r.hard))
        },
    );
    let unknown = || "unknown".to_owned();
    let meta_rows = vec![
        KeyValue {
            key: "Date (UTC)",
            value: meta.date.clone(),
        },
        KeyValue {
            key: "Git commit",
            value: match (&meta.git_commit, meta.git_dirty) {
                (Some(c), Some(true)) => format!("{c} (with uncommitted changes)"),
                (Some(c), _) => c.clone(),
                (None, _) => "not a git checkout".to_owned(),
            },
        },
        KeyValue {
            key: "poolsweep",
            value: meta.tool_version.clone(),
        },
        KeyValue {
            key: "Toolchain",
            value: meta.toolchain.clone().unwrap_or_else(unknown),
        },
        KeyValue {
            key: "OS",
            value: meta.os.clone(),
        },
        KeyValue {
            key: "CPU",
            value: meta.cpu_model.clone().unwrap_or_else(unknown),
        },
        KeyValue {
            key: "Cores",
            value: meta.cores.to_string(),
        },
        KeyValue {
            key: "RLIMIT_NOFILE",
            value: rl,
        },
        KeyValue {
            key: "Schema version",
            value: run.schema_version.to_string(),
        },
    ];

    let several_sdks = run
        .recommendations
        .iter()
        .any(|r| r.group.sdk != run.recommendations[0].group.sdk);
    let credentials = credentials_sentence(run);
    let mut meta_rows = meta_rows;
    meta_rows.push(KeyValue {
        key: "Credentials",
        value: credentials.clone(),
    });
    for (sdk, what) in &meta.sdks {
        meta_rows.push(KeyValue {
            key: "Client measured",
            value: format!("{sdk}: {what}"),
        });
    }
    Page {
        run: RunSummary {
            date: meta.date.clone(),
            commit: meta
                .git_commit
                .as_deref()
                .map_or_else(|| "no git".to_owned(), |c| c.chars().take(12).collect()),
            dirty: meta.git_dirty == Some(true),
            points: run.points.len(),
            failed: failed.len(),
            groups: groups.len(),
        },
        notes,
        credentials,
        sdks: None,
        several_sdks,
        recommendations,
        failures,
        groups: group_views,
        criterion_href,
        meta: meta_rows,
        command_line: shell_words(&meta.command_line),
        config_json: pretty(&meta.config),
        profile_json: pretty(&meta.server_profile),
    }
}

fn rec_row(r: &Recommendation, points: &[Point]) -> RecRow {
    let tput_at = |ms: Option<u32>| {
        points
            .iter()
            .find(|p| {
                p.group() == r.group
                    && p.client == r.client
                    && p.batch == r.batch
                    && p.max_sockets == ms
            })
            .map(|p| p.objects_per_s.median)
    };
    let best = tput_at(r.best_max_sockets);
    let knee = tput_at(r.knee_max_sockets);
    let obj_s =
        |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{} obj/s", int_f(v)));
    let rot = &r.rule_of_thumb;
    let share = r.verdict == crate::analysis::Verdict::ShareClient;
    let g = &r.group;
    RecRow {
        sdk: g.sdk.to_string(),
        group: match &g.scenario {
            Some(sc) => format!("{sc} ({})", g.profile),
            None => format!("{} · {} · {} · {}", g.profile, g.pool, g.pattern, g.op),
        },
        client: r.client.to_string(),
        batch: r.batch,
        knee: r.setting(),
        knee_tput: if share { obj_s(best) } else { obj_s(knee) },
        knee_pct: match (knee, best) {
            _ if share => "best of any maxSockets".to_owned(),
            _ if r.verdict == crate::analysis::Verdict::Single => {
                "the only value measured".to_owned()
            }
            (Some(k), Some(b)) if b > 0.0 => format!("{:.0} % of best", 100.0 * k / b),
            _ => String::new(),
        },
        best_tput: obj_s(best),
        best_at: format!("at {}", display_max_sockets(r.best_max_sockets)),
        falloff: r.falloff_label(),
        rule: format!("maxSockets {}", rot.max_sockets),
        rule_tput: rot
            .objects_per_s
            .map_or_else(|| "not measured".to_owned(), |v| obj_s(Some(v))),
        rule_vs_best: rot
            .vs_best_pct
            .map_or_else(String::new, |v| format!("{} vs best", signed_pct(v))),
        rule_bad: rot.vs_best_pct.is_some_and(|v| v < -5.0),
        reason: r.reason.clone(),
    }
}

/// Where the run's clients took their credentials from, from its config.
fn credentials_sentence(run: &RunFile) -> String {
    let kind = run
        .meta
        .config
        .get("credentials")
        .cloned()
        .and_then(|v| serde_json::from_value::<crate::sut::CredentialKind>(v).ok());
    match kind {
        Some(k) => format!("{k}: {}", k.describe()),
        None => "not recorded (a file from before credentials were recorded)".to_owned(),
    }
}

/// "+1.5 %", "−12.0 %" (with a real minus sign).
fn signed_pct(v: f64) -> String {
    format!("{v:+.1} %").replace('-', "−")
}

fn point_row(p: &Point) -> PointRow {
    PointRow {
        client: p.client.to_string(),
        batch: p.batch,
        max_sockets: display_max_sockets(p.max_sockets).to_string(),
        tput: int_f(p.objects_per_s.median),
        tput_range: format!(
            "{}–{}",
            int_f(p.objects_per_s.min),
            int_f(p.objects_per_s.max)
        ),
        mb_s: format!("{:.1}", p.mb_per_s.median),
        p50: ms(p.latency_ms.p50),
        p99: ms(p.latency_ms.p99),
        wait_p99: ms(p.socket_wait_ms.p99),
        sockets: int(p.sockets_opened),
        peak: int(p.peak_open_sockets),
        tls: format!("{} / {}", int(p.tls_full), int(p.tls_resumed)),
        retries: int(p.retries.total),
        errors: int(p.errors.total.max(p.errors.emfile)),
        client_cpu: p
            .cpu_ns_per_request
            .client_ns
            .map_or_else(|| "–".to_owned(), |ns| format!("{:.0}", ns / 1000.0)),
        server_cpu: p
            .cpu_ns_per_request
            .server_ns
            .map_or_else(|| "–".to_owned(), |ns| format!("{:.0}", ns / 1000.0)),
        startup_ms: if p.startup.batches == 0 {
            "–".to_owned()
        } else {
            format!(
                "{} ({} batches)",
                int_f(p.startup.time_ms.median),
                p.startup.batches
            )
        },
        startup_sockets: format!(
            "{} / {}",
            int(p.startup.sockets_opened),
            int(p.startup.tls_full + p.startup.tls_resumed)
        ),
        projected: p
            .projected_s
            .map_or_else(|| "–".to_owned(), |s| format!("{s:.1}")),
        failed: p.failed(),
        failure: p.failure_summary(),
        cut: p.budget_summary(),
    }
}

fn group_title_of(groups: &[Group<'_>], p: &Point) -> String {
    groups
        .iter()
        .find(|g| g.points.iter().any(|q| std::ptr::eq(*q, p)))
        .map(Group::title)
        .unwrap_or_default()
}

/// 1234567 → "1,234,567".
fn int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A float rounded to an integer with thousands separators.
pub(super) fn int_f(v: f64) -> String {
    if v.is_finite() && v >= 0.0 {
        int(v.round() as u64)
    } else {
        format!("{v:.0}")
    }
}

/// Milliseconds: one decimal below 100, none above.
fn ms(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        int_f(v)
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// The command line as one would type it: arguments with spaces or shell metacharacters quoted.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A relative URL from the page in `from_dir` to `to` (e.g. criterion's index), so the report
/// directory and its neighbours can be moved together.
pub(crate) fn relative_href(from_dir: &Path, to: &Path) -> String {
    let absolute = |p: &Path| -> PathBuf {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                std::env::current_dir()
                    .map(|d| d.join(p))
                    .unwrap_or_else(|_| p.to_owned())
            }
        })
    };
    let (from, to) = (absolute(from_dir), absolute(to));
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_owned(), from.len() - common);
    let downs = to[common..]
        .iter()
        .map(|c| url_segment(&c.as_os_str().to_string_lossy()));
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

/// Escapes the characters that would end or change a URL path segment.
fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '%' => out.push_str("%25"),
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '"' => out.push_str("%22"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(1_234_567), "1,234,567");
    }

    #[test]
    fn command_line_quoting() {
        let argv = [
            "poolsweep",
            "sweep",
            "--profile",
            "slow disk",
            "--note=it's",
        ]
        .map(str::to_owned);
        assert_eq!(
            shell_words(&argv),
            r"poolsweep sweep --profile 'slow disk' '--note=it'\''s'"
        );
    }

    #[test]
    fn relative_hrefs() {
        let dir = crate::results::testutil::TempDir::new("href");
        let report = dir.path().join("out/report");
        let crit = dir.path().join("target/criterion/report");
        std::fs::create_dir_all(&report).unwrap();
        std::fs::create_dir_all(&crit).unwrap();
        std::fs::write(crit.join("index.html"), "").unwrap();
        assert_eq!(
            relative_href(&report, &crit.join("index.html")),
            "../../target/criterion/report/index.html"
        );
        assert_eq!(
            relative_href(&report, &report.join("a b#.html")),
            "a%20b%23.html"
        );
    }
}
