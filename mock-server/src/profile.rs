//! The server profile: how the mock behaves under load (latency, bandwidth, S3's per-prefix
//! request-rate limits, connection policy, faults, credential endpoints).
//!
//! A profile is plain data (serde, TOML or JSON), set at start and replaceable while running
//! (`PUT /__mock/profile`). Random draws come from an RNG seeded by (profile seed, request
//! sequence number), so the same seed and the same request order draw the same latencies and
//! faults; a reset ([`crate::reset`]) starts the sequence again from request 0, with a new seed
//! if asked. SlowDowns also depend on the clock (the rate limiter reads real time, as S3's
//! does): they repeat only while no budget refills during the run.
//!
//! Presets and the sources of their numbers:
//! - `ideal`: nothing injected: no latency, no limits, no faults.
//! - `s3-like`: S3's documented request-rate limits, 3,500 writes and 5,500 reads per second per
//!   partitioned prefix (S3 User Guide, "Optimizing Amazon S3 performance"); time to first byte
//!   of tens of milliseconds for small objects in-region (S3 whitepaper "Timeouts and retries for
//!   latency-sensitive applications": median in the tens of ms, 100–200 ms first byte for larger
//!   objects); about 85–90 MB/s per connection ("Horizontal scaling and request
//!   parallelization"); idle connections closed after 20 s (community observations of S3, not
//!   documented by AWS); no faults.
//! - `congested`: `s3-like` with a heavy latency tail (p99 ten times the median), a tenth of the
//!   request rate, 1% 500 InternalError, 1% 503 without SlowDown, 0.1% connection resets and
//!   0.5% stalled responses: a bad day, for testing retry behaviour (chosen, not measured).

use std::time::Duration;

use rand::SeedableRng as _;
use rand_distr::{Distribution as _, LogNormal};
use serde::{Deserialize, Serialize};

/// Time to first byte: a fixed part plus an optional log-normal part.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Latency {
    /// Fixed delay in milliseconds.
    pub fixed_ms: f64,
    /// Median of the log-normal part in ms (0: none).
    pub median_ms: f64,
    /// 99th percentile of the log-normal part in ms (must be >= median).
    pub p99_ms: f64,
}

/// z-score of the 99th percentile of a standard normal distribution.
const Z99: f64 = 2.326_347_874;

impl Latency {
    /// Draws one delay.
    pub fn sample(&self, rng: &mut impl rand::Rng) -> Duration {
        let mut ms = self.fixed_ms.max(0.0);
        if self.median_ms > 0.0 {
            let mu = self.median_ms.ln();
            let sigma = if self.p99_ms > self.median_ms {
                (self.p99_ms.ln() - mu) / Z99
            } else {
                0.0
            };
            ms += match LogNormal::new(mu, sigma) {
                Ok(d) => d.sample(rng),
                Err(_) => self.median_ms,
            };
        }
        Duration::from_secs_f64(ms / 1000.0)
    }

    fn is_zero(&self) -> bool {
        self.fixed_ms <= 0.0 && self.median_ms <= 0.0
    }
}

/// S3's gradual scaling: a new prefix starts with a fraction of its budget, which doubles at
/// a fixed interval until it reaches the full rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ramp {
    /// Fraction of the full rate a prefix starts with (0 < f <= 1).
    pub start_fraction: f64,
    /// Seconds for the budget to double.
    pub double_every_s: f64,
}

/// Request-rate limits per partitioned prefix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// GET/HEAD per second per prefix (S3: 5,500).
    pub read_per_s: f64,
    /// PUT/COPY/POST/DELETE per second per prefix (S3: 3,500).
    pub write_per_s: f64,
    /// How many `/`-separated key segments form the partitioned prefix (0: whole bucket).
    #[serde(default = "one")]
    pub prefix_depth: usize,
    /// Seconds of budget a prefix may burst (token-bucket depth). Default: 1.
    #[serde(default = "one_f")]
    pub burst_s: f64,
    /// Optional gradual scaling of new prefixes.
    #[serde(default)]
    pub ramp: Option<Ramp>,
}

fn one() -> usize {
    1
}
fn one_f() -> f64 {
    1.0
}

