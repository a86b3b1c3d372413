//! S3's XML error body (`<Error><Code>..</Code><Message>..</Message>...`) into a
//! [`ServiceError`], with the request id from `x-amz-request-id` when the body has none.
//!
//! Invariant: any error response becomes a `ServiceError`, whatever its body. A bodiless one
//! (HEAD) or one that is not S3's XML gets a code derived from the status as the SDK does
//! (`NotFound` for 404, otherwise the numeric status), so classification never fails.

use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::error::ServiceError;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
    #[serde(rename = "HostId")]
    host_id: Option<String>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The error an S3 error response describes.
pub(crate) fn service_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ServiceError {
    let parsed: ErrorBody = std::str::from_utf8(body)
        .ok()
        .filter(|text| !text.trim().is_empty())
        .and_then(|text| quick_xml::de::from_str(text).ok())
        .unwrap_or_default();
    let code = parsed.code.unwrap_or_else(|| match status {
        StatusCode::NOT_FOUND => "NotFound".to_owned(),
        other => other.as_u16().to_string(),
    });
    ServiceError {
        status: status.as_u16(),
        code,
        message: parsed.message.unwrap_or_default(),
        request_id: header(headers, "x-amz-request-id").or(parsed.request_id),
        host_id: header(headers, "x-amz-id-2").or(parsed.host_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_slowdown() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>K2H6N7ZGQT6WHCEG</RequestId><HostId>WWoZ</HostId></Error>"#;
        let e = service_error(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), body);
        assert_eq!(e.code, "SlowDown");
        assert_eq!(e.status, 503);
        assert_eq!(e.request_id.as_deref(), Some("K2H6N7ZGQT6WHCEG"));
        assert_eq!(e.host_id.as_deref(), Some("WWoZ"));
    }

    #[test]
    fn bodiless_errors_get_the_sdks_code() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-request-id", "R1".parse().unwrap());
        let e = service_error(StatusCode::NOT_FOUND, &h, b"");
        assert_eq!(
            (e.code.as_str(), e.request_id.as_deref()),
            ("NotFound", Some("R1"))
        );
        let e = service_error(StatusCode::FORBIDDEN, &HeaderMap::new(), b"not xml");
        assert_eq!(e.code, "403");
    }
}
