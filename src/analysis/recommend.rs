//! The recommendation: for each group of the run (SDK, pool, pattern, op, profile, scenario) and
//! each (client mode, batch size) in it, the maxSockets to set, read from the whole curve.
//!
//! - **Best**: the maxSockets with the highest median throughput among points without errors
//!   (a point cut by the time budget is a candidate: its steady throughput was measured).
//! - **Knee** (the value to set): the smallest maxSockets whose throughput cannot be shown,
//!   round by round, to be more than [`KNEE_MARGIN`] (3 %) below the best's: the 95 %
//!   bootstrap interval of its per-round ratio to the best reaches 97 % ([`interval`]; with
//!   one repetition, the ratio itself). Repetitions run in rounds that each visit every maxSockets, and a shared
//!   machine's load drifts between rounds: ratios taken within a round cancel that drift, so
//!   the knee does not move with it, while a step that shows in every round is still found.
//!   Testing against the margin rather than against the best itself matters on a shared
//!   machine: the best is the highest of several points that are equal in truth, so an equal
//!   point is slower than it in all three rounds far more often than one time in eight.
//!   If every point is like the best the curve is **flat**, and said to be.
//! - **Beyond the knee**: what more sockets cost, each with its numbers at the knee and at its
//!   worst: SlowDown retries, other retries, p99 latency, sockets opened, TLS handshakes,
//!   failed requests, client and server CPU per request ([`Cost`]); only costs clearly above
//!   the knee's are named (thresholds in [`CostKind::notable`]).
//! - **Fall-off**: the first maxSockets beyond the knee whose throughput is below the best
//!   round by round, beyond the spread and the knee's margin (the interval of its per-round
//!   ratio stays below 1 − [`KNEE_MARGIN`]) and by more than [`FALLOFF_MARGIN`] (median
//!   ratio), or whose requests failed; it may be ∞ alone.
//! - **Per-request clients** get no maxSockets: each request has a client and a pool of its
//!   own, so maxSockets caps nothing. Their recommendation is to share a client, with what
//!   the shared client of the same group and batch measured beside it.
//!
//! [`interval`]: super::interval

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::interval;
use crate::metrics::{GroupKey, Point, display_max_sockets, max_sockets_sort_key};
use crate::modes::ClientMode;

/// A throughput that cannot be shown to be more than this fraction below the best's counts
/// as the best: more sockets for less than this are not worth it, however certain the
/// difference.
pub const KNEE_MARGIN: f64 = 0.03;

/// A fall-off is at least this far below the best (and beyond the spread).
pub const FALLOFF_MARGIN: f64 = 0.05;

/// What the recommendation says to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Set maxSockets to the knee.
    Knee,
    /// maxSockets makes no measurable difference; the knee is the smallest value measured.
    Flat,
    /// A client per request: maxSockets caps nothing; share one client instead.
    ShareClient,
    /// A shared client measured at one maxSockets only: one value shows no knee, and the
    /// recommendation says so instead of advising it.
    Single,
}

/// Where throughput falls below the best, beyond the spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Falloff {
    /// The smallest maxSockets above the knee where it does; `None` is Infinity.
    pub from: Option<u32>,
    /// Median objects/s there (0 when its requests failed).
    pub objects_per_s: f64,
    /// Percent below the best (`-20.0` = 20 % slower).
    pub vs_best_pct: f64,
}

/// One thing more sockets cost beyond the knee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostKind {
    /// Retries after SlowDown, plus requests still throttled when retries ran out, per run.
    SlowdownRetries,
    /// Other retries (5xx, resets, timeouts), per run.
    OtherRetries,
    /// 99th percentile request latency, ms.
    P99LatencyMs,
    /// Sockets opened, per run.
    SocketsOpened,
    /// TLS handshakes, full and resumed, per run.
    TlsHandshakes,
    /// Requests that failed for good (EMFILE included), per run.
    FailedRequests,
    /// The client's CPU time per request, µs.
    ClientCpuUs,
    /// The server's CPU time per request, µs.
    ServerCpuUs,
}

