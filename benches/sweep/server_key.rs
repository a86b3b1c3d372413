//! ECDSA P-256 against RSA-2048 server certificates (what S3 serves), with a client per
//! request so that every request pays a full handshake: the per-request curve's cost.

use criterion::{BenchmarkId, Criterion, Throughput};
use poolsweep::modes::ClientMode;
use poolsweep::sweep::Server;

use crate::support::{BUCKET, Bench, Scale};

pub(crate) fn define(c: &mut Criterion, b: &Bench) {
    let rsa = mock_s3::MockS3::builder()
        .key_type(mock_s3::KeyType::Rsa)
        .storage(mock_s3::StorageMode::Discard)
        .profile(mock_s3::Profile::s3_like())
        .worker_threads(1)
        .start()
        .expect("the RSA mock starts");
    rsa.create_bucket(BUCKET).expect("bucket");
    let rsa = Server::Embedded(rsa);
    let objects = if b.scale == Scale::Test { 50 } else { 100 };
    let config = b.config(objects);
    let mut g = b.group(c, "server_key");
    g.throughput(Throughput::Elements(objects));
    let spec = Bench::spec(ClientMode::PerRequest, 50, Some(50));
    b.bench(
        &mut g,
        BenchmarkId::new("per_request", "ecdsa_p256"),
        &b.server,
        &config,
        &spec,
        false,
    );
    b.bench(
        &mut g,
        BenchmarkId::new("per_request", "rsa_2048"),
        &rsa,
        &config,
        &spec,
        false,
    );
    g.finish();
}
