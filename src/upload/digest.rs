//! Hashing while bytes arrive: a running MD5 whose state survives between requests
//! (stored with the session), and the per-chunk checksums of tus `Upload-Checksum`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::digest::common::hazmat::{SerializableState, SerializedState};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::Sha256;

/// An MD5 that can be parked in Redis and resumed on any node.
#[derive(Clone, Default)]
pub struct RunningMd5(Md5);

impl RunningMd5 {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Base64 of the internal state (not a digest).
    pub fn save(&self) -> String {
        STANDARD.encode(self.0.serialize())
    }

    pub fn restore(saved: &str) -> Option<Self> {
        let bytes = STANDARD.decode(saved).ok()?;
        let state = SerializedState::<Md5>::try_from(bytes.as_slice()).ok()?;
        Md5::deserialize(&state).ok().map(Self)
    }

    /// Lowercase hex digest.
    pub fn hex(self) -> String {
        hex::encode(self.0.finalize())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_state_survives_a_round_trip() {
        let mut first = RunningMd5::default();
        first.update(b"hello ");
        let mut resumed = RunningMd5::restore(&first.save()).unwrap();
        resumed.update(b"world");
        assert_eq!(resumed.hex(), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert!(RunningMd5::restore("bm9wZQ==").is_none());
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
