//! The report's charts, one file per chart, each a `draw(data, path)` over plain data.
//!
//! Every chart is an SVG drawn with plotters' SVG backend (text stays text, no font files
//! needed: the browser renders it). Shared pieces live here and in `axis` (the log-scale
//! maxSockets axis with its "∞" tick) and `grid` (small multiples: one column per client
//! mode, one row per metric, one colour per batch size, legend above the panels so it never
//! covers data).

pub(crate) mod axis;
pub(crate) mod errors;
pub(crate) mod grid;
pub(crate) mod heatmap;
pub(crate) mod latency;
pub(crate) mod sockets;
pub(crate) mod throughput;

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use self::grid::{Dash, Figure, LegendItem, Panel, Series, SeriesPoint};

/// A chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw chart {}: {message}", path.display())]
pub(crate) struct ChartError {
    pub(crate) path: PathBuf,
    pub(crate) message: String,
}

/// Maps any plotters error into a [`ChartError`] for `path`.
pub(crate) fn chart_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> ChartError + '_ {
    move |e| ChartError {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A value at one maxSockets, with whether that point failed (errors, EMFILE, incomplete).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct At<T> {
    /// The cap; `None` is Infinity.
    pub(crate) max_sockets: Option<u32>,
    /// The point had failures; it is drawn with a failure marker.
    pub(crate) failed: bool,
    /// The values.
    pub(crate) v: T,
}

/// One batch size's values across maxSockets, sorted by maxSockets (∞ last).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BatchLine<T> {
    /// Batch size.
    pub(crate) batch: u32,
    /// Values.
    pub(crate) points: Vec<At<T>>,
}

/// One client mode's lines: a column of panels in a chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClientLines<T> {
    /// Client mode name, e.g. "shared".
    pub(crate) client: String,
    /// One line per batch size, smallest batch first.
    pub(crate) lines: Vec<BatchLine<T>>,
}

/// Colours for batch sizes: Okabe–Ito (colour-blind safe), without its red, which marks failures.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 94, 40),   // brown
    RGBColor(0, 0, 0),       // black
    RGBColor(150, 150, 150), // grey
];

/// Failure markers (and only they) are this red.
pub(crate) const FAILURE_RED: RGBColor = RGBColor(200, 0, 30);

/// The colour of a batch size, by its index among the run's batch sizes (stable across charts).
pub(crate) fn batch_color(batch: u32, all_batches: &[u32]) -> RGBColor {
    let i = all_batches.iter().position(|b| *b == batch).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// Every batch size in the data, ascending: the colour key shared by all charts.
pub(crate) fn all_batches<T>(clients: &[ClientLines<T>]) -> Vec<u32> {
    let mut b: Vec<u32> = clients
        .iter()
        .flat_map(|c| c.lines.iter().map(|l| l.batch))
        .collect();
    b.sort_unstable();
    b.dedup();
    b
}

/// Legend text of the failure marker, the same in every chart.
pub(crate) const FAILED_LABEL: &str = "failed point (errors, EMFILE or incomplete)";

/// One line per batch in a metric row: which value, drawn how.
pub(crate) struct MetricLine<T> {
    /// Solid or dashed (the legend says which value each style is).
    pub(crate) dash: Dash,
    /// Extracts the value.
    pub(crate) value: fn(&T) -> f64,
}

/// A row of panels showing one metric (one or two lines per batch).
pub(crate) struct MetricRow<T> {
    /// Panel caption after the client name, e.g. "sockets opened".
    pub(crate) title: &'static str,
    /// Y-axis description with unit.
    pub(crate) y_desc: &'static str,
    /// The lines drawn for each batch.
    pub(crate) lines: Vec<MetricLine<T>>,
}

/// Builds a small-multiples figure: one row per metric, one column per client, colour = batch.
///
/// `styles` explains the line styles in the legend (e.g. solid = p99, dashed = p50).
pub(crate) fn metric_figure<T>(
    title: &str,
    subtitle: &str,
    clients: &[ClientLines<T>],
    rows: &[MetricRow<T>],
    styles: &[(Dash, &str)],
    shared_y: bool,
) -> Figure {
    let batches = all_batches(clients);
    let panels = rows
        .iter()
        .map(|row| {
            clients
                .iter()
                .map(|cl| Panel {
                    title: format!("{} · {}", cl.client, row.title),
                    series: cl
                        .lines
                        .iter()
                        .flat_map(|line| {
                            let color = batch_color(line.batch, &batches);
                            row.lines.iter().map(move |ml| Series {
                                color,
                                dash: ml.dash,
                                points: line
                                    .points
                                    .iter()
                                    .map(|p| SeriesPoint {
                                        x: p.max_sockets,
                                        y: (ml.value)(&p.v),
                                        band: None,
                                        failed: p.failed,
                                    })
                                    .collect(),
                            })
                        })
                        .collect(),
                    markers: Vec::new(),
                })
                .collect()
        })
        .collect();
    let mut legend: Vec<LegendItem> = batches
        .iter()
        .map(|&b| LegendItem::Line {
            color: batch_color(b, &batches),
            dash: Dash::Solid,
            label: format!("batch {b}"),
        })
        .collect();
    legend.extend(styles.iter().map(|(dash, label)| LegendItem::Line {
        color: STYLE_GREY,
        dash: *dash,
        label: (*label).to_owned(),
    }));
    Figure {
        title: title.to_owned(),
        subtitle: subtitle.to_owned(),
        legend,
        y_descs: rows.iter().map(|r| r.y_desc.to_owned()).collect(),
        panels,
        shared_y,
        row_height: 360,
    }
}

/// Colour of legend samples that explain a line style rather than a batch.
const STYLE_GREY: RGBColor = RGBColor(110, 110, 110);

/// Formats a tick or cell value compactly: 0, 12, 950, 1.2k, 15k, 2.5M; two decimals below 10.
pub(crate) fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        trim_zero(format!("{:.1}", v / 1e6)) + "M"
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        trim_zero(format!("{:.1}", v / 1e3)) + "k"
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim_zero(format!("{v:.1}"))
    } else {
        trim_zero(format!("{v:.2}"))
    }
}

fn trim_zero(s: String) -> String {
    match s.strip_suffix(".0") {
        Some(t) => t.to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        let cases = [
            (0.0, "0"),
            (0.25, "0.25"),
            (2.5, "2.5"),
            (3.0, "3"),
            (12.4, "12"),
            (950.0, "950"),
            (1000.0, "1k"),
            (1260.0, "1.3k"),
            (15_300.0, "15k"),
            (2_500_000.0, "2.5M"),
        ];
        for (v, s) in cases {
            assert_eq!(short_number(v), s, "{v}");
        }
    }
}
