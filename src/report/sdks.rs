//! The S3 clients of a run compared: the overlay chart's data (`sdks.svg`) and the table of
//! ratios per point, each SDK against js-v3 (the SDK the guide is about) when it was measured.
//!
//! Only the points the recommendations are made from are compared (the analysis' main pool,
//! pattern, op and profile), so that every SDK's curve is read on the same workload; the
//! section exists when that set holds more than one SDK.

use std::collections::BTreeMap;

use serde::Serialize;

use super::charts::At;
use super::charts::sdks::{SdkCurve, SdkPanel, SdksData};
use super::charts::throughput::Throughput;
use crate::analysis::{Recommendation, Verdict};
use crate::metrics::{Point, display_max_sockets, max_sockets_sort_key};
use crate::modes::ClientMode;
use crate::results::RunFile;
use crate::sut::Sdk;

/// The SDKs compared and their points.
#[derive(Debug)]
pub(crate) struct Compared<'a> {
    /// The SDKs, in [`Sdk`] order.
    pub(crate) sdks: Vec<Sdk>,
    points: Vec<&'a Point>,
}

/// The comparison, if the run measured more than one SDK on one workload.
pub(crate) fn compared(run: &RunFile) -> Option<Compared<'_>> {
    let points = crate::analysis::main_group(&run.points);
    let mut sdks: Vec<Sdk> = points.iter().map(|p| p.sdk).collect();
    sdks.sort();
    sdks.dedup();
    (sdks.len() > 1).then_some(Compared { sdks, points })
}

/// A cell of the ratio table: one SDK at one point.
#[derive(Debug, Serialize)]
pub(crate) struct SdkCell {
    /// "1,234" objects/s (median).
    tput: String,
    /// "1,200–1,260" over repetitions.
    tput_range: String,
    /// Client CPU per request, "750" µs.
    cpu_us: String,
    /// "×1.43" objects/s against js-v3 (empty for js-v3 itself or when it was not measured).
    tput_ratio: String,
    /// "×0.20" CPU per request against js-v3.
    cpu_ratio: String,
    failed: bool,
}

/// A row of the ratio table: one (client, batch, maxSockets).
#[derive(Debug, Serialize)]
pub(crate) struct RatioRow {
    client: String,
    batch: u32,
    max_sockets: String,
    /// One per SDK compared, in order; `None` where that SDK has no such point.
    cells: Vec<Option<SdkCell>>,
}

/// The knee and fall-off of one SDK at one (client, batch).
#[derive(Debug, Serialize)]
pub(crate) struct KneeRow {
    client: String,
    batch: u32,
    /// One per SDK compared: "25 (falls off from 200)", "–" without a recommendation.
    knees: Vec<String>,
}

/// What the page shows of the comparison.
#[derive(Debug, Serialize)]
pub(crate) struct SdksView {
    /// The SDKs, in column order.
    pub(crate) sdks: Vec<String>,
    /// Whether ratios against js-v3 are shown.
    pub(crate) against_js: bool,
    pub(crate) rows: Vec<RatioRow>,
    pub(crate) knees: Vec<KneeRow>,
    /// The chart file.
    pub(crate) chart: String,
    /// What each SDK ran ("@aws-sdk/client-s3 3.1178.0 … on Node.js v20.20.2").
    pub(crate) versions: Vec<String>,
}

/// The chart file name.
pub(crate) const CHART: &str = "sdks.svg";

fn ratio(v: f64, of: f64) -> String {
    if of > 0.0 && v.is_finite() {
        format!("×{:.2}", v / of)
    } else {
        String::new()
    }
}

