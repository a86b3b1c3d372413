//! Validated settings of `poolsweep sweep`: preset, then sweep file, then flags, checked as a
//! whole before any work starts (ripgrep's low-level → high-level args).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::args::{CredentialsArg, Preset, SweepArgs};
use crate::modes::ClientMode;
use crate::s3::credentials::Environment;
use crate::s3::{ClientConfig, Credentials, CredentialsSource};
use crate::sut::{CredentialKind, CredentialSource, Service};
use crate::sweep::External;
use crate::sweep::SweepConfig;
use crate::workload::{Op, OpMix, SizeDist};

/// What `poolsweep sweep` will do.
#[derive(Debug)]
pub struct SweepPlan {
    /// The grid and measurement settings.
    pub config: SweepConfig,
    /// `None`: the embedded mock; otherwise the external endpoint.
    pub external: Option<External>,
    /// The result file.
    pub out: PathBuf,
    /// CSV export.
    pub csv: Option<PathBuf>,
    /// Report directory.
    pub report: Option<PathBuf>,
    /// Soft RLIMIT_NOFILE to set.
    pub nofile: Option<u64>,
    /// Plain log lines instead of a progress bar.
    pub no_progress: bool,
}

/// A sweep file: the flags' names, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    sdk: Option<Vec<String>>,
    credentials: Option<String>,
    max_sockets: Option<Vec<String>>,
    batch: Option<Vec<u32>>,
    clients: Option<Vec<String>>,
    pools: Option<Vec<String>>,
    pattern: Option<String>,
    rate: Option<f64>,
    op: Option<String>,
    get_fraction: Option<f64>,
    objects: Option<u64>,
    object_size: Option<String>,
    prefixes: Option<u32>,
    repetitions: Option<u32>,
    startup_batches: Option<u32>,
    pause_ms: Option<u64>,
    time_budget: Option<f64>,
    profile: Option<Vec<String>>,
    write_rps: Option<f64>,
    read_rps: Option<f64>,
    idle_timeout_ms: Option<u64>,
    ttfb_median_ms: Option<f64>,
    ttfb_p99_ms: Option<f64>,
    scenario: Option<String>,
    client_threads: Option<usize>,
    keep_alive: Option<bool>,
    shared_handler_clients: Option<usize>,
    seed: Option<u64>,
    bucket: Option<String>,
}

/// Parses a maxSockets value: a positive integer, or `inf` for Node's Infinity.
pub fn parse_max_sockets(s: &str) -> Result<Option<u32>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "inf" | "infinity" | "∞" => Ok(None),
        "0" => {
            Err("maxSockets 0: write `inf` for Infinity (Node treats 0 as Infinity too)".to_owned())
        }
        n => n
            .parse::<u32>()
            .map(Some)
            .map_err(|_| format!("maxSockets `{s}` is not a positive integer or `inf`")),
    }
}

/// Parses an object size (`16k`) or a uniform range (`1k-64k`).
pub fn parse_sizes(s: &str) -> Result<SizeDist, String> {
    match s.split_once('-') {
        Some((a, b)) => Ok(SizeDist::Uniform {
            min: mock_s3::cli::parse_size(a)?,
            max: mock_s3::cli::parse_size(b)?,
        }),
        None => Ok(SizeDist::Fixed {
            bytes: mock_s3::cli::parse_size(s)?,
        }),
    }
}

fn enum_from<T: clap::ValueEnum>(s: &str, what: &str) -> Result<T, String> {
    T::from_str(s, true).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
            .collect();
        format!("{what} `{s}`: expected one of {}", names.join(", "))
    })
}

