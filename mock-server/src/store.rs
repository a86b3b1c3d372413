//! Buckets, objects and multipart uploads, and the memory they hold.
//!
//! Invariants:
//!
//! - Keys are kept in ascending byte order (what the listings return). Reads take no lock:
//!   buckets and objects live in `crossbeam` skip lists, each key's object in a slot that is
//!   swapped whole.
//! - The bytes accounted in `used` are exactly the bytes of stored data alive plus the
//!   reservations of bodies being read, and never pass the memory cap. A body is read only
//!   into memory reserved for it beforehand ([`Reservation`], from its declared length); the
//!   reservation becomes the stored data's share ([`Stored`]), and every [`Stored`] gives its
//!   bytes back when its last handle is dropped, so no interleaving can count them twice or
//!   lose them.
//! - Memory is given back when data leaves the store, not later: a replaced or deleted object
//!   is swapped out of its slot and a finished upload's parts are taken out under its lock, so
//!   the skip lists' deferred reclamation never holds object bytes. (Only a request still
//!   reading the object, a GET, keeps it alive a little longer.)
//! - Writes to one key are serialised by one of [`STRIPES`] mutexes, held for a swap and never
//!   across an await: a write replaces exactly the object it saw, a conditional write checks
//!   its precondition and stores in one step, and deleting a bucket (which holds every stripe)
//!   cannot race a write into it.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use crossbeam_skiplist::SkipMap;

use crate::checksum::{Algorithm, ChecksumType, ObjectChecksum};
use crate::config::StorageMode;
use crate::error::{S3Error, S3Result};

/// How many mutexes serialise writes to keys (a key's stripe is picked by its hash).
pub const STRIPES: usize = 64;

/// Bytes held in memory for the store, accounted against its cap while any handle is alive.
#[derive(Clone)]
pub struct Stored(Arc<Held>);

struct Held {
    bytes: Bytes,
    used: Arc<AtomicU64>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.used.fetch_sub(self.bytes.len() as u64, Relaxed);
    }
}

impl std::ops::Deref for Stored {
    type Target = Bytes;

    fn deref(&self) -> &Bytes {
        &self.0.bytes
    }
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stored({} bytes)", self.0.bytes.len())
    }
}

/// The bytes of an object.
#[derive(Clone, Debug)]
pub enum Data {
    /// Stored byte for byte.
    Stored(Stored),
    /// Discarded; a GET returns [`generated`] bytes of this length.
    Generated(u64),
}

impl Data {
    /// Bytes held in memory for it.
    pub fn held(&self) -> u64 {
        match self {
            Data::Stored(b) => b.len() as u64,
            Data::Generated(_) => 0,
        }
    }
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

/// Bytes of the memory cap held for a body while it is read: given back when dropped, unless
/// they become stored data ([`keep`](Self::keep)).
#[derive(Debug)]
pub struct Reservation<'a> {
    store: &'a Store,
    bytes: u64,
}

impl Reservation<'_> {
    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Holds `n` more bytes, or refuses with `MockStorageFull` when they cannot fit.
    pub fn grow(&mut self, n: u64) -> S3Result<()> {
        self.store.take(n)?;
        self.bytes += n;
        Ok(())
    }

    /// The bytes, now stored data: as many bytes as they hold stay accounted (a reservation
    /// never holds fewer; any surplus is given back).
    pub fn keep(mut self, data: Bytes) -> Data {
        let len = data.len() as u64;
        debug_assert!(
            len <= self.bytes,
            "{len} bytes kept from a {} reservation",
            self.bytes
        );
        self.store
            .used
            .fetch_sub(self.bytes.saturating_sub(len), Relaxed);
        self.bytes = 0;
        Data::Stored(Stored(Arc::new(Held {
            bytes: data,
            used: self.store.used.clone(),
        })))
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.store.used.fetch_sub(self.bytes, Relaxed);
        }
    }
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
    /// Start time.
    pub initiated: SystemTime,
    /// The checksum algorithm and type named at CreateMultipartUpload.
    pub checksum: Option<(Algorithm, ChecksumType)>,
    /// Uploaded parts by number, while the upload is open (`None` once it was completed,
    /// aborted or its bucket deleted).
    parts: Mutex<Option<BTreeMap<u32, Part>>>,
}

