//! Chart (c), `latency.svg`: request latency p50/p99 and the wait for a socket p50/p99 against
//! maxSockets. Below the batch size requests queue at the cap (socket wait grows); far above it
//! the server saturates or throttles (latency grows).
//!
//! Panels do not share a y range: a client per request can be seconds slower than a shared one,
//! which would flatten the shared panel; read the tick labels to compare modes.

use std::path::Path;

use super::{ClientLines, MetricLine, MetricRow, metric_figure};
use crate::render::ChartError;
use crate::render::grid::{self, Dash};

/// Latency percentiles at one point, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Latencies {
    /// Request latency p50.
    pub(crate) p50: f64,
    /// Request latency p99.
    pub(crate) p99: f64,
    /// Socket wait p50.
    pub(crate) wait_p50: f64,
    /// Socket wait p99.
    pub(crate) wait_p99: f64,
}

/// The chart's title.
pub(crate) const TITLE: &str = "Latency and socket wait vs maxSockets";

/// Draws the chart to `path`; `subtitle` says what the points have in common.
pub(crate) fn draw(
    subtitle: &str,
    clients: &[ClientLines<Latencies>],
    path: &Path,
) -> Result<(), ChartError> {
    let rows = [
        MetricRow {
            title: "request latency",
            y_desc: "latency (ms)",
            lines: vec![
                MetricLine {
                    dash: Dash::Solid,
                    value: |l: &Latencies| l.p99,
                },
                MetricLine {
                    dash: Dash::Dashed,
                    value: |l: &Latencies| l.p50,
                },
            ],
        },
        MetricRow {
            title: "wait for a socket",
            y_desc: "socket wait (ms)",
            lines: vec![
                MetricLine {
                    dash: Dash::Solid,
                    value: |l: &Latencies| l.wait_p99,
                },
                MetricLine {
                    dash: Dash::Dashed,
                    value: |l: &Latencies| l.wait_p50,
                },
            ],
        },
    ];
    let styles = [(Dash::Solid, "p99"), (Dash::Dashed, "p50")];
    grid::draw(
        &metric_figure(TITLE, subtitle, clients, &rows, &styles, false),
        path,
    )
}
