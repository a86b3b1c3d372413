//! [`Runner`]: the js-v3 runner as a child process, spoken to over the line protocol.
//!
//! Invariant: no runner outlives poolsweep. The child runs in a process group of its own (a
//! Ctrl-C at the terminal reaches poolsweep alone, which finishes or abandons the point and
//! then drops the runner), is killed with its whole group when the [`Runner`] is dropped or
//! hangs (tokio's `kill_on_drop` and a `SIGKILL` to the group), and exits by itself when its
//! stdin closes, which is what happens when poolsweep dies without running any destructor.
//!
//! Every operation sent gets exactly one [`OpReport`]: the runner's `done`, or a failure
//! naming why there will be none (the runner exited, wrote a line that is not the protocol,
//! or did not answer before the deadline and was killed).

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::install::Installed;
use super::protocol::{Done, FromRunner, PROTOCOL, ToRunner};
use crate::sut::report::{OpReport, RunReport};
use crate::sut::settings::RunSettings;
use crate::sut::{ErrorClass, OpKind};

/// How long the runner may take to start and answer `hello` (Node.js loading the SDK on a
/// busy machine), and to answer `start` or `finish`.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(60);

/// Lines of the runner's stderr kept for error messages.
const STDERR_TAIL: usize = 20;

/// Why the runner could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The process could not be started.
    #[error("starting the js-v3 runner ({node} {script}): {source}")]
    Spawn {
        /// Node binary.
        node: String,
        /// Script.
        script: String,
        /// The error.
        source: std::io::Error,
    },
    /// The runner is gone or broke the protocol; every later call fails the same way.
    #[error("js-v3 runner: {0}")]
    Broken(String),
    /// The runner refused a request (it stays usable).
    #[error("js-v3 runner refused {what}: {message}")]
    Refused {
        /// What was asked.
        what: &'static str,
        /// What it said.
        message: String,
    },
}

/// What the runner said about itself in the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunnerInfo {
    /// `process.version`.
    pub node: String,
    /// The pinned packages as installed, name → version.
    pub packages: std::collections::BTreeMap<String, String>,
    /// Its process id.
    pub pid: u32,
}

/// State shared with the reader tasks.
#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<HashMap<u64, oneshot::Sender<Done>>>,
    broken: OnceLock<String>,
    stderr: Mutex<VecDeque<String>>,
}

impl Shared {
    /// Marks the runner broken (first reason wins) and fails every operation in flight.
    fn break_with(&self, reason: String) {
        let _ = self.broken.set(reason);
        // Dropping the senders wakes their receivers with an error.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    fn stderr_tail(&self) -> String {
        let tail = self
            .stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if tail.is_empty() {
            String::new()
        } else {
            let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
            format!("; its last stderr lines:\n{}", lines.join("\n"))
        }
    }
}

/// The runner process.
#[derive(Debug)]
pub struct Runner {
    child: Mutex<Child>,
    pgid: Option<rustix::process::Pid>,
    lines: mpsc::UnboundedSender<String>,
    shared: Arc<Shared>,
    control: tokio::sync::Mutex<mpsc::UnboundedReceiver<FromRunner>>,
    info: RunnerInfo,
    next_run: std::sync::atomic::AtomicU64,
    inherited_nofile: Option<(u64, u64)>,
}

/// Environment variables of poolsweep's that would change what the SDK does: the child
/// gets none of them, so that its credentials and endpoints are the run's alone.
fn is_aws_setting(name: &str) -> bool {
    name.starts_with("AWS_") || name == "NODE_EXTRA_CA_CERTS"
}

