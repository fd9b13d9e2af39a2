//! Chunk reads for responses, into buffers reused across responses.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Mutex;

use bytes::Bytes;

use super::CHUNK;

/// Chunk buffers kept for reuse, `CHUNK` bytes each (so at most 4 MiB idle).
const POOL_MAX: usize = 8;
/// Reads smaller than this get a buffer of their own instead of a pooled one.
const POOL_MIN_READ: usize = 64 * 1024;

/// Reads exactly `want` (≤ `CHUNK`) bytes at the file's position; a file that shrank
/// since it was opened is an `UnexpectedEof` error.
pub(super) fn read_chunk(mut file: &File, want: usize) -> io::Result<Bytes> {
    if want < POOL_MIN_READ {
        let mut buf = vec![0; want];
        file.read_exact(&mut buf)?;
        return Ok(Bytes::from(buf));
    }
    let buf = POOL.lock().ok().and_then(|mut pool| pool.pop());
    let mut buf = Pooled(buf.unwrap_or_else(|| vec![0; CHUNK]), want);
    if buf.0.len() < want {
        buf.0.resize(want, 0);
    }
    file.read_exact(&mut buf.0[..want])?;
    Ok(Bytes::from_owner(buf))
}

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A pooled buffer of which the first `.1` bytes were read; back to the pool on drop.
struct Pooled(Vec<u8>, usize);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        if let Ok(mut pool) = POOL.lock()
            && pool.len() < POOL_MAX
        {
            pool.push(buf);
        }
    }
}
