//! The recommendation: for each (SDK, client mode, batch size), the best maxSockets, the knee (the
//! smallest maxSockets within 5% of the best: the value to set), where throughput falls off
//! again and why (read from the counters), set beside the guide's rule of thumb (maxSockets
//! equal to the batch size).
//!
//! Only points of the run's main group (the most common pool, pattern, operation and profile)
//! are compared, so that one curve is read at a time; failed points are not candidates for
//! best or knee, but a fall-off point may be a failed one (that is often the reason).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::metrics::{Point, display_max_sockets, max_sockets_sort_key};
use crate::modes::ClientMode;
use crate::sut::Sdk;

/// The recommendation for one client mode and batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The S3 client whose curve this is.
    pub sdk: Sdk,
    /// Client mode.
    pub client: ClientMode,
    /// Batch size.
    pub batch: u32,
    /// maxSockets with the highest median objects/s; `None` is Infinity.
    pub best_max_sockets: Option<u32>,
    /// The knee: the smallest maxSockets whose throughput is close to the best (the value to
    /// set); `None` is Infinity.
    pub knee_max_sockets: Option<u32>,
    /// The smallest finite maxSockets above the best from which throughput drops clearly below
    /// the best (e.g. because the server answers `SlowDown`); `None` if it never does.
    pub falloff_from: Option<u32>,
    /// How the common rule "maxSockets = batch size" fares against the best.
    pub rule_of_thumb: RuleOfThumb,
    /// Why, in one or two sentences a user can act on.
    pub reason: String,
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

/// A maxSockets whose median throughput is at least this fraction of the best is "as good".
pub const KNEE_FRACTION: f64 = 0.95;

fn group_key(p: &Point) -> (String, String, String, String) {
    (
        p.pool.to_string(),
        p.pattern.to_string(),
        p.op.to_string(),
        p.profile.clone(),
    )
}

/// The points of the run's main group (most points; ties go to the first seen).
pub fn main_group(points: &[Point]) -> Vec<&Point> {
    let mut counts: Vec<((String, String, String, String), usize)> = Vec::new();
    for p in points {
        let k = group_key(p);
        match counts.iter_mut().find(|(key, _)| *key == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        }
    }
    let Some(best) = counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map(|(k, _)| k.clone())
    else {
        return Vec::new();
    };
    points.iter().filter(|p| group_key(p) == best).collect()
}

/// Why throughput at `f` is below the best at `b`, from the counters.
fn why_falloff(f: &Point, b: &Point) -> String {
    let mut causes = Vec::new();
    let slow_f = f.retries.throttling + f.errors.slowdown;
    let slow_b = b.retries.throttling + b.errors.slowdown;
    if slow_f > slow_b {
        causes.push(format!(
            "the server throttles: {slow_f} SlowDown responses retried or failed (vs {slow_b} at the best)"
        ));
    }
    if f.errors.emfile > 0 {
        causes.push(format!(
            "{} requests failed with EMFILE (file descriptors ran out)",
            f.errors.emfile
        ));
    }
    if f.tls_full > b.tls_full.saturating_mul(3) / 2 && f.tls_full > b.tls_full + 1 {
        causes.push(format!(
            "{} full TLS handshakes and {} sockets opened (vs {} and {} at the best): new sockets cost CPU where an existing one was about to be free",
            f.tls_full, f.sockets_opened, b.tls_full, b.sockets_opened
        ));
    }
    if f.errors.timeout > b.errors.timeout {
        causes.push(format!("{} requests timed out", f.errors.timeout));
    }
    if causes.is_empty() {
        "no counter explains it (CPU contention on the client is the likely cause)".to_owned()
    } else {
        causes.join("; ")
    }
}

