//! The overlay chart, `throughput*.svg`: base and new objects/s against maxSockets in one
//! figure, one panel per client mode, one colour per batch size, base dashed and new solid,
//! each with its min–max band. Points that changed beyond the threshold and the noise carry a
//! triangle labelled with the median change.
//!
//! Drawn with the small-multiples grid the report uses too ([`crate::render::grid`]), so the
//! axis (log₂ with the "∞" tick), colours, failure markers and legend placement match the
//! report.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::style::RGBColor;

use super::comparison::PointComparison;
use super::throughput::Verdict;
use super::view;
use crate::metrics::{Point, Spread, max_sockets_sort_key};
use crate::modes::ClientMode;
use crate::render::ChartError;
use crate::render::color::{STYLE_GREY, batch_color};
use crate::render::grid::{self, Dash, Figure, LegendItem, Marker, Panel, Series, SeriesPoint};

/// The chart's title.
pub(crate) const TITLE: &str = "Throughput vs maxSockets: base and new";

/// Legend text of the base line style.
pub(crate) fn base_label(commit: &str) -> String {
    format!("base {commit} (dashed)")
}

/// Legend text of the new line style.
pub(crate) fn new_label(commit: &str) -> String {
    format!("new {commit} (solid)")
}

/// Draws the points of one group (same pool, pattern, op, profile, object size and count).
pub(crate) fn draw(
    subtitle: &str,
    points: &[&PointComparison],
    base_commit: &str,
    new_commit: &str,
    path: &Path,
) -> Result<(), ChartError> {
    let mut batches: Vec<u32> = points.iter().map(|p| p.key.batch).collect();
    batches.sort_unstable();
    batches.dedup();

    // client → batch → points sorted by maxSockets (∞ last).
    let mut by_client: BTreeMap<ClientMode, BTreeMap<u32, Vec<&PointComparison>>> = BTreeMap::new();
    for p in points {
        by_client
            .entry(p.key.client)
            .or_default()
            .entry(p.key.batch)
            .or_default()
            .push(p);
    }
    let panels: Vec<Panel> = by_client
        .into_iter()
        .map(|(client, lines)| {
            let mut series = Vec::new();
            let mut markers = Vec::new();
            for (batch, mut ps) in lines {
                ps.sort_by_key(|p| max_sockets_sort_key(p.key.max_sockets));
                let color = batch_color(batch, &batches);
                let line = |dash, side: fn(&PointComparison) -> (&Point, Spread)| Series {
                    color,
                    dash,
                    points: ps
                        .iter()
                        .map(|p| {
                            let (point, s) = side(p);
                            SeriesPoint {
                                x: p.key.max_sockets,
                                y: s.median,
                                band: Some((s.min, s.max)),
                                failed: point.failed(),
                            }
                        })
                        .collect(),
                };
                series.push(line(Dash::Dashed, |p| (&p.base, p.throughput.base)));
                series.push(line(Dash::Solid, |p| (&p.new, p.throughput.new)));
                markers.extend(
                    ps.iter()
                        .filter(|p| p.throughput.verdict != Verdict::Unchanged)
                        .map(|p| Marker {
                            x: p.key.max_sockets,
                            y: p.throughput.new.median,
                            color,
                            label: Some((view::pct(p.throughput.change), RGBColor(0, 0, 0))),
                        }),
                );
            }
            Panel {
                title: format!("client: {client}"),
                series,
                markers: one_label_per_x(markers),
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
    legend.extend([
        LegendItem::Line {
            color: STYLE_GREY,
            dash: Dash::Dashed,
            label: base_label(base_commit),
        },
        LegendItem::Line {
            color: STYLE_GREY,
            dash: Dash::Solid,
            label: new_label(new_commit),
        },
        LegendItem::Band {
            color: STYLE_GREY,
            label: "band = min–max over repetitions".to_owned(),
        },
    ]);
    if panels.iter().any(|p| !p.markers.is_empty()) {
        legend.push(LegendItem::Marker {
            label: "changed beyond threshold and noise (median change)".to_owned(),
        });
    }
    let fig = Figure {
        title: TITLE.to_owned(),
        subtitle: subtitle.to_owned(),
        legend,
        y_descs: vec!["objects/s".to_owned()],
        panels: vec![panels],
        shared_y: true,
        row_height: 470,
    };
    grid::draw(&fig, path)
}

/// Markers at the same maxSockets would print their labels on top of each other: the highest
/// one carries all their changes, the others none.
fn one_label_per_x(mut markers: Vec<Marker>) -> Vec<Marker> {
    let mut xs: Vec<Option<u32>> = markers.iter().map(|m| m.x).collect();
    xs.sort_by_key(|x| max_sockets_sort_key(*x));
    xs.dedup();
    for x in xs {
        let same: Vec<usize> = (0..markers.len()).filter(|&i| markers[i].x == x).collect();
        let Some(&top) = same
            .iter()
            .max_by(|&&a, &&b| markers[a].y.total_cmp(&markers[b].y))
        else {
            continue;
        };
        let texts: Vec<String> = same
            .iter()
            .filter_map(|&i| markers[i].label.take().map(|(t, _)| t))
            .collect();
        markers[top].label = Some((texts.join(" · "), RGBColor(0, 0, 0)));
    }
    markers
}
