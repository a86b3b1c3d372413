//! Measurements: samples of one repetition folded into histograms and counts, repetitions
//! folded into the numbers of one [`Point`], and the client's CPU time.
//!
//! Invariant: every sample is counted exactly once, as a success or as one error kind, so
//! `succeeded + errors.total == samples`; [`Repetition::check`] verifies it.
//!
//! # Layout
//!
//! - this file: [`Repetition`] (one run's samples) and [`fold`] (repetitions into a point's
//!   numbers).
//! - `point`: [`Point`], one measured cell of the grid, and its parts ([`Spread`],
//!   [`Latency`], [`SocketWait`], [`Retries`], [`Errors`]); maxSockets shown and ordered with
//!   Infinity last ([`display_max_sockets`], [`max_sockets_sort_key`]).
//! - `cpu`: the client's CPU time in nanoseconds, from the clocks of the threads it runs on.

mod cpu;
#[cfg(test)]
pub(crate) mod fixtures;
mod point;

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::sut::ErrorClass;
use crate::workload::Sample;
pub use cpu::{client_cpu_ns, client_runtime, register_client_thread};
pub use point::{
    CpuPerRequest, Errors, GroupKey, Latency, Point, Retries, SocketWait, Spread, Startup,
    display_max_sockets, max_sockets_sort_key,
};

/// Highest latency recorded exactly: 10 minutes in µs (longer values are clamped).
const MAX_US: u64 = 600_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

/// The samples of one repetition.
#[derive(Debug, Clone)]
pub struct Repetition {
    /// Latency from the intended start, µs.
    pub latency: Histogram<u64>,
    /// Socket wait, µs.
    pub socket_wait: Histogram<u64>,
    /// Samples folded in.
    pub samples: u64,
    /// Successful requests.
    pub succeeded: u64,
    /// Bytes moved by successful requests.
    pub bytes: u64,
    /// Failed requests by kind.
    pub errors: Errors,
    /// Retries by reason.
    pub retries: Retries,
    /// Wall time of the repetition.
    pub elapsed: Duration,
}

impl Default for Repetition {
    fn default() -> Self {
        Self {
            latency: histogram(),
            socket_wait: histogram(),
            samples: 0,
            succeeded: 0,
            bytes: 0,
            errors: Errors::default(),
            retries: Retries::default(),
            elapsed: Duration::ZERO,
        }
    }
}

fn us(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_US)
}

impl Repetition {
    /// Folds in one finished request.
    pub fn add(&mut self, s: &Sample) {
        self.samples += 1;
        self.latency.saturating_record(us(s.latency()));
        self.socket_wait.saturating_record(us(s.reply.socket_wait));
        let [throttling, transient, timeout, other] = s.reply.retries.map(u64::from);
        self.retries.throttling += throttling;
        self.retries.transient += transient;
        self.retries.timeout += timeout;
        self.retries.other += other;
        self.retries.total += throttling + transient + timeout + other;
        match s.reply.error {
            None => {
                self.succeeded += 1;
                self.bytes += s.reply.bytes;
            }
            Some(kind) => {
                self.errors.total += 1;
                match kind {
                    ErrorClass::Emfile => self.errors.emfile += 1,
                    ErrorClass::Timeout => self.errors.timeout += 1,
                    ErrorClass::Reset => self.errors.reset += 1,
                    ErrorClass::SlowDown => self.errors.slowdown += 1,
                    ErrorClass::Other => self.errors.other += 1,
                }
            }
        }
    }

    /// Checks that the counts add up: every sample is a success or one counted error.
    pub fn check(&self) -> Result<(), String> {
        let e = &self.errors;
        let kinds = e.emfile + e.timeout + e.reset + e.slowdown + e.other;
        if self.succeeded + e.total != self.samples || kinds != e.total {
            return Err(format!(
                "counts do not add up: {} samples, {} succeeded, {} errors ({} by kind)",
                self.samples, self.succeeded, e.total, kinds
            ));
        }
        Ok(())
    }

    /// Completed objects per second.
    pub fn objects_per_s(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.succeeded as f64 / secs
        } else {
            0.0
        }
    }

    /// Megabytes (10^6) per second.
    pub fn mb_per_s(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.bytes as f64 / 1e6 / secs
        } else {
            0.0
        }
    }
}

