use futures_util::stream;
use md5::{Digest, Md5};

use super::*;
use crate::storage::io::{RunningMd5, StagedFileWriter};

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// `bytes` as a body arriving in pieces of `piece` bytes.
fn body(bytes: &[u8], piece: usize) -> impl Chunks + use<> {
    let pieces: Vec<std::io::Result<Bytes>> = bytes
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(pieces)
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

#[tokio::test]
async fn a_file_gets_every_byte_at_its_offset_and_the_digest_sees_them_all() {
    // Pieces that fit no batch boundary, across several batches.
    let bytes = data(3 * BATCH + 12_345);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staged");
    std::fs::write(&path, b"keep").unwrap();
    let file = StagedFileWriter::open(&path, 4, false).unwrap();

    let (written, md5) = pump(
        body(&bytes, 100_003),
        u64::MAX,
        RunningMd5::default(),
        Sink::File(file),
    )
    .await
    .unwrap();

    assert_eq!(
        written,
        Written {
            bytes: bytes.len() as u64,
            complete: true
        }
    );
    assert_eq!(md5.hex(), md5_hex(&bytes));
    let stored = std::fs::read(&path).unwrap();
    assert_eq!(&stored[..4], b"keep");
    assert_eq!(&stored[4..], &bytes[..]);
}

#[tokio::test]
async fn a_body_that_breaks_off_keeps_what_arrived() {
    let bytes = data(BATCH + 500);
    let broken = stream::iter([
        Err(std::io::ErrorKind::ConnectionReset.into()),
        Ok(Bytes::from_static(b"never read")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("staged");
    let file = StagedFileWriter::open(&path, 0, true).unwrap();

    let (written, ()) = pump(
        body(&bytes, 4096).chain(broken),
        u64::MAX,
        (),
        Sink::File(file),
    )
    .await
    .unwrap();

    assert_eq!(
        written,
        Written {
            bytes: bytes.len() as u64,
            complete: false
        }
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[tokio::test]
async fn more_than_max_is_refused() {
    let bytes = data(10_000);
    let result = pump(body(&bytes, 1000), 9_999, (), Sink::Discard).await;
    assert!(matches!(result, Err(CopyError::TooLong(9_999))));

    let (written, md5) = pump(
        body(&bytes, 1000),
        10_000,
        RunningMd5::default(),
        Sink::Discard,
    )
    .await
    .unwrap();
    assert_eq!(written.bytes, 10_000);
    assert_eq!(md5.hex(), md5_hex(&bytes));
}

#[tokio::test]
async fn an_async_sink_gets_the_bytes_in_order() {
    let bytes = data(2 * BATCH + 1);
    let mut out: Vec<u8> = Vec::new();
    let (written, ()) = pump(body(&bytes, 65_536), u64::MAX, (), Sink::Async(&mut out))
        .await
        .unwrap();
    assert_eq!(written.bytes, bytes.len() as u64);
    assert_eq!(out, bytes);
}

#[tokio::test]
async fn a_failing_file_write_is_an_error() {
    // /dev/full fails every write with ENOSPC.
    let full = StagedFileWriter::open(std::path::Path::new("/dev/full"), 0, false).unwrap();
    let result = pump(
        body(&data(BATCH * 3), 65_536),
        u64::MAX,
        (),
        Sink::File(full),
    )
    .await;
    match result {
        Err(CopyError::Io(e)) => assert_eq!(e.raw_os_error(), Some(libc::ENOSPC)),
        other => panic!("expected ENOSPC, got {other:?}"),
    }
}
