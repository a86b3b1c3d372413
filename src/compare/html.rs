//! The HTML page: the verdict, the changed points, the knees, one overlay chart per workload
//! group and every point, from `templates/compare.html` (auto-escaped). Like the report it
//! needs no JavaScript and links only files it wrote next to it.

use std::path::Path;

use serde::Serialize;

use super::chart;
use super::comparison::{Comparison, PointComparison};
use super::templates;
use super::view::{self, Headline, KneeRow, PointRow, RunView};
use crate::render::{Error, PageFiles};

#[derive(Debug, Serialize)]
struct Page {
    headline: Headline,
    base: RunView,
    new: RunView,
    options: String,
    notes: Vec<String>,
    multi_group: bool,
    changed: Vec<PointRow>,
    knees: Vec<KneeRow>,
    knees_moved: usize,
    groups: Vec<GroupView>,
}

#[derive(Debug, Serialize)]
struct GroupView {
    anchor: String,
    title: String,
    chart: String,
    chart_title: &'static str,
    points: Vec<PointRow>,
}

impl Comparison {
    /// Writes `index.html` and one overlay chart per workload group into `out_dir` (created if
    /// missing; earlier files are overwritten). With one group the chart is `throughput.svg`,
    /// with several `throughput-<group>.svg` each.
    ///
    /// # Errors
    ///
    /// [`Error::Write`] when the directory or a file cannot be written, [`Error::Chart`] when a
    /// chart cannot be drawn.
    pub fn write_html(&self, out_dir: &Path) -> Result<PageFiles, Error> {
        std::fs::create_dir_all(out_dir).map_err(|source| Error::Write {
            path: out_dir.to_owned(),
            source,
        })?;
        let groups = view::groups(self);
        let multi_group = groups.len() > 1;
        let (base, new) = (
            view::run_view(&self.base_meta),
            view::run_view(&self.new_meta),
        );
        let mut charts = Vec::new();
        let mut group_views = Vec::new();
        for g in &groups {
            let points: Vec<&PointComparison> =
                self.points.iter().filter(|p| &p.key.group() == g).collect();
            let file = if multi_group {
                format!("throughput-{}.svg", g.slug())
            } else {
                "throughput.svg".to_owned()
            };
            let path = out_dir.join(&file);
            chart::draw(&g.title(), &points, &base.commit, &new.commit, &path)?;
            charts.push(path);
            group_views.push(GroupView {
                anchor: format!("group-{}", g.slug()),
                title: g.title(),
                chart: file,
                chart_title: chart::TITLE,
                points: points.iter().map(|p| view::point_row(p, false)).collect(),
            });
        }
        let page = Page {
            headline: view::headline(self),
            base,
            new,
            options: view::options_line(self),
            notes: self.notes.clone(),
            multi_group,
            changed: view::changed_rows(self, multi_group),
            knees: self.knees.iter().map(view::knee_row).collect(),
            knees_moved: self.knees.iter().filter(|k| k.moved()).count(),
            groups: group_views,
        };
        let html = templates::render("compare.html", &page).map_err(Error::Template)?;
        let index = out_dir.join("index.html");
        std::fs::write(&index, html).map_err(|source| Error::Write {
            path: index.clone(),
            source,
        })?;
        Ok(PageFiles { index, charts })
    }
}