/// Median, min and max of values (median of an even count: the mean of the middle two).
pub fn spread(values: &[f64]) -> Spread {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Spread {
            median: 0.0,
            min: 0.0,
            max: 0.0,
        };
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Spread {
        median,
        min: v[0],
        max: v[n - 1],
    }
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

/// The repetitions of one point, folded together.
#[derive(Debug, Clone)]
pub struct Folded {
    /// Objects/s over repetitions.
    pub objects_per_s: Spread,
    /// MB/s over repetitions.
    pub mb_per_s: Spread,
    /// Latency percentiles over all samples.
    pub latency_ms: Latency,
    /// Socket-wait percentiles over all samples.
    pub socket_wait_ms: SocketWait,
    /// Retries, summed.
    pub retries: Retries,
    /// Errors, summed.
    pub errors: Errors,
    /// Samples, summed.
    pub samples: u64,
    /// Successes, summed.
    pub succeeded: u64,
    /// Fewest successes in one repetition.
    pub min_succeeded: u64,
}

/// Adds the retries and errors of `other` (e.g. the runs' start-ups) into a point's totals.
pub fn add_counts(retries: &mut Retries, errors: &mut Errors, other: &Folded) {
    let (r, e) = (&other.retries, &other.errors);
    retries.total += r.total;
    retries.throttling += r.throttling;
    retries.transient += r.transient;
    retries.timeout += r.timeout;
    retries.other += r.other;
    errors.total += e.total;
    errors.emfile += e.emfile;
    errors.timeout += e.timeout;
    errors.reset += e.reset;
    errors.slowdown += e.slowdown;
    errors.other += e.other;
}

/// Folds repetitions together.
pub fn fold(reps: &[Repetition]) -> Folded {
    let mut latency = histogram();
    let mut wait = histogram();
    let mut retries = Retries::default();
    let mut errors = Errors::default();
    for r in reps {
        // Same bounds on both sides: adding cannot fail.
        let _ = latency.add(&r.latency);
        let _ = wait.add(&r.socket_wait);
        retries.total += r.retries.total;
        retries.throttling += r.retries.throttling;
        retries.transient += r.retries.transient;
        retries.timeout += r.retries.timeout;
        retries.other += r.retries.other;
        errors.total += r.errors.total;
        errors.emfile += r.errors.emfile;
        errors.timeout += r.errors.timeout;
        errors.reset += r.errors.reset;
        errors.slowdown += r.errors.slowdown;
        errors.other += r.errors.other;
    }
    let ops: Vec<f64> = reps.iter().map(Repetition::objects_per_s).collect();
    let mbs: Vec<f64> = reps.iter().map(Repetition::mb_per_s).collect();
    Folded {
        objects_per_s: spread(&ops),
        mb_per_s: spread(&mbs),
        latency_ms: Latency {
            p50: ms(&latency, 0.5),
            p90: ms(&latency, 0.9),
            p99: ms(&latency, 0.99),
            p999: ms(&latency, 0.999),
            max: if latency.is_empty() {
                0.0
            } else {
                latency.max() as f64 / 1000.0
            },
        },
        socket_wait_ms: SocketWait {
            p50: ms(&wait, 0.5),
            p99: ms(&wait, 0.99),
        },
        retries,
        errors,
        samples: reps.iter().map(|r| r.samples).sum(),
        succeeded: reps.iter().map(|r| r.succeeded).sum(),
        min_succeeded: reps.iter().map(|r| r.succeeded).min().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sut::{OpKind, OpReport};
    use tokio::time::Instant;

    fn sample(latency_ms: u64, error: Option<ErrorClass>, retries: [u32; 4]) -> Sample {
        let start = Instant::now();
        Sample {
            index: 0,
            op: OpKind::Put,
            intended_start: start,
            end: start + Duration::from_millis(latency_ms),
            reply: OpReport {
                bytes: 1000,
                socket_wait: Duration::from_millis(1),
                error,
                retries,
                ..OpReport::default()
            },
        }
    }

    #[test]
    fn counts_add_up_and_fold() {
        let mut a = Repetition::default();
        for i in 0..100 {
            a.add(&sample(i + 1, None, [0; 4]));
        }
        a.add(&sample(5, Some(ErrorClass::SlowDown), [2, 0, 0, 0]));
        a.add(&sample(5, Some(ErrorClass::Emfile), [0; 4]));
        a.elapsed = Duration::from_secs(2);
        a.check().unwrap();
        assert_eq!((a.samples, a.succeeded, a.errors.total), (102, 100, 2));
        assert_eq!(a.objects_per_s(), 50.0);
        assert_eq!(a.mb_per_s(), 0.05);
        let mut b = a.clone();
        b.elapsed = Duration::from_secs(1);
        let f = fold(&[a, b]);
        assert_eq!(f.objects_per_s.min, 50.0);
        assert_eq!(f.objects_per_s.max, 100.0);
        assert_eq!(f.objects_per_s.median, 75.0);
        assert_eq!(f.errors.slowdown, 2);
        assert_eq!(f.retries.throttling, 4);
        assert!((f.latency_ms.p50 - 50.0).abs() < 1.0, "{:?}", f.latency_ms);
        assert!(f.latency_ms.max >= 100.0);
    }

    #[test]
    fn a_broken_count_is_caught() {
        let mut r = Repetition::default();
        r.add(&sample(1, None, [0; 4]));
        r.errors.total += 1;
        assert!(r.check().is_err());
    }

    #[test]
    fn spread_of_nothing_is_zero() {
        assert_eq!(spread(&[]).median, 0.0);
        assert_eq!(spread(&[3.0, 1.0, 2.0]).median, 2.0);
    }

    #[test]
    fn errors_a_sweep_measures_do_not_fail_its_point() {
        let mut p = fixtures::point_template();
        assert!(!p.failed());
        p.errors.total = 528;
        p.errors.emfile = 528;
        assert!(p.failed() && p.has_errors());
        // The scenario measures them: a measured point with its errors, still a fall-off.
        p.errors_expected = true;
        assert!(!p.failed() && p.has_errors());
        // Runs that could not be measured fail it all the same.
        p.failure = Some("a run failed: the runner crashed".to_owned());
        assert!(p.failed());
        // Written always; a file from before it reads as not expected.
        let mut json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["errors_expected"], true);
        json.as_object_mut().unwrap().remove("errors_expected");
        let read: Point = serde_json::from_value(json).unwrap();
        assert!(!read.errors_expected && read.failed());
    }
}
