//! Installing the pinned clients into the suite's own folder, idempotently.
//!
//! boto3: a virtual environment at `conformance/python/.venv`, made with the machine's
//! `python3 -m venv` and filled with `pip install --no-deps` from `requirements.txt` (every
//! package pinned to an exact version). Node: `npm ci` into `conformance/node/node_modules` from
//! the committed `package-lock.json`, with npm's cache inside the suite's folder too. Each
//! install records the SHA-256 of its pin file; a matching stamp skips the install, a changed
//! pin file reinstalls from scratch. A lock file serialises concurrent test runs. Nothing is
//! written outside `mock-server/conformance/`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};

use super::say;

/// `program` on PATH, or `None` after saying in one line that `client` is not run.
pub(crate) fn find(program: &str, client: &str) -> Option<PathBuf> {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => Some(PathBuf::from(program)),
        _ => {
            say(&format!(
                "conformance: {client} suite not run: `{program}` not found on PATH"
            ));
            None
        }
    }
}

fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    hex::encode(Sha256::digest(bytes))
}

/// Holds an exclusive lock on `path` while alive.
fn lock(path: &Path) -> File {
    let file = File::create(path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
    file.lock().expect("install lock");
    file
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The venv's python, with `requirements.txt` installed (again if it changed).
pub(crate) fn python_venv(python: &Path, dir: &Path) -> PathBuf {
    let _lock = lock(&dir.join("install.lock"));
    let venv = dir.join(".venv");
    let stamp = venv.join("poolsweep-requirements.sha256");
    let want = sha256_hex(&dir.join("requirements.txt"));
    let venv_python = venv.join("bin").join("python");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return venv_python;
    }
    say("conformance: creating python/.venv and installing boto3 from requirements.txt");
    let _ = std::fs::remove_dir_all(&venv);
    run(
        Command::new(python).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv (Debian needs the python3-venv package)",
    );
    run(
        Command::new(&venv_python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-cache-dir",
            ])
            .args(["--disable-pip-version-check", "-r", "requirements.txt"])
            .current_dir(dir),
        "pip install -r requirements.txt",
    );
    std::fs::write(&stamp, want).unwrap();
    venv_python
}

/// `npm ci` into `dir/node_modules`, unless it already holds this `package-lock.json`.
pub(crate) fn npm_ci(dir: &Path) {
    let _lock = lock(&dir.join("install.lock"));
    let stamp = dir
        .join("node_modules")
        .join(".poolsweep-package-lock.sha256");
    let want = sha256_hex(&dir.join("package-lock.json"));
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return;
    }
    say("conformance: installing the AWS SDK for JavaScript with npm ci from package-lock.json");
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .arg("--cache")
            .arg(dir.join(".npm-cache"))
            .current_dir(dir),
        "npm ci",
    );
    std::fs::write(&stamp, want).unwrap();
}