/// The preset's grid.
pub fn preset(p: Preset) -> SweepConfig {
    match p {
        Preset::Seed => SweepConfig {
            max_sockets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
                .map(Some)
                .to_vec(),
            batches: vec![100],
            clients: vec![ClientMode::Shared, ClientMode::PerRequest],
            // The guide's 10,000 files: 2 batches of start-up, 98 in the steady window. Points
            // slower than 10 s per part report their projection (60 runs in 15 minutes).
            objects: 10_000,
            repetitions: 3,
            time_budget: Duration::from_secs(10),
            ..SweepConfig::default()
        },
        Preset::Quick => SweepConfig {
            max_sockets: vec![Some(1), Some(4), Some(16), Some(32), Some(64), None],
            batches: vec![32],
            clients: vec![ClientMode::Shared, ClientMode::PerRequest],
            // 2 batches of start-up and 22 in the steady window.
            objects: 768,
            repetitions: 3,
            time_budget: Duration::from_secs(3),
            ..SweepConfig::default()
        },
    }
}

fn read_pem_roots(path: &Path) -> Result<rustls::RootCertStore, String> {
    let pem = std::fs::read(path).map_err(|e| format!("--ca {}: {e}", path.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        let cert: rustls::pki_types::CertificateDer<'static> =
            cert.map_err(|e| format!("--ca {}: {e}", path.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("--ca {}: {e}", path.display()))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "--ca {}: no certificate in the file",
            path.display()
        ));
    }
    Ok(roots)
}

/// `source` as every client under test is told it. Keys from the environment are told as
/// static keys: a client in another process does not see this one's environment.
fn described(source: &CredentialsSource, env: &Environment) -> Result<CredentialSource, String> {
    Ok(match source {
        CredentialsSource::Static(c) => CredentialSource::Static {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: c.secret_access_key().to_owned(),
            session_token: c.session_token().map(str::to_owned),
        },
        CredentialsSource::Environment(_) => {
            match (
                env.get("AWS_ACCESS_KEY_ID"),
                env.get("AWS_SECRET_ACCESS_KEY"),
            ) {
                (Some(access_key_id), Some(secret_access_key)) => CredentialSource::Static {
                    access_key_id,
                    secret_access_key,
                    session_token: env.get("AWS_SESSION_TOKEN"),
                },
                _ => {
                    return Err("--credentials env: set AWS_ACCESS_KEY_ID and \
                                AWS_SECRET_ACCESS_KEY"
                        .to_owned());
                }
            }
        }
        CredentialsSource::Container(c) => CredentialSource::Container {
            full_uri: c.url().to_owned(),
            token: c.token().unwrap_or_default().to_owned(),
        },
        CredentialsSource::Imds(i) => CredentialSource::Imds {
            endpoint: i.base().to_owned(),
        },
    })
}

