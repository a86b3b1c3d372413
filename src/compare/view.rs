//! What the renderers show, as strings: the headline, one row per point, one per knee, the two
//! runs. The terminal table, the Markdown and the HTML page all read these, so they never
//! disagree on a number or a verdict.

use serde::Serialize;

use super::comparison::{Comparison, PointComparison};
use super::counters::CounterChange;
use super::key::GroupKey;
use super::knee::KneeShift;
use super::throughput::{Interval, Verdict};
use crate::metrics::display_max_sockets;
use crate::results::Meta;

/// The verdict line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Headline {
    /// "regression", "behaviour change", "unchanged"…
    pub(crate) status: &'static str,
    /// An emoji for Markdown.
    pub(crate) icon: &'static str,
    /// CSS class: "bad", "warn" or "good".
    pub(crate) class: &'static str,
    /// "2 of 20 points regressed, 1 behaviour change, …".
    pub(crate) detail: String,
    /// The process exit status it leads to.
    pub(crate) exit_code: u8,
}

pub(crate) fn headline(c: &Comparison) -> Headline {
    let s = c.summary();
    let fail_tput = c.regressions_fail();
    let behaviour = s.behaviour_changes > 0 || c.knees_fail();
    let (status, icon, class) = match (behaviour, fail_tput, s.regressed > 0) {
        (true, true, _) => ("regression and behaviour change", "❌", "bad"),
        (true, false, _) => ("behaviour change", "❌", "bad"),
        (false, true, _) => ("regression", "❌", "bad"),
        (false, false, true) => ("throughput regression, reported only", "⚠️", "warn"),
        (false, false, false) if s.improved > 0 => ("improved", "✅", "good"),
        (false, false, false) => ("unchanged", "✅", "good"),
    };
    let mut parts = vec![format!(
        "{} of {} points regressed{}",
        s.regressed,
        s.points,
        if s.regressed > 0 && !fail_tput {
            " (report only)"
        } else {
            ""
        }
    )];
    parts.push(plural(
        s.behaviour_changes,
        "behaviour change",
        "behaviour changes",
    ));
    if s.counter_differences > 0 {
        parts.push(format!(
            "{} with informational counter differences",
            s.counter_differences
        ));
    }
    parts.push(format!("{} improved", s.improved));
    parts.push(format!("{} unchanged", s.unchanged));
    let knees = if s.knees == 0 {
        "no recommendations to compare knees".to_owned()
    } else if s.knees_moved == 0 {
        format!("knee unchanged for all {} (client, batch)", s.knees)
    } else {
        let beyond = match s.knees_beyond_noise {
            0 => "all within the noise".to_owned(),
            n if c.knees_fail() => format!("{n} beyond the noise (a behaviour change)"),
            n => format!("{n} beyond the noise (report only)"),
        };
        format!(
            "knee moved for {} of {} (client, batch), {beyond}",
            s.knees_moved, s.knees
        )
    };
    Headline {
        status,
        icon,
        class,
        detail: format!(
            "{} (threshold {}, outside the run-to-run range); {knees}",
            parts.join(", "),
            pct_abs(c.options.threshold)
        ),
        exit_code: c.exit_code(),
    }
}

/// One run, for the header.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunView {
    /// First 12 hex digits of the commit, "(uncommitted changes)" appended when dirty.
    pub(crate) commit: String,
    /// The run's date.
    pub(crate) date: String,
    /// CPU, cores.
    pub(crate) machine: String,
}

pub(crate) fn run_view(m: &Meta) -> RunView {
    let mut commit = m
        .git_commit
        .as_deref()
        .map_or_else(|| "no git".to_owned(), |c| c.chars().take(12).collect());
    if m.git_dirty == Some(true) {
        commit.push_str(" (uncommitted changes)");
    }
    RunView {
        commit,
        date: m.date.clone(),
        machine: format!(
            "{}, {} cores",
            m.cpu_model.as_deref().unwrap_or("unknown CPU"),
            m.cores
        ),
    }
}

/// "threshold 10 % · strict counters · throughput gates the exit status".
pub(crate) fn options_line(c: &Comparison) -> String {
    let o = &c.options;
    format!(
        "threshold {} · counters {} · throughput {}",
        pct_abs(o.threshold),
        if o.strict_counters {
            "strict"
        } else {
            "informational"
        },
        if o.report_only_throughput {
            "reported only"
        } else {
            "gates the exit status"
        }
    )
}

