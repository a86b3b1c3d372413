//! The real AWS SDK for JavaScript v3 (`runners/js-v3`) against the embedded mock, counted by
//! the runner and by the server; and the runner as a child process: handshake, crashes,
//! hangs, lines that are not the protocol, no orphan; a sweep of js-v3 beside poolsweep's
//! client (the same counts); and the `poolsweep` binary with js-v3 killed, interrupted once or
//! twice (no runner left behind), or without Node.js (js-v3's points failed with the reason,
//! the others measured). Without Node.js every test that needs it says so in one line and
//! passes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mock_s3::MockS3;
use mock_s3::ops::Operation;
use poolsweep::modes::ClientMode;
use poolsweep::sut::ErrorClass;
use poolsweep::sut::js_v3::{self, Installed, JsV3Client, Runner, RunnerError, Toolchain};
use poolsweep::sut::{
    CaFile, ClientUnderTest as _, CredentialSource, OpKind, Run as _, RunSettings, Sdk,
};
use tokio::time::Instant;

use crate::sut_util::{assert_all_ok, run_puts, server, wait_gone};
use crate::util::settled;

/// The installed runner, or `None` (with one line saying why) when Node.js is absent.
fn installed() -> Option<Installed> {
    static INSTALLED: OnceLock<Option<Installed>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            if let Err(e) = js_v3::node_available() {
                eprintln!("js-v3 tests skipped: {e}");
                return None;
            }
            let installed = js_v3::ensure_installed(
                &js_v3::default_dir(),
                &Toolchain::default(),
                &mut |line| eprintln!("{line}"),
            )
            .expect("the js-v3 runner installs (npm ci needs the npm registry)");
            Some(installed)
        })
        .clone()
}

/// An operation's deadline that only a hang reaches.
fn deadline() -> Instant {
    Instant::now() + crate::util::HANG_GUARD
}

/// A runner trusting `server`'s CA, and the CA file (which must outlive it).
async fn runner(installed: &Installed, server: &MockS3) -> (Arc<Runner>, CaFile) {
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let runner = Runner::spawn(installed, Some(ca.path()))
        .await
        .expect("the runner starts and answers hello");
    (Arc::new(runner), ca)
}

/// js-v3 settings for `server`, trusting its CA in `ca`.
fn settings(server: &MockS3, ca: &CaFile, max_sockets: Option<u32>) -> RunSettings {
    RunSettings {
        sdk: Sdk::JsV3,
        ca_file: Some(ca.path().to_owned()),
        ..RunSettings::for_mock(server, "bkt", max_sockets)
    }
}

#[tokio::test]
async fn shared_client_opens_max_sockets_once_and_the_server_agrees() {
    let Some(installed) = installed() else { return };
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let client = JsV3Client::new(installed);
    server.reset_metrics();
    let (reports, run) = run_puts(&client, &settings(&server, &ca, Some(10)), 1000, 100).await;
    assert_all_ok(&reports);
    let info = client.info().expect("started");
    assert_eq!(
        info.packages["@aws-sdk/client-s3"], "3.1178.0",
        "the pinned SDK"
    );
    assert_eq!((run.ops, run.clients), (1000, 1));
    assert_eq!((run.sockets_opened, run.peak_open), (10, 10));
    assert_eq!((run.tls_full, run.tls_resumed), (Some(10), Some(0)));
    assert!(run.cpu.is_some_and(|c| c > Duration::ZERO), "{:?}", run.cpu);
    assert!(
        reports.iter().any(|r| r.socket_wait > Duration::ZERO),
        "100 at once over 10 sockets: some queue in the Agent"
    );
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 1000).await;
    assert_eq!(m.connections_accepted, 10);
    assert_eq!((m.tls_full, m.tls_resumed), (10, 0));
    assert_eq!(m.count(Operation::PutObject, 200), 1000);
}

