//! The MD5 of a request body (S3's ETag, and what `Content-MD5` is checked against), hashed
//! once per distinct body on each thread.
//!
//! Invariant: [`BodyMd5::finish`] returns exactly the MD5 of the bytes given to
//! [`BodyMd5::update`]. A body that is byte for byte the last body hashed on this thread (every
//! byte compared, up to [`REMEMBERED`] bytes) gets that body's digest without being hashed
//! again; any other body is hashed.
//!
//! Why: MD5 is the dearest part of a small PUT (about 10 instructions per byte, a third of all
//! the mock does for a 1 KiB PUT), and the clients the mock serves send the same bytes again
//! and again: every poolsweep workload cuts its bodies from one buffer, as load generators do.
//! Comparing 1 KiB costs a few dozen instructions. A body that differs costs one copy of at
//! most [`REMEMBERED`] bytes beside its hash, to be remembered in turn.
//!
//! The comparison is against the body remembered when this body began: requests that
//! interleave on one thread never see each other's bytes half-written.

use std::cell::RefCell;
use std::sync::Arc;

use md5::{Digest as _, Md5};

/// The longest body remembered (and copied while it is read): small enough that bodies in
/// flight stay cheap to hold, large enough for the small objects where hashing dominates.
pub const REMEMBERED: usize = 64 * 1024;

/// A body and its digest.
#[derive(Debug)]
struct Remembered {
    bytes: Vec<u8>,
    digest: [u8; 16],
}

thread_local! {
    static LAST: RefCell<Option<Arc<Remembered>>> = const { RefCell::new(None) };
}

/// The MD5 of one body, fed as it arrives.
#[derive(Debug)]
pub struct BodyMd5 {
    /// This thread's remembered body when this one began.
    last: Option<Arc<Remembered>>,
    /// Bytes so far, all equal to the start of `last` while `hasher` is `None`.
    len: usize,
    /// Hashing, once the body departed from `last` (boxed: the state is large, and every
    /// body's future holds this).
    hasher: Option<Box<Md5>>,
    /// The bytes so far, while the body may still be remembered.
    copy: Option<Vec<u8>>,
    /// Whether the body may be remembered (its declared length fits).
    rememberable: bool,
    /// The declared length, if any.
    declared: Option<u64>,
}

impl BodyMd5 {
    /// A new body, `declared` bytes long if known.
    pub fn new(declared: Option<u64>) -> Self {
        let rememberable = declared.is_none_or(|n| n <= REMEMBERED as u64);
        Self {
            last: if rememberable {
                LAST.with_borrow(Clone::clone)
            } else {
                None
            },
            len: 0,
            hasher: None,
            copy: None,
            rememberable,
            declared,
        }
    }

    /// The next bytes of the body.
    pub fn update(&mut self, d: &[u8]) {
        let start = self.len;
        self.len += d.len();
        let hasher = match &mut self.hasher {
            Some(h) => h,
            None => {
                let same = self
                    .last
                    .as_ref()
                    .is_some_and(|l| l.bytes.get(start..self.len) == Some(d));
                if same {
                    return;
                }
                // The body departs from the remembered one here: hash (and copy) what matched.
                let last = self.last.take();
                let prefix = last.as_deref().map_or(&[][..], |l| &l.bytes[..start]);
                let mut h = Md5::new();
                h.update(prefix);
                if self.rememberable {
                    let expected = self.declared.map_or(self.len.max(1024), |n| n as usize);
                    let mut copy = Vec::with_capacity(expected.min(REMEMBERED));
                    copy.extend_from_slice(prefix);
                    self.copy = Some(copy);
                }
                self.hasher.insert(Box::new(h))
            }
        };
        hasher.update(d);
        if let Some(copy) = &mut self.copy {
            if self.len <= REMEMBERED {
                copy.extend_from_slice(d);
            } else {
                self.copy = None;
            }
        }
    }

    /// The digest of every byte given.
    pub fn finish(self) -> [u8; 16] {
        match (self.hasher, self.last) {
            (Some(h), _) => {
                let digest: [u8; 16] = h.finalize().into();
                if let Some(bytes) = self.copy {
                    let remembered = Arc::new(Remembered { bytes, digest });
                    LAST.with_borrow_mut(|last| *last = Some(remembered));
                }
                digest
            }
            // Every byte matched the remembered body: the same body, or the start of it.
            (None, Some(last)) if last.bytes.len() == self.len => last.digest,
            (None, Some(last)) => Md5::digest(&last.bytes[..self.len]).into(),
            (None, None) => Md5::digest([]).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md5(parts: &[&[u8]]) -> [u8; 16] {
        let mut m = BodyMd5::new(None);
        for p in parts {
            m.update(p);
        }
        m.finish()
    }

    fn reference(parts: &[&[u8]]) -> [u8; 16] {
        Md5::digest(parts.concat()).into()
    }

    #[test]
    fn every_digest_is_exact_whatever_came_before() {
        let a = vec![b'a'; 1000];
        let mut b = a.clone();
        b[999] = b'b';
        let mut c = a.clone();
        c[0] = b'c';
        // Same body, another framing, a prefix, an extension, a change at either end, empty,
        // and the same again after each.
        let cases: Vec<Vec<&[u8]>> = vec![
            vec![&a],
            vec![&a],
            vec![&a[..10], &a[10..]],
            vec![&a[..500]],
            vec![&a],
            vec![&a, b"more"],
            vec![&a],
            vec![&b[..700], &b[700..]],
            vec![&b],
            vec![&c],
            vec![&a],
            vec![],
            vec![&a],
            vec![b""],
        ];
        for parts in &cases {
            assert_eq!(md5(parts), reference(parts), "{:?}", parts.concat().len());
        }
    }

    #[test]
    fn a_body_too_long_to_remember_is_hashed_and_not_remembered() {
        let big = vec![7u8; REMEMBERED + 1];
        let small = vec![8u8; 100];
        assert_eq!(md5(&[&small]), reference(&[&small]));
        for _ in 0..2 {
            let mut m = BodyMd5::new(Some(big.len() as u64));
            m.update(&big);
            assert_eq!(m.finish(), reference(&[&big]));
        }
        // Undeclared and too long: the copy is dropped on the way.
        assert_eq!(md5(&[&big[..1000], &big[1000..]]), reference(&[&big]));
        // The small body is still the one remembered.
        let last = LAST.with_borrow(|l| l.as_ref().map(|l| l.bytes.clone()));
        assert_eq!(last.as_deref(), Some(&small[..]));
    }

    #[test]
    fn interleaved_bodies_on_one_thread_each_get_their_own_digest() {
        let a = vec![1u8; 4096];
        let b = vec![2u8; 4096];
        assert_eq!(md5(&[&a]), reference(&[&a]));
        let mut first = BodyMd5::new(None);
        let mut second = BodyMd5::new(None);
        first.update(&a[..2048]);
        second.update(&b[..2048]);
        // `second` finishes first and is remembered; `first` still compares against `a`.
        second.update(&b[2048..]);
        assert_eq!(second.finish(), reference(&[&b]));
        first.update(&a[2048..]);
        assert_eq!(first.finish(), reference(&[&a]));
    }
}