/// The recommendations of a run, one per (client mode, batch size) of its main group.
pub fn recommend(points: &[Point]) -> Vec<Recommendation> {
    let group = main_group(points);
    // One curve per SDK: each is read on its own.
    let mut keys: Vec<(Sdk, ClientMode, u32)> =
        group.iter().map(|p| (p.sdk, p.client, p.batch)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|(sdk, client, batch)| {
            let mut curve: Vec<&Point> = group
                .iter()
                .copied()
                .filter(|p| p.sdk == sdk && p.client == client && p.batch == batch)
                .collect();
            curve.sort_by_key(|p| max_sockets_sort_key(p.max_sockets));
            let ok: Vec<&Point> = curve.iter().copied().filter(|p| !p.failed()).collect();
            let best = *ok
                .iter()
                .max_by(|a, b| a.objects_per_s.median.total_cmp(&b.objects_per_s.median))?;
            let best_v = best.objects_per_s.median;
            let knee = *ok
                .iter()
                .find(|p| p.objects_per_s.median >= KNEE_FRACTION * best_v)?;
            // A fall-off is beyond noise: below the knee fraction and outside the best's range
            // over repetitions (or a failed point).
            let falloff = curve.iter().copied().find(|p| {
                max_sockets_sort_key(p.max_sockets) > max_sockets_sort_key(best.max_sockets)
                    && (p.failed()
                        || (p.objects_per_s.median < KNEE_FRACTION * best_v
                            && p.objects_per_s.max < best.objects_per_s.min))
            });
            let rot = curve.iter().find(|p| p.max_sockets == Some(batch));
            let shared_best = (client == ClientMode::PerRequest)
                .then(|| {
                    group
                        .iter()
                        .filter(|p| {
                            p.sdk == sdk
                                && p.client == ClientMode::Shared
                                && p.batch == batch
                                && !p.failed()
                        })
                        .map(|p| p.objects_per_s.median)
                        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
                })
                .flatten();
            let rot_v = rot.map(|p| p.objects_per_s.median);
            let mut reason = format!(
                "Set maxSockets {}: it reaches {:.0}% of the best throughput ({:.0} objects/s at {})",
                display_max_sockets(knee.max_sockets),
                100.0 * knee.objects_per_s.median / best_v,
                best_v,
                display_max_sockets(best.max_sockets),
            );
            if let Some(w) = curve.iter().rev().find(|p| {
                max_sockets_sort_key(p.max_sockets) < max_sockets_sort_key(knee.max_sockets)
            }) {
                let _ = write!(
                    reason,
                    "; {} is too few ({:.0} objects/s, socket wait p99 {:.1} ms)",
                    display_max_sockets(w.max_sockets),
                    w.objects_per_s.median,
                    w.socket_wait_ms.p99
                );
            }
            if let Some(f) = falloff {
                let _ = write!(
                    reason,
                    ". From {} throughput falls off: {}",
                    display_max_sockets(f.max_sockets),
                    why_falloff(f, best)
                );
            }
            if client == ClientMode::PerRequest {
                let _ = write!(
                    reason,
                    ". A client per request has its own pool, so maxSockets caps nothing here: every request opens a socket and does a full TLS handshake"
                );
                if let Some(shared) = shared_best {
                    let _ = write!(
                        reason,
                        "; one shared client reaches {shared:.0} objects/s ({:+.0}%)",
                        100.0 * (shared - best_v) / best_v
                    );
                }
            }
            match rot_v {
                Some(v) => {
                    let _ = write!(
                        reason,
                        ". The guide's rule (maxSockets = batch = {batch}) gets {v:.0} objects/s, {:+.1}% vs the best",
                        100.0 * (v - best_v) / best_v
                    );
                }
                None => {
                    let _ = write!(reason, ". The guide's rule (maxSockets = batch = {batch}) was not measured");
                }
            }
            reason.push('.');
            Some(Recommendation {
                sdk,
                client,
                batch,
                best_max_sockets: best.max_sockets,
                knee_max_sockets: knee.max_sockets,
                // `None` is both "no fall-off" and Infinity here; a fall-off only at ∞ is
                // described in the reason.
                falloff_from: falloff.and_then(|p| p.max_sockets),
                rule_of_thumb: RuleOfThumb {
                    max_sockets: batch,
                    objects_per_s: rot_v,
                    vs_best_pct: rot_v.map(|v| (1000.0 * (v - best_v) / best_v).round() / 10.0),
                },
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixtures;

    /// A curve for (shared, batch 100) with these (maxSockets, objects/s) points.
    fn curve(values: &[(Option<u32>, f64)]) -> Vec<Point> {
        values
            .iter()
            .map(|&(m, v)| {
                let mut p = fixtures::point_template();
                p.client = ClientMode::Shared;
                p.batch = 100;
                p.max_sockets = m;
                p.objects_per_s.median = v;
                p.objects_per_s.min = v * 0.98;
                p.objects_per_s.max = v * 1.02;
                p
            })
            .collect()
    }

    #[test]
    fn rising_curve_knee_is_where_it_flattens() {
        let points = curve(&[
            (Some(1), 100.0),
            (Some(10), 900.0),
            (Some(50), 1900.0),
            (Some(100), 1990.0),
            (Some(200), 2000.0),
        ]);
        let r = &recommend(&points)[0];
        assert_eq!(r.best_max_sockets, Some(200));
        assert_eq!(r.knee_max_sockets, Some(50));
        assert_eq!(r.falloff_from, None);
        assert_eq!(r.rule_of_thumb.objects_per_s, Some(1990.0));
        assert_eq!(r.rule_of_thumb.vs_best_pct, Some(-0.5));
        assert!(r.reason.starts_with("Set maxSockets 50"), "{}", r.reason);
        assert!(r.reason.contains("10 is too few"), "{}", r.reason);
    }

    #[test]
    fn flat_curve_recommends_the_smallest() {
        let points = curve(&[
            (Some(1), 1000.0),
            (Some(10), 1010.0),
            (Some(100), 1005.0),
            (None, 1000.0),
        ]);
        let r = &recommend(&points)[0];
        assert_eq!(r.knee_max_sockets, Some(1));
        assert_eq!(r.falloff_from, None);
    }

    #[test]
    fn falling_curve_names_the_falloff_and_its_cause() {
        let mut points = curve(&[
            (Some(10), 500.0),
            (Some(50), 2000.0),
            (Some(100), 1980.0),
            (Some(500), 1200.0),
            (None, 900.0),
        ]);
        points[3].retries.throttling = 4000;
        points[4].errors.emfile = 12;
        let r = &recommend(&points)[0];
        assert_eq!(r.best_max_sockets, Some(50));
        assert_eq!(r.knee_max_sockets, Some(50));
        assert_eq!(r.falloff_from, Some(500));
        assert!(
            r.reason
                .contains("From 500 throughput falls off: the server throttles"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn a_dip_within_the_noise_is_not_a_falloff() {
        let mut points = curve(&[(Some(10), 1000.0), (Some(50), 900.0)]);
        points[1].objects_per_s.max = 1100.0;
        let r = &recommend(&points)[0];
        assert_eq!(r.falloff_from, None, "{}", r.reason);
    }

    #[test]
    fn per_request_says_max_sockets_caps_nothing_and_compares_with_shared() {
        let mut points = curve(&[(Some(10), 500.0), (Some(100), 2000.0)]);
        let mut per_request = curve(&[(Some(10), 800.0), (Some(100), 810.0)]);
        for p in &mut per_request {
            p.client = ClientMode::PerRequest;
        }
        points.extend(per_request);
        let r = recommend(&points)
            .into_iter()
            .find(|r| r.client == ClientMode::PerRequest)
            .unwrap();
        assert!(r.reason.contains("caps nothing"), "{}", r.reason);
        assert!(
            r.reason
                .contains("one shared client reaches 2000 objects/s (+147%)"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn failed_points_are_not_candidates() {
        let mut points = curve(&[(Some(10), 500.0), (Some(100), 3000.0)]);
        points[1].errors.emfile = 5;
        points[1].errors.total = 5;
        let r = &recommend(&points)[0];
        assert_eq!(r.best_max_sockets, Some(10));
        assert_eq!(r.falloff_from, Some(100));
        assert!(r.reason.contains("EMFILE"), "{}", r.reason);
    }
}
