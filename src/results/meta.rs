//! What a reader needs to trust or reproduce a run: commit, toolchain, machine, limits, the full
//! config and the exact command line.
//!
//! Collection never fails: a fact that cannot be read (no git, no /proc) is recorded as `null`
//! rather than stopping the run. The toolchain is not read at run time: `build.rs` records the
//! compiler that built the binary.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The run's metadata, written once at the top of the result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `git rev-parse HEAD` of the source tree; `None` outside a git checkout.
    pub git_commit: Option<String>,
    /// Whether `git status --porcelain` listed changes (untracked files count); `None` without git.
    pub git_dirty: Option<bool>,
    /// `rustc --version` of the compiler that built the tool, e.g. "rustc 1.95.0 (… 2026-…)",
    /// recorded at build time by `build.rs`; `None` if that compiler could not say.
    pub toolchain: Option<String>,
    /// Operating system, architecture and kernel release, e.g. "linux x86_64 6.1.0-18-amd64".
    pub os: String,
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: Option<String>,
    /// Cores available to the process (`std::thread::available_parallelism`).
    pub cores: u32,
    /// The open-file limit, which caps sockets; `None` if it could not be read.
    pub rlimit_nofile: Option<RlimitNofile>,
    /// When the run started, RFC 3339 in UTC.
    pub date: String,
    /// The sweep's full configuration, as the sweep serialises it.
    pub config: Value,
    /// The server profile(s) the points refer to by name, in full.
    pub server_profile: Value,
    /// The command line, program name first.
    pub command_line: Vec<String>,
    /// poolsweep's version.
    pub tool_version: String,
    /// The S3 clients measured, name → what each ran (versions, runtime), e.g. `js-v3` →
    /// "@aws-sdk/client-s3 3.1178.0, … on Node.js v20.20.2"; empty before any client is set.
    pub sdks: std::collections::BTreeMap<String, String>,
}

/// `RLIMIT_NOFILE`: how many file descriptors (hence sockets) the client may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RlimitNofile {
    /// Soft limit, the one that triggers `EMFILE`; `None` is unlimited.
    pub soft: Option<u64>,
    /// Hard limit, the most the soft limit can be raised to; `None` is unlimited.
    pub hard: Option<u64>,
}

impl Meta {
    /// Collects the machine and source facts and stamps the current time.
    ///
    /// `config` and `profile` are stored as given; `argv` is the full command line.
    pub fn collect(config: Value, profile: Value, argv: Vec<String>) -> Meta {
        let (git_commit, git_dirty) = git_state();
        Meta {
            git_commit,
            git_dirty,
            toolchain: toolchain(),
            os: os(),
            cpu_model: cpu_model(),
            cores: std::thread::available_parallelism()
                .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX)),
            rlimit_nofile: rlimit_nofile(),
            date: now_rfc3339(),
            config,
            server_profile: profile,
            command_line: argv,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            sdks: Default::default(),
        }
    }

    /// With the S3 clients measured and what each ran.
    pub fn with_sdks(mut self, sdks: std::collections::BTreeMap<String, String>) -> Meta {
        self.sdks = sdks;
        self
    }
}

/// The current time as RFC 3339 UTC, e.g. "2026-11-29T10:25:00.123Z".
pub(crate) fn now_rfc3339() -> String {
    // Formatting a UTC timestamp as RFC 3339 only fails for years outside 0..=9999.
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Runs a command and returns its trimmed stdout, or `None` if it cannot run or fails.
fn command_output(program: &str, args: &[&str], dir: Option<&Path>) -> Option<String> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn git_state() -> (Option<String>, Option<bool>) {
    // The commit that matters is the one the tool was built from, so ask git in the crate's
    // source directory when it still exists (the binary may run from anywhere), else in the cwd.
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest_dir.is_dir().then_some(manifest_dir);
    let commit = command_output("git", &["rev-parse", "HEAD"], dir).filter(|s| !s.is_empty());
    if commit.is_none() {
        return (None, None);
    }
    // Untracked files count as dirty: a new, unadded source file changes the build.
    let dirty = command_output("git", &["status", "--porcelain"], dir).map(|s| !s.is_empty());
    (commit, dirty)
}

/// The compiler that built this binary, recorded by `build.rs` at build time; `None` when the
/// build script could not read its version.
fn toolchain() -> Option<String> {
    option_env!("POOLSWEEP_RUSTC_VERSION").map(str::to_owned)
}

fn os() -> String {
    let mut os = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    if let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        os.push(' ');
        os.push_str(release.trim());
    }
    if let Some(pretty) = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
    {
        os.push_str(&format!(" ({pretty})"));
    }
    os
}

fn cpu_model() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    parse_cpu_model(&cpuinfo)
}

/// The first "model name" (x86) or "Hardware"/"Model" (ARM) line of /proc/cpuinfo.
fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Hardware", "Model"].iter().find_map(|key| {
        cpuinfo.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_owned())
        })
    })
}

fn rlimit_nofile() -> Option<RlimitNofile> {
    #[cfg(unix)]
    {
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?;
        let finite = |v: u64| (v != rlimit::INFINITY).then_some(v);
        Some(RlimitNofile {
            soft: finite(soft),
            hard: finite(hard),
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_fills_machine_facts() {
        let meta = Meta::collect(
            serde_json::json!({"batches": [1, 2]}),
            Value::String("default".to_owned()),
            vec!["poolsweep".to_owned(), "sweep".to_owned()],
        );
        assert!(meta.cores >= 1);
        assert!(meta.os.starts_with(std::env::consts::OS));
        assert!(
            OffsetDateTime::parse(&meta.date, &Rfc3339).is_ok(),
            "{}",
            meta.date
        );
        assert_eq!(meta.command_line, ["poolsweep", "sweep"]);
        assert_eq!(meta.tool_version, env!("CARGO_PKG_VERSION"));
        if let Some(commit) = &meta.git_commit {
            assert_eq!(commit.len(), 40, "{commit}");
            assert!(meta.git_dirty.is_some());
        }
        #[cfg(target_os = "linux")]
        assert!(meta.rlimit_nofile.is_some());
    }

    #[test]
    fn toolchain_is_the_compiler_that_built_the_binary() {
        // Recorded by build.rs as a constant of the binary: no rustc is asked at run time.
        let v = Meta::collect(Value::Null, Value::Null, Vec::new())
            .toolchain
            .expect("build.rs recorded the compiler");
        assert!(v.starts_with("rustc 1."), "{v}");
        assert_eq!(Some(v.as_str()), option_env!("POOLSWEEP_RUSTC_VERSION"));
    }

    #[test]
    fn cpu_model_from_x86_and_arm_cpuinfo() {
        let x86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            parse_cpu_model(x86).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        let arm = "processor\t: 0\nBogoMIPS\t: 50.00\n\nModel\t: Raspberry Pi 4 Model B Rev 1.4\n";
        assert_eq!(
            parse_cpu_model(arm).as_deref(),
            Some("Raspberry Pi 4 Model B Rev 1.4")
        );
        assert_eq!(parse_cpu_model("processor : 0\n"), None);
    }
}
