//! Buckets, objects and multipart uploads, held in lock-free ordered maps.
//!
//! Invariants: keys are kept in ascending byte order (what ListObjectsV2 returns); no global
//! lock is taken on the request path (buckets and objects live in `crossbeam` skip lists, an
//! object is replaced by swapping one `Arc`); the bytes accounted in `used` never exceed the
//! memory cap, because a write reserves its bytes before it is stored and gives them back if
//! it is refused.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use bytes::Bytes;
use crossbeam_skiplist::SkipMap;

use crate::checksum::{Algorithm, ChecksumType, ObjectChecksum};
use crate::config::StorageMode;
use crate::error::{S3Error, S3Result};

/// The bytes of an object.
#[derive(Clone, Debug)]
pub enum Data {
    /// Stored byte for byte.
    Stored(Bytes),
    /// Discarded; a GET returns [`generated`] bytes of this length.
    Generated(u64),
}

/// One object's metadata and data.
#[derive(Clone, Debug)]
pub struct Object {
    /// The data.
    pub data: Data,
    /// Size in bytes.
    pub size: u64,
    /// Quoted ETag.
    pub etag: String,
    /// Last modification time.
    pub last_modified: SystemTime,
    /// Content-Type, as sent.
    pub content_type: Option<String>,
    /// Other standard headers that round-trip (Content-Encoding, Cache-Control, ...).
    pub headers: Vec<(String, String)>,
    /// `x-amz-meta-*` headers (names lowercased, without the prefix).
    pub metadata: Vec<(String, String)>,
    /// The checksum the client sent and the mock verified (or, for a multipart object, the
    /// one computed from its parts), if any.
    pub checksum: Option<ObjectChecksum>,
    /// The sizes of a multipart object's parts, in order (`?partNumber=N` reads part N).
    pub parts: Option<Arc<[u64]>>,
}

/// A part of a multipart upload.
#[derive(Clone, Debug)]
pub struct Part {
    /// The part's data.
    pub data: Data,
    /// Size in bytes.
    pub size: u64,
    /// MD5 of the part.
    pub md5: [u8; 16],
    /// Upload time.
    pub last_modified: SystemTime,
    /// Verified checksum, if the client sent one.
    pub checksum: Option<(Algorithm, String)>,
}

/// A multipart upload in progress.
#[derive(Debug)]
pub struct Upload {
    /// Object key.
    pub key: String,
    /// The metadata the object will get.
    pub template: Object,
    /// Uploaded parts by number.
    pub parts: SkipMap<u32, Part>,
    /// Start time.
    pub initiated: SystemTime,
    /// The checksum algorithm and type named at CreateMultipartUpload.
    pub checksum: Option<(Algorithm, ChecksumType)>,
}

/// What CompleteMultipartUpload answered, kept so that completing the same upload again gets
/// the same answer.
#[derive(Clone, Debug)]
pub struct Completed {
    /// Object key.
    pub key: String,
    /// The object's ETag.
    pub etag: String,
    /// The object's checksum.
    pub checksum: Option<ObjectChecksum>,
}

/// How many completed uploads a bucket remembers (oldest forgotten first).
pub const COMPLETED_KEPT: usize = 10_000;

/// A conditional write found the key changed between its precondition check and its store.
#[derive(Debug)]
pub struct Conflict;

/// A bucket.
#[derive(Debug)]
pub struct Bucket {
    /// Creation time.
    pub created: SystemTime,
    /// Objects by key, in byte order.
    pub objects: SkipMap<String, Arc<Object>>,
    /// Multipart uploads by id.
    pub uploads: SkipMap<String, Arc<Upload>>,
    /// Completed multipart uploads by id, at most [`COMPLETED_KEPT`] (ids grow with time).
    pub completed: SkipMap<String, Completed>,
}

/// All buckets.
#[derive(Debug)]
pub struct Store {
    buckets: SkipMap<String, Arc<Bucket>>,
    mode: StorageMode,
    cap: u64,
    used: AtomicU64,
    next_upload: AtomicU64,
}

/// 1 MiB of deterministic pseudo-random bytes that generated bodies are cut from.
static PATTERN: LazyLock<Bytes> = LazyLock::new(|| {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut v = Vec::with_capacity(1 << 20);
    while v.len() < 1 << 20 {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    Bytes::from(v)
});

/// Deterministic bytes `[start, end)` of a generated object, as chunks of at most 1 MiB that
/// share one static buffer (no copy).
pub fn generated(start: u64, end: u64) -> impl Iterator<Item = Bytes> {
    let len = PATTERN.len() as u64;
    let mut pos = start;
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        let off = pos % len;
        let n = (len - off).min(end - pos);
        pos += n;
        Some(PATTERN.slice(off as usize..(off + n) as usize))
    })
}

