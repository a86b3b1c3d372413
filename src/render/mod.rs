//! What the report and the comparison both draw with: the small-multiples chart grid, the
//! maxSockets axis, the colours, number and byte formatting, the shared stylesheet, and the
//! errors and files of a written page.
//!
//! Invariant: a chart is drawn from plain data (a `grid::Figure`), never from a result file,
//! so the report and `compare` draw the same way and neither reaches into the other.
//!
//! # Layout
//!
//! - `grid`: small multiples against maxSockets (rows = metrics, columns = client modes),
//!   legend above the panels, failed points marked.
//! - `axis`: the log₂ maxSockets axis with its "∞" tick.
//! - `color`: one colour per batch size, red for failures only.
//! - `format`: compact numbers and byte sizes.
//! - `style.css`: the pages' stylesheet (`STYLE_CSS`).

pub(crate) mod axis;
pub(crate) mod color;
pub(crate) mod format;
pub(crate) mod grid;

use std::path::{Path, PathBuf};

/// Longest slug: chart file names (`sockets-tls-resumed-<slug>.svg` and the like) stay far
/// below the 255 bytes a file name may have, however long a group's scenario text is.
const SLUG_MAX: usize = 96;

/// Lowercase ASCII letters, digits and single dashes; one longer than [`SLUG_MAX`] is cut at a
/// dash and ends with a hash of the whole text, so that two long names that differ only at
/// their ends stay apart, the same in every run.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.len() <= SLUG_MAX {
        return out.to_owned();
    }
    // FNV-1a: stable across runs and Rust versions, unlike std's hasher.
    let hash = out.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let head = &out[..SLUG_MAX - 9];
    let head = head.rsplit_once('-').map_or(head, |(h, _)| h);
    format!("{head}-{hash:08x}")
}

/// The stylesheet both pages include, so the comparison looks like the report.
pub(crate) const STYLE_CSS: &str = include_str!("style.css");

/// A page (HTML and its charts) could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The output directory or a file in it could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("cannot draw chart {}: {message}", path.display())]
    Chart {
        /// The SVG file.
        path: PathBuf,
        /// What plotters reported.
        message: String,
    },
    /// The HTML template failed to render (a bug in the template or its context).
    #[error("cannot render the report page: {0}")]
    Template(String),
}

impl From<ChartError> for Error {
    fn from(e: ChartError) -> Self {
        Error::Chart {
            path: e.path,
            message: e.message,
        }
    }
}

/// The files a page consists of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFiles {
    /// The page: `out_dir/index.html`.
    pub index: PathBuf,
    /// Every chart written, in page order.
    pub charts: Vec<PathBuf>,
}

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