impl CostKind {
    const ALL: [CostKind; 8] = [
        CostKind::SlowdownRetries,
        CostKind::OtherRetries,
        CostKind::P99LatencyMs,
        CostKind::SocketsOpened,
        CostKind::TlsHandshakes,
        CostKind::FailedRequests,
        CostKind::ClientCpuUs,
        CostKind::ServerCpuUs,
    ];

    /// The value at a point, `None` if not measured there.
    fn of(self, p: &Point) -> Option<f64> {
        let per_run = |n: u64| n as f64 / f64::from(p.repetitions.max(1));
        match self {
            CostKind::SlowdownRetries => Some(per_run(p.retries.throttling + p.errors.slowdown)),
            CostKind::OtherRetries => Some(per_run(p.retries.total - p.retries.throttling)),
            CostKind::P99LatencyMs => Some(p.latency_ms.p99),
            CostKind::SocketsOpened => Some(per_run(p.sockets_opened)),
            CostKind::TlsHandshakes => Some(per_run(p.tls_full + p.tls_resumed)),
            CostKind::FailedRequests => Some(per_run(p.errors.total.max(p.errors.emfile))),
            CostKind::ClientCpuUs => p.cpu_ns_per_request.client_ns.map(|ns| ns / 1000.0),
            CostKind::ServerCpuUs => p.cpu_ns_per_request.server_ns.map(|ns| ns / 1000.0),
        }
    }

    /// Whether `worst` is clearly more than `at_knee`: counts by at least one per run and 10 %;
    /// latency by 20 % (and 1 ms); CPU by 15 %. Below that, run-to-run noise and the coarse
    /// per-run averages of a few repetitions can make the difference.
    pub fn notable(self, at_knee: f64, worst: f64) -> bool {
        match self {
            CostKind::SlowdownRetries | CostKind::OtherRetries | CostKind::FailedRequests => {
                worst >= at_knee + 1.0_f64.max(0.1 * at_knee)
            }
            CostKind::SocketsOpened | CostKind::TlsHandshakes => {
                worst >= at_knee + 1.0_f64.max(0.1 * at_knee)
            }
            CostKind::P99LatencyMs => worst > 1.2 * at_knee && worst - at_knee >= 1.0,
            CostKind::ClientCpuUs | CostKind::ServerCpuUs => worst > 1.15 * at_knee,
        }
    }

    /// "SlowDown retries 0 → 283 per run", "p99 latency 361 → 604 ms (+67 %)".
    fn describe(self, c: &Cost) -> String {
        let at = display_max_sockets(c.worst_at);
        let pct = |a: f64, b: f64| {
            if a > 0.0 {
                format!(" (+{:.0} %, at {at})", 100.0 * (b - a) / a)
            } else {
                format!(" (at {at})")
            }
        };
        let count = |name: &str| {
            format!(
                "{name} {} → {} per run (at {at})",
                fmt_count(c.at_knee),
                fmt_count(c.worst)
            )
        };
        match self {
            CostKind::SlowdownRetries => count("SlowDown retries"),
            CostKind::OtherRetries => count("other retries"),
            CostKind::SocketsOpened => count("sockets opened"),
            CostKind::TlsHandshakes => count("TLS handshakes"),
            CostKind::FailedRequests => count("failed requests"),
            CostKind::P99LatencyMs => format!(
                "p99 latency {} → {} ms{}",
                fmt_ms(c.at_knee),
                fmt_ms(c.worst),
                pct(c.at_knee, c.worst)
            ),
            CostKind::ClientCpuUs => format!(
                "client CPU {:.0} → {:.0} µs per request{}",
                c.at_knee,
                c.worst,
                pct(c.at_knee, c.worst)
            ),
            CostKind::ServerCpuUs => format!(
                "server CPU {:.0} → {:.0} µs per request{}",
                c.at_knee,
                c.worst,
                pct(c.at_knee, c.worst)
            ),
        }
    }
}

