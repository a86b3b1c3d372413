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
    /// Requests sent before each measured run, on a throwaway client.
    pub warmup: u64,
    /// Longest time one run of one point may take; it then stops and reports what it did.
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
    /// Seed for the run order, sizes and operation mix.
    pub seed: u64,
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
            warmup: 20,
            time_budget: Duration::from_secs(20),
            keep_alive: true,
            shared_handler_clients: 2,
            bucket: "poolsweep".to_owned(),
            credentials: CredentialKind::Static,
            seed: 1,
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
    /// has no profile to set).
    pub fn validate_presets(&self) -> Result<(), String> {
        for p in &self.profiles {
            if mock_s3::Profile::preset(p).is_none() {
                return Err(format!(
                    "--profile {p}: unknown; presets are {}",
                    mock_s3::profile::PRESETS.join(", ")
                ));
            }
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
    }
}
