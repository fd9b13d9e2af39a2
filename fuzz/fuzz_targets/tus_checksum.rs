//! tus `Upload-Checksum` (`reel::upload::digest::ChunkChecksum::parse`, then `update` and
//! `matches` over a chunk).
//!
//! Invariants: never panics; a header without a space is `Malformed`; for each supported
//! algorithm, in any letter case and with surrounding blanks, the digest of the chunk
//! parses and matches that chunk and no other.
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use reel::upload::digest::{ChecksumHeaderError, ChunkChecksum};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    header: &'a str,
    chunk: &'a [u8],
    /// Where the chunk is split between two `update` calls.
    split: usize,
    algorithm: u8,
    upper: bool,
}

fn digest(algorithm: &str, data: &[u8]) -> Vec<u8> {
    match algorithm {
        "md5" => <md5::Md5 as md5::Digest>::digest(data).to_vec(),
        "sha1" => <sha1::Sha1 as sha1::Digest>::digest(data).to_vec(),
        _ => <sha2::Sha256 as sha2::Digest>::digest(data).to_vec(),
    }
}

fn feed(mut checksum: ChunkChecksum, chunk: &[u8], split: usize) -> bool {
    let (a, b) = chunk.split_at(split % (chunk.len() + 1));
    checksum.update(a);
    checksum.update(b);
    checksum.matches()
}

fuzz_target!(|input: Input| {
    match ChunkChecksum::parse(input.header) {
        Ok(checksum) => {
            let _ = feed(checksum, input.chunk, input.split);
        }
        Err(ChecksumHeaderError::Malformed) => assert!(!input.header.trim().contains(' ')),
        Err(_) => {}
    }

    let algorithm = ["md5", "sha1", "sha256"][usize::from(input.algorithm % 3)];
    let name = if input.upper {
        algorithm.to_ascii_uppercase()
    } else {
        algorithm.to_string()
    };
    let header = format!(
        " {name} {}\t",
        STANDARD.encode(digest(algorithm, input.chunk))
    );
    let parsed = || ChunkChecksum::parse(&header).expect("a well-formed header parses");
    assert!(feed(parsed(), input.chunk, input.split), "{header}");
    let mut other = input.chunk.to_vec();
    match other.first_mut() {
        Some(b) => *b ^= 1,
        None => other.push(0),
    }
    assert!(!feed(parsed(), &other, input.split), "{header}");
});
