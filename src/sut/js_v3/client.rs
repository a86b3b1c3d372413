//! [`JsV3Client`]: the js-v3 runner as a [`ClientUnderTest`].
//!
//! Invariant: one runner process serves the sweep's js-v3 runs one after another; it is
//! started on the first run, and started afresh when it broke (crashed, hung, wrote a line
//! that is not the protocol) or when a run trusts another CA (Node reads
//! `NODE_EXTRA_CA_CERTS` once, at start). A runner that did not install, or cannot start,
//! makes every run fail at `start` with the reason, so that the sweep can mark the point
//! failed and go on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::install::{Installed, Toolchain, ensure_installed};
use super::process::{Runner, RunnerError, RunnerInfo};
use crate::sut::{ClientUnderTest, Error, OpReport, Request, Run, RunReport, RunSettings, Sdk};

/// How long after a run's time budget the runner still gets to answer before it is taken for
/// hung and killed: requests in flight when the budget ran out finish within it.
pub const HANG_GRACE: Duration = Duration::from_secs(30);

const CLIENT: &str = "js-v3";

/// The AWS SDK for JavaScript v3, in a runner process.
#[derive(Debug)]
pub struct JsV3Client {
    installed: Result<Installed, String>,
    runner: tokio::sync::Mutex<Option<Started>>,
    info: Mutex<Option<RunnerInfo>>,
}

#[derive(Debug)]
struct Started {
    runner: Arc<Runner>,
    ca_file: Option<PathBuf>,
}

impl JsV3Client {
    /// Installs the runner in `dir` if needed (one line of progress through `progress`). An
    /// install that fails does not fail here: every run reports it.
    pub fn install(dir: &Path, tools: &Toolchain, progress: &mut dyn FnMut(&str)) -> Self {
        Self::from_install(ensure_installed(dir, tools, progress).map_err(|e| e.to_string()))
    }

    /// A client for an installed runner.
    pub fn new(installed: Installed) -> Self {
        Self::from_install(Ok(installed))
    }

    /// A client whose every run fails with `reason` (e.g. Node.js missing).
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::from_install(Err(reason.into()))
    }

    fn from_install(installed: Result<Installed, String>) -> Self {
        JsV3Client {
            installed,
            runner: tokio::sync::Mutex::new(None),
            info: Mutex::new(None),
        }
    }

    /// What it runs ("@aws-sdk/client-s3 3.1178.0, … on Node.js v20.20.2"), or why it cannot
    /// run.
    pub fn describe(&self) -> Result<String, String> {
        let installed = self.installed.as_ref().map_err(Clone::clone)?;
        installed.describe().map_err(|e| e.to_string())
    }

    /// Why the runner cannot run, if it cannot.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.installed.as_ref().err().map(String::as_str)
    }

    /// What the last runner said in its handshake (Node.js and package versions), once one
    /// has started.
    pub fn info(&self) -> Option<RunnerInfo> {
        self.info
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The running runner, started (again) if there is none, it broke, or it trusts
    /// another CA than `ca_file`.
    async fn runner(&self, ca_file: Option<&Path>) -> Result<Arc<Runner>, Error> {
        let installed = self.installed.as_ref().map_err(|e| Error::Client {
            client: CLIENT,
            message: e.clone(),
        })?;
        let mut slot = self.runner.lock().await;
        if let Some(s) = slot.as_ref()
            && s.runner.broken().is_none()
            && s.ca_file.as_deref() == ca_file
        {
            return Ok(Arc::clone(&s.runner));
        }
        // The old one (if any) is killed when its last run lets go of it.
        *slot = None;
        let runner = Runner::spawn(installed, ca_file)
            .await
            .map_err(|e| client_error(&e))?;
        *self
            .info
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(runner.info().clone());
        let runner = Arc::new(runner);
        *slot = Some(Started {
            runner: Arc::clone(&runner),
            ca_file: ca_file.map(Path::to_owned),
        });
        Ok(runner)
    }

    /// Kills the runner, if one is running (e.g. before the sweep exits on Ctrl-C).
    pub async fn shutdown(&self) {
        if let Some(s) = self.runner.lock().await.take() {
            s.runner.kill("shut down");
        }
    }
}

fn client_error(e: &RunnerError) -> Error {
    Error::Client {
        client: CLIENT,
        message: e.to_string(),
    }
}

impl ClientUnderTest for JsV3Client {
    type Run = JsV3Run;

    async fn start(&self, settings: &RunSettings) -> Result<JsV3Run, Error> {
        if settings.sdk != Sdk::JsV3 {
            return Err(Error::Unsupported {
                client: CLIENT,
                setting: format!("sdk {}", settings.sdk),
            });
        }
        if let Some(setting) = settings.beyond_an_sdk() {
            return Err(Error::Unsupported {
                client: CLIENT,
                setting,
            });
        }
        let runner = self.runner(settings.ca_file.as_deref()).await?;
        let run = runner.start(settings).await.map_err(|e| client_error(&e))?;
        Ok(JsV3Run {
            runner,
            run,
            deadline: Instant::now() + settings.time_budget + HANG_GRACE,
        })
    }
}

/// One run in the runner.
#[derive(Debug)]
pub struct JsV3Run {
    runner: Arc<Runner>,
    run: u64,
    deadline: Instant,
}

impl Run for JsV3Run {
    async fn call(&self, request: Request) -> OpReport {
        self.runner
            .op(
                request.index,
                request.op,
                &request.key,
                request.body.len() as u64,
                self.deadline,
            )
            .await
    }

    async fn finish(self) -> Result<RunReport, Error> {
        self.runner
            .finish(self.run)
            .await
            .map_err(|e| client_error(&e))
    }
}
