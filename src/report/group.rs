//! Splits a run into chart groups and turns a group's points into chart data.
//!
//! A group is every point with the same (SDK, pool, pattern, op, profile): within a group the
//! charts compare client modes (panels), batch sizes (colours) and maxSockets (x axis), the
//! three dimensions the sweep is about. The group with most points is the main one; it is
//! drawn first, under the plain chart names. Every group has its own recommendations and knee
//! markers, and a group that a sweep labelled with a scenario carries it on each chart.

use std::collections::BTreeMap;
use std::path::Path;

use super::charts::errors::Failures;
use super::charts::heatmap::{HeatCell, HeatPanel, HeatmapData};
use super::charts::latency::Latencies;
use super::charts::sockets::Sockets;
use super::charts::throughput::{Knee, Throughput, ThroughputData};
use super::charts::{self, At, BatchLine, ClientLines};
use crate::analysis::Verdict;
use crate::metrics::{GroupKey, Point, max_sockets_sort_key};
use crate::modes::ClientMode;
use crate::render::Error;
use crate::render::format::human_bytes;
use crate::results::RunFile;
use crate::sut::Sdk;

/// The charts drawn for each group, in page order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChartKind {
    /// (a) objects/s against maxSockets.
    Throughput,
    /// (d) objects/s over batch × maxSockets.
    Heatmap,
    /// (b) sockets opened and TLS handshakes.
    Sockets,
    /// (c) latency and socket wait.
    Latency,
    /// (e) retries, SlowDown and errors.
    Errors,
}

impl ChartKind {
    /// Every chart, in page order.
    pub(crate) const ALL: [ChartKind; 5] = [
        ChartKind::Throughput,
        ChartKind::Heatmap,
        ChartKind::Sockets,
        ChartKind::Latency,
        ChartKind::Errors,
    ];

    /// The file name stem.
    pub(crate) fn stem(self) -> &'static str {
        match self {
            ChartKind::Throughput => "throughput",
            ChartKind::Heatmap => "heatmap",
            ChartKind::Sockets => "sockets",
            ChartKind::Latency => "latency",
            ChartKind::Errors => "errors",
        }
    }

    /// `throughput.svg` for the main group, `throughput-<suffix>.svg` for the others.
    pub(crate) fn file_name(self, suffix: &str) -> String {
        if suffix.is_empty() {
            format!("{}.svg", self.stem())
        } else {
            format!("{}-{suffix}.svg", self.stem())
        }
    }

    /// The chart's title, as drawn in the SVG.
    pub(crate) fn title(self) -> &'static str {
        match self {
            ChartKind::Throughput => charts::throughput::TITLE,
            ChartKind::Heatmap => charts::heatmap::TITLE,
            ChartKind::Sockets => charts::sockets::TITLE,
            ChartKind::Latency => charts::latency::TITLE,
            ChartKind::Errors => charts::errors::TITLE,
        }
    }

    /// How to read the chart, one or two sentences under it on the page.
    pub(crate) fn caption(self) -> &'static str {
        match self {
            ChartKind::Throughput => {
                "Higher is better. Each line is a batch size; the band is the spread across repetitions. \
                 The triangle marks the knee: the smallest maxSockets that gets close to the best throughput. \
                 Going further buys little and, when the server throttles, costs throughput."
            }
            ChartKind::Heatmap => {
                "The same medians as a grid: read a row to pick maxSockets for your batch size, \
                 a column to see how one maxSockets copes with bigger batches."
            }
            ChartKind::Sockets => {
                "A shared pool opens about min(maxSockets, batch) sockets and resumes TLS when it reconnects; \
                 a client per request pays a socket and a full TLS handshake for every request."
            }
            ChartKind::Latency => {
                "Below the batch size requests queue for a socket (socket wait grows); \
                 far above it the server saturates or throttles (request latency grows)."
            }
            ChartKind::Errors => {
                "Where throughput falls off, look here: SlowDown replies cause retries with backoff; \
                 failed requests are what was left after retries, EMFILE means the process ran out of file descriptors."
            }
        }
    }
}

/// The points of one group, in file order.
#[derive(Debug, Clone)]
pub(crate) struct Group<'a> {
    pub(crate) key: GroupKey,
    pub(crate) points: Vec<&'a Point>,
    /// Empty for the main group, else a file-name-safe group name.
    pub(crate) suffix: String,
    /// Whether this is the main group (most points, drawn first).
    pub(crate) is_main: bool,
    /// Whether the run has recommendations for this group's curves (every group whose
    /// points did not all fail).
    pub(crate) recommended: bool,
}

