//! Hashing while bytes arrive: a running MD5 whose state survives between requests
//! (stored with the session), and the per-chunk checksums of tus `Upload-Checksum`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;

use crate::storage::io::{Digester, RunningMd5};

/// The identity of one part's bytes: md5 when the client declared one (it is checked),
/// otherwise xxh3-128, an order of magnitude cheaper, enough to recognise a resent part.
#[derive(Default)]
pub struct PartDigest {
    md5: Option<RunningMd5>,
    xxh3: Option<xxhash_rust::xxh3::Xxh3>,
}

impl PartDigest {
    /// Computes md5 if `md5` (a hash was declared) and whatever `recorded` was made with.
    pub fn new(md5: bool, recorded: Option<&str>) -> Self {
        let recorded_md5 = recorded.is_some_and(|r| r.starts_with("md5:"));
        let want_md5 = md5 || recorded_md5;
        let want_xxh3 = !want_md5 || recorded.is_some_and(|r| r.starts_with("xxh3:"));
        Self {
            md5: want_md5.then(RunningMd5::default),
            xxh3: want_xxh3.then(xxhash_rust::xxh3::Xxh3::new),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(m) = self.md5.as_mut() {
            m.update(bytes);
        }
        if let Some(x) = self.xxh3.as_mut() {
            x.update(bytes);
        }
    }

    /// `(md5 hex, record)`: the record is `md5:<hex>` or `xxh3:<hex>`, as stored per part.
    pub fn finish(self) -> PartIdentity {
        PartIdentity {
            md5: self.md5.map(RunningMd5::hex),
            xxh3: self.xxh3.map(|x| format!("{:032x}", x.digest128())),
        }
    }
}

pub struct PartIdentity {
    pub md5: Option<String>,
    pub xxh3: Option<String>,
}

impl PartIdentity {
    /// The form stored for the part.
    pub fn record(&self) -> String {
        match (&self.md5, &self.xxh3) {
            (Some(m), _) => format!("md5:{m}"),
            (None, Some(x)) => format!("xxh3:{x}"),
            (None, None) => String::new(),
        }
    }

    /// Whether these bytes are the ones `recorded` describes.
    pub fn matches(&self, recorded: &str) -> bool {
        match recorded.split_once(':') {
            Some(("md5", m)) => self.md5.as_deref() == Some(m),
            Some(("xxh3", x)) => self.xxh3.as_deref() == Some(x),
            _ => false,
        }
    }
}

/// `md5`, `sha1` or `sha256` of one chunk (tus checksum extension).
pub enum ChunkChecksum {
    Md5(Md5, Vec<u8>),
    Sha1(Sha1, Vec<u8>),
    Sha256(Sha256, Vec<u8>),
}

pub const CHECKSUM_ALGORITHMS: &str = "md5,sha1,sha256";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChecksumHeaderError {
    #[error("Upload-Checksum must be `<algorithm> <base64 digest>`")]
    Malformed,
    #[error("unsupported checksum algorithm {0:?} (supported: md5, sha1, sha256)")]
    Unsupported(String),
    #[error("the checksum is not valid base64")]
    BadBase64,
}

impl ChunkChecksum {
    /// Parses an `Upload-Checksum` header value.
    pub fn parse(header: &str) -> Result<Self, ChecksumHeaderError> {
        let (algorithm, digest) = header
            .trim()
            .split_once(' ')
            .ok_or(ChecksumHeaderError::Malformed)?;
        let expected = STANDARD
            .decode(digest.trim())
            .map_err(|_| ChecksumHeaderError::BadBase64)?;
        match algorithm.to_ascii_lowercase().as_str() {
            "md5" => Ok(Self::Md5(Md5::new(), expected)),
            "sha1" => Ok(Self::Sha1(sha1::Digest::new(), expected)),
            "sha256" => Ok(Self::Sha256(sha2::Digest::new(), expected)),
            other => Err(ChecksumHeaderError::Unsupported(other.to_string())),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Md5(h, _) => Digest::update(h, bytes),
            Self::Sha1(h, _) => sha1::Digest::update(h, bytes),
            Self::Sha256(h, _) => sha2::Digest::update(h, bytes),
        }
    }

    pub fn matches(self) -> bool {
        match self {
            Self::Md5(h, expected) => h.finalize().iter().eq(expected.iter()),
            Self::Sha1(h, expected) => sha1::Digest::finalize(h).iter().eq(expected.iter()),
            Self::Sha256(h, expected) => sha2::Digest::finalize(h).iter().eq(expected.iter()),
        }
    }
}

/// Whether `s` is an MD5 in hex (any case).
pub fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Digester for PartDigest {
    fn update(&mut self, bytes: &[u8]) {
        PartDigest::update(self, bytes);
    }
}

/// The file's running md5 (unless deferred) and, for one tus chunk, its `Upload-Checksum`.
impl Digester for (Option<RunningMd5>, Option<ChunkChecksum>) {
    fn update(&mut self, bytes: &[u8]) {
        if let Some(md5) = self.0.as_mut() {
            md5.update(bytes);
        }
        if let Some(c) = self.1.as_mut() {
            c.update(bytes);
        }
    }

    fn is_noop(&self) -> bool {
        self.0.is_none() && self.1.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_identities() {
        let mut fast = PartDigest::new(false, None);
        fast.update(b"part");
        let fast = fast.finish();
        assert!(fast.md5.is_none() && fast.record().starts_with("xxh3:"));
        let mut both = PartDigest::new(true, Some(&fast.record()));
        both.update(b"part");
        let both = both.finish();
        assert!(both.matches(&fast.record()));
        assert_eq!(
            both.md5.as_deref(),
            Some("f4c9385f1902f7334b00b9b4ecd164de")
        );
        let mut other = PartDigest::new(false, Some(&both.record()));
        other.update(b"tart");
        assert!(!other.finish().matches(&both.record()));
    }

    #[test]
    fn checksum_headers() {
        // sha1("abc") and md5("abc") in base64.
        let mut sha1 = ChunkChecksum::parse("sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=").unwrap();
        sha1.update(b"abc");
        assert!(sha1.matches());
        let mut md5 = ChunkChecksum::parse("md5 kAFQmDzST7DWlj99KOF/cg==").unwrap();
        md5.update(b"abd");
        assert!(!md5.matches());
        assert_eq!(
            ChunkChecksum::parse("crc32 AAAA").err(),
            Some(ChecksumHeaderError::Unsupported("crc32".into()))
        );
        assert_eq!(
            ChunkChecksum::parse("md5").err(),
            Some(ChecksumHeaderError::Malformed)
        );
        assert_eq!(
            ChunkChecksum::parse("md5 !!!").err(),
            Some(ChecksumHeaderError::BadBase64)
        );
    }
}
