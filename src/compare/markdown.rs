//! The Markdown rendering, for a CI job summary (`$GITHUB_STEP_SUMMARY`) or a pull-request
//! comment: the verdict line first, the changed points as a table, every point in a collapsed
//! `<details>`. The markup lives in `templates/compare.md`.

use serde::Serialize;

use super::comparison::Comparison;
use super::templates;
use super::view::{self, Headline, KneeRow, PointRow, RunView};

#[derive(Debug, Serialize)]
struct Context {
    headline: Headline,
    base: RunView,
    new: RunView,
    options: String,
    /// The single workload's title, or "N workloads".
    workload: String,
    multi_group: bool,
    notes: Vec<String>,
    changed: Vec<PointRow>,
    all: Vec<PointRow>,
    /// Only the knees that moved.
    knees_moved: Vec<KneeRow>,
    knees: usize,
}

impl Comparison {
    /// The comparison as GitHub-flavoured Markdown: a headline verdict line, the runs and
    /// options, notes, a table of the changed points (regressions first), the knees that moved,
    /// and every point in a collapsed `<details>` block.
    pub fn to_markdown(&self) -> String {
        let groups = view::groups(self);
        let multi_group = groups.len() > 1;
        let ctx = Context {
            headline: view::headline(self),
            base: view::run_view(&self.base_meta),
            new: view::run_view(&self.new_meta),
            options: view::options_line(self),
            workload: match groups.as_slice() {
                [one] => one.title(),
                many => format!("{} workloads", many.len()),
            },
            multi_group,
            notes: self.notes.clone(),
            changed: view::changed_rows(self, multi_group),
            all: self
                .points
                .iter()
                .map(|p| view::point_row(p, multi_group))
                .collect(),
            knees_moved: self
                .knees
                .iter()
                .filter(|k| k.moved())
                .map(view::knee_row)
                .collect(),
            knees: self.knees.len(),
        };
        // The template and its context are fixed at compile time; a failure here is a bug in
        // them, which the tests render.
        templates::render("compare.md", &ctx).expect("compare.md renders")
    }
}
