//! Chart (b), `sockets.svg`: sockets opened and TLS handshakes (full, resumed) against
//! maxSockets. A shared pool opens about min(maxSockets, batch) sockets and resumes TLS on
//! reconnects; a per-request client opens one socket and one full handshake per request.
//!
//! Panels do not share a y range: per-request counts are orders of magnitude above shared ones
//! and would flatten the shared lines.

use std::path::Path;

use super::{ClientLines, MetricLine, MetricRow, metric_figure};
use crate::render::ChartError;
use crate::render::grid::{self, Dash};

/// Socket and handshake counts at one point (totals over all repetitions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sockets {
    /// Sockets opened.
    pub(crate) opened: f64,
    /// Full TLS handshakes.
    pub(crate) tls_full: f64,
    /// Resumed TLS handshakes.
    pub(crate) tls_resumed: f64,
}

/// The chart's title.
pub(crate) const TITLE: &str = "Sockets and TLS handshakes vs maxSockets";

/// Draws the chart to `path`; `subtitle` says what the points have in common.
pub(crate) fn draw(
    subtitle: &str,
    clients: &[ClientLines<Sockets>],
    path: &Path,
) -> Result<(), ChartError> {
    let rows = [
        MetricRow {
            title: "sockets opened",
            y_desc: "sockets",
            lines: vec![MetricLine {
                dash: Dash::Solid,
                value: |s: &Sockets| s.opened,
            }],
        },
        MetricRow {
            title: "full TLS handshakes",
            y_desc: "handshakes",
            lines: vec![MetricLine {
                dash: Dash::Solid,
                value: |s: &Sockets| s.tls_full,
            }],
        },
        MetricRow {
            title: "resumed TLS handshakes",
            y_desc: "handshakes",
            lines: vec![MetricLine {
                dash: Dash::Solid,
                value: |s: &Sockets| s.tls_resumed,
            }],
        },
    ];
    let subtitle = format!("{subtitle} · counts are totals over all repetitions");
    grid::draw(
        &metric_figure(TITLE, &subtitle, clients, &rows, &[], false),
        path,
    )
}
