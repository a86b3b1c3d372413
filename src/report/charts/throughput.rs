//! Chart (a), `throughput.svg`: objects/s against maxSockets, one line per batch size, one panel
//! per client mode (panels share the y axis so modes compare by eye), the min–max spread across
//! repetitions as a band and the knee (the recommended maxSockets) marked on each line.

use std::path::Path;

use plotters::style::RGBColor;

use super::{At, ClientLines, all_batches};
use crate::metrics::display_max_sockets;
use crate::render::ChartError;
use crate::render::color::batch_color;
use crate::render::grid::{self, Dash, Figure, LegendItem, Marker, Panel, Series, SeriesPoint};

/// Objects/s at one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Throughput {
    /// Median over repetitions.
    pub(crate) median: f64,
    /// Slowest repetition.
    pub(crate) min: f64,
    /// Fastest repetition.
    pub(crate) max: f64,
}

impl At<Throughput> {
    /// The point on its line: the median, its min–max band over repetitions, and whether it
    /// failed.
    pub(crate) fn series_point(&self) -> SeriesPoint {
        SeriesPoint {
            x: self.max_sockets,
            y: self.v.median,
            band: Some((self.v.min, self.v.max)),
            failed: self.failed,
        }
    }
}

/// A knee to mark: on the line of `batch` in the panel of `client`, at `max_sockets`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Knee {
    /// Client mode name.
    pub(crate) client: String,
    /// Batch size.
    pub(crate) batch: u32,
    /// maxSockets of the knee; `None` is Infinity.
    pub(crate) max_sockets: Option<u32>,
}

/// Everything the throughput chart shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ThroughputData {
    /// What the points have in common (pool, pattern, op, profile, repetitions).
    pub(crate) subtitle: String,
    /// One panel per client mode.
    pub(crate) clients: Vec<ClientLines<Throughput>>,
    /// Knees from the recommendations.
    pub(crate) knees: Vec<Knee>,
}

/// The chart's title.
pub(crate) const TITLE: &str = "Throughput vs maxSockets";

/// One triangle per knee on its batch's line; knees at the same maxSockets share one label
/// (in black when they belong to several batches), placed above the highest of them.
fn knee_markers(
    data: &ThroughputData,
    cl: &ClientLines<Throughput>,
    batches: &[u32],
) -> Vec<Marker> {
    let mut markers: Vec<Marker> = data
        .knees
        .iter()
        .filter(|k| k.client == cl.client)
        .filter_map(|k| {
            let line = cl.lines.iter().find(|l| l.batch == k.batch)?;
            let at = line
                .points
                .iter()
                .find(|p| p.max_sockets == k.max_sockets)?;
            Some(Marker {
                x: k.max_sockets,
                y: at.v.median,
                color: batch_color(k.batch, batches),
                label: None,
            })
        })
        .collect();
    let mut xs: Vec<Option<u32>> = markers.iter().map(|m| m.x).collect();
    xs.sort_by_key(|x| crate::metrics::max_sockets_sort_key(*x));
    xs.dedup();
    for x in xs {
        let same: Vec<usize> = (0..markers.len()).filter(|&i| markers[i].x == x).collect();
        let Some(&top) = same
            .iter()
            .max_by(|&&a, &&b| markers[a].y.total_cmp(&markers[b].y))
        else {
            continue;
        };
        let color = if same.len() == 1 {
            markers[top].color
        } else {
            RGBColor(0, 0, 0)
        };
        markers[top].label = Some((format!("knee {}", display_max_sockets(x)), color));
    }
    markers
}

/// Draws the chart to `path`.
pub(crate) fn draw(data: &ThroughputData, path: &Path) -> Result<(), ChartError> {
    let batches = all_batches(&data.clients);
    let panels = data
        .clients
        .iter()
        .map(|cl| {
            let series = cl
                .lines
                .iter()
                .map(|line| Series {
                    color: batch_color(line.batch, &batches),
                    dash: Dash::Solid,
                    points: line.points.iter().map(At::series_point).collect(),
                })
                .collect();
            let markers = knee_markers(data, cl, &batches);
            Panel {
                title: format!("client: {}", cl.client),
                series,
                markers,
            }
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
    legend.push(LegendItem::Band {
        color: RGBColor(120, 120, 120),
        label: "median, band = min–max over repetitions".to_owned(),
    });
    legend.push(LegendItem::Marker {
        label: "knee = recommended maxSockets".to_owned(),
    });
    let fig = Figure {
        title: TITLE.to_owned(),
        subtitle: data.subtitle.clone(),
        legend,
        y_descs: vec!["objects/s".to_owned()],
        panels: vec![panels],
        shared_y: true,
        row_height: 470,
    };
    grid::draw(&fig, path)
}
