//! User metadata values (`x-amz-meta-*`) as S3 stores and returns them.
//!
//! S3's user guide (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html>):
//! "When using non US-ASCII characters in your metadata values, the provided unicode string is
//! examined for non US-ASCII characters. Values of such headers are character decoded as per
//! RFC 2047 before storing and encoded as per RFC 2047 to make them mail-safe before
//! returning. If the string contains only US-ASCII characters, it is presented as is."
//!
//! The bytes of a header value are ISO-8859-1 text (RFC 9110 obs-text), which is how S3 reads
//! them: a recorded S3 response to a value sent as the UTF-8 bytes of "ö" is
//! `=?UTF-8?B?w4PCtg==?=`, the UTF-8 of "Ã¶" (minio/minio pull request 21282). So a value is
//! stored as the decoded text of its RFC 2047 encoded words, or else as its bytes read as
//! ISO-8859-1; it is returned as is when ASCII, else as one UTF-8 `B` encoded word.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The text a header value stands for.
pub(super) fn decode(raw: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(raw)
        && let Some(decoded) = decode_words(text)
    {
        return decoded;
    }
    raw.iter().map(|&b| char::from(b)).collect()
}

/// The header value S3 returns for `text` (borrowed when it is ASCII, as most values are).
pub(super) fn encode(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("=?UTF-8?B?{}?=", STANDARD.encode(text)))
    }
}

/// Decodes a value made only of RFC 2047 encoded words (separated by whitespace, which is
/// dropped between words); `None` if it is anything else.
fn decode_words(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut words = 0;
    for word in text.split_ascii_whitespace() {
        out.push_str(&decode_word(word)?);
        words += 1;
    }
    (words > 0).then_some(out)
}

/// `=?charset?B|Q?text?=`, for the charsets S3's clients send (UTF-8, ISO-8859-1, US-ASCII).
fn decode_word(word: &str) -> Option<String> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut fields = inner.splitn(3, '?');
    let (charset, encoding, payload) = (fields.next()?, fields.next()?, fields.next()?);
    let bytes = match encoding {
        "B" | "b" => STANDARD.decode(payload).ok()?,
        "Q" | "q" => decode_q(payload)?,
        _ => return None,
    };
    match charset.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" | "latin1" | "us-ascii" => {
            Some(bytes.iter().map(|&b| char::from(b)).collect())
        }
        _ => None,
    }
}

/// RFC 2047's Q encoding: `_` is a space, `=XX` a byte.
fn decode_q(payload: &str) -> Option<Vec<u8>> {
    let b = payload.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = payload.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bytes_come_back_as_s3_returns_them() {
        // The recorded S3 response for "ö" sent as raw UTF-8 bytes.
        assert_eq!(encode(&decode("ö".as_bytes())), "=?UTF-8?B?w4PCtg==?=");
    }

    #[test]
    fn latin1_bytes_and_encoded_words_decode() {
        assert_eq!(decode(b"M\xfcller"), "Müller");
        assert_eq!(decode(b"=?UTF-8?Q?M=C3=BCller?="), "Müller");
        assert_eq!(decode(b"=?utf-8?b?TcO8bGxlcg==?="), "Müller");
        assert_eq!(decode(b"=?ISO-8859-1?Q?a_=FC?= =?UTF-8?B?w7w=?="), "a üü");
        assert_eq!(encode("Müller"), "=?UTF-8?B?TcO8bGxlcg==?=");
    }

    #[test]
    fn ascii_is_kept_as_is() {
        for v in [
            "plain value",
            "=?not a word",
            "=?UTF-8?X?abc?=",
            "a=?UTF-8?B?w7w=?=",
        ] {
            assert_eq!(encode(&decode(v.as_bytes())), v);
        }
    }
}
