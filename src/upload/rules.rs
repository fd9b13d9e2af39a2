//! Limits and validation of what clients declare about an upload.

use super::UploadError;

pub const MIN_PART_SIZE: u64 = 1 << 20;
pub const MAX_PART_SIZE: u64 = 1 << 30;
pub const MAX_PARTS: u64 = 10_000;
const MAX_NAME_CHARS: usize = 1024;

/// A file name is stored and shown, never used as a path: refuse what could be mistaken for one.
pub fn validate_file_name(name: &str) -> Result<(), UploadError> {
    let bad = |why: &str| Err(UploadError::BadRequest(format!("file name {why}")));
    if name.is_empty() {
        return bad("is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return bad("is longer than 1024 characters");
    }
    if name.contains('/') || name.contains('\\') {
        return bad("must not contain a path separator");
    }
    if name == "." || name == ".." || name.contains("..") {
        return bad("must not contain `..`");
    }
    if name.chars().any(char::is_control) {
        return bad("must not contain NUL or control characters");
    }
    Ok(())
}

/// Largest `passthrough`, in bytes: it is copied into every event and webhook delivery
/// (hosted services cap such user data at a few hundred bytes to 1 KiB).
pub const MAX_PASSTHROUGH_BYTES: usize = 1024;

pub fn validate_passthrough(passthrough: Option<&str>) -> Result<(), UploadError> {
    match passthrough {
        Some(p) if p.len() > MAX_PASSTHROUGH_BYTES => Err(UploadError::BadRequest(format!(
            "passthrough is {} bytes; at most {MAX_PASSTHROUGH_BYTES} are kept",
            p.len()
        ))),
        // Text columns cannot hold NUL.
        Some(p) if p.contains('\0') => Err(UploadError::BadRequest(
            "passthrough must not contain NUL characters".into(),
        )),
        _ => Ok(()),
    }
}

/// Number of parts of a file split in `part_size` pieces, within the seed's limits.
pub fn part_count(size: u64, part_size: u64) -> Result<u32, UploadError> {
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part_size) {
        return Err(UploadError::BadRequest(format!(
            "psize must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes"
        )));
    }
    if size == 0 {
        return Err(UploadError::BadRequest(
            "fsize must be greater than 0".into(),
        ));
    }
    let count = size.div_ceil(part_size);
    if count > MAX_PARTS {
        return Err(UploadError::BadRequest(format!(
            "{count} parts of {part_size} bytes exceed the limit of {MAX_PARTS} parts; use a larger psize"
        )));
    }
    Ok(count as u32)
}

/// Exact size of part `n` (1-based).
pub fn part_len(size: u64, part_size: u64, count: u32, n: u32) -> u64 {
    if n < count {
        part_size
    } else {
        size - part_size * u64::from(count - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert!(validate_file_name("holiday clip (1).mp4").is_ok());
        assert!(validate_file_name("视频.mov").is_ok());
        for bad in [
            "", "a/b.mp4", "..", "x..y", "a\\b", "a\0b", "a\nb", "\u{7f}",
        ] {
            assert!(validate_file_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parts() {
        let mib = 1 << 20;
        assert_eq!(part_count(10 * mib, mib).unwrap(), 10);
        assert_eq!(part_count(10 * mib + 1, mib).unwrap(), 11);
        assert_eq!(part_len(10 * mib + 1, mib, 11, 11), 1);
        assert_eq!(part_len(10 * mib + 1, mib, 11, 3), mib);
        assert!(part_count(10 * mib, mib - 1).is_err());
        assert!(part_count(10 * mib, (1 << 30) + 1).is_err());
        assert!(part_count(0, mib).is_err());
        assert!(part_count(10_001 * mib, mib).is_err());
        assert!(part_count(10_000 * mib, mib).is_ok());
    }
}
