//! Content-MD5 and the flexible checksums S3 accepts (`x-amz-checksum-*`).
//!
//! A checksum is the base64 of the big-endian digest, as S3 and the SDKs encode it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

/// A flexible-checksum algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// CRC-32 (ISO-HDLC).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl Algorithm {
    /// Every algorithm, in the order the SDKs prefer them when validating a response.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Crc64Nvme,
        Algorithm::Crc32c,
        Algorithm::Crc32,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// The header carrying this checksum, e.g. `x-amz-checksum-crc32`.
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The name S3 uses in messages and XML, e.g. `CRC32`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// Parses a header name (`x-amz-checksum-crc32`, any case).
    pub fn from_header(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name))
    }

    /// Parses an algorithm name (`CRC32`, any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// Whether S3 accepts this algorithm for a FULL_OBJECT multipart checksum: the CRCs only,
    /// since only a CRC of the whole object can be combined from the parts' CRCs.
    pub fn supports_full_object(self) -> bool {
        self.crc().is_some()
    }

    /// The checksum type S3 gives a multipart upload that names this algorithm without
    /// `x-amz-checksum-type`: CRC64NVME supports FULL_OBJECT only, SHA-1 and SHA-256 COMPOSITE
    /// only, CRC32 and CRC32C default to COMPOSITE
    /// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>).
    pub fn default_multipart_type(self) -> ChecksumType {
        if self == Algorithm::Crc64Nvme {
            ChecksumType::FullObject
        } else {
            ChecksumType::Composite
        }
    }

    fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        use crc_fast::CrcAlgorithm as C;
        match self {
            Algorithm::Crc32 => Some(C::Crc32IsoHdlc),
            Algorithm::Crc32c => Some(C::Crc32Iscsi),
            Algorithm::Crc64Nvme => Some(C::Crc64Nvme),
            Algorithm::Sha1 | Algorithm::Sha256 => None,
        }
    }

    /// The digest in a base64 checksum value, if it is one of this algorithm's size.
    pub fn decode(self, value: &str) -> Option<Vec<u8>> {
        let raw = STANDARD.decode(value.trim()).ok()?;
        let len = match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        };
        (raw.len() == len).then_some(raw)
    }

    /// S3's COMPOSITE checksum of a multipart object: this algorithm over the concatenated
    /// binary checksums of the parts, in base64, followed by `-N`.
    pub fn composite(self, parts: &[Vec<u8>]) -> String {
        format!("{}-{}", self.compute(&parts.concat()), parts.len())
    }

    /// S3's FULL_OBJECT checksum of a multipart object: the CRC of the whole object, combined
    /// from each part's CRC and length. `None` for SHA-1 and SHA-256.
    pub fn combine(self, parts: &[(Vec<u8>, u64)]) -> Option<String> {
        let crc = self.crc()?;
        let mut acc: Option<u64> = None;
        for (digest, len) in parts {
            let mut be = [0u8; 8];
            be[8 - digest.len()..].copy_from_slice(digest);
            let value = u64::from_be_bytes(be);
            acc = Some(match acc {
                None => value,
                Some(a) => crc_fast::checksum_combine(crc, a, value, *len),
            });
        }
        let total = acc.unwrap_or_else(|| crc_fast::checksum(crc, b""));
        Some(match self {
            Algorithm::Crc64Nvme => STANDARD.encode(total.to_be_bytes()),
            _ => STANDARD.encode((total as u32).to_be_bytes()),
        })
    }

    /// Computes the base64 checksum of `data`.
    pub fn compute(self, data: &[u8]) -> String {
        use crc_fast::CrcAlgorithm as C;
        match self {
            Algorithm::Crc32 => {
                STANDARD.encode((crc_fast::checksum(C::Crc32IsoHdlc, data) as u32).to_be_bytes())
            }
            Algorithm::Crc32c => {
                STANDARD.encode((crc_fast::checksum(C::Crc32Iscsi, data) as u32).to_be_bytes())
            }
            Algorithm::Crc64Nvme => {
                STANDARD.encode(crc_fast::checksum(C::Crc64Nvme, data).to_be_bytes())
            }
            Algorithm::Sha1 => STANDARD.encode(sha1::Sha1::digest(data)),
            Algorithm::Sha256 => STANDARD.encode(sha2::Sha256::digest(data)),
        }
    }
}

/// How a multipart object's checksum covers it (`x-amz-checksum-type`). A single PUT's
/// checksum is always FULL_OBJECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChecksumType {
    /// A checksum of the whole object's bytes.
    FullObject,
    /// A checksum of the parts' checksums, with `-N` (N parts).
    Composite,
}

impl ChecksumType {
    /// The name in headers and XML.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::FullObject => "FULL_OBJECT",
            ChecksumType::Composite => "COMPOSITE",
        }
    }

    /// Parses `FULL_OBJECT` or `COMPOSITE` (any case).
    pub fn parse(value: &str) -> Option<Self> {
        [ChecksumType::FullObject, ChecksumType::Composite]
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(value.trim()))
    }
}

