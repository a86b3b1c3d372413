//! ListObjectsV2: prefix, delimiter (CommonPrefixes), max-keys, continuation-token,
//! start-after and encoding-type=url, keys in ascending byte order.
//!
//! The continuation token is opaque to clients; here it is base64 of the last item returned,
//! tagged as a key (`k`) or a common prefix (`p`), so a listing resumes exactly after it.

use std::ops::Bound;

use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Response;

use super::{App, S3Request, xml};
use crate::error::{S3Error, S3Result};
use crate::xml::{XmlWriter, iso8601};

/// S3's default and maximum page size.
const MAX_KEYS: usize = 1000;

enum Item {
    Key(String),
    Prefix(String),
}

fn encode_token(item: &Item) -> String {
    let (tag, s) = match item {
        Item::Key(k) => ('k', k),
        Item::Prefix(p) => ('p', p),
    };
    URL_SAFE_NO_PAD.encode(format!("{tag}{s}"))
}

fn decode_token(token: &str) -> S3Result<Item> {
    let invalid = || S3Error::invalid_argument("The continuation token provided is incorrect");
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let s = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut chars = s.chars();
    match chars.next() {
        Some('k') => Ok(Item::Key(chars.as_str().to_owned())),
        Some('p') => Ok(Item::Prefix(chars.as_str().to_owned())),
        _ => Err(invalid()),
    }
}

/// URL-encodes a listing value as S3 does for `encoding-type=url` (space as `+`, `/` kept).
pub(super) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(super) fn handle(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let q = &req.query;
    let prefix = q.get("prefix").unwrap_or("");
    let delimiter = q.get("delimiter").unwrap_or("");
    let max_keys = match q.get("max-keys") {
        None => MAX_KEYS,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                )
            })?
            .min(MAX_KEYS),
    };
    let url = match q.get("encoding-type") {
        None => false,
        Some("url") => true,
        Some(_) => {
            return Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
            ));
        }
    };
    let start_after = q.get("start-after").unwrap_or("");
    let token = q.get("continuation-token");
    let resume = token.map(decode_token).transpose()?;

    // The listing starts after the largest of: the prefix, start-after, the token's item.
    let mut lower: Bound<&str> = Bound::Included(prefix);
    if start_after > prefix {
        lower = Bound::Excluded(start_after);
    }
    let (resume_key, skip_prefix) = match &resume {
        Some(Item::Key(k)) => (Some(k.as_str()), None),
        Some(Item::Prefix(p)) => (Some(p.as_str()), Some(p.as_str())),
        None => (None, None),
    };
    if let Some(k) = resume_key {
        let current = match lower {
            Bound::Included(s) | Bound::Excluded(s) => s,
            Bound::Unbounded => "",
        };
        if k >= current {
            lower = Bound::Excluded(k);
        }
    }

    let mut contents = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut last: Option<Item> = None;
    let mut truncated = false;
    for entry in bucket.objects.range::<str, _>((lower, Bound::Unbounded)) {
        let key = entry.key();
        if !key.starts_with(prefix) {
            if key.as_str() > prefix {
                break;
            }
            continue;
        }
        if skip_prefix.is_some_and(|p| key.starts_with(p)) {
            continue;
        }
        if !delimiter.is_empty()
            && let Some(i) = key[prefix.len()..].find(delimiter)
        {
            let cp = &key[..prefix.len() + i + delimiter.len()];
            if prefixes.last().is_some_and(|p| p == cp) {
                continue;
            }
            if contents.len() + prefixes.len() >= max_keys {
                truncated = true;
                break;
            }
            prefixes.push(cp.to_owned());
            last = Some(Item::Prefix(cp.to_owned()));
            continue;
        }
        if contents.len() + prefixes.len() >= max_keys {
            truncated = true;
            break;
        }
        contents.push((key.clone(), entry.value().clone()));
        last = Some(Item::Key(key.clone()));
    }

    let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
    let mut w = XmlWriter::new("ListBucketResult");
    w.elem("Name", &req.bucket).elem("Prefix", &enc(prefix));
    if !delimiter.is_empty() {
        w.elem("Delimiter", &enc(delimiter));
    }
    w.elem("MaxKeys", &max_keys.to_string());
    if url {
        w.elem("EncodingType", "url");
    }
    w.elem("KeyCount", &(contents.len() + prefixes.len()).to_string())
        .elem("IsTruncated", if truncated { "true" } else { "false" });
    w.elem_opt("ContinuationToken", token);
    if truncated && let Some(item) = &last {
        w.elem("NextContinuationToken", &encode_token(item));
    }
    if q.has("start-after") {
        w.elem("StartAfter", &enc(start_after));
    }
    for (key, o) in &contents {
        w.open("Contents")
            .elem("Key", &enc(key))
            .elem("LastModified", &iso8601(o.last_modified))
            .elem("ETag", &o.etag);
        if let Some((alg, _)) = &o.checksum {
            w.elem("ChecksumAlgorithm", alg.name());
            w.elem("ChecksumType", "FULL_OBJECT");
        }
        w.elem("Size", &o.size.to_string())
            .elem("StorageClass", "STANDARD")
            .close("Contents");
    }
    for p in &prefixes {
        w.open("CommonPrefixes")
            .elem("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    Ok(xml(w.finish("ListBucketResult")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for item in [Item::Key("a b/ü".into()), Item::Prefix("x/".into())] {
            let t = encode_token(&item);
            match (decode_token(&t).unwrap(), item) {
                (Item::Key(a), Item::Key(b)) | (Item::Prefix(a), Item::Prefix(b)) => {
                    assert_eq!(a, b);
                }
                _ => panic!("tag changed"),
            }
        }
        assert!(decode_token("!!").is_err());
    }

    #[test]
    fn url_encoding_like_s3() {
        assert_eq!(url_encode("a b/c+d%é"), "a+b/c%2Bd%25%C3%A9");
    }
}
