use poolsweep::client::{Endpoint, PoolConfig};
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{ClientConfig, S3Client};

#[tokio::test]
#[ignore]
async fn sizes() {
    let server = mock_s3::MockS3::builder().start().unwrap();
    let config = ClientConfig::for_mock(&server)
        .unwrap()
        .pool(PoolConfig::agent(AgentOptions::sdk_default()));
    let client = S3Client::new(&config).unwrap();
    let f = client.put_object("bkt", "k", bytes::Bytes::new());
    eprintln!("put_object future: {}", std::mem::size_of_val(&f));
    let g = client.get_object("bkt", "k");
    eprintln!("get_object future: {}", std::mem::size_of_val(&g));
    let origin = Endpoint::parse(server.endpoint()).unwrap().origin().clone();
    let c = client.pool().agent().unwrap().checkout(&origin);
    eprintln!("checkout future: {}", std::mem::size_of_val(&c));
    let id = client.credentials().resolve();
    eprintln!("resolve future: {}", std::mem::size_of_val(&id));
}