/// Checks a bucket name against S3's rules for new buckets.
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !name.starts_with("xn--")
        && !name.ends_with("-s3alias")
}

impl Store {
    /// An empty store.
    pub fn new(mode: StorageMode, cap: u64) -> Self {
        Self {
            buckets: SkipMap::new(),
            mode,
            cap,
            used: AtomicU64::new(0),
            next_upload: AtomicU64::new(1),
        }
    }

    /// The storage mode.
    pub fn mode(&self) -> StorageMode {
        self.mode
    }

    /// Bytes of object data held now.
    pub fn used_bytes(&self) -> u64 {
        self.used.load(Relaxed)
    }

    /// Turns received bytes into stored data, reserving memory for them.
    pub fn keep(&self, bytes: Bytes) -> S3Result<Data> {
        match self.mode {
            StorageMode::Discard => Ok(Data::Generated(bytes.len() as u64)),
            StorageMode::Memory => {
                self.reserve(bytes.len() as u64)?;
                Ok(Data::Stored(bytes))
            }
        }
    }

    fn reserve(&self, n: u64) -> S3Result<()> {
        let before = self.used.fetch_add(n, Relaxed);
        if before + n > self.cap {
            self.used.fetch_sub(n, Relaxed);
            return Err(S3Error::memory_cap_reached());
        }
        Ok(())
    }

    /// Gives back the memory of data that is no longer referenced by the store.
    pub fn release(&self, data: &Data) {
        if let Data::Stored(b) = data {
            self.used.fetch_sub(b.len() as u64, Relaxed);
        }
    }

    /// The bucket, or NoSuchBucket.
    pub fn bucket(&self, name: &str) -> S3Result<Arc<Bucket>> {
        self.buckets
            .get(name)
            .map(|e| e.value().clone())
            .ok_or_else(|| S3Error::no_such_bucket().with_resource(format!("/{name}")))
    }

    /// Creates a bucket. Errors: InvalidBucketName, BucketAlreadyOwnedByYou.
    pub fn create_bucket(&self, name: &str) -> S3Result<()> {
        if !valid_bucket_name(name) {
            return Err(S3Error::invalid_bucket_name().with_resource(format!("/{name}")));
        }
        let bucket = Arc::new(Bucket {
            created: SystemTime::now(),
            objects: SkipMap::new(),
            uploads: SkipMap::new(),
            completed: SkipMap::new(),
        });
        let entry = self.buckets.get_or_insert(name.to_owned(), bucket.clone());
        if !Arc::ptr_eq(entry.value(), &bucket) {
            return Err(S3Error::bucket_already_owned_by_you().with_resource(format!("/{name}")));
        }
        Ok(())
    }

    /// Deletes an empty bucket. Errors: NoSuchBucket, BucketNotEmpty.
    pub fn delete_bucket(&self, name: &str) -> S3Result<()> {
        let bucket = self.bucket(name)?;
        if !bucket.objects.is_empty() {
            return Err(S3Error::bucket_not_empty().with_resource(format!("/{name}")));
        }
        for upload in bucket.uploads.iter() {
            for part in upload.value().parts.iter() {
                self.release(&part.value().data);
            }
        }
        self.buckets.remove(name);
        Ok(())
    }

    /// All buckets with their creation time, by name.
    pub fn list_buckets(&self) -> Vec<(String, SystemTime)> {
        self.buckets
            .iter()
            .map(|e| (e.key().clone(), e.value().created))
            .collect()
    }

    /// Stores an object, replacing (and releasing) any previous one.
    pub fn put(&self, bucket: &Bucket, key: &str, object: Object) {
        let old = bucket.objects.get(key).map(|e| e.value().clone());
        bucket.objects.insert(key.to_owned(), Arc::new(object));
        if let Some(old) = old {
            self.release(&old.data);
        }
    }

    /// Stores an object only if the key still holds `seen` (the object a conditional write's
    /// preconditions were checked against, or nothing), atomically; otherwise gives the
    /// object's memory back and returns [`Conflict`].
    pub fn put_if(
        &self,
        bucket: &Bucket,
        key: &str,
        object: Object,
        seen: Option<&Arc<Object>>,
    ) -> Result<(), Conflict> {
        let new = Arc::new(object);
        let conflict = |store: &Self| {
            store.release(&new.data);
            Err(Conflict)
        };
        if seen.is_some() && !bucket.objects.contains_key(key) {
            return conflict(self);
        }
        let entry = bucket
            .objects
            .compare_insert(key.to_owned(), new.clone(), |current| {
                seen.is_some_and(|s| Arc::ptr_eq(current, s))
            });
        if !Arc::ptr_eq(entry.value(), &new) {
            return conflict(self);
        }
        if let Some(old) = seen {
            self.release(&old.data);
        }
        Ok(())
    }

