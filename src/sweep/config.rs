//! A sweep's settings, validated as a whole before any work starts.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::modes::ClientMode;
use crate::sut::{CredentialKind, Sdk};
use crate::transport::PoolKind;
use crate::workload::Pattern;
use crate::workload::{OpMix, SizeDist};

/// What to sweep and how to measure each point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// The S3 clients measured: poolsweep's own, the real SDKs, or several side by side.
    pub sdks: Vec<Sdk>,
    /// maxSockets values; `None` is Infinity.
    pub max_sockets: Vec<Option<u32>>,
    /// Batch sizes (for `batch` and `window`: requests per batch / in flight).
    pub batches: Vec<u32>,
    /// Client modes.
    pub clients: Vec<ClientMode>,
    /// Pools.
    pub pools: Vec<PoolKind>,
    /// Server profiles (embedded mock only).
    pub profiles: Vec<String>,
    /// Request pattern.
    pub pattern: Pattern,
    /// Requests per second for the `rate` pattern.
    pub rate_per_s: Option<f64>,
    /// Operations.
    pub op: OpMix,
    /// Object sizes.
    pub sizes: SizeDist,
    /// Objects per point and repetition.
    pub objects: u64,
    /// Prefixes keys are spread over.
    pub prefixes: u32,
    /// Repetitions per point.
    pub repetitions: u32,
    /// Batches at the start of each run, on the measured client, reported as its start-up
    /// (the pool fills, handshakes are paid) and kept out of the steady window.
    pub startup_batches: u32,
    /// Idle time between two batches of the `batch` pattern (0: none): bursty demand, which
    /// lets the server close idle sockets between bursts. Not counted in throughput.
    pub pause_between_batches: Duration,
    /// Longest time the steady window of one run may take (the start-up gets as long again);
    /// it then stops and reports what it did and the projected time for all objects.
    pub time_budget: Duration,
    /// Keep-alive on the Agent (Node's `keepAlive`).
    pub keep_alive: bool,
    /// Clients sharing one handler in `shared-handler` mode.
    pub shared_handler_clients: usize,
    /// Bucket to use (created if missing on the embedded mock).
    pub bucket: String,
    /// Where every client's credentials come from: for the embedded mock, its keys, its
    /// container endpoint or its IMDSv2; for another endpoint, what the command line chose.
    pub credentials: CredentialKind,
    /// Seed for the run order, sizes and operation mix, and for the mock's random draws
    /// (reset with it before every run).
    pub seed: u64,
    /// Changes to every profile's preset (embedded mock only); they show in the points'
    /// profile names (`s3-like,write-rps=250`).
    pub profile_overrides: ProfileOverrides,
    /// What this sweep shows, drawn on its charts (e.g. the cause of a fall-off).
    pub scenario: Option<String>,
    /// Threads the client runs on (1, as a Node.js process runs JavaScript on one).
    pub client_threads: usize,
}

/// Changes to a preset profile of the embedded mock.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileOverrides {
    /// PUT/COPY/POST/DELETE per second per partitioned prefix (S3: 3,500).
    pub write_rps: Option<f64>,
    /// GET/HEAD per second per partitioned prefix (S3: 5,500).
    pub read_rps: Option<f64>,
    /// The server closes keep-alive connections idle this long, ms (s3-like: 20,000).
    pub idle_timeout_ms: Option<u64>,
    /// Median of the time to first byte's log-normal part, reads and writes, ms (s3-like:
    /// 12 for reads, 20 for writes, after a fixed 2 and 4).
    pub ttfb_median_ms: Option<f64>,
    /// 99th percentile of that log-normal part, ms (s3-like: 60 for reads, 100 for writes).
    pub ttfb_p99_ms: Option<f64>,
}

impl ProfileOverrides {
    /// Whether nothing is changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `name` with the overrides: `s3-like,write-rps=250`.
    pub fn label(&self, name: &str) -> String {
        let mut s = name.to_owned();
        if let Some(v) = self.write_rps {
            s.push_str(&format!(",write-rps={v}"));
        }
        if let Some(v) = self.read_rps {
            s.push_str(&format!(",read-rps={v}"));
        }
        if let Some(v) = self.idle_timeout_ms {
            s.push_str(&format!(",idle-timeout-ms={v}"));
        }
        if let Some(v) = self.ttfb_median_ms {
            s.push_str(&format!(",ttfb-median-ms={v}"));
        }
        if let Some(v) = self.ttfb_p99_ms {
            s.push_str(&format!(",ttfb-p99-ms={v}"));
        }
        s
    }

