//! Installing the runner: `npm ci` in `runners/js-v3/`, on first use of each lockfile.
//!
//! Invariant: `node_modules/` is used only if it was installed by `npm ci` from the committed
//! `package-lock.json` as it is now: the lockfile's SHA-256 is written to
//! `node_modules/.poolsweep-lock-sha256` after a successful install and compared on every use,
//! so a changed lockfile reinstalls and an unchanged one costs one hash. Concurrent installs
//! (two test binaries, a bench and a sweep) are serialised by an exclusive lock on
//! `.install.lock` in the runner's folder.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// The oldest Node.js the pinned `@aws-sdk/client-s3` supports (its `engines`).
pub const MIN_NODE_MAJOR: u32 = 20;

/// How long `npm ci` may take before it is killed.
const NPM_CI_TIMEOUT: Duration = Duration::from_secs(600);

const STAMP: &str = ".poolsweep-lock-sha256";

/// The runner's folder in this checkout: `runners/js-v3`.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runners/js-v3")
}

/// The programs used: `node` and `npm` from `PATH` unless told otherwise.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// The Node.js binary. Default: `node`.
    pub node: OsString,
    /// npm. Default: `npm`.
    pub npm: OsString,
    /// Extra environment for `npm ci`, e.g. `npm_config_registry` for a mirror. Default: none.
    pub npm_env: Vec<(OsString, OsString)>,
}

impl Default for Toolchain {
    fn default() -> Self {
        Toolchain {
            node: "node".into(),
            npm: "npm".into(),
            npm_env: Vec::new(),
        }
    }
}

/// An installed runner, ready to spawn.
#[derive(Clone, Debug)]
pub struct Installed {
    /// The runner's folder.
    pub dir: PathBuf,
    /// `runner.mjs` in it.
    pub script: PathBuf,
    /// The Node.js binary to run it with.
    pub node: OsString,
    /// `node --version`, e.g. `v20.20.2`.
    pub node_version: String,
    /// SHA-256 of the `package-lock.json` installed.
    pub lock_sha256: String,
    /// Whether this call ran `npm ci`.
    pub installed_now: bool,
}

/// Why the runner cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// No `node` to run.
    #[error(
        "js-v3 needs Node.js {MIN_NODE_MAJOR} or newer, and `{node} --version` failed: {reason}. \
         Install Node.js, then run `npm ci --prefix {dir}`"
    )]
    NodeMissing {
        /// The binary tried.
        node: String,
        /// The runner's folder.
        dir: String,
        /// What happened.
        reason: String,
    },
    /// A `node` too old for the pinned SDK.
    #[error(
        "js-v3 needs Node.js {MIN_NODE_MAJOR} or newer (the pinned @aws-sdk/client-s3 requires \
         it); `node --version` says {version}"
    )]
    NodeTooOld {
        /// What it said.
        version: String,
    },
    /// The runner's files are not there.
    #[error("the js-v3 runner is missing: {path} does not exist")]
    RunnerMissing {
        /// The missing file.
        path: String,
    },
    /// No `npm`.
    #[error(
        "`{npm}` could not be started ({reason}); npm comes with Node.js. Then run `{command}`"
    )]
    NpmMissing {
        /// The binary tried.
        npm: String,
        /// The command to run by hand.
        command: String,
        /// What happened.
        reason: String,
    },
    /// `npm ci` failed or timed out.
    #[error(
        "`{command}` failed ({status}); it needs the npm registry (or a filled npm cache). \
         Last lines of its output:\n{tail}"
    )]
    NpmFailed {
        /// The command, to run by hand.
        command: String,
        /// Its exit status, or that it timed out.
        status: String,
        /// The last lines it printed.
        tail: String,
    },
    /// A file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> InstallError {
    let path = path.display().to_string();
    move |source| InstallError::Io { what, path, source }
}

/// `node --version`, checked against [`MIN_NODE_MAJOR`].
pub fn node_version(tools: &Toolchain, dir: &Path) -> Result<String, InstallError> {
    let missing = |reason: String| InstallError::NodeMissing {
        node: tools.node.to_string_lossy().into_owned(),
        dir: dir.display().to_string(),
        reason,
    };
    let out = Command::new(&tools.node)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing(e.to_string()))?;
    if !out.status.success() {
        return Err(missing(format!("it exited with {}", out.status)));
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let major = version
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= MIN_NODE_MAJOR => Ok(version),
        _ => Err(InstallError::NodeTooOld { version }),
    }
}