fn fmt_count(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// "1 socket", "25 sockets".
fn counted(v: f64, one: &str, many: &str) -> String {
    let n = fmt_count(v);
    if n == "1" {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// What one kind of cost is at the knee and at its worst beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Which cost.
    pub kind: CostKind,
    /// Its value at the knee (units in [`CostKind`]).
    pub at_knee: f64,
    /// Its largest value beyond the knee.
    pub worst: f64,
    /// Where that was measured; `None` is Infinity.
    pub worst_at: Option<u32>,
}

/// The recommendation for one (client mode, batch size) of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The group the curve belongs to.
    #[serde(flatten)]
    pub group: GroupKey,
    /// Client mode.
    pub client: ClientMode,
    /// Batch size.
    pub batch: u32,
    /// What to do: set the knee, any value (flat), or share a client.
    pub verdict: Verdict,
    /// maxSockets with the highest median objects/s; `None` is Infinity.
    pub best_max_sockets: Option<u32>,
    /// The knee: the smallest maxSockets whose throughput cannot be told apart from the best;
    /// `None` is Infinity. For [`Verdict::ShareClient`] it describes the curve, not advice.
    pub knee_max_sockets: Option<u32>,
    /// Where throughput falls below the best beyond the knee; `None` if it never does.
    pub falloff: Option<Falloff>,
    /// What more sockets than the knee cost, where clearly more than at the knee.
    pub beyond_knee: Vec<Cost>,
    /// How the common rule "maxSockets = batch size" fares against the best.
    pub rule_of_thumb: RuleOfThumb,
    /// Why, in a few sentences a user can act on, with the numbers.
    pub reason: String,
}

impl Recommendation {
    /// What to set, in a few words: "25", "1 (flat)", "share a client".
    pub fn setting(&self) -> String {
        match self.verdict {
            Verdict::Knee => display_max_sockets(self.knee_max_sockets).to_string(),
            Verdict::Flat => format!("{} (flat)", display_max_sockets(self.knee_max_sockets)),
            Verdict::ShareClient => "share a client".to_owned(),
            Verdict::Single => format!(
                "{} (only value)",
                display_max_sockets(self.knee_max_sockets)
            ),
        }
    }

    /// Where throughput falls off, in a few words: "from 100", "from ∞", "none".
    pub fn falloff_label(&self) -> String {
        self.falloff.map_or_else(
            || "none".to_owned(),
            |f| format!("from {}", display_max_sockets(f.from)),
        )
    }

    /// The group and curve in a few words: "s3-like · shared · batch 100" (pool, pattern and
    /// op only where they are not the defaults, the scenario when there is one).
    pub fn title(&self) -> String {
        let g = &self.group;
        let mut parts = vec![g.profile.clone()];
        if g.pool != crate::transport::PoolKind::Agent {
            parts.push(format!("pool {}", g.pool));
        }
        if g.pattern != crate::workload::Pattern::Batch {
            parts.push(format!("pattern {}", g.pattern));
        }
        if g.op != crate::workload::Op::Put {
            parts.push(format!("op {}", g.op));
        }
        parts.push(self.client.to_string());
        parts.push(format!("batch {}", self.batch));
        let mut t = parts.join(" · ");
        if let Some(sc) = &g.scenario {
            t = format!("{sc}: {t}");
        }
        t
    }
}

/// The rule of thumb "set maxSockets to the batch size", measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleOfThumb {
    /// The maxSockets the rule picks: the batch size.
    pub max_sockets: u32,
    /// Median objects/s at that maxSockets; `None` if the sweep did not measure it.
    pub objects_per_s: Option<f64>,
    /// Percent difference from the best (`-12.5` = 12.5 % slower); `None` if not measured.
    pub vs_best_pct: Option<f64>,
}

/// Per-repetition throughputs of a point (its median alone in files without them).
fn runs(p: &Point) -> Vec<f64> {
    if p.objects_per_s_by_run.is_empty() {
        vec![p.objects_per_s.median]
    } else {
        p.objects_per_s_by_run.clone()
    }
}

/// `p` against `best` round by round: the per-round ratios of their throughputs (repetitions
/// run in rounds, each visiting every point, so drift common to a round cancels).
fn against(p: &Point, best: &Point) -> Option<interval::Paired> {
    interval::paired(&runs(p), &runs(best))
}