impl Compared<'_> {
    /// Whether `r` is the recommendation of `sdk`'s curve (`client`, `batch`) on the compared
    /// workload.
    fn recommends(&self, r: &Recommendation, sdk: Sdk, client: ClientMode, batch: u32) -> bool {
        self.points.first().is_some_and(|p| {
            let mut g = p.group();
            g.sdk = sdk;
            r.group == g && r.client == client && r.batch == batch
        })
    }

    /// (client, batch) pairs present, in order.
    fn curves(&self) -> Vec<(ClientMode, u32)> {
        let mut k: Vec<(ClientMode, u32)> =
            self.points.iter().map(|p| (p.client, p.batch)).collect();
        k.sort();
        k.dedup();
        k
    }

    /// The overlay chart's data.
    pub(crate) fn chart(&self, run: &RunFile, subtitle: String) -> SdksData {
        let mut batches: Vec<u32> = self.points.iter().map(|p| p.batch).collect();
        batches.sort_unstable();
        batches.dedup();
        let mut clients: Vec<ClientMode> = self.points.iter().map(|p| p.client).collect();
        clients.sort();
        clients.dedup();
        let rows = batches
            .into_iter()
            .map(|batch| {
                let panels = clients
                    .iter()
                    .filter(|&&c| {
                        self.points
                            .iter()
                            .any(|p| p.client == c && p.batch == batch)
                    })
                    .map(|&client| SdkPanel {
                        client: client.to_string(),
                        curves: self
                            .sdks
                            .iter()
                            .filter_map(|&sdk| {
                                let mut ps: Vec<&Point> = self
                                    .points
                                    .iter()
                                    .copied()
                                    .filter(|p| {
                                        p.sdk == sdk && p.client == client && p.batch == batch
                                    })
                                    .collect();
                                if ps.is_empty() {
                                    return None;
                                }
                                ps.sort_by_key(|p| max_sockets_sort_key(p.max_sockets));
                                let knee = run
                                    .recommendations
                                    .iter()
                                    .find(|r| self.recommends(r, sdk, client, batch))
                                    .filter(|r| {
                                        !matches!(r.verdict, Verdict::ShareClient | Verdict::Single)
                                    })
                                    .map(|r| r.knee_max_sockets);
                                Some(SdkCurve {
                                    sdk,
                                    points: ps
                                        .into_iter()
                                        .map(|p| At {
                                            max_sockets: p.max_sockets,
                                            failed: p.failed(),
                                            v: Throughput {
                                                median: p.objects_per_s.median,
                                                min: p.objects_per_s.min,
                                                max: p.objects_per_s.max,
                                            },
                                        })
                                        .collect(),
                                    knee,
                                })
                            })
                            .collect(),
                    })
                    .collect();
                (batch, panels)
            })
            .collect();
        SdksData { subtitle, rows }
    }

    /// What the page shows.
    pub(crate) fn view(&self, run: &RunFile) -> SdksView {
        let against_js = self.sdks.contains(&Sdk::JsV3);
        let mut by_key: BTreeMap<(ClientMode, u32, u64), Vec<&Point>> = BTreeMap::new();
        for p in &self.points {
            by_key
                .entry((p.client, p.batch, max_sockets_sort_key(p.max_sockets)))
                .or_default()
                .push(p);
        }
        let rows = by_key
            .values()
            .map(|ps| {
                let js = ps.iter().find(|p| p.sdk == Sdk::JsV3);
                let first = ps[0];
                RatioRow {
                    client: first.client.to_string(),
                    batch: first.batch,
                    max_sockets: display_max_sockets(first.max_sockets).to_string(),
                    cells: self
                        .sdks
                        .iter()
                        .map(|&sdk| {
                            let p = ps.iter().find(|p| p.sdk == sdk)?;
                            let (tput_ratio, cpu_ratio) = match js {
                                Some(j) if sdk != Sdk::JsV3 => (
                                    ratio(p.objects_per_s.median, j.objects_per_s.median),
                                    match (
                                        p.cpu_ns_per_request.client_ns,
                                        j.cpu_ns_per_request.client_ns,
                                    ) {
                                        (Some(a), Some(b)) => ratio(a, b),
                                        _ => String::new(),
                                    },
                                ),
                                _ => (String::new(), String::new()),
                            };
                            Some(SdkCell {
                                tput: int_f(p.objects_per_s.median),
                                tput_range: format!(
                                    "{}–{}",
                                    int_f(p.objects_per_s.min),
                                    int_f(p.objects_per_s.max)
                                ),
                                cpu_us: p.cpu_ns_per_request.client_ns.map_or_else(
                                    || "–".to_owned(),
                                    |ns| format!("{:.0}", ns / 1000.0),
                                ),
                                tput_ratio,
                                cpu_ratio,
                                failed: p.failed(),
                            })
                        })
                        .collect(),
                }
            })
            .collect();
        let knees = self
            .curves()
            .into_iter()
            .map(|(client, batch)| KneeRow {
                client: client.to_string(),
                batch,
                knees: self
                    .sdks
                    .iter()
                    .map(|&sdk| {
                        run.recommendations
                            .iter()
                            .find(|r| self.recommends(r, sdk, client, batch))
                            .map_or_else(
                                || "–".to_owned(),
                                |r| {
                                    let falloff = r.falloff.map_or_else(
                                        || "no fall-off".to_owned(),
                                        |f| {
                                            format!(
                                                "falls off from {}",
                                                display_max_sockets(f.from)
                                            )
                                        },
                                    );
                                    format!("{} ({falloff})", r.setting())
                                },
                            )
                    })
                    .collect(),
            })
            .collect();
        SdksView {
            sdks: self.sdks.iter().map(ToString::to_string).collect(),
            against_js,
            rows,
            knees,
            chart: CHART.to_owned(),
            versions: self
                .sdks
                .iter()
                .map(|s| match run.meta.sdks.get(s.as_str()) {
                    Some(v) => format!("{s}: {v}"),
                    None => s.to_string(),
                })
                .collect(),
        }
    }
}

use super::page::int_f;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;

    #[test]
    fn a_run_of_one_sdk_has_no_comparison() {
        assert!(compared(&fixtures::small()).is_none());
    }

    #[test]
    fn ratios_are_each_sdk_against_js_v3() {
        let mut run = fixtures::small();
        let js: Vec<Point> = run
            .points
            .iter()
            .map(|p| {
                let mut q = p.clone();
                q.sdk = Sdk::JsV3;
                q.objects_per_s.median /= 2.0;
                q.cpu_ns_per_request.client_ns = q.cpu_ns_per_request.client_ns.map(|ns| ns * 4.0);
                q
            })
            .collect();
        run.points.extend(js);
        run.recommendations = crate::analysis::recommend(&run.points);
        let c = compared(&run).expect("two SDKs");
        assert_eq!(c.sdks, [Sdk::Poolsweep, Sdk::JsV3]);
        let v = c.view(&run);
        assert!(v.against_js);
        let cell = v.rows[0].cells[0].as_ref().unwrap();
        assert_eq!(
            (cell.tput_ratio.as_str(), cell.cpu_ratio.as_str()),
            ("×2.00", "×0.25")
        );
        let js_cell = v.rows[0].cells[1].as_ref().unwrap();
        assert_eq!(js_cell.tput_ratio, "", "js-v3 against itself is not shown");
        assert!(v.knees.iter().all(|k| k.knees.len() == 2));
        let chart = c.chart(&run, String::new());
        assert!(
            chart
                .rows
                .iter()
                .flat_map(|(_, ps)| ps)
                .all(|p| p.curves.len() == 2)
        );
    }
}