/// One point as strings.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PointRow {
    /// The point's group title when the comparison spans several groups, else empty.
    pub(crate) group: String,
    pub(crate) client: String,
    pub(crate) batch: u32,
    pub(crate) max_sockets: String,
    /// Base median objects/s, "1,234".
    pub(crate) base: String,
    pub(crate) new: String,
    /// "−12.3 %".
    pub(crate) change: String,
    /// "[−15.0 %, −9.8 %]".
    pub(crate) interval: String,
    /// "regressed", "improved", "unchanged".
    pub(crate) verdict: &'static str,
    /// Emoji of the verdict, for Markdown.
    pub(crate) icon: &'static str,
    /// CSS class of the verdict: "bad", "good" or empty.
    pub(crate) class: &'static str,
    /// CSS class of the row: "bad" for a regression or a behaviour change, "good" for an
    /// improvement, else empty.
    pub(crate) row_class: &'static str,
    /// "sockets_opened 64 → 72, tls_full+tls_resumed 64 → 72", empty when equal.
    pub(crate) counters: String,
    /// The counter differences make a behaviour change.
    pub(crate) behaviour: bool,
    /// "new failed: 37 errors (EMFILE 30)", "both failed: …", empty when neither side failed.
    pub(crate) failed: String,
}

pub(crate) fn point_row(p: &PointComparison, with_group: bool) -> PointRow {
    let t = &p.throughput;
    let (icon, class) = match t.verdict {
        Verdict::Regressed => ("🔴", "bad"),
        Verdict::Improved => ("🟢", "good"),
        Verdict::Unchanged => ("⚪", ""),
    };
    let (bf, nf) = (p.base.failure_summary(), p.new.failure_summary());
    let failed = match (p.base.failed(), p.new.failed()) {
        (true, true) if bf == nf => format!("both failed: {bf}"),
        (true, true) => format!("base failed: {bf}; new failed: {nf}"),
        (true, false) => format!("base failed: {bf}"),
        (false, true) => format!("new failed: {nf}"),
        (false, false) => String::new(),
    };
    PointRow {
        group: if with_group {
            p.key.group().title()
        } else {
            String::new()
        },
        client: p.key.client.to_string(),
        batch: p.key.batch,
        max_sockets: display_max_sockets(p.key.max_sockets).to_string(),
        base: obj_s(t.base.median),
        new: obj_s(t.new.median),
        change: pct(t.change),
        interval: interval(t.interval),
        verdict: t.verdict.as_str(),
        icon,
        class,
        row_class: if p.behaviour_changed() { "bad" } else { class },
        counters: counters(&p.counters),
        behaviour: p.behaviour_changed(),
        failed,
    }
}

/// Regressions, then behaviour changes, then improvements, then informational counter changes;
/// workload order within each.
pub(crate) fn changed_rows(c: &Comparison, with_group: bool) -> Vec<PointRow> {
    let rank = |p: &PointComparison| match (p.throughput.verdict, p.behaviour_changed()) {
        (Verdict::Regressed, _) => 0,
        (_, true) => 1,
        (Verdict::Improved, _) => 2,
        _ => 3,
    };
    let mut changed: Vec<&PointComparison> = c.points.iter().filter(|p| p.changed()).collect();
    changed.sort_by_key(|p| rank(p));
    changed
        .into_iter()
        .map(|p| point_row(p, with_group))
        .collect()
}

/// One (client, batch)'s knee as strings.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct KneeRow {
    pub(crate) client: String,
    pub(crate) batch: u32,
    /// Base's knee, or "none".
    pub(crate) base: String,
    pub(crate) new: String,
    /// "+1 step", "−2 steps", "same", "appeared", "gone".
    pub(crate) shift: String,
    /// Base's and new's best maxSockets, "64 → 128".
    pub(crate) best: String,
    /// "–", "within the noise (16: 98 % → 96 % of the best)", "beyond the noise (…)".
    pub(crate) noise: String,
    pub(crate) moved: bool,
    /// Moved beyond the noise: a behaviour change.
    pub(crate) beyond_noise: bool,
}