#[tokio::test]
async fn per_request_clients_open_a_socket_and_do_a_full_handshake_each() {
    let Some(installed) = installed() else { return };
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let client = JsV3Client::new(installed);
    server.reset_metrics();
    let settings = RunSettings {
        mode: ClientMode::PerRequest,
        ..settings(&server, &ca, Some(10))
    };
    let (reports, run) = run_puts(&client, &settings, 1000, 100).await;
    assert_all_ok(&reports);
    assert!(
        reports.iter().all(|r| r.socket_wait.is_zero()),
        "nothing queues"
    );
    assert_eq!((run.ops, run.clients), (1000, 1000));
    assert_eq!(run.sockets_opened, 1000);
    assert_eq!((run.tls_full, run.tls_resumed), (Some(1000), Some(0)));
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 1000).await;
    assert_eq!(m.connections_accepted, 1000);
    assert_eq!((m.tls_full, m.tls_resumed), (1000, 0));
}

#[tokio::test]
async fn remote_credentials_are_fetched_once_per_client_and_shared_by_a_shared_handler() {
    let Some(installed) = installed() else { return };
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let client = JsV3Client::new(installed);
    let container = CredentialSource::container_for_mock(&server);
    let imds = CredentialSource::imds_for_mock(&server).unwrap();
    let cases = [
        (ClientMode::Shared, container.clone(), 1),
        (ClientMode::PerRequest, container.clone(), 100),
        (ClientMode::SharedHandler, container, 1),
        (ClientMode::PerRequest, imds, 100),
    ];
    for (mode, credentials, fetches) in cases {
        server.reset_metrics();
        let source = credentials.name();
        let settings = RunSettings {
            mode,
            shared_handler_clients: 4.try_into().unwrap(),
            credentials,
            ..settings(&server, &ca, Some(10))
        };
        let (reports, run) = run_puts(&client, &settings, 100, 25).await;
        assert_all_ok(&reports);
        let m = server.metrics();
        let f = m.credential_fetches;
        let (got, other) = match source {
            "container" => (f.container, f.imds_credentials),
            _ => (f.imds_credentials, f.container),
        };
        assert_eq!((got, other), (fetches, 0), "{mode} {source}");
        if source == "imds" {
            assert_eq!(f.imds_token, fetches, "IMDSv2: a token per fetch");
        }
        // The S3 clients' sockets; credential providers use handlers of their own.
        let sockets = if fetches == 1 { 10 } else { 100 };
        assert_eq!(run.sockets_opened, sockets, "{mode} {source}");
    }
}

#[tokio::test]
async fn a_lowered_rlimit_nofile_surfaces_emfile_as_its_own_error_kind() {
    let Some(installed) = installed() else { return };
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let client = JsV3Client::new(installed);
    let base = RunSettings {
        mode: ClientMode::PerRequest,
        ..settings(&server, &ca, None)
    };
    // One run first, so that the runner is up and its descriptors can be counted.
    let (warm, _) = run_puts(&client, &base, 1, 1).await;
    assert_all_ok(&warm);
    let pid = client.info().unwrap().pid;
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64;
    // Room for a few sockets only; per-request clients keep theirs open.
    let limited = RunSettings {
        nofile: Some(open + 8),
        ..base.clone()
    };
    let (reports, run) = run_puts(&client, &limited, 200, 100).await;
    let emfile = reports
        .iter()
        .filter(|r| r.error == Some(ErrorClass::Emfile))
        .count();
    let ok = reports.iter().filter(|r| r.error.is_none()).count();
    assert!(emfile > 0, "no EMFILE with {} descriptors", open + 8);
    assert_eq!(ok + emfile, 200, "every failure is EMFILE: {:?}", {
        reports
            .iter()
            .filter(|r| !matches!(r.error, None | Some(ErrorClass::Emfile)))
            .map(|r| &r.message)
            .collect::<Vec<_>>()
    });
    assert!(
        reports
            .iter()
            .filter(|r| r.error.is_some())
            .all(|r| r.message.contains("EMFILE")),
        "the message says so"
    );
    assert_eq!(run.ops, 200);
    assert_eq!(
        client.info().unwrap().pid,
        pid,
        "the same runner throughout"
    );
    // The limit was the run's: the next run has the inherited one again.
    let (reports, _) = run_puts(&client, &base, 100, 100).await;
    assert_all_ok(&reports);
}