/// The ratio of `p`'s throughput to `best`'s in each round both measured (the median alone for
/// files without per-repetition throughputs).
pub fn ratios_to_best(p: &Point, best: &Point) -> Vec<f64> {
    interval::round_ratios(&runs(p), &runs(best))
}

/// Whether `p`'s throughput cannot be told apart from `best`'s (the knee's test): it cannot be
/// shown, round by round, to be more than [`KNEE_MARGIN`] below it. The 95 % bootstrap
/// interval of its per-round ratio to the best reaches 1 − [`KNEE_MARGIN`] (with one
/// repetition, the ratio itself does); with three rounds, it was within 3 % of the best (or
/// faster) in at least one of them.
pub fn like_best(p: &Point, best: &Point) -> bool {
    against(p, best).is_some_and(|r| {
        let hi = r.interval.map_or(r.median, |(_, hi)| hi.max(r.median));
        hi >= 1.0 - KNEE_MARGIN
    })
}

/// Whether `p`'s throughput is below `best`'s beyond the spread and the fall-off margin, round
/// by round: the 95 % interval of its per-round ratio stays below 1 − [`KNEE_MARGIN`] (it is
/// not like the best by the knee's test) and its median ratio is below 1 −
/// [`FALLOFF_MARGIN`] (never with one repetition); or its requests failed.
///
/// Below 1 alone is not enough: with three rounds a point as fast as the best is slower in
/// all three one time in eight, and a few % of noise then reads as a fall-off (seen on this
/// machine: ∞ at 92–99 % of 32 in a quick sweep, where both open the same 32 sockets).
fn below_best(p: &Point, best: &Point) -> bool {
    if p.has_errors() {
        return true;
    }
    against(p, best).is_some_and(|r| {
        r.median < 1.0 - FALLOFF_MARGIN && r.interval.is_some_and(|(_, hi)| hi < 1.0 - KNEE_MARGIN)
    })
}

fn pct(v: f64, of: f64) -> f64 {
    if of > 0.0 { 100.0 * (v - of) / of } else { 0.0 }
}

/// The points of the run's main workload: the (pool, pattern, op, profile, scenario) with
/// most points, every SDK's (ties go to the first seen). The SDKs are compared on it.
pub fn main_group(points: &[Point]) -> Vec<&Point> {
    let key = |p: &Point| {
        let g = p.group();
        (g.pool, g.pattern, g.op, g.profile, g.scenario)
    };
    let mut counts: Vec<(_, usize)> = Vec::new();
    for p in points {
        let k = key(p);
        match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    let mut best: Option<(_, usize)> = None;
    for (k, n) in counts {
        if best.as_ref().is_none_or(|(_, m)| n > *m) {
            best = Some((k, n));
        }
    }
    let Some((best, _)) = best else {
        return Vec::new();
    };
    points.iter().filter(|p| key(p) == best).collect()
}

/// The recommendations of a run: for every group, one per (client mode, batch size) with at
/// least one point without errors.
pub fn recommend(points: &[Point]) -> Vec<Recommendation> {
    let mut keys: Vec<(GroupKey, ClientMode, u32)> = points
        .iter()
        .map(|p| (p.group(), p.client, p.batch))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|(group, client, batch)| {
            let in_group: Vec<&Point> = points.iter().filter(|p| p.group() == group).collect();
            recommend_curve(&group, client, batch, &in_group)
        })
        .collect()
}