fn credentials(a: &SweepArgs, arg: Option<CredentialsArg>) -> Result<CredentialsSource, String> {
    use crate::s3::credentials::{ContainerEndpoint, Environment, ImdsEndpoint};
    let env = Environment::process();
    let kind = arg.unwrap_or(if a.access_key.is_some() {
        CredentialsArg::Static
    } else {
        CredentialsArg::Chain
    });
    let imds = || {
        env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .map_or_else(ImdsEndpoint::ec2, ImdsEndpoint::new)
    };
    Ok(match kind {
        CredentialsArg::Static => match (&a.access_key, &a.secret_key) {
            (Some(k), Some(s)) => CredentialsSource::Static(Credentials::new(k, s)),
            _ => return Err("--credentials static needs --access-key and --secret-key".to_owned()),
        },
        CredentialsArg::Env => CredentialsSource::Environment(env),
        CredentialsArg::Container => CredentialsSource::Container(
            ContainerEndpoint::from_env(&env).ok_or(
                "--credentials container: set AWS_CONTAINER_CREDENTIALS_FULL_URI or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            )?,
        ),
        CredentialsArg::Imds => CredentialsSource::Imds(imds()),
        CredentialsArg::Chain => {
            if env.get("AWS_ACCESS_KEY_ID").is_some() {
                CredentialsSource::Environment(env)
            } else if let Some(c) = ContainerEndpoint::from_env(&env) {
                CredentialsSource::Container(c)
            } else {
                CredentialsSource::Imds(imds())
            }
        }
    })
}

impl TryFrom<&SweepArgs> for SweepPlan {
    type Error = String;

    fn try_from(a: &SweepArgs) -> Result<Self, String> {
        let mut c = a.preset.map(preset).unwrap_or_default();
        let file: SweepFile = match &a.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--config {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("--config {}: {e}", path.display()))?
            }
            None => SweepFile::default(),
        };
        // File values first, then flags over them.
        if let Some(v) = &a.sdk {
            c.sdks.clone_from(v);
        } else if let Some(v) = &file.sdk {
            c.sdks = v
                .iter()
                .map(|s| enum_from(s, "sdk"))
                .collect::<Result<_, _>>()?;
        }
        let credentials_arg = match (a.credentials, &file.credentials) {
            (Some(k), _) => Some(k),
            (None, Some(s)) => Some(enum_from::<CredentialsArg>(s, "credentials")?),
            (None, None) => None,
        };
        let max_sockets = a.max_sockets.clone().or(file.max_sockets);
        if let Some(v) = max_sockets {
            c.max_sockets = v
                .iter()
                .map(|s| parse_max_sockets(s))
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = a.batch.clone().or(file.batch) {
            c.batches = v;
        }
        if let Some(v) = &a.clients {
            c.clients.clone_from(v);
        } else if let Some(v) = file.clients {
            c.clients = v
                .iter()
                .map(|s| enum_from(s, "client"))
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = &a.pools {
            c.pools.clone_from(v);
        } else if let Some(v) = file.pools {
            c.pools = v
                .iter()
                .map(|s| enum_from(s, "pool"))
                .collect::<Result<_, _>>()?;
        }
        match (a.pattern, &file.pattern) {
            (Some(p), _) => c.pattern = p,
            (None, Some(s)) => c.pattern = enum_from(s, "pattern")?,
            _ => {}
        }
        c.rate_per_s = a.rate.or(file.rate).or(c.rate_per_s);
        let op = match (a.op, &file.op) {
            (Some(o), _) => Some(o),
            (None, Some(s)) => Some(enum_from::<Op>(s, "op")?),
            _ => None,
        };
        let get_fraction = a.get_fraction.or(file.get_fraction);
        match (op, get_fraction) {
            (Some(Op::Put), None) => c.op = OpMix::Put,
            (Some(Op::Get), None) => c.op = OpMix::Get,
            (Some(Op::Mixed), f) => {
                c.op = OpMix::Mixed {
                    get_fraction: f.unwrap_or(0.5),
                }
            }
            (None, None) => {}
            (_, Some(_)) => return Err("--get-fraction applies only to --op mixed".to_owned()),
        }
        if let Some(n) = a.objects.or(file.objects) {
            c.objects = n;
        }
        if let Some(s) = a.object_size.clone().or(file.object_size) {
            c.sizes = parse_sizes(&s).map_err(|e| format!("--object-size: {e}"))?;
        }
        if let Some(n) = a.prefixes.or(file.prefixes) {
            c.prefixes = n;
        }
        if let Some(n) = a.repetitions.or(file.repetitions) {
            c.repetitions = n;
        }
        if let Some(n) = a.startup_batches.or(file.startup_batches) {
            c.startup_batches = n;
        }
        if let Some(ms) = a.pause_ms.or(file.pause_ms) {
            c.pause_between_batches = Duration::from_millis(ms);
        }
        let o = &mut c.profile_overrides;
        o.write_rps = a.write_rps.or(file.write_rps).or(o.write_rps);
        o.read_rps = a.read_rps.or(file.read_rps).or(o.read_rps);
        o.idle_timeout_ms = a
            .idle_timeout_ms
            .or(file.idle_timeout_ms)
            .or(o.idle_timeout_ms);
        o.ttfb_median_ms = a
            .ttfb_median_ms
            .or(file.ttfb_median_ms)
            .or(o.ttfb_median_ms);
        o.ttfb_p99_ms = a.ttfb_p99_ms.or(file.ttfb_p99_ms).or(o.ttfb_p99_ms);
        if let Some(t) = a.scenario.clone().or(file.scenario) {
            c.scenario = Some(t);
        }
        if let Some(n) = a.client_threads.or(file.client_threads) {
            c.client_threads = n;
        }
        if let Some(s) = a.time_budget.or(file.time_budget) {
            if !(s > 0.0 && s.is_finite()) {
                return Err(format!(
                    "--time-budget must be a positive number of seconds, not {s}"
                ));
            }
            c.time_budget = Duration::from_secs_f64(s);
        }
        if let Some(v) = a.profile.clone().or(file.profile) {
            c.profiles = v;
        }
        if let Some(k) = a.keep_alive.or(file.keep_alive) {
            c.keep_alive = k;
        }
        if let Some(n) = a.shared_handler_clients.or(file.shared_handler_clients) {
            c.shared_handler_clients = n;
        }
        if let Some(s) = a.seed.or(file.seed) {
            c.seed = s;
        }
        if let Some(b) = a.bucket.clone().or(file.bucket) {
            c.bucket = b;
        }
        c.validate()?;

        let external = match &a.endpoint {
            None => {
                c.validate_presets()?;
                c.credentials = match credentials_arg {
                    None | Some(CredentialsArg::Static) => CredentialKind::Static,
                    Some(CredentialsArg::Container) => CredentialKind::Container,
                    Some(CredentialsArg::Imds) => CredentialKind::Imds,
                    Some(CredentialsArg::Env | CredentialsArg::Chain) => {
                        return Err("--credentials env and chain need --endpoint; the embedded \
                                    mock serves static, container or imds"
                            .to_owned());
                    }
                };
                for (set, flag) in [
                    (a.ca.is_some(), "--ca"),
                    (a.access_key.is_some(), "--access-key"),
                    (a.secret_key.is_some(), "--secret-key"),
                ] {
                    if set {
                        return Err(format!(
                            "{flag} needs --endpoint (the embedded mock has its own keys)"
                        ));
                    }
                }
                None
            }
            Some(url) => {
                if a.profile.is_some() {
                    return Err(
                        "--profile applies to the embedded mock, not to --endpoint".to_owned()
                    );
                }
                if !c.profile_overrides.is_empty() {
                    return Err("--write-rps, --read-rps, --idle-timeout-ms and --ttfb-* change the embedded mock's profile, not --endpoint".to_owned());
                }
                c.profiles = vec!["external".to_owned()];
                let roots = match &a.ca {
                    Some(path) => read_pem_roots(path)?,
                    None => rustls::RootCertStore::from_iter(
                        webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
                    ),
                };
                let source = credentials(a, credentials_arg)?;
                let service = Service {
                    endpoint: url.clone(),
                    region: a.region.clone(),
                    credentials: described(&source, &Environment::process())?,
                    ca_file: a.ca.clone(),
                };
                c.credentials = service.credentials.kind();
                let config = ClientConfig::new(url, a.region.clone(), roots, source)
                    .map_err(|e| format!("--endpoint {url}: {e}"))?;
                Some(External { config, service })
            }
        };
        if let Some(n) = a.nofile
            && n < 16
        {
            return Err(format!(
                "--nofile {n}: at least 16 descriptors are needed to run at all"
            ));
        }
        let out = a.out.clone().unwrap_or_else(default_out);
        Ok(SweepPlan {
            config: c,
            external,
            out,
            csv: a.csv.clone(),
            report: a.report.clone(),
            nofile: a.nofile,
            no_progress: a.no_progress,
        })
    }
}

/// `target/poolsweep/run-<UTC date and time>.json` (under CARGO_TARGET_DIR if set): results
/// stay out of the repository unless asked for.
fn default_out() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    target.join("poolsweep").join(format!("run-{stamp}.json"))
}