impl Runner {
    /// Starts the runner and does the handshake. `ca_file` is trusted in addition to the
    /// system's roots (`NODE_EXTRA_CA_CERTS`, read once at start).
    pub async fn spawn(installed: &Installed, ca_file: Option<&Path>) -> Result<Self, RunnerError> {
        let mut cmd = Command::new(&installed.node);
        cmd.arg(&installed.script)
            .current_dir(&installed.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // A group of its own: the terminal's Ctrl-C goes to poolsweep, which decides.
            .process_group(0);
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_aws_setting) {
                cmd.env_remove(&name);
            }
        }
        // No shared config or credentials files of this machine: only what the run says.
        let nowhere = installed.dir.join("no-such-aws-config");
        cmd.env("AWS_CONFIG_FILE", &nowhere)
            .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere);
        if let Some(ca) = ca_file {
            cmd.env("NODE_EXTRA_CA_CERTS", ca);
        }
        let mut child = cmd.spawn().map_err(|source| RunnerError::Spawn {
            node: installed.node.to_string_lossy().into_owned(),
            script: installed.script.display().to_string(),
            source,
        })?;
        let pid = child.id();
        let pgid = pid.and_then(|p| rustix::process::Pid::from_raw(p as i32));
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let shared = Arc::new(Shared::default());
        let (lines_tx, lines_rx) = mpsc::unbounded_channel();
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        tokio::spawn(write_lines(stdin, lines_rx, shared.clone()));
        let (stderr_done_tx, stderr_done) = oneshot::channel();
        tokio::spawn(read_stdout(
            stdout,
            shared.clone(),
            control_tx,
            pgid,
            stderr_done,
        ));
        tokio::spawn(read_stderr(stderr, shared.clone(), stderr_done_tx));
        let inherited_nofile = pid.and_then(|p| get_nofile(p as i32).ok());
        let mut runner = Runner {
            child: Mutex::new(child),
            pgid,
            lines: lines_tx,
            shared,
            control: tokio::sync::Mutex::new(control_rx),
            info: RunnerInfo {
                node: String::new(),
                packages: Default::default(),
                pid: pid.unwrap_or(0),
            },
            next_run: std::sync::atomic::AtomicU64::new(1),
            inherited_nofile,
        };
        runner.send(&ToRunner::Hello { protocol: PROTOCOL });
        match runner.control_message("hello").await? {
            FromRunner::Hello {
                protocol,
                node,
                packages,
                pid,
            } if protocol == PROTOCOL => {
                runner.info = RunnerInfo {
                    node,
                    packages,
                    pid,
                };
                Ok(runner)
            }
            other => {
                let reason = format!("unexpected answer to hello: {other:?}");
                runner.kill(&reason);
                Err(RunnerError::Broken(reason))
            }
        }
    }

    /// What the runner said in the handshake.
    pub fn info(&self) -> &RunnerInfo {
        &self.info
    }

    /// The runner's process id (its process group has the same id).
    pub fn pid(&self) -> u32 {
        self.info.pid
    }

    /// Why the runner is unusable, if it is.
    pub fn broken(&self) -> Option<&str> {
        self.shared.broken.get().map(String::as_str)
    }

    /// The runner's exit status, if it has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .try_wait()
            .ok()
            .flatten()
    }

    fn send(&self, message: &ToRunner<'_>) {
        // A closed channel means the writer saw the pipe break; the reader reports why.
        let _ = self.lines.send(message.line());
    }

    fn broken_error(&self) -> RunnerError {
        RunnerError::Broken(self.broken().unwrap_or("gone").to_owned())
    }

    /// The next control message, within [`CONTROL_TIMEOUT`]; a fatal `error` or a silent
    /// runner breaks it.
    async fn control_message(&self, waiting_for: &'static str) -> Result<FromRunner, RunnerError> {
        let mut control = self.control.lock().await;
        let received = tokio::time::timeout(CONTROL_TIMEOUT, control.recv()).await;
        match received {
            Ok(Some(FromRunner::Error {
                message,
                fatal: true,
            })) => {
                self.kill(&format!("fatal error: {message}"));
                Err(self.broken_error())
            }
            Ok(Some(m)) => Ok(m),
            Ok(None) => Err(self.broken_error()),
            Err(_) => {
                self.kill(&format!(
                    "no answer to {waiting_for} within {} s; killed",
                    CONTROL_TIMEOUT.as_secs()
                ));
                Err(self.broken_error())
            }
        }
    }

    /// Opens a run with `settings`: sets the process's `RLIMIT_NOFILE` if asked, and has the
    /// runner build the run's clients. Returns the run's number.
    pub async fn start(&self, settings: &RunSettings) -> Result<u64, RunnerError> {
        if self.broken().is_some() {
            return Err(self.broken_error());
        }
        if let Some(message) = settings.beyond_an_sdk() {
            return Err(RunnerError::Refused {
                what: "start",
                message,
            });
        }
        // Messages nobody waited for (errors between runs) belong to no run: log them.
        {
            let mut control = self.control.lock().await;
            while let Ok(m) = control.try_recv() {
                tracing::warn!(target: "poolsweep::js_v3", "unexpected runner message: {m:?}");
            }
        }
        self.set_nofile(settings.nofile)?;
        let run = self
            .next_run
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.send(&ToRunner::start(run, settings));
        match self.control_message("start").await? {
            FromRunner::Started { run: r } if r == run => Ok(run),
            FromRunner::Error { message, .. } => Err(RunnerError::Refused {
                what: "start",
                message,
            }),
            other => {
                let reason = format!("unexpected answer to start: {other:?}");
                self.kill(&reason);
                Err(RunnerError::Broken(reason))
            }
        }
    }

    /// Sends one operation of the open run and waits for its `done`, or until `deadline`,
    /// after which the runner is killed (it hung) and the operation fails.
    pub async fn op(
        &self,
        id: u64,
        op: OpKind,
        key: &str,
        size: u64,
        deadline: Instant,
    ) -> OpReport {
        if let Some(reason) = self.broken() {
            return OpReport::failed(ErrorClass::Other, format!("js-v3 runner: {reason}"));
        }
        let (tx, rx) = oneshot::channel();
        self.shared
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, tx);
        // Broken after the check above: the pending map may already have been cleared.
        if let Some(reason) = self.broken() {
            self.shared
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
            return OpReport::failed(ErrorClass::Other, format!("js-v3 runner: {reason}"));
        }
        self.send(&ToRunner::op(id, op, key, size));
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(done)) => done.into(),
            Ok(Err(_)) => OpReport::failed(
                ErrorClass::Other,
                format!("js-v3 runner: {}", self.broken().unwrap_or("gone")),
            ),
            Err(_) => {
                self.kill(&format!(
                    "operation {id} got no answer before the point's deadline; the runner hung \
                     and was killed"
                ));
                OpReport::failed(
                    ErrorClass::Other,
                    format!("js-v3 runner: {}", self.broken().unwrap_or("hung")),
                )
            }
        }
    }

    /// Closes the run (nothing may be in flight): the runner destroys its clients and
    /// reports its counters; the inherited `RLIMIT_NOFILE` is restored.
    pub async fn finish(&self, run: u64) -> Result<RunReport, RunnerError> {
        if self.broken().is_some() {
            return Err(self.broken_error());
        }
        self.send(&ToRunner::Finish { run });
        let answer = self.control_message("finish").await;
        self.set_nofile(None)?;
        match answer? {
            FromRunner::Finished(f) if f.run == run => Ok(f.into()),
            FromRunner::Error { message, .. } => Err(RunnerError::Refused {
                what: "finish",
                message,
            }),
            other => {
                let reason = format!("unexpected answer to finish: {other:?}");
                self.kill(&reason);
                Err(RunnerError::Broken(reason))
            }
        }
    }

    fn set_nofile(&self, soft: Option<u64>) -> Result<(), RunnerError> {
        let (Some(pid), Some((inherited_soft, hard))) = (self.child_pid(), self.inherited_nofile)
        else {
            return Ok(());
        };
        let want = soft.map_or(inherited_soft, |s| s.min(hard));
        rlimit::prlimit(pid, rlimit::Resource::NOFILE, Some((want, hard)), None).map_err(|e| {
            RunnerError::Refused {
                what: "RLIMIT_NOFILE",
                message: format!("prlimit({pid}, {want}): {e}"),
            }
        })
    }

    fn child_pid(&self) -> Option<i32> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .id()
            .map(|p| p as i32)
    }

    /// Kills the runner and its process group, and fails everything in flight with `reason`.
    pub fn kill(&self, reason: &str) {
        self.shared
            .break_with(format!("{reason}{}", self.shared.stderr_tail()));
        self.kill_group();
    }

    fn kill_group(&self) {
        if let Some(pgid) = self.pgid {
            // ESRCH (already gone) is fine.
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .start_kill();
    }

    /// Asks the runner to exit and waits for it (at most 5 s, then kills it).
    pub async fn shutdown(self) -> Option<ExitStatus> {
        self.send(&ToRunner::Exit);
        for _ in 0..250 {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill_group();
        None
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if self.exit_status().is_none() {
            self.kill_group();
        }
    }
}

fn get_nofile(pid: i32) -> std::io::Result<(u64, u64)> {
    let (mut soft, mut hard) = (0, 0);
    rlimit::prlimit(
        pid,
        rlimit::Resource::NOFILE,
        None,
        Some((&mut soft, &mut hard)),
    )?;
    Ok((soft, hard))
}

/// Writes queued lines to the runner's stdin, several per write when they pile up.
async fn write_lines(
    mut stdin: ChildStdin,
    mut lines: mpsc::UnboundedReceiver<String>,
    shared: Arc<Shared>,
) {
    let mut buf = String::new();
    while let Some(line) = lines.recv().await {
        buf.push_str(&line);
        while let Ok(more) = lines.try_recv() {
            buf.push_str(&more);
        }
        if let Err(e) = stdin.write_all(buf.as_bytes()).await {
            shared.break_with(format!(
                "writing to its stdin failed ({e}): it exited{}",
                shared.stderr_tail()
            ));
            return;
        }
        buf.clear();
    }
    // Dropping stdin closes it: the runner exits.
}

/// Dispatches the runner's stdout: `done` to the waiting operation, everything else to the
/// control channel. A line that is not the protocol breaks the runner.
async fn read_stdout(
    stdout: tokio::process::ChildStdout,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<FromRunner>,
    pgid: Option<rustix::process::Pid>,
    stderr_done: oneshot::Receiver<()>,
) {
    let mut lines = BufReader::new(stdout).lines();
    let mut n = 0u64;
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => {
                // What it said last on stderr is the reason: let that reader finish first.
                let _ = tokio::time::timeout(Duration::from_secs(2), stderr_done).await;
                shared.break_with(format!("it exited{}", shared.stderr_tail()));
                return;
            }
            Err(e) => {
                shared.break_with(format!("reading its stdout failed: {e}"));
                return;
            }
        };
        n += 1;
        match FromRunner::parse(&line) {
            Ok(FromRunner::Done(done)) => {
                let waiter = shared
                    .pending
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&done.id);
                match waiter {
                    Some(w) => {
                        let _ = w.send(done);
                    }
                    None => tracing::warn!(
                        target: "poolsweep::js_v3",
                        "the runner answered operation {} that nobody waits for",
                        done.id
                    ),
                }
            }
            Ok(other) => {
                let _ = control.send(other);
            }
            Err(e) => {
                let mut shown: String = line.chars().take(200).collect();
                if shown.len() < line.len() {
                    shown.push('…');
                }
                shared.break_with(format!(
                    "its stdout line {n} is not the protocol ({e}): {shown}"
                ));
                // Nothing more it says can be trusted.
                if let Some(pgid) = pgid {
                    let _ =
                        rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
                }
                return;
            }
        }
    }
}

/// Forwards the runner's stderr to the log and keeps its last lines for error messages.
async fn read_stderr(
    stderr: tokio::process::ChildStderr,
    shared: Arc<Shared>,
    done: oneshot::Sender<()>,
) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "poolsweep::js_v3", "runner: {line}");
        let mut tail = shared
            .stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if tail.len() == STDERR_TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    let _ = done.send(());
}