fn sha256_of(path: &Path) -> Result<String, InstallError> {
    let bytes = std::fs::read(path).map_err(io("reading", path))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

fn installed_hash(dir: &Path) -> Option<String> {
    let stamp = std::fs::read_to_string(dir.join("node_modules").join(STAMP)).ok()?;
    // The stamp alone is not enough if someone deleted a package since.
    dir.join("node_modules/@aws-sdk/client-s3/package.json")
        .is_file()
        .then(|| stamp.trim().to_owned())
}

/// Makes sure the runner in `dir` is installed for its current lockfile, running `npm ci`
/// there if not (one line of progress through `progress`), and that Node.js is new enough.
pub fn ensure_installed(
    dir: &Path,
    tools: &Toolchain,
    progress: &mut dyn FnMut(&str),
) -> Result<Installed, InstallError> {
    let script = dir.join("runner.mjs");
    let lock = dir.join("package-lock.json");
    for path in [&script, &lock] {
        if !path.is_file() {
            return Err(InstallError::RunnerMissing {
                path: path.display().to_string(),
            });
        }
    }
    let node_version = node_version(tools, dir)?;
    let want = sha256_of(&lock)?;
    let mut installed_now = false;
    if installed_hash(dir).as_deref() != Some(want.as_str()) {
        let lock_path = dir.join(".install.lock");
        let guard = File::create(&lock_path).map_err(io("creating", &lock_path))?;
        guard.lock().map_err(io("locking", &lock_path))?;
        // Someone else may have installed it while this waited for the lock.
        if installed_hash(dir).as_deref() != Some(want.as_str()) {
            progress(&format!(
                "js-v3: installing the runner's npm packages (npm ci in {}, first use of lockfile {})",
                dir.display(),
                &want[..12]
            ));
            npm_ci(dir, tools)?;
            let stamp = dir.join("node_modules").join(STAMP);
            std::fs::write(&stamp, format!("{want}\n")).map_err(io("writing", &stamp))?;
            installed_now = true;
        }
        drop(guard);
    }
    Ok(Installed {
        dir: dir.to_owned(),
        script,
        node: tools.node.clone(),
        node_version,
        lock_sha256: want,
        installed_now,
    })
}

/// The packages the runner pins (its `package.json` dependencies).
pub const PINNED: [&str; 3] = [
    "@aws-sdk/client-s3",
    "@smithy/node-http-handler",
    "@aws-sdk/credential-provider-node",
];

impl Installed {
    /// The pinned packages' versions as the lockfile records them, name → version.
    pub fn packages(&self) -> Result<Vec<(String, String)>, InstallError> {
        let lock = self.dir.join("package-lock.json");
        let text = std::fs::read_to_string(&lock).map_err(io("reading", &lock))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| InstallError::Io {
                what: "parsing",
                path: lock.display().to_string(),
                source: std::io::Error::other(e),
            })?;
        Ok(PINNED
            .iter()
            .map(|name| {
                let version = json["packages"][format!("node_modules/{name}")]["version"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned();
                ((*name).to_owned(), version)
            })
            .collect())
    }

    /// "@aws-sdk/client-s3 3.1178.0, … on Node.js v20.20.2".
    pub fn describe(&self) -> Result<String, InstallError> {
        let packages: Vec<String> = self
            .packages()?
            .into_iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        Ok(format!(
            "{} on Node.js {}",
            packages.join(", "),
            self.node_version
        ))
    }
}

fn npm_ci(dir: &Path, tools: &Toolchain) -> Result<(), InstallError> {
    let args = ["ci", "--no-audit", "--no-fund", "--loglevel=error"];
    let command = format!(
        "{} {} --prefix {}",
        tools.npm.to_string_lossy(),
        args.join(" "),
        dir.display()
    );
    let mut child = Command::new(&tools.npm)
        .args(args)
        .current_dir(dir)
        .envs(tools.npm_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| InstallError::NpmMissing {
            npm: tools.npm.to_string_lossy().into_owned(),
            command: command.clone(),
            reason: e.to_string(),
        })?;
    // Drain both pipes on their own threads so that a chatty npm never blocks on a full pipe.
    let mut stdout = child.stdout.take().expect("piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let stderr = child.stderr.take().expect("piped");
    let err_thread = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let deadline = Instant::now() + NPM_CI_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {} s", NPM_CI_TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    let failed = |status: String| {
        let lines: Vec<&str> = err
            .iter()
            .map(String::as_str)
            .chain(out.lines())
            .filter(|l| !l.trim().is_empty())
            .collect();
        let tail = lines[lines.len().saturating_sub(12)..].join("\n");
        InstallError::NpmFailed {
            command: command.clone(),
            status,
            tail,
        }
    };
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(failed(s.to_string())),
        Err(e) => Err(failed(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_node_names_the_command_to_run() {
        let tools = Toolchain {
            node: "/nonexistent/node".into(),
            ..Toolchain::default()
        };
        let e = node_version(&tools, Path::new("/x/runners/js-v3")).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, InstallError::NodeMissing { .. }), "{msg}");
        assert!(msg.contains("npm ci --prefix /x/runners/js-v3"), "{msg}");
    }

    #[test]
    fn a_folder_without_the_runner_is_refused_before_anything_runs() {
        let dir = std::env::temp_dir().join(format!("poolsweep-no-runner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = ensure_installed(&dir, &Toolchain::default(), &mut |_| {
            panic!("no progress expected")
        })
        .unwrap_err();
        assert!(matches!(e, InstallError::RunnerMissing { .. }), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
