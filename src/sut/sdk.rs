//! [`Sdk`]: which S3 client a point measures (the sweep's `--sdk` axis), and [`SdkClients`]:
//! the clients of a sweep behind one [`ClientUnderTest`], each run going to the one its
//! [`RunSettings::sdk`] names.
//!
//! Invariant: a run is served by the client of the SDK it names or refused before any
//! request ([`Error::Unsupported`] when that SDK was not set up); runs never fall back to
//! another client. The dispatch is one `match` per call on an enum of the three runs: no
//! boxing, no `dyn`, no lock.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::js_v3::{JsV3Client, JsV3Run};
use super::rust_sdk::{RustSdkClient, RustSdkRun};
use super::{
    ClientUnderTest, Error, OpReport, PoolsweepClient, PoolsweepRun, Request, Run, RunReport,
    RunSettings,
};

/// An S3 client poolsweep can measure.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Sdk {
    /// poolsweep's own client: its Rust model of Node's Agent (or hyper-util's pool), SigV4
    /// and the SDK's retries. Default.
    #[default]
    #[value(help = "poolsweep's own client (its model of Node's Agent)")]
    Poolsweep,
    /// The AWS SDK for JavaScript v3 (`@aws-sdk/client-s3`, `@smithy/node-http-handler`) on
    /// Node.js, the SDK the guide is about.
    #[value(help = "The AWS SDK for JavaScript v3 on Node.js (runners/js-v3)")]
    JsV3,
    /// The AWS SDK for Rust (`aws-sdk-s3`).
    #[value(help = "The AWS SDK for Rust (aws-sdk-s3), in-process")]
    RustSdk,
}

impl Sdk {
    /// Every SDK, in the order reports list them.
    pub const ALL: [Sdk; 3] = [Sdk::Poolsweep, Sdk::JsV3, Sdk::RustSdk];

    /// The name used in flags, result files, CSV and reports: `poolsweep`, `js-v3`,
    /// `rust-sdk`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sdk::Poolsweep => "poolsweep",
            Sdk::JsV3 => "js-v3",
            Sdk::RustSdk => "rust-sdk",
        }
    }

    /// The SDK named `name` (as [`Sdk::as_str`] gives it).
    pub fn parse(name: &str) -> Option<Sdk> {
        Sdk::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Sdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The clients of a sweep, at most one per SDK.
#[derive(Debug, Default)]
pub struct SdkClients {
    poolsweep: Option<PoolsweepClient>,
    js_v3: Option<JsV3Client>,
    rust_sdk: Option<RustSdkClient>,
}

impl SdkClients {
    /// No client yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// With poolsweep's own client.
    pub fn poolsweep(mut self, client: PoolsweepClient) -> Self {
        self.poolsweep = Some(client);
        self
    }

    /// With the js-v3 runner.
    pub fn js_v3(mut self, client: JsV3Client) -> Self {
        self.js_v3 = Some(client);
        self
    }

    /// With the Rust SDK.
    pub fn rust_sdk(mut self, client: RustSdkClient) -> Self {
        self.rust_sdk = Some(client);
        self
    }

    /// The js-v3 client, if set up.
    pub fn js_v3_client(&self) -> Option<&JsV3Client> {
        self.js_v3.as_ref()
    }
}

fn not_set_up(sdk: Sdk) -> Error {
    Error::Unsupported {
        client: "this sweep",
        setting: format!("--sdk {sdk}: its client was not set up"),
    }
}

impl ClientUnderTest for SdkClients {
    type Run = SdkRun;

    async fn start(&self, settings: &RunSettings) -> Result<SdkRun, Error> {
        match settings.sdk {
            Sdk::Poolsweep => match &self.poolsweep {
                Some(c) => c.start(settings).await.map(SdkRun::Poolsweep),
                None => Err(not_set_up(Sdk::Poolsweep)),
            },
            Sdk::JsV3 => match &self.js_v3 {
                Some(c) => c.start(settings).await.map(SdkRun::JsV3),
                None => Err(not_set_up(Sdk::JsV3)),
            },
            Sdk::RustSdk => match &self.rust_sdk {
                Some(c) => c.start(settings).await.map(SdkRun::RustSdk),
                None => Err(not_set_up(Sdk::RustSdk)),
            },
        }
    }
}

/// A run of whichever client its settings named.
#[derive(Debug)]
pub enum SdkRun {
    /// poolsweep's own client.
    Poolsweep(PoolsweepRun),
    /// The js-v3 runner.
    JsV3(JsV3Run),
    /// The Rust SDK.
    RustSdk(RustSdkRun),
}

impl Run for SdkRun {
    async fn call(&self, request: Request) -> OpReport {
        match self {
            SdkRun::Poolsweep(r) => r.call(request).await,
            SdkRun::JsV3(r) => r.call(request).await,
            SdkRun::RustSdk(r) => r.call(request).await,
        }
    }

    async fn finish(self) -> Result<RunReport, Error> {
        match self {
            SdkRun::Poolsweep(r) => r.finish().await,
            SdkRun::JsV3(r) => r.finish().await,
            SdkRun::RustSdk(r) => r.finish().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_flags_and_json() {
        use clap::ValueEnum as _;
        assert_eq!(Sdk::value_variants(), Sdk::ALL);
        for sdk in Sdk::ALL {
            assert_eq!(Sdk::parse(sdk.as_str()), Some(sdk));
            assert_eq!(sdk.to_possible_value().unwrap().get_name(), sdk.as_str());
            assert_eq!(
                serde_json::to_value(sdk).unwrap(),
                serde_json::Value::String(sdk.as_str().to_owned())
            );
        }
        assert_eq!(Sdk::parse("js"), None);
        assert_eq!(Sdk::default(), Sdk::Poolsweep);
    }
}