    /// Remembers a completed upload, forgetting the oldest beyond [`COMPLETED_KEPT`].
    pub fn remember_completed(&self, bucket: &Bucket, upload_id: &str, done: Completed) {
        bucket.completed.insert(upload_id.to_owned(), done);
        while bucket.completed.len() > COMPLETED_KEPT {
            bucket.completed.pop_front();
        }
    }

    /// Deletes an object if present (S3 answers 204 either way).
    pub fn delete(&self, bucket: &Bucket, key: &str) {
        if let Some(e) = bucket.objects.remove(key) {
            self.release(&e.value().data);
        }
    }

    /// A fresh upload id.
    pub fn new_upload_id(&self) -> String {
        let n = self.next_upload.fetch_add(1, Relaxed);
        format!("mock-upload-{n:016x}")
    }

    /// Removes an upload and releases its parts.
    pub fn drop_upload(&self, bucket: &Bucket, upload_id: &str) -> Option<Arc<Upload>> {
        let e = bucket.uploads.remove(upload_id)?;
        Some(e.value().clone())
    }

    /// Releases the memory of every part of an upload that was aborted.
    pub fn release_upload(&self, upload: &Upload) {
        for part in upload.parts.iter() {
            self.release(&part.value().data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.example", "a1b2c3"] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            "ABC",
            "-abc",
            "abc-",
            "a..b",
            "192.168.0.1",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn memory_cap_refuses_and_gives_back() {
        let store = Store::new(StorageMode::Memory, 10);
        let a = store.keep(Bytes::from_static(b"12345678")).unwrap();
        assert!(store.keep(Bytes::from_static(b"123")).is_err());
        assert_eq!(store.used_bytes(), 8);
        store.release(&a);
        assert_eq!(store.used_bytes(), 0);
    }

    fn object(store: &Store, body: &'static [u8]) -> Object {
        Object {
            data: store.keep(Bytes::from_static(body)).unwrap(),
            size: body.len() as u64,
            etag: String::new(),
            last_modified: SystemTime::now(),
            content_type: None,
            headers: Vec::new(),
            metadata: Vec::new(),
            checksum: None,
            parts: None,
        }
    }

    #[test]
    fn conditional_put_stores_only_over_what_it_saw() {
        let store = Store::new(StorageMode::Memory, 1 << 20);
        store.create_bucket("b12").unwrap();
        let bucket = store.bucket("b12").unwrap();
        // Nothing seen, nothing there: stored.
        store
            .put_if(&bucket, "k", object(&store, b"one"), None)
            .unwrap();
        let first = bucket.objects.get("k").unwrap().value().clone();
        // Nothing seen, but something there now: conflict, memory given back.
        assert!(
            store
                .put_if(&bucket, "k", object(&store, b"two"), None)
                .is_err()
        );
        assert_eq!(store.used_bytes(), 3);
        // The object seen is still there: replaced, the old one's memory given back.
        store
            .put_if(&bucket, "k", object(&store, b"three"), Some(&first))
            .unwrap();
        assert_eq!(store.used_bytes(), 5);
        // The object seen was replaced meanwhile, or deleted: conflict.
        assert!(
            store
                .put_if(&bucket, "k", object(&store, b"four"), Some(&first))
                .is_err()
        );
        store.delete(&bucket, "k");
        assert!(
            store
                .put_if(&bucket, "k", object(&store, b"five"), Some(&first))
                .is_err()
        );
        assert!(bucket.objects.is_empty());
        assert_eq!(store.used_bytes(), 0);
    }

    #[test]
    fn completed_uploads_are_remembered_up_to_the_cap() {
        let store = Store::new(StorageMode::Memory, 1 << 20);
        store.create_bucket("b12").unwrap();
        let bucket = store.bucket("b12").unwrap();
        for _ in 0..COMPLETED_KEPT + 2 {
            let done = Completed {
                key: "k".to_owned(),
                etag: "\"e-1\"".to_owned(),
                checksum: None,
            };
            store.remember_completed(&bucket, &store.new_upload_id(), done);
        }
        assert_eq!(bucket.completed.len(), COMPLETED_KEPT);
        // The oldest ids went first.
        assert_eq!(
            bucket.completed.front().unwrap().key(),
            "mock-upload-0000000000000003"
        );
    }

    #[test]
    fn generated_bytes_are_deterministic_and_sized() {
        let total: usize = generated(10, 3 << 20).map(|b| b.len()).sum();
        assert_eq!(total, (3 << 20) - 10);
        let a: Vec<u8> = generated(5, 100).flat_map(|b| b.to_vec()).collect();
        let b: Vec<u8> = generated(0, 100).flat_map(|b| b.to_vec()).collect();
        assert_eq!(&a[..], &b[5..]);
    }
}
