//! The AWS SDK for Rust (`aws-sdk-s3` on `aws-smithy-http-client`'s pool) against the
//! embedded mock, counted by the pool's event listener and by the server.

use std::time::Duration;

use mock_s3::ops::Operation;
use poolsweep::modes::ClientMode;
use poolsweep::sut::ErrorClass;
use poolsweep::sut::rust_sdk::{RustSdkClient, RustSdkRun};
use poolsweep::sut::{CaFile, CredentialSource, OpReport, RunReport, RunSettings, Sdk};

use crate::sut_util::{self, assert_all_ok, server};
use crate::util::settled;

/// `n` PUTs of 1 KiB in batches of `batch` in one run with `settings`.
async fn run_puts(settings: &RunSettings, n: u64, batch: u64) -> (Vec<OpReport>, RunReport) {
    sut_util::run_puts(&RustSdkClient, settings, n, batch).await
}

fn settings(server: &mock_s3::MockS3, ca: &CaFile, max_sockets: Option<u32>) -> RunSettings {
    RunSettings {
        sdk: Sdk::RustSdk,
        ca_file: Some(ca.path().to_owned()),
        ..RunSettings::for_mock(server, "bkt", max_sockets)
    }
}

#[tokio::test]
async fn shared_client_opens_max_sockets_once_and_the_server_agrees() {
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    server.reset_metrics();
    let (reports, run) = run_puts(&settings(&server, &ca, Some(10)), 1000, 100).await;
    assert_all_ok(&reports);
    assert_eq!((run.ops, run.clients), (1000, 1));
    assert_eq!((run.sockets_opened, run.peak_open), (10, 10));
    assert_eq!(
        run.tls_full, None,
        "not visible through the pool: the server counts"
    );
    assert!(
        reports.iter().any(|r| r.socket_wait > Duration::ZERO),
        "100 at once over 10 connections: some wait at the cap"
    );
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 1000).await;
    assert_eq!(m.connections_accepted, 10);
    assert_eq!((m.tls_full, m.tls_resumed), (10, 0));
    assert_eq!(m.count(Operation::PutObject, 200), 1000);
}

#[tokio::test]
async fn per_request_clients_open_a_socket_and_do_a_full_handshake_each() {
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    server.reset_metrics();
    let settings = RunSettings {
        mode: ClientMode::PerRequest,
        ..settings(&server, &ca, Some(10))
    };
    let (reports, run) = run_puts(&settings, 1000, 100).await;
    assert_all_ok(&reports);
    assert_eq!((run.ops, run.clients), (1000, 1000));
    assert_eq!(run.sockets_opened, 1000);
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 1000).await;
    assert_eq!(m.connections_accepted, 1000);
    assert_eq!((m.tls_full, m.tls_resumed), (1000, 0));
}

#[tokio::test]
async fn remote_credentials_are_fetched_once_per_sdk_config() {
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let container = CredentialSource::container_for_mock(&server);
    let imds = CredentialSource::imds_for_mock(&server).unwrap();
    // The SDK's IMDS client gives up on a read after 1 s (aws-config's DEFAULT_READ_TIMEOUT, a
    // deadline of the SDK's own that the seam does not set): 25 clients fetching at once, three
    // requests each, on a busy 2-core machine can miss it. So the IMDS clients go one at a
    // time (batch 1): what is counted is the same, and each fetch is alone on the server.
    let cases = [
        (ClientMode::Shared, container.clone(), 1, 25),
        (ClientMode::PerRequest, container.clone(), 100, 25),
        (ClientMode::SharedHandler, container, 1, 25),
        (ClientMode::PerRequest, imds, 100, 1),
    ];
    for (mode, credentials, fetches, batch) in cases {
        server.reset_metrics();
        let source = credentials.name();
        let settings = RunSettings {
            mode,
            shared_handler_clients: 4.try_into().unwrap(),
            credentials,
            ..settings(&server, &ca, Some(10))
        };
        let (reports, _) = run_puts(&settings, 100, batch).await;
        assert_all_ok(&reports);
        let f = server.metrics().credential_fetches;
        let (got, other) = match source {
            "container" => (f.container, f.imds_credentials),
            _ => (f.imds_credentials, f.container),
        };
        assert_eq!((got, other), (fetches, 0), "{mode} {source}");
        if source == "imds" {
            assert_eq!(f.imds_token, fetches, "IMDSv2: a token per fetch");
        }
    }
}