/// Groups a run's points, main group first, the rest in order of first appearance.
pub(crate) fn groups(run: &RunFile) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for p in &run.points {
        let key = p.group();
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.points.push(p),
            None => groups.push(Group {
                key,
                points: vec![p],
                suffix: String::new(),
                is_main: false,
                recommended: false,
            }),
        }
    }
    // Stable: on a tie the group of the first SDK (poolsweep's), then the one that appeared
    // first, is main.
    if let Some(main) = (0..groups.len()).max_by_key(|&i| {
        (
            groups[i].points.len(),
            std::cmp::Reverse(groups[i].key.sdk),
            std::cmp::Reverse(i),
        )
    }) {
        let g = groups.remove(main);
        groups.insert(0, g);
    }
    let several_sdks = groups.iter().any(|g| g.key.sdk != groups[0].key.sdk);
    let mut used = std::collections::BTreeSet::new();
    for (i, g) in groups.iter_mut().enumerate() {
        g.is_main = i == 0;
        g.recommended = run.recommendations.iter().any(|r| r.group == g.key);
        if i > 0 {
            // The SDK is named whenever the run holds several, so that no group of one SDK
            // looks like the plain group of another.
            let sdk = if several_sdks || g.key.sdk != Sdk::Poolsweep {
                format!("{}-", g.key.sdk)
            } else {
                String::new()
            };
            let base = crate::render::slug(&format!(
                "{sdk}{}-{}-{}-{}-{}",
                g.key.pool,
                g.key.pattern,
                g.key.op,
                g.key.profile,
                g.key.scenario.as_deref().unwrap_or("")
            ));
            let mut s = base.clone();
            let mut n = 2;
            while !used.insert(s.clone()) {
                s = format!("{base}-{n}");
                n += 1;
            }
            g.suffix = s;
        }
    }
    groups
}