/// A stand-in runner: `body` runs after a correct handshake.
fn fake_runner(name: &str, body: &str) -> (Installed, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "poolsweep-fake-runner-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("runner.mjs");
    let source = format!(
        r#"import {{ createInterface }} from "node:readline";
const out = (m) => process.stdout.write(JSON.stringify(m) + "\n");
const lines = createInterface({{ input: process.stdin }});
let hello = false;
lines.on("close", () => process.exit(0));
lines.on("line", (line) => {{
  const msg = JSON.parse(line);
  if (!hello) {{ hello = true; out({{ type: "hello", protocol: 1, node: process.version, packages: {{}}, pid: process.pid }}); return; }}
  {body}
}});
"#
    );
    std::fs::write(&script, source).unwrap();
    let installed = Installed {
        dir: dir.clone(),
        script,
        node: "node".into(),
        node_version: String::new(),
        lock_sha256: String::new(),
        installed_now: false,
    };
    (installed, dir)
}

async fn fake_spawn(name: &str, body: &str) -> Option<(Runner, PathBuf)> {
    installed()?;
    let (installed, dir) = fake_runner(name, body);
    let runner = Runner::spawn(&installed, None).await.expect("handshake");
    Some((runner, dir))
}

fn settings_for_fake() -> RunSettings {
    RunSettings {
        sdk: Sdk::JsV3,
        mode: ClientMode::Shared,
        shared_handler_clients: poolsweep::modes::DEFAULT_SHARED_HANDLER_CLIENTS,
        max_sockets: Some(1),
        keep_alive: true,
        pool: poolsweep::transport::PoolKind::Agent,
        timeouts: poolsweep::sut::Timeouts::default(),
        endpoint: "https://127.0.0.1:9".into(),
        region: "us-east-1".into(),
        bucket: "bkt".into(),
        credentials: CredentialSource::Static {
            access_key_id: "a".into(),
            secret_access_key: "s".into(),
            session_token: None,
        },
        ca_file: None,
        nofile: None,
        time_budget: poolsweep::sut::DEFAULT_TIME_BUDGET,
    }
}

fn cleanup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_runner_that_crashes_mid_run_fails_its_operations_with_the_reason() {
    let Some((runner, dir)) = fake_spawn(
        "crash",
        r#"if (msg.type === "start") out({ type: "started", run: msg.run });
  if (msg.type === "op") { console.error("boom: simulated crash"); process.exit(3); }"#,
    )
    .await
    else {
        return;
    };
    let run = runner.start(&settings_for_fake()).await.unwrap();
    let r = runner.op(0, OpKind::Put, "k", 1, deadline()).await;
    assert_eq!(r.error, Some(ErrorClass::Other));
    assert!(r.message.contains("exited"), "{}", r.message);
    assert!(
        r.message.contains("boom: simulated crash"),
        "stderr kept: {}",
        r.message
    );
    assert!(matches!(
        runner.finish(run).await,
        Err(RunnerError::Broken(_))
    ));
    assert!(wait_gone(runner.pid()).await);
    cleanup(&dir);
}

#[tokio::test]
async fn a_runner_that_hangs_is_killed_at_the_deadline() {
    let Some((runner, dir)) = fake_spawn(
        "hang",
        r#"if (msg.type === "start") out({ type: "started", run: msg.run });"#,
    )
    .await
    else {
        return;
    };
    runner.start(&settings_for_fake()).await.unwrap();
    let pid = runner.pid();
    let r = runner
        .op(
            0,
            OpKind::Put,
            "k",
            1,
            Instant::now() + Duration::from_millis(300),
        )
        .await;
    assert_eq!(r.error, Some(ErrorClass::Other));
    assert!(r.message.contains("hung"), "{}", r.message);
    assert!(wait_gone(pid).await, "killed");
    assert!(runner.broken().is_some());
    cleanup(&dir);
}

