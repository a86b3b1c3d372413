//! How strict a comparison is: the throughput threshold and what affects the exit status.

/// Options of [`super::compare`]. Each field's doc states its default.
///
/// # Examples
///
/// ```
/// use poolsweep::compare::CompareOptions;
///
/// // CI against a committed baseline from another machine: report throughput, gate on counters.
/// let ci = CompareOptions { report_only_throughput: true, ..CompareOptions::default() };
/// assert_eq!(ci.threshold, 0.10);
/// assert!(ci.strict_counters);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// The smallest relative change of the median objects/s that counts, as a fraction
    /// (`0.10` = 10 %). A point regresses or improves only beyond it *and* outside the
    /// run-to-run range (see the module docs). Must be finite and at least 0.
    ///
    /// Default: [`CompareOptions::DEFAULT_THRESHOLD`] (10 %), github-action-benchmark's README
    /// measures ±10–20 % noise on hosted CI runners, so smaller changes are rarely real there.
    pub threshold: f64,
    /// Counter differences (sockets opened, TLS handshakes, retries, errors) between points of
    /// the same workload and profile are behaviour changes, which fail the comparison. When off,
    /// differences are still listed, as information only. Turn it off for profiles with random
    /// latency or faults (`s3-like`, `congested`), where counters can legitimately vary.
    ///
    /// Default: `true` (counters are exact on the `ideal` profile).
    pub strict_counters: bool,
    /// Throughput regressions, and knees that moved beyond the noise (they are read from
    /// throughput), are reported but do not fail the comparison (exit status 0); counter
    /// behaviour changes still do. Meant for CI against a baseline measured on another machine,
    /// where throughput differences say more about the machines than about the change.
    ///
    /// Default: `false`.
    pub report_only_throughput: bool,
}

impl CompareOptions {
    /// The default threshold: 10 %.
    pub const DEFAULT_THRESHOLD: f64 = 0.10;
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            threshold: Self::DEFAULT_THRESHOLD,
            strict_counters: true,
            report_only_throughput: false,
        }
    }
}