/// What happens to connections beyond `max_connections`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverLimit {
    /// Stop accepting: new connections wait in the kernel's backlog. Default.
    #[default]
    Backlog,
    /// Accept and close at once: the client sees its connection refused/reset.
    Refuse,
}

/// Connection handling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Connections {
    /// Most connections open at once (None: no limit).
    pub max_connections: Option<usize>,
    /// What happens beyond the limit.
    pub over_limit: OverLimit,
    /// The server closes a keep-alive connection idle this long (ms).
    pub idle_timeout_ms: u64,
    /// After this many requests the response says `Connection: close` (None: no limit).
    pub max_requests_per_connection: Option<u64>,
    /// Time allowed for a TLS handshake (ms).
    pub tls_handshake_timeout_ms: u64,
    /// An upload that sends nothing for this long gets `400 RequestTimeout` (ms).
    pub upload_stall_timeout_ms: u64,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            max_connections: None,
            over_limit: OverLimit::Backlog,
            idle_timeout_ms: 20_000,
            max_requests_per_connection: None,
            tls_handshake_timeout_ms: 10_000,
            upload_stall_timeout_ms: 20_000,
        }
    }
}

/// Fault probabilities, each in [0, 1], drawn independently per S3 request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// 500 InternalError.
    pub internal_error: f64,
    /// 503 ServiceUnavailable (not SlowDown).
    pub service_unavailable: f64,
    /// Reset the connection mid-response.
    pub reset: f64,
    /// Stall the response for `stall_ms` before answering.
    pub stall: f64,
    /// How long a stall lasts (ms).
    pub stall_ms: u64,
}

/// The credential endpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CredentialEndpoints {
    /// Latency of the container-credentials endpoint.
    pub container_latency: Latency,
    /// Latency of each IMDS call.
    pub imds_latency: Latency,
    /// Lifetime of issued credentials in seconds (must exceed 5 minutes, or SDKs refresh on
    /// every call).
    pub expiration_s: u64,
    /// The `Authorization` token the container endpoint requires.
    pub container_token: String,
}

impl Default for CredentialEndpoints {
    fn default() -> Self {
        Self {
            container_latency: Latency::default(),
            imds_latency: Latency::default(),
            expiration_s: 3600,
            container_token: "poolsweep-container-token".to_owned(),
        }
    }
}

/// How the server behaves. See the module docs for the presets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Profile {
    /// Preset name or a label of your own.
    pub name: String,
    /// RNG seed for every random draw.
    pub seed: u64,
    /// Time to first byte of reads (GET/HEAD/list).
    pub read_latency: Latency,
    /// Time to first byte of writes.
    pub write_latency: Latency,
    /// Per-connection bandwidth for request and response bodies, MB/s (None: unlimited).
    pub bandwidth_mb_per_s: Option<f64>,
    /// Request-rate limits (None: unlimited).
    pub rate_limit: Option<RateLimit>,
    /// Connection policy.
    pub connections: Connections,
    /// Injected faults.
    pub faults: Faults,
    /// Credential endpoints.
    pub credentials: CredentialEndpoints,
}

impl Default for Profile {
    fn default() -> Self {
        Self::ideal()
    }
}

/// Names of the presets.
pub const PRESETS: [&str; 3] = ["ideal", "s3-like", "congested"];

impl Profile {
    /// Nothing injected.
    pub fn ideal() -> Self {
        Self {
            name: "ideal".to_owned(),
            seed: 1,
            read_latency: Latency::default(),
            write_latency: Latency::default(),
            bandwidth_mb_per_s: None,
            rate_limit: None,
            connections: Connections::default(),
            faults: Faults::default(),
            credentials: CredentialEndpoints::default(),
        }
    }

    /// S3's documented limits and plausible in-region latency (see the module docs).
    pub fn s3_like() -> Self {
        Self {
            name: "s3-like".to_owned(),
            read_latency: Latency {
                fixed_ms: 2.0,
                median_ms: 12.0,
                p99_ms: 60.0,
            },
            write_latency: Latency {
                fixed_ms: 4.0,
                median_ms: 20.0,
                p99_ms: 100.0,
            },
            bandwidth_mb_per_s: Some(88.0),
            rate_limit: Some(RateLimit {
                read_per_s: 5500.0,
                write_per_s: 3500.0,
                prefix_depth: 1,
                burst_s: 1.0,
                ramp: None,
            }),
            credentials: CredentialEndpoints {
                container_latency: Latency {
                    fixed_ms: 1.0,
                    median_ms: 5.0,
                    p99_ms: 20.0,
                },
                imds_latency: Latency {
                    fixed_ms: 0.5,
                    median_ms: 2.0,
                    p99_ms: 10.0,
                },
                ..CredentialEndpoints::default()
            },
            ..Self::ideal()
        }
    }

