//! Real S3 clients from outside Rust against the mock: boto3 (Python) and the AWS SDK for
//! JavaScript v3 with `@aws-sdk/lib-storage` (Node.js), each driving a full session over TLS
//! with SigV4 on and its default client settings.
//!
//! Each test installs its client on first use into the suite's own folder
//! (`mock-server/conformance/`, see [`install`]), starts a fresh embedded mock, runs the suite
//! script and asserts that every check passed and that the mock answered no request with a
//! 500. It prints the client's version and a `N passed, N failed` line even when the test
//! passes. A missing `python3` or `node` is said in one line and that client is skipped; the
//! other still runs.

/// The pinned clients, installed into the suite's folder and keyed on their pin files' hashes.
mod install;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mock_s3::MockS3;

/// A suite may take this long before it is killed and failed (its checks take about a minute).
const SUITE_TIMEOUT: Duration = Duration::from_secs(600);

/// The suites' folder: pin files, scripts, and (gitignored) the installed clients.
fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// Writes straight to the process's stderr, past libtest's capture, so that the figures show
/// in every `cargo test` run.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The result of one suite run.
struct Outcome {
    transcript: String,
    passed: u32,
    failed: u32,
}

/// Runs `program args` with the mock's endpoint, CA and keys in its environment, and parses
/// its closing `N passed, N failed` line.
fn run_suite(name: &str, program: &Path, args: &[&str], cwd: &Path) -> Outcome {
    let server = MockS3::builder()
        .worker_threads(2)
        .start()
        .expect("mock starts");
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-{name}"));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let ca = scratch.join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).unwrap();

    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(cwd);
    // Nothing of the user's AWS setup may leak in: no profile, no config file, no other endpoint.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("MOCK_S3_ENDPOINT", server.endpoint())
        .env("MOCK_S3_SCRATCH", &scratch)
        .env("AWS_ACCESS_KEY_ID", server.access_key())
        .env("AWS_SECRET_ACCESS_KEY", server.secret_key())
        .env("AWS_REGION", server.region())
        .env("AWS_CA_BUNDLE", &ca)
        .env("NODE_EXTRA_CA_CERTS", &ca)
        .env("AWS_CONFIG_FILE", scratch.join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            scratch.join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("suite starts");
    // Read both pipes on threads so neither can fill up and block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > SUITE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    let elapsed = start.elapsed();

    let metrics = server.metrics();
    server.shutdown();
    let server_errors: Vec<String> = metrics
        .requests_by_op
        .iter()
        .filter_map(|(op, by_status)| by_status.get("500").map(|n| format!("{op}: {n}")))
        .collect();

    let closing = stdout.lines().rev().find_map(parse_closing);
    let (passed, failed) = closing.unwrap_or((0, 0));
    let header = stdout.lines().next().unwrap_or(name);
    say(&format!(
        "conformance: {header} ({:.1} s, {} requests)",
        elapsed.as_secs_f64(),
        metrics.requests
    ));
    for line in stdout.lines().filter(|l| l.starts_with("FAIL")) {
        say(&format!("  {line}"));
    }
    say(&format!("{name}: {passed} passed, {failed} failed"));

    let transcript = format!("{stdout}\n--- stderr ---\n{stderr}");
    println!("{transcript}");
    assert!(
        status.is_some(),
        "{name} suite timed out after {SUITE_TIMEOUT:?}"
    );
    assert!(
        closing.is_some(),
        "{name} suite ended without its `N passed, N failed` line ({status:?})"
    );
    assert!(
        server_errors.is_empty(),
        "the mock answered 500 InternalError: {server_errors:?}"
    );
    assert!(
        status.unwrap().success() && failed == 0 && passed > 0,
        "{name}: {failed} checks failed"
    );
    Outcome {
        transcript,
        passed,
        failed,
    }
}

/// `N passed, N failed`.
fn parse_closing(line: &str) -> Option<(u32, u32)> {
    let (p, f) = line.trim().split_once(" passed, ")?;
    let f = f.strip_suffix(" failed")?;
    Some((p.parse().ok()?, f.parse().ok()?))
}

#[test]
fn boto3_session() {
    let Some(python) = install::find("python3", "boto3") else {
        return;
    };
    let dir = suite_dir().join("python");
    let venv_python = install::python_venv(&python, &dir);
    let outcome = run_suite("boto3", &venv_python, &["suite.py"], &dir);
    assert!(
        outcome.passed > 0 && outcome.failed == 0,
        "{}",
        outcome.transcript
    );
}

#[test]
fn js_sdk_session() {
    let Some(node) = install::find("node", "AWS SDK for JavaScript v3") else {
        return;
    };
    let dir = suite_dir().join("node");
    install::npm_ci(&dir);
    let outcome = run_suite("js-sdk", &node, &["suite.mjs"], &dir);
    assert!(
        outcome.passed > 0 && outcome.failed == 0,
        "{}",
        outcome.transcript
    );
}

#[test]
fn closing_line_is_parsed() {
    assert_eq!(parse_closing("41 passed, 0 failed"), Some((41, 0)));
    assert_eq!(parse_closing("3 passed, 2 failed\n"), Some((3, 2)));
    assert_eq!(parse_closing("ok   put_small"), None);
}
