//! Per-request response header values (request ids, ETags) without an allocation each.
//!
//! `HeaderValue::from_bytes` copies its bytes into an allocation of their own: two or three a
//! response, allocated and freed once per request. Here the bytes are appended to a chunk that
//! this thread fills, and each value is a counted view of its part of the chunk: one reference
//! count increment instead of an allocation. A chunk is freed when the last value cut from it
//! is dropped, so a value kept long keeps its chunk ([`CHUNK`] bytes) alive: only for values
//! that live as long as the response that carries them.

use std::cell::RefCell;

use bytes::BytesMut;
use http::HeaderValue;

/// Bytes per chunk.
const CHUNK: usize = 8 * 1024;

/// Values longer than this are copied into an allocation of their own.
const LONGEST: usize = 128;

thread_local! {
    static FREE: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// A header value of `bytes` (visible ASCII and spaces/tabs, as [`HeaderValue::from_bytes`]
/// requires), cut from this thread's chunk. `None` when the bytes are not a valid value.
pub(crate) fn shared(bytes: &[u8]) -> Option<HeaderValue> {
    if bytes.len() > LONGEST {
        return HeaderValue::from_bytes(bytes).ok();
    }
    let cut = FREE.with_borrow_mut(|free| {
        if free.capacity() - free.len() < bytes.len() {
            *free = BytesMut::with_capacity(CHUNK);
        }
        free.extend_from_slice(bytes);
        free.split().freeze()
    });
    HeaderValue::from_maybe_shared(cut).ok()
}

/// Two header values, `a` and `b` (each as [`shared`] requires), cut from this thread's chunk
/// in one go. `None` when either is not a valid value.
pub(crate) fn shared_pair(a: &[u8], b: &[u8]) -> Option<(HeaderValue, HeaderValue)> {
    if a.len() + b.len() > LONGEST {
        return Some((
            HeaderValue::from_bytes(a).ok()?,
            HeaderValue::from_bytes(b).ok()?,
        ));
    }
    let mut second = FREE.with_borrow_mut(|free| {
        if free.capacity() - free.len() < a.len() + b.len() {
            *free = BytesMut::with_capacity(CHUNK);
        }
        free.extend_from_slice(a);
        free.extend_from_slice(b);
        free.split().freeze()
    });
    let first = second.split_to(a.len());
    Some((
        HeaderValue::from_maybe_shared(first).ok()?,
        HeaderValue::from_maybe_shared(second).ok()?,
    ))
}

/// The decimal value `n` (a `Content-Length`), cut from this thread's chunk.
pub(crate) fn number(n: u64) -> HeaderValue {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut rest = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    shared(&digits[i..]).unwrap_or_else(|| HeaderValue::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_their_bytes_across_chunks() {
        let mut kept = Vec::new();
        for i in 0..3 * CHUNK / 40 {
            let text = format!("\"{i:038}\"");
            let v = shared(text.as_bytes()).unwrap();
            assert_eq!(v.as_bytes(), text.as_bytes());
            kept.push((text, v));
        }
        // Values cut earlier are unchanged by the later ones.
        for (text, v) in &kept {
            assert_eq!(v.as_bytes(), text.as_bytes());
        }
        assert!(shared(b"bad\nvalue").is_none());
        for n in [0, 7, 10, 1024, 99_999, u64::MAX] {
            assert_eq!(number(n), HeaderValue::from(n));
        }
        let long = "x".repeat(LONGEST + 1);
        assert_eq!(shared(long.as_bytes()).unwrap().as_bytes(), long.as_bytes());
        for (a, b) in [("ab", "cde"), ("", "x"), ("x", ""), (&long[..], "y")] {
            let (va, vb) = shared_pair(a.as_bytes(), b.as_bytes()).unwrap();
            assert_eq!((va.as_bytes(), vb.as_bytes()), (a.as_bytes(), b.as_bytes()));
        }
        assert!(shared_pair(b"ok", b"bad\n").is_none());
    }
}