/// One curve: the points of `group` for (`client`, `batch`).
fn recommend_curve(
    group: &GroupKey,
    client: ClientMode,
    batch: u32,
    in_group: &[&Point],
) -> Option<Recommendation> {
    let mut curve: Vec<&Point> = in_group
        .iter()
        .copied()
        .filter(|p| p.client == client && p.batch == batch)
        .collect();
    curve.sort_by_key(|p| max_sockets_sort_key(p.max_sockets));
    let ok: Vec<&Point> = curve.iter().copied().filter(|p| !p.has_errors()).collect();
    let best = *ok
        .iter()
        .max_by(|a, b| a.objects_per_s.median.total_cmp(&b.objects_per_s.median))?;
    let best_v = best.objects_per_s.median;
    let knee = *ok.iter().find(|p| like_best(p, best))?;
    let flat = ok.iter().all(|p| like_best(p, best)) && ok.len() > 1;
    let beyond: Vec<&Point> = curve
        .iter()
        .copied()
        .filter(|p| max_sockets_sort_key(p.max_sockets) > max_sockets_sort_key(knee.max_sockets))
        .collect();
    let beyond_knee = costs(knee, &beyond);
    // A client per request: maxSockets caps nothing, so a "fall-off" along it is noise.
    let per_request = client == ClientMode::PerRequest;
    let falloff = beyond
        .iter()
        .filter(|_| !per_request)
        .find(|p| below_best(p, best))
        .map(|p| Falloff {
            from: p.max_sockets,
            objects_per_s: if p.has_errors() && p.succeeded == 0 {
                0.0
            } else {
                p.objects_per_s.median
            },
            vs_best_pct: (10.0 * pct(p.objects_per_s.median, best_v)).round() / 10.0,
        });
    // Why the fall-off point fell off, when its requests failed.
    let falloff_failure = beyond
        .iter()
        .find(|p| below_best(p, best))
        .filter(|p| p.has_errors())
        .map(|p| p.failure_summary());
    let rot = curve.iter().find(|p| p.max_sockets == Some(batch));
    let rot_v = rot.map(|p| p.objects_per_s.median);
    let mut values: Vec<Option<u32>> = curve.iter().map(|p| p.max_sockets).collect();
    values.dedup();
    let verdict = if client == ClientMode::PerRequest {
        Verdict::ShareClient
    } else if values.len() == 1 {
        Verdict::Single
    } else if flat {
        Verdict::Flat
    } else {
        Verdict::Knee
    };
    let mut r = Recommendation {
        group: group.clone(),
        client,
        batch,
        verdict,
        best_max_sockets: best.max_sockets,
        knee_max_sockets: knee.max_sockets,
        falloff,
        beyond_knee,
        rule_of_thumb: RuleOfThumb {
            max_sockets: batch,
            objects_per_s: rot_v,
            vs_best_pct: rot_v.map(|v| (10.0 * pct(v, best_v)).round() / 10.0),
        },
        reason: String::new(),
    };
    r.reason = match verdict {
        Verdict::ShareClient => share_client_reason(&r, &curve, best, in_group),
        Verdict::Single => single_reason(&r, best),
        Verdict::Knee | Verdict::Flat => {
            knee_reason(&r, &curve, &ok, knee, best, falloff_failure.as_deref())
        }
    };
    Some(r)
}

/// Each cost beyond the knee whose worst is clearly above the knee's value.
fn costs(knee: &Point, beyond: &[&Point]) -> Vec<Cost> {
    CostKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let at_knee = kind.of(knee)?;
            let (worst, worst_at) = beyond
                .iter()
                .filter_map(|p| kind.of(p).map(|v| (v, p.max_sockets)))
                .max_by(|a, b| a.0.total_cmp(&b.0))?;
            kind.notable(at_knee, worst).then_some(Cost {
                kind,
                at_knee,
                worst,
                worst_at,
            })
        })
        .collect()
}

fn repetitions_phrase(p: &Point) -> String {
    match p.repetitions {
        0 | 1 => "one repetition".to_owned(),
        n => format!("{n} repetitions"),
    }
}