    /// A bad day: heavy tails, a tenth of the rate, faults.
    pub fn congested() -> Self {
        let s3 = Self::s3_like();
        Self {
            name: "congested".to_owned(),
            read_latency: Latency {
                fixed_ms: 5.0,
                median_ms: 30.0,
                p99_ms: 300.0,
            },
            write_latency: Latency {
                fixed_ms: 8.0,
                median_ms: 50.0,
                p99_ms: 500.0,
            },
            bandwidth_mb_per_s: Some(40.0),
            rate_limit: Some(RateLimit {
                read_per_s: 550.0,
                write_per_s: 350.0,
                ..s3.rate_limit.clone().unwrap_or_else(unreachable_rate)
            }),
            faults: Faults {
                internal_error: 0.01,
                service_unavailable: 0.01,
                reset: 0.001,
                stall: 0.005,
                stall_ms: 2000,
            },
            ..s3
        }
    }

    /// Sets the median and 99th percentile of the time to first byte's log-normal part, of
    /// reads and writes alike (`None` keeps the profile's); the fixed part stays.
    pub fn set_ttfb(&mut self, median_ms: Option<f64>, p99_ms: Option<f64>) {
        for l in [&mut self.read_latency, &mut self.write_latency] {
            if let Some(m) = median_ms {
                l.median_ms = m;
            }
            if let Some(q) = p99_ms {
                l.p99_ms = q;
            }
        }
    }

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "ideal" => Some(Self::ideal()),
            "s3-like" => Some(Self::s3_like()),
            "congested" => Some(Self::congested()),
            _ => None,
        }
    }

    /// Reads a TOML profile; unspecified fields take `ideal`'s values.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let p: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        p.validate()?;
        Ok(p)
    }

    /// Checks ranges: probabilities in [0, 1], positive rates, p99 >= median.
    pub fn validate(&self) -> Result<(), String> {
        let f = &self.faults;
        for (name, p) in [
            ("faults.internal_error", f.internal_error),
            ("faults.service_unavailable", f.service_unavailable),
            ("faults.reset", f.reset),
            ("faults.stall", f.stall),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} = {p} is not a probability in [0, 1]"));
            }
        }
        for (name, l) in [
            ("read_latency", &self.read_latency),
            ("write_latency", &self.write_latency),
            (
                "credentials.container_latency",
                &self.credentials.container_latency,
            ),
            ("credentials.imds_latency", &self.credentials.imds_latency),
        ] {
            if l.fixed_ms < 0.0 || l.median_ms < 0.0 || l.p99_ms < 0.0 {
                return Err(format!("{name}: latencies cannot be negative"));
            }
            if l.median_ms > 0.0 && l.p99_ms > 0.0 && l.p99_ms < l.median_ms {
                return Err(format!(
                    "{name}: p99_ms ({}) is below median_ms ({})",
                    l.p99_ms, l.median_ms
                ));
            }
        }
        if let Some(b) = self.bandwidth_mb_per_s
            && (b <= 0.0 || !b.is_finite())
        {
            return Err(format!("bandwidth_mb_per_s = {b} must be positive"));
        }
        if let Some(r) = &self.rate_limit {
            if r.read_per_s <= 0.0 || r.write_per_s <= 0.0 || r.burst_s <= 0.0 {
                return Err(
                    "rate_limit: read_per_s, write_per_s and burst_s must be positive".to_owned(),
                );
            }
            if let Some(ramp) = &r.ramp
                && (!(ramp.start_fraction > 0.0 && ramp.start_fraction <= 1.0)
                    || ramp.double_every_s <= 0.0)
            {
                return Err(
                    "rate_limit.ramp: start_fraction must be in (0, 1] and double_every_s positive"
                        .to_owned(),
                );
            }
        }
        if self.connections.max_connections == Some(0) {
            return Err("connections.max_connections must be at least 1".to_owned());
        }
        if self.connections.max_requests_per_connection == Some(0) {
            return Err("connections.max_requests_per_connection must be at least 1".to_owned());
        }
        if self.credentials.expiration_s <= 300 {
            return Err("credentials.expiration_s must exceed 300 (SDKs refresh credentials that expire within 5 minutes)".to_owned());
        }
        Ok(())
    }

    /// Whether any per-request draw is needed (latency or faults).
    pub fn needs_rng(&self) -> bool {
        !self.read_latency.is_zero()
            || !self.write_latency.is_zero()
            || self.faults.internal_error > 0.0
            || self.faults.service_unavailable > 0.0
            || self.faults.reset > 0.0
            || self.faults.stall > 0.0
    }

    /// The RNG for request number `n`: the same (seed, n) always gives the same draws.
    pub fn rng(&self, n: u64) -> rand::rngs::SmallRng {
        rand::rngs::SmallRng::seed_from_u64(splitmix(self.seed ^ splitmix(n)))
    }
}

