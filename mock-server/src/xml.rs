//! Request and response bodies: a small writer for S3's XML responses and serde types for the
//! XML requests (CompleteMultipartUpload, Delete, CreateBucketConfiguration).

use std::time::SystemTime;

use quick_xml::escape::escape;
use serde::Deserialize;

use crate::error::{S3Error, S3Result};

/// The S3 XML namespace.
pub const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Builds an XML document element by element, escaping text.
#[derive(Debug)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// Starts a document whose root element carries the S3 namespace.
    pub fn new(root: &str) -> Self {
        let mut out = String::with_capacity(512);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
        out.push_str(root);
        out.push_str(" xmlns=\"");
        out.push_str(NS);
        out.push_str("\">");
        Self { out }
    }

    /// Opens an element.
    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// Closes an element.
    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// Writes `<tag>text</tag>`.
    pub fn elem(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        self.out.push_str(&escape(text));
        self.close(tag)
    }

    /// Writes `<tag>text</tag>` if `text` is some.
    pub fn elem_opt(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.elem(tag, t);
        }
        self
    }

    /// Closes the root and returns the document.
    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.out
    }
}

/// Formats a time as S3 does in XML: `2026-11-29T10:24:04.000Z`.
pub fn iso8601(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// A part listed in CompleteMultipartUpload. Any other child is MalformedXML, as in S3's schema.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CompletedPart {
    /// Part number.
    pub part_number: u32,
    /// The part's ETag, quoted or not.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// The part's CRC32, as UploadPart returned it.
    #[serde(rename = "ChecksumCRC32")]
    pub checksum_crc32: Option<String>,
    /// The part's CRC32C.
    #[serde(rename = "ChecksumCRC32C")]
    pub checksum_crc32c: Option<String>,
    /// The part's CRC64NVME.
    #[serde(rename = "ChecksumCRC64NVME")]
    pub checksum_crc64nvme: Option<String>,
    /// The part's SHA-1.
    #[serde(rename = "ChecksumSHA1")]
    pub checksum_sha1: Option<String>,
    /// The part's SHA-256.
    #[serde(rename = "ChecksumSHA256")]
    pub checksum_sha256: Option<String>,
}

impl CompletedPart {
    /// The checksum of `algorithm` given for this part, if any.
    pub fn checksum(&self, algorithm: crate::checksum::Algorithm) -> Option<&str> {
        use crate::checksum::Algorithm as A;
        match algorithm {
            A::Crc32 => self.checksum_crc32.as_deref(),
            A::Crc32c => self.checksum_crc32c.as_deref(),
            A::Crc64Nvme => self.checksum_crc64nvme.as_deref(),
            A::Sha1 => self.checksum_sha1.as_deref(),
            A::Sha256 => self.checksum_sha256.as_deref(),
        }
    }
}

/// The body of CompleteMultipartUpload: `<CompleteMultipartUpload>` holding `<Part>`
/// elements and nothing else (S3's request syntax,
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>); a
/// wrong root element or an unknown child is 400 MalformedXML ("The XML you provided was not
/// well-formed or did not validate against our published schema", Error responses).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteMultipartUpload {
    /// The parts, in the order given.
    #[serde(rename = "Part", default)]
    pub parts: Vec<CompletedPart>,
    /// The namespace attribute SDKs send on the root.
    #[serde(rename = "@xmlns", default)]
    _xmlns: Option<String>,
}

impl CompleteMultipartUpload {
    /// The root element's name.
    pub const ROOT: &'static str = "CompleteMultipartUpload";
}

/// One key in a DeleteObjects request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectIdentifier {
    /// Key to delete.
    pub key: String,
    /// Version (ignored: the mock is unversioned).
    pub version_id: Option<String>,
}

/// The body of DeleteObjects.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Delete {
    /// Keys to delete.
    #[serde(rename = "Object", default)]
    pub objects: Vec<ObjectIdentifier>,
    /// Report only errors.
    #[serde(default)]
    pub quiet: Option<bool>,
}

/// The optional body of CreateBucket.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateBucketConfiguration {
    /// The region asked for.
    pub location_constraint: Option<String>,
}

/// Parses an XML request body whose root element must be `root` (its local name, whatever
/// its namespace prefix), mapping any failure to MalformedXML.
pub fn parse_root<T: for<'de> Deserialize<'de>>(body: &[u8], root: &str) -> S3Result<T> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                if e.local_name().as_ref() != root.as_bytes() {
                    return Err(S3Error::malformed_xml());
                }
                break;
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return Err(S3Error::malformed_xml()),
            Ok(_) => buf.clear(),
        }
    }
    parse(body)
}

/// Parses an XML request body, mapping any failure to MalformedXML.
pub fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> S3Result<T> {
    let text = std::str::from_utf8(body).map_err(|_| S3Error::malformed_xml())?;
    quick_xml::de::from_str(text).map_err(|_| S3Error::malformed_xml())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_complete_multipart_upload() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>b</ETag><ChecksumCRC32>x</ChecksumCRC32></Part></CompleteMultipartUpload>"#;
        let c: CompleteMultipartUpload = parse(body).unwrap();
        assert_eq!(c.parts.len(), 2);
        assert_eq!(c.parts[0].etag, "\"a\"");
        assert_eq!(c.parts[1].part_number, 2);
        assert_eq!(
            c.parts[1].checksum(crate::checksum::Algorithm::Crc32),
            Some("x")
        );
        assert_eq!(c.parts[0].checksum(crate::checksum::Algorithm::Crc32), None);
    }

    #[test]
    fn parses_delete() {
        let body = br#"<Delete><Object><Key>a b</Key></Object><Object><Key>c&amp;d</Key></Object><Quiet>true</Quiet></Delete>"#;
        let d: Delete = parse(body).unwrap();
        assert_eq!(d.objects[1].key, "c&d");
        assert_eq!(d.quiet, Some(true));
    }

    #[test]
    fn complete_multipart_upload_is_checked_against_its_schema() {
        let ok = br#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a"</ETag><PartNumber>1</PartNumber><ChecksumSHA256>x</ChecksumSHA256></Part></CompleteMultipartUpload>"#;
        let c: CompleteMultipartUpload = parse_root(ok, CompleteMultipartUpload::ROOT).unwrap();
        assert_eq!(c.parts.len(), 1);
        for bad in [
            &br#"<Delete><Part><ETag>a</ETag><PartNumber>1</PartNumber></Part></Delete>"#[..],
            br#"<CompleteMultipartUpload><Part><ETag>a</ETag><PartNumber>1</PartNumber></Part><Extra/></CompleteMultipartUpload>"#,
            br#"<CompleteMultipartUpload><Part><ETag>a</ETag><PartNumber>1</PartNumber><Size>5</Size></Part></CompleteMultipartUpload>"#,
            b"",
            b"not xml",
        ] {
            let e = parse_root::<CompleteMultipartUpload>(bad, CompleteMultipartUpload::ROOT)
                .unwrap_err();
            assert_eq!(e.code, "MalformedXML", "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn malformed_is_an_s3_error() {
        let e = parse::<Delete>(b"<Delete><Object>").unwrap_err();
        assert_eq!(e.code, "MalformedXML");
        let e = parse::<CompleteMultipartUpload>(b"\xff\xfe").unwrap_err();
        assert_eq!(e.code, "MalformedXML");
    }

    #[test]
    fn writer_escapes() {
        let mut w = XmlWriter::new("R");
        w.elem("Key", "a<&>b");
        let s = w.finish("R");
        assert!(s.ends_with("<Key>a&lt;&amp;&gt;b</Key></R>"));
    }
}