fn knee_reason(
    r: &Recommendation,
    curve: &[&Point],
    ok: &[&Point],
    knee: &Point,
    best: &Point,
    falloff_failure: Option<&str>,
) -> String {
    let best_v = best.objects_per_s.median;
    let k = display_max_sockets(knee.max_sockets);
    let mut s = String::new();
    if r.verdict == Verdict::Flat {
        let (lo, hi) = ok.iter().fold((f64::MAX, 0.0_f64), |(lo, hi), p| {
            (
                lo.min(p.objects_per_s.median),
                hi.max(p.objects_per_s.median),
            )
        });
        let _ = write!(
            s,
            "Flat: maxSockets makes no measurable difference here ({} to {} all reach {:.0}–{:.0} objects/s, \
             none shown to be more than {:.0} % below the best, round by round over {}). The smallest, {k}, opens the fewest sockets",
            display_max_sockets(ok[0].max_sockets),
            display_max_sockets(ok[ok.len() - 1].max_sockets),
            lo,
            hi,
            100.0 * KNEE_MARGIN,
            repetitions_phrase(best),
        );
    } else if std::ptr::eq(knee, best) {
        let _ = write!(
            s,
            "Set maxSockets {k}: the smallest value that reaches the best throughput ({best_v:.0} objects/s)"
        );
    } else {
        let _ = write!(
            s,
            "Set maxSockets {k}: more sockets buy no throughput that can be told apart from it \
             ({:.0} objects/s here, best {best_v:.0} at {}; compared round by round over {})",
            knee.objects_per_s.median,
            display_max_sockets(best.max_sockets),
            repetitions_phrase(best),
        );
    }
    if r.verdict == Verdict::Knee
        && let Some(w) = curve
            .iter()
            .rev()
            .find(|p| max_sockets_sort_key(p.max_sockets) < max_sockets_sort_key(knee.max_sockets))
    {
        let _ = write!(
            s,
            "; {} is too few ({:.0} objects/s, socket wait p99 {} ms)",
            display_max_sockets(w.max_sockets),
            w.objects_per_s.median,
            fmt_ms(w.socket_wait_ms.p99)
        );
    }
    s.push('.');
    if best.repetitions < 2 && r.verdict != Verdict::Flat {
        s.push_str(
            " With one repetition the spread is unknown: only differences over 3 % count, and a fall-off is claimed only where requests fail.",
        );
    }
    let measured_beyond = curve
        .iter()
        .any(|p| max_sockets_sort_key(p.max_sockets) > max_sockets_sort_key(knee.max_sockets));
    push_costs(&mut s, r, &k.to_string(), falloff_failure, measured_beyond);
    push_rule(&mut s, r);
    s
}

/// One maxSockets measured: what it reached, and that a knee needs more values.
fn single_reason(r: &Recommendation, only: &Point) -> String {
    let k = display_max_sockets(only.max_sockets);
    let mut values = vec![1, 5, r.batch / 2, r.batch];
    values.retain(|&v| v > 0);
    values.sort_unstable();
    values.dedup();
    let values: Vec<String> = values.iter().map(u32::to_string).collect();
    let mut s = format!(
        "Only maxSockets {k} was measured here: {:.0} objects/s over {}. One value shows no knee; \
         measure several (e.g. --max-sockets {},inf) to find the smallest that reaches the best.",
        only.objects_per_s.median,
        repetitions_phrase(only),
        values.join(","),
    );
    push_rule(&mut s, r);
    s
}

fn push_costs(
    s: &mut String,
    r: &Recommendation,
    knee: &str,
    falloff_failure: Option<&str>,
    measured_beyond: bool,
) {
    let beyond_exists = !r.beyond_knee.is_empty();
    if beyond_exists {
        let list: Vec<String> = r.beyond_knee.iter().map(|c| c.kind.describe(c)).collect();
        let _ = write!(s, " Beyond {knee}, more sockets cost: {}.", list.join("; "));
    }
    if let Some(f) = &r.falloff {
        let from = display_max_sockets(f.from);
        if let Some(why) = falloff_failure {
            let _ = write!(
                s,
                " From {from} requests fail: {why} ({:.0} objects/s, {:+.0} % vs the best).",
                f.objects_per_s, f.vs_best_pct
            );
        } else if f.objects_per_s > 0.0 {
            let _ = write!(
                s,
                " From {from} throughput falls off: {:.0} objects/s ({:+.0} % vs the best).",
                f.objects_per_s, f.vs_best_pct
            );
        } else {
            let _ = write!(s, " From {from} requests fail.");
        }
    } else if !measured_beyond && r.verdict == Verdict::Knee {
        // Above Infinity there is nothing to measure.
        if r.knee_max_sockets.is_some() {
            let _ = write!(s, " Nothing above {knee} was measured.");
        }
    } else if !beyond_exists && r.verdict == Verdict::Knee {
        let _ = write!(
            s,
            " Beyond {knee}, more sockets cost nothing measured here (no more SlowDown, retries, latency, sockets, errors or CPU)."
        );
    }
}