fn unreachable_rate() -> RateLimit {
    RateLimit {
        read_per_s: 5500.0,
        write_per_s: 3500.0,
        prefix_depth: 1,
        burst_s: 1.0,
        ramp: None,
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// What the dice say for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 InternalError.
    InternalError,
    /// Answer 503 ServiceUnavailable.
    ServiceUnavailable,
    /// Break the connection mid-response.
    Reset,
    /// Wait `stall_ms`, then answer normally.
    Stall,
}

impl Faults {
    /// Draws at most one fault for a request.
    pub fn draw(&self, rng: &mut impl rand::Rng) -> Option<Fault> {
        // One uniform draw partitioned by the probabilities keeps each kind's rate exact.
        let u: f64 = rng.random();
        let mut edge = 0.0;
        for (p, fault) in [
            (self.internal_error, Fault::InternalError),
            (self.service_unavailable, Fault::ServiceUnavailable),
            (self.reset, Fault::Reset),
            (self.stall, Fault::Stall),
        ] {
            edge += p;
            if u < edge {
                return Some(fault);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_round_trip() {
        for name in PRESETS {
            let p = Profile::preset(name).unwrap();
            p.validate().unwrap();
            let json = serde_json::to_string(&p).unwrap();
            let back: Profile = serde_json::from_str(&json).unwrap();
            assert_eq!(back, p);
            let toml_text = toml::to_string(&p).unwrap();
            assert_eq!(Profile::from_toml(&toml_text).unwrap(), p);
        }
        assert_eq!(Profile::s3_like().rate_limit.unwrap().write_per_s, 3500.0);
        assert!(Profile::preset("fast").is_none());
    }

    #[test]
    fn toml_defaults_and_errors() {
        let p = Profile::from_toml("name = \"mine\"\n[faults]\ninternal_error = 0.5\n").unwrap();
        assert_eq!(p.faults.internal_error, 0.5);
        assert_eq!(p.connections, Connections::default());
        assert!(
            Profile::from_toml("[faults]\nreset = 2.0\n")
                .unwrap_err()
                .contains("probability")
        );
        assert!(Profile::from_toml("bogus = 1\n").is_err());
    }

    #[test]
    fn lognormal_median_and_p99_hold() {
        let l = Latency {
            fixed_ms: 0.0,
            median_ms: 10.0,
            p99_ms: 50.0,
        };
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut v: Vec<f64> = (0..20_000)
            .map(|_| l.sample(&mut rng).as_secs_f64() * 1000.0)
            .collect();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        let p99 = v[v.len() * 99 / 100];
        assert!((median - 10.0).abs() < 0.5, "median {median}");
        assert!((p99 - 50.0).abs() < 5.0, "p99 {p99}");
    }

    #[test]
    fn same_seed_same_draws() {
        let p = Profile::congested();
        let a: Vec<Option<Fault>> = (0..1000).map(|n| p.faults.draw(&mut p.rng(n))).collect();
        let b: Vec<Option<Fault>> = (0..1000).map(|n| p.faults.draw(&mut p.rng(n))).collect();
        assert_eq!(a, b);
    }
}