/// Set in the child process of the EMFILE test: `endpoint|ca file|access key|secret|nofile`.
const EMFILE_CHILD: &str = "POOLSWEEP_TEST_RUST_SDK_EMFILE";

/// The client side of the EMFILE test, in a process of its own so that the lowered limit is
/// the client's alone (as a Node application's would be), not the mock's or other tests'.
#[test]
#[ignore = "run by a_lowered_rlimit_nofile_surfaces_emfile_as_its_own_error_kind"]
fn emfile_child() {
    let Ok(spec) = std::env::var(EMFILE_CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [endpoint, ca, access, secret, headroom] = parts[..] else {
        panic!("bad {EMFILE_CHILD}: {spec}")
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let settings = RunSettings {
        sdk: Sdk::RustSdk,
        mode: ClientMode::PerRequest,
        shared_handler_clients: poolsweep::modes::DEFAULT_SHARED_HANDLER_CLIENTS,
        max_sockets: None,
        keep_alive: true,
        pool: poolsweep::transport::PoolKind::Agent,
        timeouts: poolsweep::sut::Timeouts::default(),
        endpoint: endpoint.to_owned(),
        region: "us-east-1".into(),
        bucket: "bkt".into(),
        credentials: CredentialSource::Static {
            access_key_id: access.to_owned(),
            secret_access_key: secret.to_owned(),
            session_token: None,
        },
        ca_file: Some(ca.into()),
        nofile: None,
        time_budget: poolsweep::sut::DEFAULT_TIME_BUDGET,
    };
    let (reports, run) = rt.block_on(async {
        // Warm up first (TLS roots, DNS-free loopback), then leave room for a few sockets.
        let (warm, _) = run_puts(&settings, 1, 1).await;
        assert!(warm[0].error.is_none(), "{}", warm[0].message);
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        let soft = open + headroom.parse::<u64>().unwrap();
        rlimit::setrlimit(rlimit::Resource::NOFILE, soft, hard).unwrap();
        run_puts(&settings, 200, 100).await
    });
    let kinds: Vec<String> = reports
        .iter()
        .map(|r| match r.error {
            None => "ok".to_owned(),
            Some(ErrorClass::Emfile) => "emfile".to_owned(),
            Some(other) => format!("{other:?}: {}", r.message),
        })
        .collect();
    println!(
        "\nRESULT {}",
        serde_json::json!({ "kinds": kinds, "ops": run.ops, "connect_errors": run.connect_errors })
    );
}

#[tokio::test]
async fn a_lowered_rlimit_nofile_surfaces_emfile_as_its_own_error_kind() {
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let spec = format!(
        "{}|{}|{}|{}|{}",
        server.endpoint(),
        ca.path().display(),
        server.access_key(),
        server.secret_key(),
        8
    );
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sut_rust_sdk::emfile_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(EMFILE_CHILD, spec)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        // libtest may print its "test … " prefix on the same line.
        .find_map(|l| l.split_once("RESULT ").map(|(_, json)| json))
        .unwrap_or_else(|| panic!("no RESULT line in {stdout}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let kinds: Vec<&str> = v["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 200);
    let emfile = kinds.iter().filter(|k| **k == "emfile").count();
    let ok = kinds.iter().filter(|k| **k == "ok").count();
    assert!(emfile > 0, "no EMFILE: {kinds:?}");
    assert_eq!(ok + emfile, 200, "every failure is EMFILE: {kinds:?}");
    assert_eq!(v["ops"], 200);
}

#[tokio::test]
async fn gets_read_the_whole_body_and_report_its_bytes() {
    let server = server();
    let ca = CaFile::write(server.ca_pem()).unwrap();
    let settings = settings(&server, &ca, Some(4));
    let (puts, _) = run_puts(&settings, 20, 10).await;
    assert_all_ok(&puts);
    let run = RustSdkRun::start(&settings).await.unwrap();
    for i in 0..20 {
        let r = run
            .op(
                i,
                poolsweep::sut::OpKind::Get,
                &format!("k/{i}"),
                bytes::Bytes::new(),
            )
            .await;
        assert!(r.error.is_none(), "{}", r.message);
        assert_eq!(r.bytes, 1024);
    }
    let missing = run
        .op(
            20,
            poolsweep::sut::OpKind::Get,
            "no/such/key",
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(missing.error, Some(ErrorClass::Other));
    assert!(missing.message.contains("NoSuchKey"), "{}", missing.message);
    let report = run.report();
    assert_eq!((report.ops, report.sockets_opened), (21, 1));
}
