//! A resumable MD5: the compression function comes from a crate (assembly on x86-64,
//! `md-5`'s portable one elsewhere); this file only keeps the running state so it can be
//! parked in Redis between requests and resumed on any node.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

#[cfg(all(target_arch = "x86_64", not(windows)))]
fn compress(state: &mut [u32; 4], blocks: &[[u8; 64]]) {
    md5_asm::compress(state, blocks);
}

#[cfg(not(all(target_arch = "x86_64", not(windows))))]
fn compress(state: &mut [u32; 4], blocks: &[[u8; 64]]) {
    md5::block_api::compress(state, blocks);
}

/// MD5 over bytes fed in pieces; `save`/`restore` carry it across requests and nodes.
#[derive(Clone)]
pub struct RunningMd5 {
    state: [u32; 4],
    /// Bytes hashed so far.
    len: u64,
    /// The start of an unfinished 64-byte block.
    pending: Vec<u8>,
}

impl Default for RunningMd5 {
    fn default() -> Self {
        Self {
            state: INIT,
            len: 0,
            pending: Vec::with_capacity(64),
        }
    }
}

impl RunningMd5 {
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if !self.pending.is_empty() {
            let take = (64 - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() < 64 {
                return;
            }
            let block: [u8; 64] = self.pending[..].try_into().expect("64 bytes");
            compress(&mut self.state, &[block]);
            self.pending.clear();
        }
        let (blocks, rest) = bytes.as_chunks::<64>();
        compress(&mut self.state, blocks);
        self.pending.extend_from_slice(rest);
    }

    /// Base64 of the state (16 bytes), the length (8) and the unfinished block (< 64).
    pub fn save(&self) -> String {
        let mut raw = Vec::with_capacity(24 + self.pending.len());
        for word in self.state {
            raw.extend_from_slice(&word.to_le_bytes());
        }
        raw.extend_from_slice(&self.len.to_le_bytes());
        raw.extend_from_slice(&self.pending);
        STANDARD.encode(raw)
    }

    pub fn restore(saved: &str) -> Option<Self> {
        let raw = STANDARD.decode(saved).ok()?;
        if raw.len() < 24 || raw.len() >= 24 + 64 {
            return None;
        }
        let word =
            |i: usize| u32::from_le_bytes(raw[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
        let len = u64::from_le_bytes(raw[16..24].try_into().expect("8 bytes"));
        let pending = raw[24..].to_vec();
        (len % 64 == pending.len() as u64).then(|| Self {
            state: [word(0), word(1), word(2), word(3)],
            len,
            pending,
        })
    }

    /// Lowercase hex digest (RFC 1321 padding: 0x80, zeros, the bit length).
    pub fn hex(mut self) -> String {
        let bits = self.len.wrapping_mul(8);
        let mut tail = std::mem::take(&mut self.pending);
        tail.push(0x80);
        while tail.len() % 64 != 56 {
            tail.push(0);
        }
        tail.extend_from_slice(&bits.to_le_bytes());
        let (blocks, _) = tail.as_chunks::<64>();
        compress(&mut self.state, blocks);
        let mut out = String::with_capacity(32);
        for word in self.state {
            out.push_str(&hex::encode(word.to_le_bytes()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::Digest;

    fn reference(data: &[u8]) -> String {
        hex::encode(md5::Md5::digest(data))
    }

    #[test]
    fn rfc_1321_vectors() {
        let cases = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, digest) in cases {
            let mut m = RunningMd5::default();
            m.update(input.as_bytes());
            assert_eq!(m.hex(), digest, "{input:?}");
        }
    }

    #[test]
    fn any_split_and_any_pause_give_the_same_digest() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        for len in [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 500, 1000] {
            let data = &data[..len];
            for cut in [0, 1, len / 3, len / 2, len.saturating_sub(1), len]
                .into_iter()
                .filter(|c| *c <= len)
            {
                let mut first = RunningMd5::default();
                first.update(&data[..cut]);
                let mut resumed = RunningMd5::restore(&first.save()).unwrap();
                for piece in data[cut..].chunks(17) {
                    resumed.update(piece);
                }
                assert_eq!(resumed.hex(), reference(data), "len {len} cut {cut}");
            }
        }
    }

    #[test]
    fn corrupt_state_is_refused() {
        assert!(RunningMd5::restore("bm9wZQ==").is_none());
        assert!(RunningMd5::restore("!!").is_none());
        let mut m = RunningMd5::default();
        m.update(b"abc");
        let mut raw = STANDARD.decode(m.save()).unwrap();
        raw.push(0);
        assert!(RunningMd5::restore(&STANDARD.encode(raw)).is_none());
    }
}