#[tokio::test]
async fn a_line_that_is_not_the_protocol_breaks_the_runner_and_says_which() {
    let Some((runner, dir)) = fake_spawn(
        "garbage",
        r#"if (msg.type === "start") out({ type: "started", run: msg.run });
  if (msg.type === "op") process.stdout.write("Debugger attached.\n");"#,
    )
    .await
    else {
        return;
    };
    runner.start(&settings_for_fake()).await.unwrap();
    let r = runner.op(0, OpKind::Put, "k", 1, deadline()).await;
    assert_eq!(r.error, Some(ErrorClass::Other));
    assert!(r.message.contains("not the protocol"), "{}", r.message);
    assert!(r.message.contains("Debugger attached."), "{}", r.message);
    assert!(wait_gone(runner.pid()).await, "killed");
    cleanup(&dir);
}

#[tokio::test]
async fn a_runner_of_another_protocol_version_is_refused() {
    if installed().is_none() {
        return;
    }
    // The real runner refuses a version it does not speak, in one fatal line.
    let installed = installed().unwrap();
    let mut child = std::process::Command::new("node")
        .arg(&installed.script)
        .current_dir(&installed.dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::{BufRead as _, Write as _};
    writeln!(
        child.stdin.as_mut().unwrap(),
        r#"{{"type":"hello","protocol":99}}"#
    )
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(line.contains("\"fatal\":true"), "{line}");
    assert!(line.contains("protocol 99 is not supported"), "{line}");
}

#[tokio::test]
async fn the_runner_exits_when_its_stdin_closes_and_is_killed_when_dropped() {
    let Some(installed) = installed() else { return };
    // stdin closing is what a crash of poolsweep looks like from the runner's side.
    let mut child = std::process::Command::new("node")
        .arg(&installed.script)
        .current_dir(&installed.dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, r#"{{"type":"hello","protocol":1}}"#).unwrap();
    }
    let mut exited = None;
    crate::util::eventually(|| {
        exited = child.try_wait().unwrap();
        exited.is_some()
    })
    .await;
    assert_eq!(
        exited.and_then(|s| s.code()),
        Some(0),
        "exits on end of stdin"
    );

    // Dropped with a run open and an operation in flight: killed with its group.
    let server = server();
    let (runner, ca) = runner(&installed, &server).await;
    let pid = runner.pid();
    runner
        .start(&settings(&server, &ca, Some(1)))
        .await
        .unwrap();
    drop(runner);
    assert!(wait_gone(pid).await, "no orphan");
}

/// A copy of the runner's files (not its `node_modules`) in a fresh folder.
fn runner_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "poolsweep-runner-copy-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["package.json", "package-lock.json", "runner.mjs"] {
        std::fs::copy(js_v3::default_dir().join(file), dir.join(file)).unwrap();
    }
    dir
}

#[tokio::test]
async fn the_install_is_keyed_on_the_lockfiles_hash() {
    if installed().is_none() {
        return;
    }
    let dir = runner_copy("idempotent");
    let tools = Toolchain::default();
    let install = |dir: PathBuf| {
        let tools = tools.clone();
        tokio::task::spawn_blocking(move || {
            let mut lines = Vec::new();
            let r = js_v3::ensure_installed(&dir, &tools, &mut |l| lines.push(l.to_owned()));
            (r.expect("installs"), lines)
        })
    };
    let (first, lines) = install(dir.clone()).await.unwrap();
    assert!(first.installed_now);
    assert_eq!(lines.len(), 1, "one line of progress: {lines:?}");
    assert!(lines[0].contains("npm ci"), "{}", lines[0]);
    let (second, lines) = install(dir.clone()).await.unwrap();
    assert!(!second.installed_now, "same lockfile: nothing to do");
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(first.lock_sha256, second.lock_sha256);
    // A changed lockfile installs again.
    let lock = dir.join("package-lock.json");
    let mut text = std::fs::read_to_string(&lock).unwrap();
    text.push('\n');
    std::fs::write(&lock, text).unwrap();
    let (third, _) = install(dir.clone()).await.unwrap();
    assert!(third.installed_now);
    assert_ne!(third.lock_sha256, first.lock_sha256);
    cleanup(&dir);
}