    /// The preset `name` with the overrides applied, named by [`ProfileOverrides::label`];
    /// `None` for an unknown preset.
    pub fn apply(&self, name: &str) -> Option<mock_s3::Profile> {
        let mut p = mock_s3::Profile::preset(name)?;
        if self.write_rps.is_some() || self.read_rps.is_some() {
            let mut r = p.rate_limit.clone().unwrap_or(mock_s3::profile::RateLimit {
                read_per_s: 5500.0,
                write_per_s: 3500.0,
                prefix_depth: 1,
                burst_s: 1.0,
                ramp: None,
            });
            r.write_per_s = self.write_rps.unwrap_or(r.write_per_s);
            r.read_per_s = self.read_rps.unwrap_or(r.read_per_s);
            p.rate_limit = Some(r);
        }
        if let Some(ms) = self.idle_timeout_ms {
            p.connections.idle_timeout_ms = ms;
        }
        p.set_ttfb(self.ttfb_median_ms, self.ttfb_p99_ms);
        p.name = self.label(name);
        Some(p)
    }
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            sdks: vec![Sdk::Poolsweep],
            max_sockets: vec![Some(1), Some(5), Some(50), None],
            batches: vec![10, 100],
            clients: vec![ClientMode::Shared, ClientMode::PerRequest],
            pools: vec![PoolKind::Agent],
            profiles: vec!["s3-like".to_owned()],
            pattern: Pattern::Batch,
            rate_per_s: None,
            op: OpMix::Put,
            sizes: SizeDist::Fixed { bytes: 16 * 1024 },
            objects: 1000,
            prefixes: 1,
            repetitions: 3,
            startup_batches: 2,
            pause_between_batches: Duration::ZERO,
            time_budget: Duration::from_secs(20),
            keep_alive: true,
            shared_handler_clients: 2,
            bucket: "poolsweep".to_owned(),
            credentials: CredentialKind::Static,
            seed: 1,
            profile_overrides: ProfileOverrides::default(),
            scenario: None,
            client_threads: 1,
        }
    }
}

impl SweepConfig {
    /// Checks every rule that involves more than one setting; the message names the flag.
    pub fn validate(&self) -> Result<(), String> {
        let empty = |name: &str, len: usize| {
            if len == 0 {
                Err(format!("--{name} needs at least one value"))
            } else {
                Ok(())
            }
        };
        empty("sdk", self.sdks.len())?;
        empty("max-sockets", self.max_sockets.len())?;
        empty("batch", self.batches.len())?;
        empty("clients", self.clients.len())?;
        empty("pools", self.pools.len())?;
        empty("profile", self.profiles.len())?;
        if self.max_sockets.contains(&Some(0)) {
            return Err("--max-sockets: 0 is not a cap; write `inf` for Infinity".to_owned());
        }
        if self.batches.contains(&0) {
            return Err("--batch: batch sizes must be at least 1".to_owned());
        }
        if self.objects == 0 {
            return Err("--objects must be at least 1".to_owned());
        }
        if self.repetitions == 0 {
            return Err("--repetitions must be at least 1".to_owned());
        }
        if self.time_budget.is_zero() {
            return Err("--time-budget must be positive".to_owned());
        }
        if self.prefixes == 0 {
            return Err("--prefixes must be at least 1".to_owned());
        }
        if self.client_threads == 0 {
            return Err("--client-threads must be at least 1".to_owned());
        }
        if !self.pause_between_batches.is_zero() && self.pattern != Pattern::Batch {
            return Err("--pause-ms applies only to --pattern batch".to_owned());
        }
        let o = &self.profile_overrides;
        for (flag, v) in [("--write-rps", o.write_rps), ("--read-rps", o.read_rps)] {
            if let Some(v) = v
                && !(v > 0.0 && v.is_finite())
            {
                return Err(format!("{flag} must be a positive number, not {v}"));
            }
        }
        if o.idle_timeout_ms == Some(0) {
            return Err("--idle-timeout-ms must be at least 1".to_owned());
        }
        for (flag, v) in [
            ("--ttfb-median-ms", o.ttfb_median_ms),
            ("--ttfb-p99-ms", o.ttfb_p99_ms),
        ] {
            if let Some(v) = v
                && !(v >= 0.0 && v.is_finite())
            {
                return Err(format!("{flag} must be 0 or more milliseconds, not {v}"));
            }
        }
        if let (Some(m), Some(q)) = (o.ttfb_median_ms, o.ttfb_p99_ms)
            && q < m
        {
            return Err(format!(
                "--ttfb-p99-ms {q} is below --ttfb-median-ms {m}: a 99th percentile is at least the median"
            ));
        }
        match (self.pattern, self.rate_per_s) {
            (Pattern::Rate, None) => {
                return Err("--pattern rate needs --rate N (requests per second)".to_owned());
            }
            (Pattern::Rate, Some(r)) if !(r > 0.0 && r.is_finite()) => {
                return Err(format!("--rate must be a positive number, not {r}"));
            }
            (p, Some(_)) if p != Pattern::Rate => {
                return Err("--rate applies only to --pattern rate".to_owned());
            }
            _ => {}
        }
        if let crate::workload::OpMix::Mixed { get_fraction } = self.op
            && !(0.0..=1.0).contains(&get_fraction)
        {
            return Err(format!(
                "--get-fraction must be in [0, 1], not {get_fraction}"
            ));
        }
        if let crate::workload::SizeDist::Uniform { min, max } = self.sizes
            && min > max
        {
            return Err(format!("object size range {min}..{max} is empty"));
        }
        if self.sizes.max() > 1 << 30 {
            return Err(
                "objects larger than 1 GiB are not supported (bodies are held in memory)"
                    .to_owned(),
            );
        }
        if let Some(sdk) = self.sdks.iter().find(|&&s| s != Sdk::Poolsweep)
            && !self.pools.contains(&PoolKind::Agent)
        {
            return Err(format!(
                "--sdk {sdk} runs on its own pool, which the grid calls `agent` (Node's): \
                 add agent to --pools"
            ));
        }
        if self.clients.contains(&ClientMode::SharedHandler) && self.shared_handler_clients < 2 {
            return Err("--shared-handler-clients must be at least 2".to_owned());
        }
        if mock_s3::store::valid_bucket_name(&self.bucket) {
            Ok(())
        } else {
            Err(format!(
                "--bucket {}: not a valid S3 bucket name",
                self.bucket
            ))
        }
    }

