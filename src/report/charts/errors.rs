//! Chart (e), `errors.svg`: retries, SlowDown replies and failed requests against maxSockets.
//! The fall-off at high maxSockets shows up here first: the server answers `SlowDown`, the client
//! retries with backoff, and when retries run out requests fail.
//!
//! Panels do not share a y range: counts differ by orders of magnitude between client modes.

use std::path::Path;

use super::{ClientLines, MetricLine, MetricRow, metric_figure};
use crate::render::ChartError;
use crate::render::grid::{self, Dash};

/// Retry and error counts at one point (totals over all repetitions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Failures {
    /// Retries for any reason.
    pub(crate) retries: f64,
    /// SlowDown replies: throttling retries plus requests that failed still throttled.
    pub(crate) slowdown: f64,
    /// Requests that failed for good.
    pub(crate) errors: f64,
    /// Of those, `EMFILE` (out of file descriptors).
    pub(crate) emfile: f64,
}

/// The chart's title.
pub(crate) const TITLE: &str = "Retries, SlowDown and errors vs maxSockets";

/// Draws the chart to `path`; `subtitle` says what the points have in common.
pub(crate) fn draw(
    subtitle: &str,
    clients: &[ClientLines<Failures>],
    path: &Path,
) -> Result<(), ChartError> {
    let rows = [
        MetricRow {
            title: "retries",
            y_desc: "retries (all reasons)",
            lines: vec![MetricLine {
                dash: Dash::Solid,
                value: |f: &Failures| f.retries,
            }],
        },
        MetricRow {
            title: "SlowDown replies",
            y_desc: "SlowDown replies",
            lines: vec![MetricLine {
                dash: Dash::Solid,
                value: |f: &Failures| f.slowdown,
            }],
        },
        MetricRow {
            title: "failed requests",
            y_desc: "failed after retries",
            lines: vec![
                MetricLine {
                    dash: Dash::Solid,
                    value: |f: &Failures| f.errors,
                },
                MetricLine {
                    dash: Dash::Dashed,
                    value: |f: &Failures| f.emfile,
                },
            ],
        },
    ];
    let styles = [(
        Dash::Dashed,
        "failed requests: EMFILE only (out of file descriptors)",
    )];
    let subtitle = format!("{subtitle} · counts are totals over all repetitions");
    grid::draw(
        &metric_figure(TITLE, &subtitle, clients, &rows, &styles, false),
        path,
    )
}
