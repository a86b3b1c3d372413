//! Chart `sdks.svg`: the S3 clients measured, overlaid: objects/s against maxSockets, one
//! panel per (batch size, client mode) (rows, columns), one line per SDK in its own colour,
//! the min–max spread over repetitions as a band, each SDK's knee marked on its line.
//!
//! Drawn only when a run measured more than one SDK: it is where poolsweep's curve is judged
//! against the real SDK's, point by point.

use std::path::Path;

use super::At;
use super::throughput::Throughput;
use crate::metrics::display_max_sockets;
use crate::render::ChartError;
use crate::render::color::sdk_color;
use crate::render::grid::{self, Dash, Figure, LegendItem, Marker, Panel, Series};
use crate::sut::Sdk;

/// One SDK's curve in a panel, sorted by maxSockets (∞ last), and its knee.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SdkCurve {
    /// The SDK.
    pub(crate) sdk: Sdk,
    /// Its points.
    pub(crate) points: Vec<At<Throughput>>,
    /// Its knee (the recommended maxSockets), if it has a recommendation here.
    pub(crate) knee: Option<Option<u32>>,
}

/// One panel: a (batch, client mode).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SdkPanel {
    /// Client mode name.
    pub(crate) client: String,
    /// The curves, one per SDK measured here.
    pub(crate) curves: Vec<SdkCurve>,
}

/// Everything the chart shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SdksData {
    /// What the points have in common.
    pub(crate) subtitle: String,
    /// One row per batch size: (batch, its panels, one per client mode).
    pub(crate) rows: Vec<(u32, Vec<SdkPanel>)>,
}

/// The chart's title.
pub(crate) const TITLE: &str = "Each SDK measured: throughput vs maxSockets";

/// Draws the chart to `path`.
pub(crate) fn draw(data: &SdksData, path: &Path) -> Result<(), ChartError> {
    let mut sdks: Vec<Sdk> = data
        .rows
        .iter()
        .flat_map(|(_, ps)| ps.iter().flat_map(|p| p.curves.iter().map(|c| c.sdk)))
        .collect();
    sdks.sort();
    sdks.dedup();
    let panels = data
        .rows
        .iter()
        .map(|(batch, row)| {
            row.iter()
                .map(|panel| Panel {
                    title: format!("client: {} · batch {batch}", panel.client),
                    series: panel
                        .curves
                        .iter()
                        .map(|c| Series {
                            color: sdk_color(c.sdk),
                            dash: Dash::Solid,
                            points: c.points.iter().map(At::series_point).collect(),
                        })
                        .collect(),
                    markers: panel
                        .curves
                        .iter()
                        .filter_map(|c| {
                            let knee = c.knee?;
                            let at = c.points.iter().find(|p| p.max_sockets == knee)?;
                            Some(Marker {
                                x: knee,
                                y: at.v.median,
                                color: sdk_color(c.sdk),
                                label: Some((
                                    format!("{} knee {}", c.sdk, display_max_sockets(knee)),
                                    sdk_color(c.sdk),
                                )),
                            })
                        })
                        .collect(),
                })
                .collect()
        })
        .collect();
    let mut legend: Vec<LegendItem> = sdks
        .iter()
        .map(|&sdk| LegendItem::Line {
            color: sdk_color(sdk),
            dash: Dash::Solid,
            label: sdk.to_string(),
        })
        .collect();
    legend.push(LegendItem::Band {
        color: crate::render::color::STYLE_GREY,
        label: "median, band = min–max over repetitions".to_owned(),
    });
    legend.push(LegendItem::Marker {
        label: "knee of each SDK".to_owned(),
    });
    let fig = Figure {
        title: TITLE.to_owned(),
        subtitle: data.subtitle.clone(),
        legend,
        y_descs: data
            .rows
            .iter()
            .map(|(b, _)| format!("objects/s, batch {b}"))
            .collect(),
        panels,
        shared_y: true,
        row_height: 420,
    };
    grid::draw(&fig, path)
}
