//! Charts and the HTML report drawn from a result file.
//!
//! [`render()`] writes `index.html` plus one SVG per chart into a directory: throughput against
//! maxSockets (the answer), sockets and TLS handshakes, latency and socket wait, a batch ×
//! maxSockets heatmap and retries/errors. The page holds the recommendation table, every failed
//! point and the run's metadata; it needs no JavaScript and loads nothing from the network.
//!
//! Invariant: nothing is hidden. Failed points (errors, EMFILE, objects not completed) are drawn
//! with a failure marker and listed in a failures table; points of every (pool, pattern, op,
//! profile) group get charts, the largest group first under the plain file names
//! (`throughput.svg`…), the others with a suffix (`throughput-<group>.svg`).
//!
//! Layout: `charts` draws SVGs from plain data (one file per chart); `group` splits a run into
//! groups and extracts chart data; `page` builds the template context; the HTML itself lives in
//! `templates/` and is filled by minijinja with auto-escaping.
//!
//! # Examples
//!
//! ```no_run
//! use std::path::Path;
//!
//! let files = poolsweep::report::render_from_file(Path::new("results/local/run.json"), Path::new("report"))?;
//! println!("open {}", files.index.display());
//! # Ok::<(), poolsweep::report::Error>(())
//! ```

mod charts;
mod group;
mod page;
mod sdks;

use std::path::Path;

use crate::render::{self, PageFiles};
use crate::results::RunFile;

use self::group::ChartKind;

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The result file could not be loaded.
    #[error(transparent)]
    Load(#[from] crate::results::Error),
    /// The page or a chart could not be drawn or written.
    #[error(transparent)]
    Render(#[from] render::Error),
}

/// The file in a report directory that lists what the last render wrote (one name a line), so
/// that the next render removes those it does not write again (a group's charts from an
/// earlier run) and nothing else.
const MANIFEST: &str = ".poolsweep-report";

/// Renders the report for `run` into `out_dir` (created if missing), overwriting earlier files
/// and removing the charts an earlier render wrote that this one does not (files poolsweep did
/// not write are left alone).
///
/// `criterion_index`, if given, is linked from the page with a path relative to `out_dir` (for
/// example `target/criterion/report/index.html`).
pub fn render(
    run: &RunFile,
    out_dir: &Path,
    criterion_index: Option<&Path>,
) -> Result<PageFiles, Error> {
    std::fs::create_dir_all(out_dir).map_err(|source| render::Error::Write {
        path: out_dir.to_owned(),
        source,
    })?;
    let groups = group::groups(run);
    let mut charts = Vec::new();
    let mut drawn = Vec::new();
    for g in &groups {
        let mut files = Vec::new();
        for kind in ChartKind::ALL {
            let file = kind.file_name(&g.suffix);
            let path = out_dir.join(&file);
            g.draw(kind, run, &path)?;
            charts.push(path);
            files.push((kind, file));
        }
        drawn.push(files);
    }
    let compared = sdks::compared(run);
    if let Some(c) = &compared {
        let path = out_dir.join(sdks::CHART);
        let subtitle = groups
            .iter()
            .find(|g| g.recommended)
            .map(|g| {
                let k = &g.key;
                format!(
                    "pool {} · pattern {} · op {} · profile {} · SDKs {}",
                    k.pool,
                    k.pattern,
                    k.op,
                    k.profile,
                    c.sdks
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .unwrap_or_default();
        charts::sdks::draw(&c.chart(run, subtitle), &path).map_err(render::Error::from)?;
        charts.push(path);
    }
    let criterion_href = criterion_index.map(|p| page::relative_href(out_dir, p));
    let html = page::render_html(
        run,
        &groups,
        &drawn,
        compared.as_ref().map(|c| c.view(run)),
        criterion_href.as_deref(),
    )?;
    let index = out_dir.join("index.html");
    std::fs::write(&index, html).map_err(|source| render::Error::Write {
        path: index.clone(),
        source,
    })?;
    replace_manifest(out_dir, &charts);
    Ok(PageFiles { index, charts })
}

/// Removes the files the previous render listed in [`MANIFEST`] that `written` does not hold,
/// then lists `written` there. Best effort: a report whose stale charts cannot be removed is
/// still a report.
fn replace_manifest(out_dir: &Path, written: &[std::path::PathBuf]) {
    let names: std::collections::BTreeSet<String> = written
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    let manifest = out_dir.join(MANIFEST);
    if let Ok(old) = std::fs::read_to_string(&manifest) {
        for name in old.lines() {
            // Only plain file names: a hand-edited manifest cannot reach outside the directory.
            let plain = !name.is_empty()
                && name != MANIFEST
                && Path::new(name).file_name().is_some_and(|f| f == name);
            if plain && !names.contains(name) {
                let _ = std::fs::remove_file(out_dir.join(name));
            }
        }
    }
    let mut list = names.into_iter().collect::<Vec<_>>().join("\n");
    list.push('\n');
    let _ = std::fs::write(manifest, list);
}

/// Loads a result file and renders its report into `out_dir` (what `poolsweep report` runs).
pub fn render_from_file(result_json: &Path, out_dir: &Path) -> Result<PageFiles, Error> {
    let run = RunFile::load(result_json)?;
    render(&run, out_dir, None)
}

#[cfg(test)]
mod tests;