pub(crate) fn knee_row(k: &KneeShift) -> KneeRow {
    let show = |v: Option<Option<u32>>| {
        v.map_or_else(
            || "none".to_owned(),
            |ms| display_max_sockets(ms).to_string(),
        )
    };
    let knee = |k: &Option<super::knee::Knee>| match k {
        None => "none".to_owned(),
        Some(k) => match k.verdict {
            crate::analysis::Verdict::Knee => display_max_sockets(k.knee_max_sockets).to_string(),
            crate::analysis::Verdict::Flat => {
                format!("{} (flat)", display_max_sockets(k.knee_max_sockets))
            }
            crate::analysis::Verdict::ShareClient => "share a client".to_owned(),
            crate::analysis::Verdict::Single => {
                format!("{} (only value)", display_max_sockets(k.knee_max_sockets))
            }
        },
    };
    let shift = match (k.steps, &k.base, &k.new) {
        (Some(0), ..) => "same".to_owned(),
        (Some(s), ..) => {
            let n = s.unsigned_abs();
            format!(
                "{}{n} {}",
                if s > 0 { "+" } else { "−" },
                if n == 1 { "step" } else { "steps" }
            )
        }
        (None, None, Some(_)) => "appeared".to_owned(),
        (None, Some(_), None) => "gone".to_owned(),
        (None, ..) => "–".to_owned(),
    };
    let best = |k: &Option<super::knee::Knee>| show(k.map(|k| k.best_max_sockets));
    let evidence = k.evidence.map_or_else(String::new, |e| {
        format!(
            " ({}: {:.0} % → {:.0} % of the best)",
            display_max_sockets(e.max_sockets),
            100.0 * e.base_ratio,
            100.0 * e.new_ratio
        )
    });
    let noise = match k.change {
        super::knee::KneeChange::Same => "–".to_owned(),
        super::knee::KneeChange::WithinNoise => format!("within the noise{evidence}"),
        super::knee::KneeChange::BeyondNoise => format!("beyond the noise{evidence}"),
    };
    let g = &k.group;
    KneeRow {
        client: match &g.scenario {
            Some(sc) => format!("{} · {} ({sc})", k.client, g.profile),
            None => format!("{} · {}", k.client, g.profile),
        },
        batch: k.batch,
        base: knee(&k.base),
        new: knee(&k.new),
        shift,
        best: format!("{} → {}", best(&k.base), best(&k.new)),
        noise,
        moved: k.moved(),
        beyond_noise: k.beyond_noise(),
    }
}

/// The groups (pool, pattern, op, profile, object size, objects) of the comparison, sorted.
pub(crate) fn groups(c: &Comparison) -> Vec<GroupKey> {
    let mut g: Vec<GroupKey> = c.points.iter().map(|p| p.key.group()).collect();
    g.sort();
    g.dedup();
    g
}

fn counters(changes: &[CounterChange]) -> String {
    changes
        .iter()
        .map(|c| format!("{} {} → {}", c.counter.name(), int(c.base), int(c.new)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// 1234567 → "1,234,567" (the report's page formats its tables the same way).
pub(crate) fn int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Objects/s rounded to an integer with separators; one decimal below 10.
pub(crate) fn obj_s(v: f64) -> String {
    if !v.is_finite() || v < 0.0 {
        format!("{v:.0}")
    } else if v < 10.0 {
        format!("{v:.1}")
    } else {
        int(v.round() as u64)
    }
}

/// A relative change as a signed percentage with a real minus sign: "+1.5 %", "−12.0 %", "+∞ %".
pub(crate) fn pct(fraction: f64) -> String {
    if fraction == f64::INFINITY {
        return "+∞ %".to_owned();
    }
    let v = 100.0 * fraction;
    // −0.04 rounds to "-0.0": show it as no change.
    if v.abs() < 0.05 {
        return "±0.0 %".to_owned();
    }
    format!("{v:+.1} %").replace('-', "−")
}

/// A threshold: "10 %", "2.5 %".
pub(crate) fn pct_abs(fraction: f64) -> String {
    // Two decimals at most, trailing zeros dropped: 0.025 × 100 is 2.5000000000000004.
    let s = format!("{:.2}", 100.0 * fraction);
    format!("{} %", s.trim_end_matches('0').trim_end_matches('.'))
}

/// "[−15.0 %, −9.8 %]".
pub(crate) fn interval(i: Interval) -> String {
    format!("[{}, {}]", pct(i.low), pct(i.high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(obj_s(3195.4), "3,195");
        assert_eq!(obj_s(2.25), "2.2");
        assert_eq!(pct(-0.123), "−12.3 %");
        assert_eq!(pct(0.015), "+1.5 %");
        assert_eq!(pct(-0.0001), "±0.0 %");
        assert_eq!(pct(f64::INFINITY), "+∞ %");
        assert_eq!(pct_abs(0.10), "10 %");
        assert_eq!(pct_abs(0.025), "2.5 %");
        assert_eq!(
            interval(Interval {
                low: -0.15,
                high: -0.098
            }),
            "[−15.0 %, −9.8 %]"
        );
    }
}
