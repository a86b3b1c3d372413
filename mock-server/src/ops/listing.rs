//! What ListObjects (v1) and ListObjectsV2 share: one page of a bucket's keys under a prefix,
//! rolled up at a delimiter into common prefixes, in ascending byte order, and the parameters
//! both parse the same way.
//!
//! Invariant: a page holds at most `max_keys` items (keys plus common prefixes), each greater
//! than where the page starts, and `truncated` is true exactly when an item follows the last.

use std::ops::Bound;
use std::sync::Arc;

use super::S3Request;
use crate::error::{S3Error, S3Result};
use crate::store::{Bucket, Object};

/// S3's default and maximum page size.
pub(super) const MAX_KEYS: usize = 1000;

/// One listed item: an object's key, or a common prefix.
pub(super) enum Item {
    /// An object's key.
    Key(String),
    /// A common prefix (ends with the delimiter).
    Prefix(String),
}

/// Where and how a page is cut.
pub(super) struct Cut<'a> {
    /// Only keys starting with this.
    pub prefix: &'a str,
    /// Roll keys up at the first occurrence of this after the prefix ("" = no roll-up).
    pub delimiter: &'a str,
    /// The first key considered.
    pub lower: Bound<&'a str>,
    /// A common prefix already returned: its keys are skipped.
    pub skip_prefix: Option<&'a str>,
    /// Items per page.
    pub max_keys: usize,
}

/// One page of a listing.
pub(super) struct Page {
    /// Objects, by key.
    pub contents: Vec<(String, Arc<Object>)>,
    /// Common prefixes.
    pub prefixes: Vec<String>,
    /// Whether more items follow.
    pub truncated: bool,
    /// The last item on the page.
    pub last: Option<Item>,
}

impl Page {
    /// Keys plus common prefixes.
    pub(super) fn len(&self) -> usize {
        self.contents.len() + self.prefixes.len()
    }
}

/// The common prefix `key` rolls up into, if any.
pub(super) fn common_prefix<'k>(key: &'k str, prefix: &str, delimiter: &str) -> Option<&'k str> {
    if delimiter.is_empty() || !key.starts_with(prefix) {
        return None;
    }
    let i = key[prefix.len()..].find(delimiter)?;
    Some(&key[..prefix.len() + i + delimiter.len()])
}

/// The page of `bucket` that `cut` describes.
pub(super) fn page(bucket: &Bucket, cut: &Cut<'_>) -> Page {
    let mut page = Page {
        contents: Vec::new(),
        prefixes: Vec::new(),
        truncated: false,
        last: None,
    };
    for (key, object) in bucket.objects_from(cut.lower) {
        let key = &key;
        if !key.starts_with(cut.prefix) {
            if key.as_str() > cut.prefix {
                break;
            }
            continue;
        }
        if cut.skip_prefix.is_some_and(|p| key.starts_with(p)) {
            continue;
        }
        if let Some(cp) = common_prefix(key, cut.prefix, cut.delimiter) {
            if page.prefixes.last().is_some_and(|p| p == cp) {
                continue;
            }
            if page.len() >= cut.max_keys {
                page.truncated = true;
                break;
            }
            page.prefixes.push(cp.to_owned());
            page.last = Some(Item::Prefix(cp.to_owned()));
            continue;
        }
        if page.len() >= cut.max_keys {
            page.truncated = true;
            break;
        }
        page.contents.push((key.clone(), object));
        page.last = Some(Item::Key(key.clone()));
    }
    page
}

/// The larger of two lower bounds.
pub(super) fn max_bound<'a>(a: Bound<&'a str>, b: Bound<&'a str>) -> Bound<&'a str> {
    let value = |x: &Bound<&'a str>| match *x {
        Bound::Included(s) | Bound::Excluded(s) => s,
        Bound::Unbounded => "",
    };
    let a_wins = matches!(b, Bound::Unbounded)
        || value(&a) > value(&b)
        || (value(&a) == value(&b) && matches!(a, Bound::Excluded(_)));
    if a_wins { a } else { b }
}

/// `max-keys`: default and cap 1000.
pub(super) fn max_keys(req: &S3Request) -> S3Result<usize> {
    match req.query.get("max-keys") {
        None => Ok(MAX_KEYS),
        Some(v) => Ok(v
            .parse::<usize>()
            .map_err(|_| {
                S3Error::invalid_argument(
                    "Provided max-keys not an integer or within integer range",
                )
            })?
            .min(MAX_KEYS)),
    }
}

/// `encoding-type`: `url` or absent.
pub(super) fn url_encoding(req: &S3Request) -> S3Result<bool> {
    match req.query.get("encoding-type") {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(_) => Err(S3Error::invalid_argument(
            "Invalid Encoding Method specified in Request",
        )),
    }
}

/// URL-encodes a listing value as S3 does for `encoding-type=url`: a space as `+`, `/` kept,
/// everything else outside the unreserved set as `%XX`. Measured against S3 and recorded in
/// brekkylab/backlot issue 178: the key `a b.txt` is listed as `a+b.txt`, `a+b.txt` as
/// `a%2Bb.txt`, `100%.csv` as `100%25.csv`, and common prefixes the same way; botocore
/// decodes them with `unquote_plus`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_like_s3() {
        assert_eq!(url_encode("a b/c+d%é"), "a+b/c%2Bd%25%C3%A9");
    }

    #[test]
    fn common_prefixes() {
        assert_eq!(common_prefix("a/b/c", "a/", "/"), Some("a/b/"));
        assert_eq!(common_prefix("a/b", "a/", "/"), None);
        assert_eq!(common_prefix("a/b", "a/", ""), None);
        assert_eq!(common_prefix("x--y--z", "", "--"), Some("x--"));
    }

    #[test]
    fn bounds() {
        use Bound::*;
        assert_eq!(max_bound(Included("a"), Excluded("b")), Excluded("b"));
        assert_eq!(max_bound(Included("c"), Excluded("b")), Included("c"));
        assert_eq!(max_bound(Included("b"), Excluded("b")), Excluded("b"));
        assert_eq!(max_bound(Excluded("b"), Included("b")), Excluded("b"));
        assert_eq!(max_bound(Included(""), Unbounded), Included(""));
    }
}
