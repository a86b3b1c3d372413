//! The terminal rendering: the headline, the two runs, then aligned plain-text tables (every
//! point, the knees, the notes). No colours or escape codes, so it reads the same in a CI log.

use std::fmt::Write as _;

use super::comparison::Comparison;
use super::view::{self, PointRow};

/// A column: header, right-aligned (numbers) or not, and the cell of a row.
type Column<R> = (&'static str, bool, fn(&R) -> String);

const POINT_COLUMNS: [Column<PointRow>; 9] = [
    ("client", false, |r| r.client.clone()),
    ("batch", true, |r| r.batch.to_string()),
    ("maxSockets", true, |r| r.max_sockets.clone()),
    ("base obj/s", true, |r| r.base.clone()),
    ("new obj/s", true, |r| r.new.clone()),
    ("change", true, |r| r.change.clone()),
    ("interval", false, |r| r.interval.clone()),
    ("verdict", false, |r| r.verdict.to_owned()),
    ("counters", false, |r| {
        match (r.counters.is_empty(), r.behaviour) {
            (true, _) => String::new(),
            (false, true) => format!("BEHAVIOUR CHANGE: {}", r.counters),
            (false, false) => format!("(informational) {}", r.counters),
        }
    }),
];

const KNEE_COLUMNS: [Column<view::KneeRow>; 7] = [
    ("client", false, |r| r.client.clone()),
    ("batch", true, |r| r.batch.to_string()),
    ("base knee", true, |r| r.base.clone()),
    ("new knee", true, |r| r.new.clone()),
    ("shift", false, |r| r.shift.clone()),
    ("best base → new", false, |r| r.best.clone()),
    ("noise", false, |r| r.noise.clone()),
];

impl Comparison {
    /// The comparison as plain text for a terminal or CI log: a headline with the verdict, the
    /// two runs, every point (grouped by workload when there are several), the knees and notes.
    pub fn to_text(&self) -> String {
        let h = view::headline(self);
        let (b, n) = (
            view::run_view(&self.base_meta),
            view::run_view(&self.new_meta),
        );
        let mut out = String::new();
        let _ = writeln!(
            out,
            "poolsweep compare: {} (exit {}): {}",
            h.status.to_uppercase(),
            h.exit_code,
            h.detail
        );
        let _ = writeln!(out, "base: {}  {}  {}", b.commit, b.date, b.machine);
        let _ = writeln!(out, "new:  {}  {}  {}", n.commit, n.date, n.machine);
        let _ = writeln!(out, "{}", view::options_line(self));

        for group in view::groups(self) {
            let rows: Vec<PointRow> = self
                .points
                .iter()
                .filter(|p| p.key.group() == group)
                .map(|p| view::point_row(p, false))
                .collect();
            let _ = writeln!(out, "\n{}", group.title());
            table(&mut out, &POINT_COLUMNS, &rows);
            for r in rows.iter().filter(|r| !r.failed.is_empty()) {
                let _ = writeln!(
                    out,
                    "  {} batch={} maxSockets={}: {}",
                    r.client, r.batch, r.max_sockets, r.failed
                );
            }
        }

        if !self.knees.is_empty() {
            let rows: Vec<view::KneeRow> = self.knees.iter().map(view::knee_row).collect();
            let _ = writeln!(out, "\nknee (recommended maxSockets)");
            table(&mut out, &KNEE_COLUMNS, &rows);
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nnotes");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}

/// Writes an aligned table: columns padded to their widest cell (counted in chars, so "∞" and
/// "−" take one column), two spaces apart, no trailing spaces.
fn table<R>(out: &mut String, columns: &[Column<R>], rows: &[R]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|(_, _, cell)| cell(r)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (head, _, _))| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([head.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let headers: Vec<String> = columns.iter().map(|(h, _, _)| (*h).to_owned()).collect();
    for row in std::iter::once(&headers).chain(&cells) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                line.push_str("  ");
            }
            if columns[i].1 {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
