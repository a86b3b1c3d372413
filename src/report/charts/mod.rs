//! The report's charts, one file per chart, each a `draw(data, path)` over plain data.
//!
//! Every chart is an SVG drawn with plotters' SVG backend (text stays text, no font files
//! needed: the browser renders it). The report's own shared pieces live here (the data a chart
//! is drawn from, one figure of metric rows); what `compare` draws with too lives in
//! [`crate::render`]: the log-scale maxSockets axis with its "∞" tick, the small-multiples grid
//! (one column per client mode, one row per metric, one colour per batch size, legend above the
//! panels so it never covers data) and the colours.

pub(crate) mod errors;
pub(crate) mod heatmap;
pub(crate) mod latency;
pub(crate) mod sdks;
pub(crate) mod sockets;
pub(crate) mod throughput;

use crate::render::color::{STYLE_GREY, batch_color};
use crate::render::grid::{Dash, Figure, LegendItem, Panel, Series, SeriesPoint};

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