#[tokio::test]
async fn npm_ci_without_the_registry_fails_naming_the_command_to_run() {
    if installed().is_none() {
        return;
    }
    let dir = runner_copy("offline");
    let cache = dir.join("empty-npm-cache");
    let tools = Toolchain {
        npm_env: vec![
            // Port 9 (discard) on loopback: connection refused at once, as with no network.
            ("npm_config_registry".into(), "http://127.0.0.1:9/".into()),
            ("npm_config_cache".into(), cache.into_os_string()),
            ("npm_config_fetch_retries".into(), "0".into()),
            ("npm_config_offline".into(), "false".into()),
        ],
        ..Toolchain::default()
    };
    let d = dir.clone();
    let e = tokio::task::spawn_blocking(move || js_v3::ensure_installed(&d, &tools, &mut |_| {}))
        .await
        .unwrap()
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, js_v3::InstallError::NpmFailed { .. }), "{msg}");
    assert!(
        msg.contains(&format!(
            "npm ci --no-audit --no-fund --loglevel=error --prefix {}",
            dir.display()
        )),
        "{msg}"
    );
    assert!(!dir.join("node_modules/.poolsweep-lock-sha256").exists());
    cleanup(&dir);
}

#[tokio::test]
async fn gets_read_the_whole_body_and_report_its_bytes() {
    let Some(installed) = installed() else { return };
    let server = server();
    let (runner, ca) = runner(&installed, &server).await;
    let settings = settings(&server, &ca, Some(4));
    let run = runner.start(&settings).await.unwrap();
    for i in 0..20 {
        let r = runner
            .op(i, OpKind::Put, &format!("k/{i}"), 1024, deadline())
            .await;
        assert!(r.error.is_none(), "{}", r.message);
    }
    for i in 0..20 {
        let r = runner
            .op(20 + i, OpKind::Get, &format!("k/{i}"), 0, deadline())
            .await;
        assert!(r.error.is_none(), "{}", r.message);
        assert_eq!(r.bytes, 1024);
    }
    let missing = runner
        .op(40, OpKind::Get, "no/such/key", 0, deadline())
        .await;
    assert_eq!(missing.error, Some(ErrorClass::Other));
    assert!(missing.message.contains("NoSuchKey"), "{}", missing.message);
    let report = runner.finish(run).await.unwrap();
    assert_eq!((report.ops, report.sockets_opened), (41, 1));
}

#[tokio::test]
async fn a_client_starts_a_new_runner_after_one_broke_and_reports_an_unusable_one() {
    let unusable = JsV3Client::unavailable("js-v3 needs Node.js 20 or newer");
    let e = unusable
        .start(&settings_for_fake())
        .await
        .expect_err("nothing to run");
    assert!(e.to_string().contains("needs Node.js 20"), "{e}");
    let Some(_) = installed() else { return };
    let (fake, dir) = fake_runner(
        "restart",
        r#"if (msg.type === "start") out({ type: "started", run: msg.run });
  if (msg.type === "op") process.exit(3);"#,
    );
    let client = JsV3Client::new(fake);
    let mut pids = Vec::new();
    for _ in 0..2 {
        let run = client.start(&settings_for_fake()).await.expect("a runner");
        pids.push(client.info().unwrap().pid);
        let r = run
            .call(poolsweep::sut::Request {
                index: 0,
                op: OpKind::Put,
                key: "k".into(),
                body: bytes::Bytes::from_static(b"x"),
            })
            .await;
        assert!(r.message.contains("exited"), "{}", r.message);
        let e = run.finish().await.expect_err("the runner is gone");
        assert!(e.to_string().starts_with("js-v3:"), "{e}");
    }
    assert_ne!(pids[0], pids[1], "a new runner for the second run");
    let wrong = RunSettings {
        sdk: Sdk::RustSdk,
        ..settings_for_fake()
    };
    assert!(matches!(
        client.start(&wrong).await,
        Err(poolsweep::sut::Error::Unsupported { .. })
    ));
    cleanup(&dir);
}

// The `poolsweep` binary with js-v3: no runner outlives it, however it ends; without Node.js
// the sweep measures the other SDKs and says why js-v3's points failed.