impl Upload {
    /// A new, open upload with no parts.
    pub fn new(key: String, template: Object, checksum: Option<(Algorithm, ChecksumType)>) -> Self {
        Self {
            key,
            template,
            initiated: SystemTime::now(),
            checksum,
            parts: Mutex::new(Some(BTreeMap::new())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<BTreeMap<u32, Part>>> {
        // A panic elsewhere cannot leave the map half-changed: every change is one call.
        self.parts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Part `number`, if uploaded.
    pub fn part(&self, number: u32) -> Option<Part> {
        self.lock().as_ref()?.get(&number).cloned()
    }

    /// Up to `max` parts numbered above `marker`, and whether more follow.
    pub fn parts_after(&self, marker: u32, max: usize) -> (Vec<(u32, Part)>, bool) {
        let guard = self.lock();
        let Some(parts) = guard.as_ref() else {
            return (Vec::new(), false);
        };
        let mut it = parts
            .range((Bound::Excluded(marker), Bound::Unbounded))
            .map(|(n, p)| (*n, p.clone()));
        let page: Vec<_> = it.by_ref().take(max).collect();
        let more = it.next().is_some();
        (page, more)
    }

    /// Closes the upload and hands back its parts (`None` if it was already closed).
    fn close(&self) -> Option<BTreeMap<u32, Part>> {
        self.lock().take()
    }
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

/// An object slot: emptied when its key is deleted.
type Slot = ArcSwapOption<Object>;

/// A bucket.
#[derive(Debug)]
pub struct Bucket {
    /// Creation time.
    pub created: SystemTime,
    /// Objects by key, in byte order.
    objects: SkipMap<String, Slot>,
    /// Multipart uploads by id.
    pub uploads: SkipMap<String, Arc<Upload>>,
    /// Completed multipart uploads by id, at most [`COMPLETED_KEPT`] (ids grow with time).
    pub completed: SkipMap<String, Completed>,
    /// Set (under every stripe) when the bucket is deleted: no write may land in it after.
    deleted: AtomicBool,
}

impl Bucket {
    /// The object at `key`.
    pub fn object(&self, key: &str) -> Option<Arc<Object>> {
        self.objects.get(key)?.value().load_full()
    }

    /// The objects whose keys are within `lower..`, in key order.
    pub fn objects_from<'a>(
        &'a self,
        lower: Bound<&'a str>,
    ) -> impl Iterator<Item = (String, Arc<Object>)> + 'a {
        self.objects
            .range::<str, _>((lower, Bound::Unbounded))
            .filter_map(|e| e.value().load_full().map(|o| (e.key().clone(), o)))
    }

    /// Whether the bucket holds any object.
    pub fn has_objects(&self) -> bool {
        self.objects.iter().any(|e| e.value().load().is_some())
    }

    /// The open upload `id` of `key`.
    pub fn upload(&self, id: &str, key: &str) -> Option<Arc<Upload>> {
        self.uploads
            .get(id)
            .map(|e| e.value().clone())
            .filter(|u| u.key == key)
    }
}

/// All buckets.
#[derive(Debug)]
pub struct Store {
    buckets: SkipMap<String, Arc<Bucket>>,
    mode: StorageMode,
    cap: u64,
    used: Arc<AtomicU64>,
    next_upload: AtomicU64,
    stripes: Box<[Mutex<()>]>,
}
/// The hash that picks a key's stripe: FxHash's mix, eight bytes at a time.
fn stripe_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().unwrap_or_default()));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    // The high bits are the best mixed.
    mix(h, u64::from_le_bytes(tail)).rotate_left(32)
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
            used: Arc::new(AtomicU64::new(0)),
            next_upload: AtomicU64::new(1),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// The storage mode.
    pub fn mode(&self) -> StorageMode {
        self.mode
    }

    /// Bytes accounted now: stored data plus bodies being read.
    pub fn used_bytes(&self) -> u64 {
        self.used.load(Relaxed)
    }

    /// Bytes of data the store holds now, counted by walking it: every object and every part
    /// of an open upload. Once no request is running, equal to [`used_bytes`](Self::used_bytes).
    pub fn held_bytes(&self) -> u64 {
        let mut total = 0;
        for b in self.buckets.iter() {
            for (_, o) in b.value().objects_from(Bound::Unbounded) {
                total += o.data.held();
            }
            for u in b.value().uploads.iter() {
                if let Some(parts) = u.value().lock().as_ref() {
                    total += parts.values().map(|p| p.data.held()).sum::<u64>();
                }
            }
        }
        total
    }

    /// Turns bytes already in memory (a copied object, a completed upload) into stored data,
    /// reserving memory for them.
    pub fn keep(&self, bytes: Bytes) -> S3Result<Data> {
        match self.mode {
            StorageMode::Discard => Ok(Data::Generated(bytes.len() as u64)),
            StorageMode::Memory => Ok(self.reserve(bytes.len() as u64)?.keep(bytes)),
        }
    }