/// The checksum stored with an object and returned with `x-amz-checksum-mode: ENABLED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChecksum {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The base64 value (with `-N` for a composite one).
    pub value: String,
    /// Whole object or composite.
    pub kind: ChecksumType,
}

/// A running checksum: fed the bytes in pieces, it gives what [`Algorithm::compute`] gives for
/// them whole.
#[derive(Clone)]
pub enum Hasher {
    /// A CRC (CRC-32, CRC-32C or CRC-64/NVME).
    Crc(Algorithm, crc_fast::Digest),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Hasher").field(&self.algorithm()).finish()
    }
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        use crc_fast::CrcAlgorithm as C;
        match algorithm {
            Algorithm::Crc32 => Self::Crc(algorithm, crc_fast::Digest::new(C::Crc32IsoHdlc)),
            Algorithm::Crc32c => Self::Crc(algorithm, crc_fast::Digest::new(C::Crc32Iscsi)),
            Algorithm::Crc64Nvme => Self::Crc(algorithm, crc_fast::Digest::new(C::Crc64Nvme)),
            Algorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Crc(a, _) => *a,
            Self::Sha1(_) => Algorithm::Sha1,
            Self::Sha256(_) => Algorithm::Sha256,
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Crc(_, d) => d.update(data),
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
        }
    }

    /// The base64 checksum of everything added.
    pub fn finish(self) -> String {
        match self {
            Self::Crc(Algorithm::Crc64Nvme, d) => STANDARD.encode(d.finalize().to_be_bytes()),
            Self::Crc(_, d) => STANDARD.encode((d.finalize() as u32).to_be_bytes()),
            Self::Sha1(h) => STANDARD.encode(h.finalize()),
            Self::Sha256(h) => STANDARD.encode(h.finalize()),
        }
    }
}

/// The MD5 digest of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// The quoted hex ETag of a single-part object.
pub fn etag_of(digest: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut etag = [b'"'; 34];
    for (i, b) in digest.iter().enumerate() {
        etag[1 + 2 * i] = HEX[usize::from(b >> 4)];
        etag[2 + 2 * i] = HEX[usize::from(b & 0xF)];
    }
    // Quotes and hex digits: ASCII.
    String::from_utf8(etag.to_vec()).unwrap_or_default()
}

/// Decodes a `Content-MD5` header: base64 of exactly 16 bytes.
pub fn decode_content_md5(value: &str) -> Option<[u8; 16]> {
    let bytes = STANDARD.decode(value.trim()).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Reference values from the AWS SDKs' checksum tests for "Hello world".
        let data = b"Hello world";
        assert_eq!(Algorithm::Crc32.compute(data), "i9aeUg==");
        assert_eq!(Algorithm::Crc32c.compute(data), "crUfeA==");
        assert_eq!(
            Algorithm::Sha1.compute(data),
            "e1AsOh9IyGCa4hLN+2Od7jlnP14="
        );
        assert_eq!(
            Algorithm::Sha256.compute(data),
            "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
        );
        assert_eq!(Algorithm::Crc64Nvme.compute(data), "OOJZ0D8xKts=");
        assert_eq!(etag_of(&md5(b"")), "\"d41d8cd98f00b204e9800998ecf8427e\"");
    }

    #[test]
    fn full_object_crcs_combine_from_parts() {
        let whole = b"The quick brown fox jumps over the lazy dog, in three parts.";
        let parts: [&[u8]; 3] = [&whole[..20], &whole[20..41], &whole[41..]];
        for alg in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let digests: Vec<(Vec<u8>, u64)> = parts
                .iter()
                .map(|p| (alg.decode(&alg.compute(p)).unwrap(), p.len() as u64))
                .collect();
            assert_eq!(
                alg.combine(&digests).unwrap(),
                alg.compute(whole),
                "{alg:?}"
            );
        }
        assert_eq!(Algorithm::Sha256.combine(&[]), None);
    }

    #[test]
    fn composite_is_a_checksum_of_checksums() {
        let parts = [b"abc".as_slice(), b"defg".as_slice()];
        let digests: Vec<Vec<u8>> = parts
            .iter()
            .map(|p| sha2::Sha256::digest(p).to_vec())
            .collect();
        let want = format!(
            "{}-2",
            STANDARD.encode(sha2::Sha256::digest(digests.concat()))
        );
        assert_eq!(Algorithm::Sha256.composite(&digests), want);
        assert_eq!(Algorithm::Sha256.decode("AAAA"), None);
    }

    #[test]
    fn running_hashers_match_whole_computations() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for a in Algorithm::ALL {
            let mut h = Hasher::new(a);
            for piece in data.chunks(999) {
                h.update(piece);
            }
            assert_eq!(h.finish(), a.compute(&data), "{a:?}");
            assert_eq!(Hasher::new(a).finish(), a.compute(b""), "{a:?} of nothing");
        }
    }

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_header(a.header()), Some(a));
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(decode_content_md5("not base64"), None);
    }
}