fn push_rule(s: &mut String, r: &Recommendation) {
    let batch = r.batch;
    match (r.rule_of_thumb.objects_per_s, r.rule_of_thumb.vs_best_pct) {
        (Some(v), Some(d)) => {
            let _ = write!(
                s,
                " The guide's rule (maxSockets = batch = {batch}) gets {v:.0} objects/s, {d:+.1} % vs the best."
            );
        }
        _ => {
            let _ = write!(
                s,
                " The guide's rule (maxSockets = batch = {batch}) was not measured."
            );
        }
    }
}

fn share_client_reason(
    r: &Recommendation,
    curve: &[&Point],
    best: &Point,
    in_group: &[&Point],
) -> String {
    let per_run = |n: u64, p: &Point| n as f64 / f64::from(p.repetitions.max(1));
    let mut s = format!(
        "Share one client: with a client per request maxSockets caps nothing (every request has a pool of its own; \
         here {} sockets and {} TLS handshakes per run of {} objects, whatever maxSockets says",
        fmt_count(per_run(best.sockets_opened, best)),
        fmt_count(per_run(best.tls_full + best.tls_resumed, best)),
        best.objects
    );
    s.push(')');
    // The shared client of the same group and batch: its knee if it has one, else its best.
    let shared: Vec<&Point> = in_group
        .iter()
        .copied()
        .filter(|p| p.client == ClientMode::Shared && p.batch == r.batch && !p.has_errors())
        .collect();
    let shared_best = shared
        .iter()
        .copied()
        .max_by(|a, b| a.objects_per_s.median.total_cmp(&b.objects_per_s.median));
    match shared_best {
        Some(sb) => {
            let mut sorted = shared.clone();
            sorted.sort_by_key(|p| max_sockets_sort_key(p.max_sockets));
            let sk = sorted
                .iter()
                .copied()
                .find(|p| like_best(p, sb))
                .unwrap_or(sb);
            let v = best.objects_per_s.median;
            let _ = write!(
                s,
                ". A shared client at maxSockets {} reaches {:.0} objects/s vs {:.0} here ({:+.0} %), with {} and {} per run",
                display_max_sockets(sk.max_sockets),
                sk.objects_per_s.median,
                v,
                pct(sk.objects_per_s.median, v),
                counted(per_run(sk.sockets_opened, sk), "socket", "sockets"),
                counted(per_run(sk.tls_full + sk.tls_resumed, sk), "handshake", "handshakes"),
            );
            if let (Some(a), Some(b)) = (
                sk.cpu_ns_per_request.client_ns,
                best.cpu_ns_per_request.client_ns,
            ) {
                let _ = write!(
                    s,
                    "; client CPU {:.0} µs per request vs {:.0} µs",
                    a / 1000.0,
                    b / 1000.0
                );
            }
            if let (Some(a), Some(b)) = (
                sk.cpu_ns_per_request.server_ns,
                best.cpu_ns_per_request.server_ns,
            ) {
                let _ = write!(
                    s,
                    ", server CPU {:.0} µs vs {:.0} µs",
                    a / 1000.0,
                    b / 1000.0
                );
            }
            s.push('.');
        }
        None => s.push_str(
            ". No shared client of this batch size was measured beside it (add --clients shared to see the difference).",
        ),
    }
    if curve.iter().any(|p| p.has_errors()) {
        let failed: Vec<String> = curve
            .iter()
            .filter(|p| p.has_errors())
            .map(|p| {
                format!(
                    "{} ({})",
                    display_max_sockets(p.max_sockets),
                    p.failure_summary()
                )
            })
            .collect();
        let _ = write!(s, " Failed points: {}.", failed.join(", "));
    }
    s
}

#[cfg(test)]
mod tests;