    /// Checks that every profile names a preset of the embedded mock (an external endpoint
    /// has no profile to set) and is still valid with the overrides applied (e.g. a
    /// `--ttfb-p99-ms` alone below the preset's median).
    pub fn validate_presets(&self) -> Result<(), String> {
        for p in &self.profiles {
            let Some(profile) = self.profile_overrides.apply(p) else {
                return Err(format!(
                    "--profile {p}: unknown; presets are {}",
                    mock_s3::profile::PRESETS.join(", ")
                ));
            };
            profile
                .validate()
                .map_err(|e| format!("--profile {}: {e}", profile.name))?;
        }
        Ok(())
    }

    /// The (SDK, pool) pairs of the grid: poolsweep's client on every pool, an SDK on its
    /// own (named `agent`).
    pub fn sdk_pools(&self) -> Vec<(Sdk, PoolKind)> {
        let mut pairs = Vec::new();
        for &sdk in &self.sdks {
            for &pool in &self.pools {
                if sdk == Sdk::Poolsweep || pool == PoolKind::Agent {
                    pairs.push((sdk, pool));
                }
            }
        }
        pairs
    }

    /// The label points of `profile` carry: the preset name with the overrides.
    pub fn profile_label(&self, profile: &str) -> String {
        self.profile_overrides.label(profile)
    }

    /// Requests each run of a point with `batch` spends in its start-up: `startup_batches`
    /// batches (windows) of the `batch` and `window` patterns, none for `burst` and `rate`
    /// (which have no batches to start with), never all the objects.
    pub fn startup_objects(&self, batch: u32) -> u64 {
        match self.pattern {
            Pattern::Batch | Pattern::Window => {
                (u64::from(self.startup_batches) * u64::from(batch)).min(self.objects / 2)
            }
            Pattern::Burst | Pattern::Rate => 0,
        }
    }