/// The js-v3 runners that process `parent` started and that are still its children.
fn runners_of(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": the fields after the command name.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if ppid == Some(parent) && String::from_utf8_lossy(&cmdline).contains("runner.mjs") {
            found.push(pid);
        }
    }
    found
}

/// A js-v3 sweep long enough to be interrupted mid-way (24 runs of 40 PUTs on `s3-like`),
/// started; and its result file. The sweep's runner is up once the first point is written.
fn long_js_v3_sweep(name: &str) -> (std::process::Child, PathBuf, Vec<u32>) {
    let dir = crate::sweep::temp_dir(name);
    let out = dir.join("run.json");
    let mut child = crate::sweep::long_sweep(&out)
        .args(["--sdk", "js-v3"])
        .spawn()
        .unwrap();
    crate::sweep::wait_for_points(&mut child, &out, 1);
    let runners = runners_of(child.id());
    assert_eq!(runners.len(), 1, "one runner serves the sweep: {runners:?}");
    (child, out, runners)
}

/// Waits for `child` to exit and returns its exit code (a failure only past the hang guard).
fn exit_code(child: &mut std::process::Child) -> Option<i32> {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            start.elapsed() < crate::util::HANG_GUARD,
            "the sweep did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_sweep_killed_mid_run_leaves_no_runner_behind() {
    if installed().is_none() {
        return;
    }
    let (mut child, out, runners) = long_js_v3_sweep("js-kill");
    // SIGKILL: nothing of poolsweep runs after it, no destructor, no signal handler. The
    // runner sees its stdin close and exits.
    child.kill().unwrap();
    child.wait().unwrap();
    for pid in runners {
        assert!(wait_gone(pid).await, "runner {pid} outlived a killed sweep");
    }
    let run = poolsweep::results::RunFile::load(&out).expect("the file is valid after a kill");
    assert!(run.points.iter().all(|p| p.sdk == Sdk::JsV3 && !p.failed()));
    cleanup(out.parent().unwrap());
}

#[tokio::test]
async fn ctrl_c_finishes_the_run_then_stops_the_runner_and_keeps_the_points() {
    if installed().is_none() {
        return;
    }
    let (mut child, out, runners) = long_js_v3_sweep("js-sigint");
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(130));
    for pid in runners {
        assert!(wait_gone(pid).await, "runner {pid} outlived the sweep");
    }
    let run = poolsweep::results::RunFile::load(&out).unwrap();
    let runs: u32 = run.points.iter().map(|p| p.repetitions).sum();
    assert!((1..24).contains(&runs), "{runs} runs kept of 24");
    assert!(
        run.points.iter().all(|p| !p.failed()),
        "the last run finished"
    );
    cleanup(out.parent().unwrap());
}

#[tokio::test]
async fn a_second_ctrl_c_stops_at_once_and_leaves_no_runner_behind() {
    if installed().is_none() {
        return;
    }
    let (mut child, out, runners) = long_js_v3_sweep("js-sigint2");
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(200));
    interrupt(&child);
    assert_eq!(exit_code(&mut child), Some(130));
    for pid in runners {
        assert!(wait_gone(pid).await, "runner {pid} outlived the sweep");
    }
    assert!(poolsweep::results::RunFile::load(&out).is_ok());
    cleanup(out.parent().unwrap());
}

#[test]
fn without_node_js_v3_points_fail_with_the_reason_and_the_others_are_measured() {
    let dir = crate::sweep::temp_dir("no-node");
    let out = dir.join("run.json");
    // No `node` (nor `npm`) on PATH, as on a machine without Node.js.
    let empty = dir.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let o = crate::sweep::poolsweep()
        .args([
            "sweep",
            "--sdk",
            "poolsweep,js-v3,rust-sdk",
            "--no-progress",
            "--profile",
            "ideal",
            "--max-sockets",
            "2",
            "--batch",
            "4",
            "--clients",
            "shared,per-request",
            "--objects",
            "8",
            "--repetitions",
            "1",
            "--startup-batches",
            "0",
            "--out",
        ])
        .arg(&out)
        .env("PATH", &empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("js-v3 cannot run, its points will be marked failed"),
        "{stderr}"
    );
    assert!(stderr.contains("2 runs failed"), "{stderr}");
    let run = poolsweep::results::RunFile::load(&out).unwrap();
    assert_eq!(run.points.len(), 6, "every point of every SDK");
    for p in &run.points {
        if p.sdk == Sdk::JsV3 {
            let why = p.failure.as_deref().unwrap_or_default();
            assert!(why.contains("needs Node.js 20 or newer"), "{why}");
            assert!(why.contains("npm ci --prefix"), "the command to run: {why}");
            assert_eq!(p.requests, 0);
        } else {
            assert!(!p.failed(), "{}: {:?}", p.sdk, p.failure);
            assert_eq!(p.succeeded, 8);
        }
    }
    assert!(
        run.meta.sdks["js-v3"].starts_with("unavailable: "),
        "{:?}",
        run.meta.sdks
    );
    cleanup(&dir);
}

