//! Credential endpoints on the same server, so a client that fetches credentials per client
//! (the guide's per-request anti-pattern) pays for it: container credentials (ECS/EKS style)
//! and IMDSv2 (EC2 style). Every set of keys they issue is accepted by the S3 API.
//!
//! - `GET /__mock/credentials/container` with `Authorization: <token>` →
//!   `{"AccessKeyId","SecretAccessKey","Token","Expiration"}` (RFC 3339).
//! - `PUT /__mock/imds/latest/api/token` with `x-aws-ec2-metadata-token-ttl-seconds` → token;
//!   `GET /__mock/imds/latest/meta-data/iam/security-credentials/` → the role name;
//!   `GET .../security-credentials/<role>` → credentials JSON as EC2 serves it.
//!
//! Each endpoint waits its own latency from the profile before answering.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use crossbeam_skiplist::SkipMap;
use http::{HeaderValue, StatusCode};
use serde::Serialize;

use crate::metrics::CredentialFetch;
use crate::ops::{App, Operation};
use crate::profile::Latency;

/// The role name the IMDS endpoint reports.
pub const ROLE: &str = "poolsweep-role";
/// Longest IMDS token lifetime EC2 accepts (6 hours).
const MAX_TTL: u64 = 21_600;

/// Issued IMDS tokens and their expiry.
#[derive(Debug, Default)]
pub struct Issued {
    tokens: SkipMap<String, SystemTime>,
    next: AtomicU64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerCredentials {
    access_key_id: String,
    secret_access_key: String,
    token: String,
    expiration: String,
}

#[derive(Serialize)]
struct ImdsCredentials {
    #[serde(rename = "Code")]
    code: &'static str,
    #[serde(rename = "LastUpdated")]
    last_updated: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
    #[serde(rename = "Token")]
    token: String,
    #[serde(rename = "Expiration")]
    expiration: String,
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Issues a fresh key pair with a session token and registers it with the S3 API.
fn issue(app: &App) -> (String, String, String, String) {
    let n = app.issued.next.fetch_add(1, Relaxed);
    let access = format!("ASIAMOCK{n:012X}");
    let secret = format!("mock-secret-{n:016x}-{:08x}", n.wrapping_mul(0x9E37_79B9));
    let token = format!("mock-session-token-{n:016x}");
    app.keys.insert(&access, &secret);
    let expiration =
        SystemTime::now() + Duration::from_secs(app.profile().credentials.expiration_s);
    (access, secret, token, rfc3339(expiration))
}

async fn wait(app: &App, latency: &Latency) {
    let n = app.next_seq();
    let d = latency.sample(&mut app.profile().rng(n));
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

fn json<T: Serialize>(value: &T) -> Response {
    crate::server::json(value)
}

fn counted(app: &App, kind: CredentialFetch, resp: Response) -> Response {
    app.metrics.credential_fetch(kind);
    app.metrics
        .request_finished(Operation::Credentials, resp.status().as_u16());
    resp
}

/// `GET /__mock/credentials/container`.
pub async fn container(State(app): State<Arc<App>>, req: Request) -> Response {
    app.metrics.request_started();
    let profile = app.profile();
    wait(&app, &profile.credentials.container_latency).await;
    let token_ok = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == profile.credentials.container_token.as_bytes());
    let resp = if token_ok {
        let (access_key_id, secret_access_key, token, expiration) = issue(&app);
        json(&ContainerCredentials {
            access_key_id,
            secret_access_key,
            token,
            expiration,
        })
    } else {
        let mut r = json(&serde_json::json!({
            "code": "AccessDenied",
            "message": "missing or wrong Authorization token for container credentials"
        }));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r
    };
    counted(&app, CredentialFetch::Container, resp)
}

/// `PUT /__mock/imds/latest/api/token`.
pub async fn imds_token(State(app): State<Arc<App>>, req: Request) -> Response {
    app.metrics.request_started();
    wait(&app, &app.profile().credentials.imds_latency).await;
    let ttl = req
        .headers()
        .get("x-aws-ec2-metadata-token-ttl-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|t| (1..=MAX_TTL).contains(t));
    let resp = match ttl {
        None => (
            StatusCode::BAD_REQUEST,
            "missing or invalid x-aws-ec2-metadata-token-ttl-seconds",
        )
            .into_response(),
        Some(ttl) => {
            let n = app.issued.next.fetch_add(1, Relaxed);
            let token = format!("mock-imds-token-{n:016x}");
            app.issued
                .tokens
                .insert(token.clone(), SystemTime::now() + Duration::from_secs(ttl));
            let mut r = token.into_response();
            r.headers_mut().insert(
                "x-aws-ec2-metadata-token-ttl-seconds",
                HeaderValue::from(ttl),
            );
            r
        }
    };
    counted(&app, CredentialFetch::ImdsToken, resp)
}

fn token_valid(app: &App, req: &Request) -> bool {
    req.headers()
        .get("x-aws-ec2-metadata-token")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| app.issued.tokens.get(t).map(|e| *e.value()))
        .is_some_and(|expiry| expiry > SystemTime::now())
}

/// `GET /__mock/imds/latest/meta-data/iam/security-credentials/`.
pub async fn imds_role(State(app): State<Arc<App>>, req: Request) -> Response {
    app.metrics.request_started();
    wait(&app, &app.profile().credentials.imds_latency).await;
    let resp = if token_valid(&app, &req) {
        ROLE.into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    };
    counted(&app, CredentialFetch::ImdsRole, resp)
}

/// `GET /__mock/imds/latest/meta-data/iam/security-credentials/{role}`.
pub async fn imds_credentials(
    State(app): State<Arc<App>>,
    Path(role): Path<String>,
    req: Request,
) -> Response {
    app.metrics.request_started();
    wait(&app, &app.profile().credentials.imds_latency).await;
    let resp = if !token_valid(&app, &req) {
        StatusCode::UNAUTHORIZED.into_response()
    } else if role != ROLE {
        StatusCode::NOT_FOUND.into_response()
    } else {
        let (access_key_id, secret_access_key, token, expiration) = issue(&app);
        json(&ImdsCredentials {
            code: "Success",
            last_updated: rfc3339(SystemTime::now()),
            kind: "AWS-HMAC",
            access_key_id,
            secret_access_key,
            token,
            expiration,
        })
    };
    counted(&app, CredentialFetch::ImdsCredentials, resp)
}
