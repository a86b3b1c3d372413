//! ListObjectsV2: prefix, delimiter (CommonPrefixes), max-keys, continuation-token,
//! start-after, fetch-owner and encoding-type=url, keys in ascending byte order
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>).
//!
//! The continuation token is opaque to clients; here it is base64 of the last item returned,
//! tagged as a key (`k`) or a common prefix (`p`), so a listing resumes exactly after it.

use std::ops::Bound;

use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Response;

use super::listing::{self, Cut, Item, url_encode};
use super::{App, S3Request, bucket, xml};
use crate::error::{S3Error, S3Result};
use crate::xml::{XmlWriter, iso8601};

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

pub(super) fn handle(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let q = &req.query;
    let prefix = q.get("prefix").unwrap_or("");
    let delimiter = q.get("delimiter").unwrap_or("");
    let max_keys = listing::max_keys(req)?;
    let url = listing::url_encoding(req)?;
    // `fetch-owner=true` adds each object's Owner; without it ListObjectsV2 returns none.
    let fetch_owner = q
        .get("fetch-owner")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let start_after = q.get("start-after").unwrap_or("");
    let token = q.get("continuation-token");
    let resume = token.map(decode_token).transpose()?;

    // The listing starts after the largest of: the prefix, start-after, the token's item.
    let mut lower: Bound<&str> = Bound::Included(prefix);
    if !start_after.is_empty() {
        lower = listing::max_bound(lower, Bound::Excluded(start_after));
    }
    let skip_prefix = match &resume {
        Some(Item::Key(k)) => {
            lower = listing::max_bound(lower, Bound::Excluded(k));
            None
        }
        Some(Item::Prefix(p)) => {
            lower = listing::max_bound(lower, Bound::Excluded(p));
            Some(p.as_str())
        }
        None => None,
    };
    let page = listing::page(
        &bucket,
        &Cut {
            prefix,
            delimiter,
            lower,
            skip_prefix,
            max_keys,
        },
    );

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
    w.elem("KeyCount", &page.len().to_string())
        .elem("IsTruncated", if page.truncated { "true" } else { "false" });
    w.elem_opt("ContinuationToken", token);
    if page.truncated
        && let Some(item) = &page.last
    {
        w.elem("NextContinuationToken", &encode_token(item));
    }
    if q.has("start-after") {
        w.elem("StartAfter", &enc(start_after));
    }
    for (key, o) in &page.contents {
        w.open("Contents")
            .elem("Key", &enc(key))
            .elem("LastModified", &iso8601(o.last_modified))
            .elem("ETag", &o.etag);
        if let Some(c) = &o.checksum {
            w.elem("ChecksumAlgorithm", c.algorithm.name());
            w.elem("ChecksumType", c.kind.name());
        }
        w.elem("Size", &o.size.to_string());
        if fetch_owner {
            bucket::owner(&mut w);
        }
        w.elem("StorageClass", "STANDARD").close("Contents");
    }
    for p in &page.prefixes {
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
}