impl Group<'_> {
    /// "sdk poolsweep · pool agent · pattern batch · op put · profile s3-like".
    pub(crate) fn title(&self) -> String {
        let k = &self.key;
        format!(
            "sdk {} · pool {} · pattern {} · op {} · profile {}",
            k.sdk, k.pool, k.pattern, k.op, k.profile
        )
    }

    /// The title plus what else all points share (object size, repetitions), after the
    /// group's scenario on a line of its own if it has one.
    pub(crate) fn subtitle(&self) -> String {
        let mut s = match &self.key.scenario {
            Some(sc) => format!("{sc}\n{}", self.title()),
            None => self.title(),
        };
        if let Some(size) = uniform(self.points.iter().map(|p| p.object_size)) {
            s.push_str(&format!(" · {} objects", human_bytes(size)));
        }
        match uniform(self.points.iter().map(|p| p.repetitions)) {
            Some(1) => s.push_str(" · 1 repetition"),
            Some(n) => s.push_str(&format!(" · median of {n} repetitions")),
            None => s.push_str(" · median over repetitions"),
        }
        s
    }

    /// Client modes present, in declaration order (shared, per-request, shared-handler).
    fn clients(&self) -> Vec<ClientMode> {
        let mut c: Vec<ClientMode> = self.points.iter().map(|p| p.client).collect();
        c.sort();
        c.dedup();
        c
    }

    /// Per client, per batch, the points sorted by maxSockets (∞ last), mapped by `f`.
    fn lines<T>(&self, f: impl Fn(&Point) -> T) -> Vec<ClientLines<T>> {
        self.clients()
            .into_iter()
            .map(|client| {
                let mut by_batch: BTreeMap<u32, Vec<&Point>> = BTreeMap::new();
                for p in self.points.iter().filter(|p| p.client == client) {
                    by_batch.entry(p.batch).or_default().push(p);
                }
                let lines = by_batch
                    .into_iter()
                    .map(|(batch, mut ps)| {
                        ps.sort_by_key(|p| max_sockets_sort_key(p.max_sockets));
                        let points = ps
                            .into_iter()
                            .map(|p| At {
                                max_sockets: p.max_sockets,
                                failed: p.failed(),
                                v: f(p),
                            })
                            .collect();
                        BatchLine { batch, points }
                    })
                    .collect();
                ClientLines {
                    client: client.to_string(),
                    lines,
                }
            })
            .collect()
    }

    /// Draws one chart of this group to `path`.
    pub(crate) fn draw(&self, kind: ChartKind, run: &RunFile, path: &Path) -> Result<(), Error> {
        let subtitle = self.subtitle();
        let n = |v: u64| v as f64;
        match kind {
            ChartKind::Throughput => {
                // Knees of this group's curves; a client per request has no maxSockets to mark.
                let knees = run
                    .recommendations
                    .iter()
                    .filter(|r| {
                        r.group == self.key
                            && !matches!(r.verdict, Verdict::ShareClient | Verdict::Single)
                    })
                    .map(|r| Knee {
                        client: r.client.to_string(),
                        batch: r.batch,
                        max_sockets: r.knee_max_sockets,
                    })
                    .collect();
                let clients = self.lines(|p| Throughput {
                    median: p.objects_per_s.median,
                    min: p.objects_per_s.min,
                    max: p.objects_per_s.max,
                });
                charts::throughput::draw(
                    &ThroughputData {
                        subtitle,
                        clients,
                        knees,
                    },
                    path,
                )?;
            }
            ChartKind::Heatmap => {
                let knee = |p: &Point| {
                    run.recommendations.iter().any(|r| {
                        r.group == self.key
                            && !matches!(r.verdict, Verdict::ShareClient | Verdict::Single)
                            && r.client == p.client
                            && r.batch == p.batch
                            && r.knee_max_sockets == p.max_sockets
                    })
                };
                let panels = self
                    .clients()
                    .into_iter()
                    .map(|client| HeatPanel {
                        client: client.to_string(),
                        cells: self
                            .points
                            .iter()
                            .filter(|p| p.client == client)
                            .map(|p| HeatCell {
                                batch: p.batch,
                                max_sockets: p.max_sockets,
                                value: p.objects_per_s.median,
                                failed: p.failed(),
                                knee: knee(p),
                            })
                            .collect(),
                    })
                    .collect();
                charts::heatmap::draw(&HeatmapData { subtitle, panels }, path)?;
            }
            ChartKind::Sockets => {
                let clients = self.lines(|p| Sockets {
                    opened: n(p.sockets_opened),
                    tls_full: n(p.tls_full),
                    tls_resumed: n(p.tls_resumed),
                });
                charts::sockets::draw(&subtitle, &clients, path)?;
            }
            ChartKind::Latency => {
                let clients = self.lines(|p| Latencies {
                    p50: p.latency_ms.p50,
                    p99: p.latency_ms.p99,
                    wait_p50: p.socket_wait_ms.p50,
                    wait_p99: p.socket_wait_ms.p99,
                });
                charts::latency::draw(&subtitle, &clients, path)?;
            }
            ChartKind::Errors => {
                let clients = self.lines(|p| Failures {
                    retries: n(p.retries.total),
                    // Every SlowDown reply was either retried (a throttling retry) or, when retries
                    // ran out, became a SlowDown error.
                    slowdown: n(p.retries.throttling + p.errors.slowdown),
                    errors: n(p.errors.total.max(p.errors.emfile)),
                    emfile: n(p.errors.emfile),
                });
                charts::errors::draw(&subtitle, &clients, path)?;
            }
        }
        Ok(())
    }
}

/// The value if all items are equal.
fn uniform<T: PartialEq>(mut it: impl Iterator<Item = T>) -> Option<T> {
    let first = it.next()?;
    it.all(|v| v == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;
    use crate::workload::Op;

    #[test]
    fn largest_group_is_main_and_others_get_suffixes() {
        let mut run = fixtures::small();
        let n = run.points.len();
        for p in &mut run.points[..3] {
            p.op = Op::Get;
            p.profile = "Slow Disk".to_owned();
        }
        let gs = groups(&run);
        assert_eq!(gs.len(), 2);
        assert!(gs[0].is_main && gs[0].suffix.is_empty());
        assert_eq!(gs[0].points.len(), n - 3);
        assert_eq!(gs[1].suffix, "agent-batch-get-slow-disk");
        assert_eq!(
            ChartKind::Throughput.file_name(&gs[1].suffix),
            "throughput-agent-batch-get-slow-disk.svg"
        );
    }

    #[test]
    fn lines_are_sorted_with_infinity_last() {
        let run = fixtures::small();
        let gs = groups(&run);
        let lines = gs[0].lines(|p| p.max_sockets);
        assert_eq!(lines[0].client, "shared");
        let xs: Vec<Option<u32>> = lines[0].lines[0].points.iter().map(|a| a.v).collect();
        assert_eq!(xs, [Some(1), Some(4), Some(16), Some(64), None]);
    }
}
