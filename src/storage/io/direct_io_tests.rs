use futures_util::StreamExt;

use super::*;

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

/// Writes `pieces` at `offset` over `existing` and checks the file holds exactly
/// `existing[..offset]` (or all of it without truncation) overlaid with the pieces.
fn check(dir: &Path, existing: &[u8], offset: usize, pieces: &[usize], truncate: bool) {
    let path = dir.join(format!("f-{offset}-{}-{truncate}", pieces.len()));
    std::fs::write(&path, existing).unwrap();
    let body = data(pieces.iter().sum(), offset as u8);
    let mut writer = StagedFileWriter::open(&path, offset as u64, truncate).unwrap();
    let mut at = 0;
    for &len in pieces {
        writer.write(&body[at..at + len]).unwrap();
        at += len;
    }
    writer.finish().unwrap();
    let mut expected = existing.to_vec();
    if truncate {
        expected.truncate(offset);
    }
    expected.resize(expected.len().max(offset + body.len()), 0);
    expected[offset..offset + body.len()].copy_from_slice(&body);
    let stored = std::fs::read(&path).unwrap();
    assert_eq!(stored.len(), expected.len(), "length at offset {offset}");
    assert!(
        stored == expected,
        "content at offset {offset}, pieces {pieces:?}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let chunks: Vec<Bytes> = runtime.block_on(async {
        read_chunks(path)
            .await
            .unwrap()
            .map(Result::unwrap)
            .collect()
            .await
    });
    assert!(chunks.iter().all(|c| c.len() <= DIRECT_CHUNK));
    assert!(chunks.concat() == expected, "read back at offset {offset}");
}

fn cases(dir: &Path) {
    let existing = data(3 * ALIGN + 100, 7);
    let mib = DIRECT_CHUNK;
    for offset in [0, 1, ALIGN - 1, ALIGN, 2 * ALIGN + 100, existing.len()] {
        for pieces in [
            vec![],
            vec![1],
            vec![ALIGN],
            vec![mib],
            vec![mib + 1, 3, ALIGN - 3, mib - ALIGN],
            vec![65_536; 40],
            vec![100_003, 7, 2 * mib + 5],
        ] {
            check(dir, &existing, offset, &pieces, true);
        }
        check(dir, &existing, offset, &[10], false);
    }
}

#[test]
fn every_byte_lands_at_its_offset_direct_or_not() {
    // ext4 and xfs take O_DIRECT; the same cases must hold when it is refused.
    let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
    cases(dir.path());
    if Path::new("/dev/shm").is_dir() {
        let shm = tempfile::tempdir_in("/dev/shm").unwrap();
        cases(shm.path());
    }
}

#[test]
fn a_filesystem_taking_o_direct_gets_direct_writes() {
    let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
    let path = dir.path().join("f");
    let mut writer = StagedFileWriter::open(&path, 0, true).unwrap();
    if writer.direct.is_none() {
        return; // this checkout sits on a filesystem without O_DIRECT
    }
    writer.write(&data(DIRECT_CHUNK + 10, 1)).unwrap();
    assert!(writer.direct.is_some(), "a direct write was refused");
    writer.finish().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data(DIRECT_CHUNK + 10, 1));
}