    /// Runs in the whole sweep (points × repetitions).
    pub fn runs(&self) -> u64 {
        (self.sdk_pools().len()
            * self.max_sockets.len()
            * self.batches.len()
            * self.clients.len()
            * self.profiles.len()) as u64
            * u64::from(self.repetitions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_rules_are_checked() {
        let c = SweepConfig::default();
        c.validate().unwrap();
        assert_eq!(c.runs(), 4 * 2 * 2 * 3);
        let bad = |f: &dyn Fn(&mut SweepConfig)| {
            let mut c = SweepConfig::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert!(bad(&|c| c.max_sockets = vec![Some(0)]).contains("inf"));
        assert!(bad(&|c| c.batches.clear()).contains("--batch"));
        assert!(bad(&|c| c.pattern = Pattern::Rate).contains("--rate"));
        assert!(bad(&|c| c.rate_per_s = Some(5.0)).contains("only"));
        let c = SweepConfig {
            profiles: vec!["fast".into()],
            ..SweepConfig::default()
        };
        assert!(c.validate_presets().unwrap_err().contains("presets"));
        // An override alone can leave a preset invalid: s3-like's write median is 20 ms.
        let mut c = SweepConfig::default();
        c.profile_overrides.ttfb_p99_ms = Some(6.0);
        let e = c.validate_presets().unwrap_err();
        assert!(
            e.contains("s3-like,ttfb-p99-ms=6") && e.contains("below median"),
            "{e}"
        );
        assert!(bad(&|c| c.bucket = "A_B".into()).contains("bucket"));
        assert!(bad(&|c| c.repetitions = 0).contains("repetitions"));
        assert!(bad(&|c| c.sdks.clear()).contains("--sdk"));
        assert!(
            bad(&|c| {
                c.sdks = vec![Sdk::Poolsweep, Sdk::JsV3];
                c.pools = vec![PoolKind::HyperUtil];
            })
            .contains("add agent to --pools")
        );
        // An SDK runs on its own pool only: hyper-util points are poolsweep's.
        let c = SweepConfig {
            sdks: vec![Sdk::Poolsweep, Sdk::JsV3, Sdk::RustSdk],
            pools: vec![PoolKind::Agent, PoolKind::HyperUtil],
            ..SweepConfig::default()
        };
        assert_eq!(
            c.sdk_pools(),
            [
                (Sdk::Poolsweep, PoolKind::Agent),
                (Sdk::Poolsweep, PoolKind::HyperUtil),
                (Sdk::JsV3, PoolKind::Agent),
                (Sdk::RustSdk, PoolKind::Agent),
            ]
        );
        assert_eq!(c.runs(), 4 * 4 * 2 * 2 * 3);
        assert!(bad(&|c| c.client_threads = 0).contains("client-threads"));
        assert!(
            bad(&|c| {
                c.pattern = Pattern::Window;
                c.pause_between_batches = Duration::from_millis(5);
            })
            .contains("--pause-ms")
        );
        assert!(bad(&|c| c.profile_overrides.write_rps = Some(0.0)).contains("--write-rps"));
        assert!(
            bad(&|c| c.profile_overrides.ttfb_median_ms = Some(-1.0)).contains("--ttfb-median-ms")
        );
        assert!(
            bad(&|c| {
                c.profile_overrides.ttfb_median_ms = Some(5.0);
                c.profile_overrides.ttfb_p99_ms = Some(4.0);
            })
            .contains("below --ttfb-median-ms")
        );
    }

    #[test]
    fn overrides_change_the_preset_and_its_name() {
        let o = ProfileOverrides {
            write_rps: Some(250.0),
            idle_timeout_ms: Some(200),
            ..ProfileOverrides::default()
        };
        let p = o.apply("s3-like").unwrap();
        assert_eq!(p.name, "s3-like,write-rps=250,idle-timeout-ms=200");
        assert_eq!(p.rate_limit.as_ref().unwrap().write_per_s, 250.0);
        assert_eq!(p.rate_limit.as_ref().unwrap().read_per_s, 5500.0);
        assert_eq!(p.connections.idle_timeout_ms, 200);
        p.validate().unwrap();
        assert_eq!(ProfileOverrides::default().label("ideal"), "ideal");
        // A latency override changes the log-normal part of reads and writes, not the fixed.
        let fast = ProfileOverrides {
            ttfb_median_ms: Some(5.0),
            ttfb_p99_ms: Some(12.0),
            ..ProfileOverrides::default()
        };
        let p = fast.apply("s3-like").unwrap();
        assert_eq!(p.name, "s3-like,ttfb-median-ms=5,ttfb-p99-ms=12");
        for (l, fixed) in [(&p.read_latency, 2.0), (&p.write_latency, 4.0)] {
            assert_eq!((l.fixed_ms, l.median_ms, l.p99_ms), (fixed, 5.0, 12.0));
        }
        p.validate().unwrap();
        assert!(o.apply("fast").is_none());
        // The start-up: two batches, never more than half the objects, none for a burst.
        let c = SweepConfig::default();
        assert_eq!(c.startup_objects(100), 200);
        assert_eq!(c.startup_objects(1000), 500);
        let burst = SweepConfig {
            pattern: Pattern::Burst,
            ..SweepConfig::default()
        };
        assert_eq!(burst.startup_objects(100), 0);
    }
}