    /// Reserves `n` bytes of the memory cap for a body about to be read, or refuses at once
    /// with `MockStorageFull` when they cannot fit beside what is stored and reserved.
    pub fn reserve(&self, n: u64) -> S3Result<Reservation<'_>> {
        self.take(n)?;
        Ok(Reservation {
            store: self,
            bytes: n,
        })
    }

    /// Adds `n` to the accounted bytes unless that would pass the cap. Exact under any
    /// interleaving: the check and the addition are one compare-and-swap.
    fn take(&self, n: u64) -> S3Result<()> {
        self.used
            .fetch_update(Relaxed, Relaxed, |used| {
                used.checked_add(n).filter(|total| *total <= self.cap)
            })
            .map(drop)
            .map_err(|_| S3Error::memory_cap_reached())
    }

    /// The stripe that serialises writes to `key`. Which stripe is a matter of spreading keys,
    /// not of security (a client that aims its keys at one stripe only serialises its own
    /// writes): a word-at-a-time multiply hash, not SipHash (about a hundred instructions per
    /// short key).
    fn stripe(&self, key: &str) -> MutexGuard<'_, ()> {
        let i = (stripe_hash(key.as_bytes()) as usize) % self.stripes.len();
        self.stripes[i].lock().unwrap_or_else(|e| e.into_inner())
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
            deleted: AtomicBool::new(false),
        });
        let entry = self.buckets.get_or_insert(name.to_owned(), bucket.clone());
        if !Arc::ptr_eq(entry.value(), &bucket) {
            return Err(S3Error::bucket_already_owned_by_you().with_resource(format!("/{name}")));
        }
        Ok(())
    }

    /// Deletes an empty bucket, closing its uploads. Errors: NoSuchBucket, BucketNotEmpty.
    pub fn delete_bucket(&self, name: &str) -> S3Result<()> {
        let bucket = self.bucket(name)?;
        // Every stripe, always in the same order: no write can land in the bucket meanwhile.
        let _all: Vec<MutexGuard<'_, ()>> = self
            .stripes
            .iter()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        if bucket.deleted.load(Relaxed) {
            return Err(S3Error::no_such_bucket().with_resource(format!("/{name}")));
        }
        if bucket.has_objects() {
            return Err(S3Error::bucket_not_empty().with_resource(format!("/{name}")));
        }
        bucket.deleted.store(true, Relaxed);
        for upload in bucket.uploads.iter() {
            upload.value().close();
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

    /// Stores an object, replacing any previous one (whose memory is given back now).
    /// Errors: NoSuchBucket if the bucket was deleted meanwhile.
    pub fn put(&self, bucket: &Bucket, key: &str, object: Object) -> S3Result<()> {
        let new = Arc::new(object);
        let old = {
            let _stripe = self.stripe(key);
            if bucket.deleted.load(Relaxed) {
                return Err(S3Error::no_such_bucket());
            }
            match bucket.objects.get(key) {
                Some(e) => e.value().swap(Some(new)),
                None => {
                    bucket
                        .objects
                        .insert(key.to_owned(), ArcSwapOption::new(Some(new)));
                    None
                }
            }
        };
        // Dropped outside the stripe: the old object's bytes go back to the allocator now.
        drop(old);
        Ok(())
    }

    /// Stores an object only if the key still holds `seen` (the object a conditional write's
    /// preconditions were checked against, or nothing), in one step under the key's stripe;
    /// otherwise the object is dropped (its memory given back) and [`Conflict`] returned.
    pub fn put_if(
        &self,
        bucket: &Bucket,
        key: &str,
        object: Object,
        seen: Option<&Arc<Object>>,
    ) -> Result<(), Conflict> {
        let new = Arc::new(object);
        let old = {
            let _stripe = self.stripe(key);
            if bucket.deleted.load(Relaxed) {
                return Err(Conflict);
            }
            let slot = bucket.objects.get(key);
            let current = slot.as_ref().and_then(|e| e.value().load_full());
            let unchanged = match (current.as_ref(), seen) {
                (None, None) => true,
                (Some(c), Some(s)) => Arc::ptr_eq(c, s),
                _ => false,
            };
            if !unchanged {
                return Err(Conflict);
            }
            match slot {
                Some(e) => e.value().swap(Some(new)),
                None => {
                    bucket
                        .objects
                        .insert(key.to_owned(), ArcSwapOption::new(Some(new)));
                    None
                }
            }
        };
        drop(old);
        Ok(())
    }

    /// Remembers a completed upload, forgetting the oldest beyond [`COMPLETED_KEPT`].
    pub fn remember_completed(&self, bucket: &Bucket, upload_id: &str, done: Completed) {
        bucket.completed.insert(upload_id.to_owned(), done);
        while bucket.completed.len() > COMPLETED_KEPT {
            bucket.completed.pop_front();
        }
    }

    /// Deletes an object if present (S3 answers 204 either way); its memory is given back now.
    pub fn delete(&self, bucket: &Bucket, key: &str) {
        let old = {
            let _stripe = self.stripe(key);
            bucket
                .objects
                .remove(key)
                .and_then(|e| e.value().swap(None))
        };
        drop(old);
    }

    /// A fresh upload id.
    pub fn new_upload_id(&self) -> String {
        let n = self.next_upload.fetch_add(1, Relaxed);
        format!("mock-upload-{n:016x}")
    }

    /// Adds an upload under `id`. Errors: NoSuchBucket if the bucket was deleted meanwhile.
    pub fn add_upload(&self, bucket: &Bucket, id: &str, upload: Upload) -> S3Result<()> {
        let _stripe = self.stripe(id);
        if bucket.deleted.load(Relaxed) {
            return Err(S3Error::no_such_bucket());
        }
        bucket.uploads.insert(id.to_owned(), Arc::new(upload));
        Ok(())
    }

    /// Stores part `number` of an open upload, replacing any previous one (whose memory is
    /// given back now). Errors: NoSuchUpload if the upload was closed meanwhile.
    pub fn put_part(&self, upload: &Upload, number: u32, part: Part) -> S3Result<()> {
        let old = {
            let mut guard = upload.lock();
            let parts = guard.as_mut().ok_or_else(S3Error::no_such_upload)?;
            parts.insert(number, part)
        };
        drop(old);
        Ok(())
    }

    /// Removes upload `id` and closes it: its parts' memory is given back now, unless the
    /// caller keeps some (the upload is returned with them). `None` if it was gone already.
    pub fn drop_upload(
        &self,
        bucket: &Bucket,
        upload_id: &str,
    ) -> Option<(Arc<Upload>, BTreeMap<u32, Part>)> {
        let e = {
            let _stripe = self.stripe(upload_id);
            bucket.uploads.remove(upload_id)?
        };
        let upload = e.value().clone();
        let parts = upload.close()?;
        Some((upload, parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_over_every_stripe() {
        let mut used = [0usize; STRIPES];
        for i in 0..64 * STRIPES {
            for key in [format!("k{i}"), format!("prefix/{i:08}/object.bin")] {
                used[(stripe_hash(key.as_bytes()) as usize) % STRIPES] += 1;
            }
        }
        // 128 keys a stripe on average; none empty or more than twice as full.
        assert!(used.iter().all(|&n| n > 0 && n < 256), "{used:?}");
    }

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
        let copy = a.clone();
        drop(a);
        assert_eq!(store.used_bytes(), 8, "a handle is still alive");
        drop(copy);
        assert_eq!(store.used_bytes(), 0);
    }

    #[test]
    fn reservations_hold_the_cap_until_dropped_or_kept() {
        let store = Store::new(StorageMode::Memory, 100);
        let a = store.reserve(60).unwrap();
        assert_eq!(store.reserve(41).unwrap_err().code, "MockStorageFull");
        let mut b = store.reserve(40).unwrap();
        assert!(b.grow(1).is_err());
        assert_eq!(store.used_bytes(), 100);
        drop(a);
        assert_eq!(store.used_bytes(), 40);
        // Kept with fewer bytes than reserved: the surplus goes back.
        b.grow(10).unwrap();
        let data = b.keep(Bytes::from_static(b"0123456789"));
        assert_eq!(store.used_bytes(), 10);
        drop(data);
        assert_eq!(store.used_bytes(), 0);
        assert!(store.reserve(u64::MAX).is_err());
    }

    fn object(store: &Store, n: usize) -> S3Result<Object> {
        Ok(Object {
            data: store.keep(Bytes::from(vec![7u8; n]))?,
            size: n as u64,
            etag: String::new(),
            last_modified: SystemTime::now(),
            content_type: None,
            headers: Vec::new(),
            metadata: Vec::new(),
            checksum: None,
            parts: None,
        })
    }

    fn part(store: &Store, n: usize) -> S3Result<Part> {
        Ok(Part {
            data: store.keep(Bytes::from(vec![1u8; n]))?,
            size: n as u64,
            md5: [0; 16],
            last_modified: SystemTime::now(),
            checksum: None,
        })
    }

    /// Storms of writes on four shared keys and two shared uploads from eight threads: puts,
    /// deletes, parts replaced, uploads completed and restarted, a bucket created and deleted
    /// around them. After each storm the accounted bytes are exactly the bytes held, and a
    /// fill stores exactly the cap.
    #[test]
    fn accounting_is_exact_under_any_interleaving() {
        const CAP: u64 = 1 << 20;
        for storm in 0..20 {
            let store = Store::new(StorageMode::Memory, CAP);
            store.create_bucket("storm").unwrap();
            let bucket = store.bucket("storm").unwrap();
            let template = object(&store, 0).unwrap();
            for u in 0..2 {
                let id = format!("u{u}");
                store
                    .add_upload(
                        &bucket,
                        &id,
                        Upload::new(format!("k{u}"), template.clone(), None),
                    )
                    .unwrap();
            }
            std::thread::scope(|scope| {
                for t in 0..8usize {
                    let (store, bucket, template) = (&store, &bucket, &template);
                    scope.spawn(move || {
                        let mut x = (storm * 8 + t) as u64 * 0x9E37_79B9 + 1;
                        for i in 0..3000usize {
                            x ^= x << 13;
                            x ^= x >> 7;
                            x ^= x << 17;
                            let key = format!("k{}", x % 4);
                            let size = 1 + (x >> 8) as usize % 3000;
                            let id = format!("u{}", x % 2);
                            match (x >> 20) % 8 {
                                0..=2 => {
                                    if let Ok(o) = object(store, size) {
                                        let _ = store.put(bucket, &key, o);
                                    }
                                }
                                3 => store.delete(bucket, &key),
                                4 | 5 => {
                                    if let (Some(u), Ok(p)) =
                                        (bucket.upload(&id, &key), part(store, size))
                                    {
                                        let _ = store.put_part(&u, (i % 3) as u32 + 1, p);
                                    }
                                }
                                6 => {
                                    // Complete: the object from the parts, then a fresh upload.
                                    if let Some(u) = bucket.upload(&id, &format!("k{}", x % 2)) {
                                        let size: u64 =
                                            (1..=3).filter_map(|n| u.part(n)).map(|p| p.size).sum();
                                        if let Ok(o) = object(store, size as usize)
                                            && store.drop_upload(bucket, &id).is_some()
                                        {
                                            let _ = store.put(bucket, &u.key, o);
                                            let _ = store.add_upload(
                                                bucket,
                                                &id,
                                                Upload::new(u.key.clone(), template.clone(), None),
                                            );
                                        }
                                    }
                                }
                                _ => {
                                    // A bucket created and deleted beside the storm.
                                    let _ = store.create_bucket("other");
                                    if let Ok(b) = store.bucket("other")
                                        && let Ok(o) = object(store, size)
                                    {
                                        let _ = store.put(&b, "x", o);
                                        store.delete(&b, "x");
                                        let _ = store.delete_bucket("other");
                                    }
                                }
                            }
                        }
                    });
                }
            });
            assert_eq!(store.used_bytes(), store.held_bytes(), "storm {storm}");
            // A fill stores exactly what is left of the cap, and not one byte more.
            let left = CAP - store.used_bytes();
            store
                .put(&bucket, "fill", object(&store, left as usize).unwrap())
                .unwrap();
            assert_eq!(store.used_bytes(), CAP, "storm {storm}");
            assert_eq!(store.held_bytes(), CAP, "storm {storm}");
            assert_eq!(object(&store, 1).unwrap_err().code, "MockStorageFull");
        }
    }

    fn small(store: &Store, body: &'static [u8]) -> Object {
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
            .put_if(&bucket, "k", small(&store, b"one"), None)
            .unwrap();
        let first = bucket.object("k").unwrap();
        // Nothing seen, but something there now: conflict, memory given back.
        assert!(
            store
                .put_if(&bucket, "k", small(&store, b"two"), None)
                .is_err()
        );
        assert_eq!(store.used_bytes(), 3);
        // The object seen is still there: replaced, the old one's memory given back once the
        // last handle on it (`first`, here) is gone.
        store
            .put_if(&bucket, "k", small(&store, b"three"), Some(&first))
            .unwrap();
        assert_eq!(store.used_bytes(), 8);
        // The object seen was replaced meanwhile, or deleted: conflict.
        assert!(
            store
                .put_if(&bucket, "k", small(&store, b"four"), Some(&first))
                .is_err()
        );
        store.delete(&bucket, "k");
        assert!(
            store
                .put_if(&bucket, "k", small(&store, b"five"), Some(&first))
                .is_err()
        );
        assert!(!bucket.has_objects());
        drop(first);
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