#[tokio::test]
async fn a_sweep_of_js_v3_beside_poolsweep_counts_the_same_sockets_handshakes_and_fetches() {
    let Some(installed) = installed() else { return };
    use poolsweep::sut::{CredentialKind, PoolsweepClient, SdkClients};
    use poolsweep::sweep::{Server, SweepConfig, run_sweep};
    // Container credentials: every client's chain fetches, so a client per request pays.
    let mock = mock_s3::MockS3::builder()
        .storage(mock_s3::StorageMode::Discard)
        .metadata_listener()
        .start()
        .unwrap();
    let server = Server::Embedded(mock);
    let config = SweepConfig {
        sdks: vec![Sdk::Poolsweep, Sdk::JsV3],
        max_sockets: vec![Some(1), Some(10), None],
        batches: vec![10],
        clients: vec![ClientMode::Shared, ClientMode::PerRequest],
        profiles: vec!["ideal".to_owned()],
        credentials: CredentialKind::Container,
        objects: 100,
        repetitions: 1,
        // Not what is measured: a budget a busy machine could reach would cut a run short and
        // change its counts.
        time_budget: Duration::from_secs(3600),
        ..SweepConfig::default()
    };
    let clients = SdkClients::new()
        .poolsweep(PoolsweepClient::new(
            server.client_config(config.credentials).unwrap(),
        ))
        .js_v3(JsV3Client::new(installed));
    let dir = crate::sweep::temp_dir("js-v3-beside");
    let mut writer = poolsweep::results::ResultWriter::create(
        dir.join("run.json"),
        poolsweep::results::Meta::collect(
            serde_json::Value::Null,
            serde_json::Value::Null,
            Vec::new(),
        ),
    )
    .unwrap();
    let summary = run_sweep(
        &config,
        &server,
        &clients,
        &mut writer,
        &std::sync::atomic::AtomicBool::new(false),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((summary.runs, summary.failed_runs), (12, 0));
    let run = writer.finish();
    let counts = |p: &poolsweep::metrics::Point| {
        (
            p.sockets_opened,
            p.tls_full,
            p.tls_resumed,
            p.server["connections_accepted"].as_u64(),
            p.server["credential_fetches"]["container"].as_u64(),
            p.succeeded,
        )
    };
    for js in run.points.iter().filter(|p| p.sdk == Sdk::JsV3) {
        let ours = run
            .points
            .iter()
            .find(|p| {
                p.sdk == Sdk::Poolsweep
                    && (p.client, p.max_sockets, p.batch) == (js.client, js.max_sockets, js.batch)
            })
            .expect("the same point of poolsweep's client");
        assert_eq!(
            counts(js),
            counts(ours),
            "{} maxSockets {:?}: js-v3 vs poolsweep",
            js.client,
            js.max_sockets
        );
        let (sockets, fetches) = match (js.client, js.max_sockets) {
            (ClientMode::PerRequest, _) => (100, 100),
            (_, Some(1)) => (1, 1),
            _ => (10, 1),
        };
        assert_eq!(
            (
                js.sockets_opened,
                js.server["credential_fetches"]["container"].as_u64()
            ),
            (sockets, Some(fetches)),
            "{} maxSockets {:?}",
            js.client,
            js.max_sockets
        );
    }
    cleanup(&dir);
}
