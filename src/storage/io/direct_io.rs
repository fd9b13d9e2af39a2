//! Writing and reading staged files around the page cache (`O_DIRECT`) where the
//! filesystem allows: copying gigabytes into fresh page-cache pages costs more CPU than
//! receiving them, and staged bytes are read once, at completion. Unaligned ends go
//! through the page cache; a filesystem refusing `O_DIRECT` gets plain I/O.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::Chunks;

/// Alignment of offsets, lengths and memory for direct writes (covers 512 B and 4 KiB
/// sectors).
const ALIGN: usize = 4096;
/// Bytes gathered before one direct write.
const DIRECT_CHUNK: usize = 1 << 20;
/// Plain writes: start write-back every this many bytes.
const FLUSH_EVERY: u64 = 64 << 20;

/// Appends to a staged file from `offset` on; `finish` makes the bytes durable.
pub struct StagedFileWriter {
    file: File,
    direct: Option<Direct>,
    /// Where the next byte goes.
    at: u64,
    writeback: WriteBack,
}

/// The direct descriptor and its aligned buffer, which holds the `filled` bytes before
/// the writer's `at` (so it starts at an aligned file offset).
struct Direct {
    file: File,
    memory: Vec<u8>,
    /// Where the aligned window starts in `memory`.
    base: usize,
    filled: usize,
}

impl StagedFileWriter {
    /// Opens (creating) `path` for writing at `offset`; `truncate` drops what follows it.
    pub fn open(path: &Path, offset: u64, truncate: bool) -> io::Result<Self> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if truncate {
            file.set_len(offset)?;
        }
        Ok(Self {
            direct: open_direct(path),
            file,
            at: offset,
            writeback: WriteBack::new(offset),
        })
    }

    pub fn write(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let Some(direct) = self.direct.as_mut() else {
                self.file.write_all_at(bytes, self.at)?;
                self.at += bytes.len() as u64;
                self.writeback.written(&self.file, self.at);
                return Ok(());
            };
            if direct.filled == 0 {
                // Up to the first aligned offset through the page cache.
                let misaligned = (self.at % ALIGN as u64) as usize;
                if misaligned != 0 {
                    let head = (ALIGN - misaligned).min(bytes.len());
                    self.file.write_all_at(&bytes[..head], self.at)?;
                    self.at += head as u64;
                    bytes = &bytes[head..];
                    continue;
                }
            }
            let (filled, n) = (
                direct.filled,
                (DIRECT_CHUNK - direct.filled).min(bytes.len()),
            );
            let base = direct.base + filled;
            direct.memory[base..base + n].copy_from_slice(&bytes[..n]);
            direct.filled += n;
            self.at += n as u64;
            bytes = &bytes[n..];
            if direct.filled == DIRECT_CHUNK {
                self.flush_direct()?;
            }
        }
        Ok(())
    }

    /// Writes what the aligned buffer holds: its aligned part directly, the rest (only
    /// ever at the very end) through the page cache.
    fn flush_direct(&mut self) -> io::Result<()> {
        let Some(direct) = self.direct.as_mut() else {
            return Ok(());
        };
        let (filled, start) = (direct.filled, self.at - direct.filled as u64);
        direct.filled = 0;
        let aligned = filled - filled % ALIGN;
        let window = &direct.memory[direct.base..direct.base + filled];
        let refused = match direct.file.write_all_at(&window[..aligned], start) {
            Ok(()) => {
                let tail = start + aligned as u64;
                self.file.write_all_at(&window[aligned..], tail)?;
                false
            }
            // Refused after all (a filesystem that takes the flag but not the write): these
            // bytes and the rest of the upload go through the page cache.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                tracing::debug!("direct write refused; staging through the page cache");
                self.file.write_all_at(window, start)?;
                true
            }
            Err(e) => return Err(e),
        };
        if refused {
            self.direct = None;
        }
        Ok(())
    }

    /// Writes what is buffered and waits until every byte is on disk.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush_direct()?;
        self.file.sync_data()
    }
}

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<Direct> {
    use std::os::unix::fs::OpenOptionsExt;
    // tmpfs and some network filesystems refuse the flag: plain writes then.
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()?;
    let memory = vec![0; DIRECT_CHUNK + ALIGN];
    let base = memory.as_ptr().align_offset(ALIGN);
    Some(Direct {
        file,
        memory,
        base,
        filled: 0,
    })
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_: &Path) -> Option<Direct> {
    None
}

/// Early write-back for plain writes: each `FLUSH_EVERY` window is handed to the disk as
/// soon as it is written and the one before it is waited for, so at most two windows are
/// dirty at a time and the closing `fdatasync` has little left to do.
struct WriteBack {
    start: u64,
    previous: Option<(u64, u64)>,
}

impl WriteBack {
    fn new(at: u64) -> Self {
        Self {
            start: at,
            previous: None,
        }
    }

    fn written(&mut self, file: &File, at: u64) {
        if at - self.start < FLUSH_EVERY {
            return;
        }
        let window = (self.start, at - self.start);
        if let Some((start, len)) = self.previous.replace(window) {
            sync_range(file, start, len, true);
        }
        sync_range(file, window.0, window.1, false);
        self.start = at;
    }
}

/// Starts write-back of a range (and, with `wait`, waits for it). Advice only: the
/// closing `fdatasync` is what makes the bytes durable, so errors are ignored here.
#[cfg(target_os = "linux")]
fn sync_range(file: &File, start: u64, len: u64, wait: bool) {
    use std::os::fd::AsRawFd;
    let flags = if wait {
        libc::SYNC_FILE_RANGE_WAIT_BEFORE
            | libc::SYNC_FILE_RANGE_WRITE
            | libc::SYNC_FILE_RANGE_WAIT_AFTER
    } else {
        libc::SYNC_FILE_RANGE_WRITE
    };
    // SAFETY: a plain syscall on an open descriptor; it touches no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), start as i64, len as i64, flags);
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_range(_: &File, _: u64, _: u64, _: bool) {}

/// Reads a staged file from its start, in chunks of up to `DIRECT_CHUNK` bytes, around
/// the page cache where the filesystem allows (bytes written around it are not cached,
/// and are read once). The reading runs on its own thread, a few chunks ahead; an error
/// after the file opened ends the chunks with that error.
pub async fn read_chunks(path: PathBuf) -> io::Result<impl Chunks> {
    let (plain, direct) = tokio::task::spawn_blocking(move || {
        File::open(&path).map(|plain| (plain, open_direct_read(&path)))
    })
    .await
    .map_err(io::Error::other)??;
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = read_into(plain, direct, &tx) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    Ok(futures_util::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((chunk, rx))
    }))
}

/// Chunks read ahead of the consumer.
const READ_AHEAD: usize = 2;

fn read_into(
    plain: File,
    mut direct: Option<File>,
    tx: &tokio::sync::mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<()> {
    let (pool_tx, pool) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut at: u64 = 0;
    loop {
        let mut memory = pool
            .try_recv()
            .unwrap_or_else(|_| vec![0; DIRECT_CHUNK + ALIGN]);
        let base = memory.as_ptr().align_offset(ALIGN);
        let window = &mut memory[base..base + DIRECT_CHUNK];
        let read = match direct.as_ref().map(|d| d.read_at(window, at)) {
            // Refused after all: the rest through the page cache.
            Some(Err(e)) if e.raw_os_error() == Some(libc::EINVAL) => {
                direct = None;
                continue;
            }
            Some(read) => read?,
            None => plain.read_at(window, at)?,
        };
        if read == 0 {
            return Ok(());
        }
        at += read as u64;
        let chunk = Bytes::from_owner(PooledChunk {
            memory,
            base,
            len: read,
            pool: pool_tx.clone(),
        });
        if tx.blocking_send(Ok(chunk)).is_err() {
            return Ok(()); // the consumer went away
        }
    }
}

/// A chunk's aligned memory, handed back to the reading thread once consumed (no fresh
/// allocation, and no page faults, per chunk).
struct PooledChunk {
    memory: Vec<u8>,
    base: usize,
    len: usize,
    pool: std::sync::mpsc::Sender<Vec<u8>>,
}

impl AsRef<[u8]> for PooledChunk {
    fn as_ref(&self) -> &[u8] {
        &self.memory[self.base..self.base + self.len]
    }
}

impl Drop for PooledChunk {
    fn drop(&mut self) {
        let _ = self.pool.send(std::mem::take(&mut self.memory));
    }
}

#[cfg(target_os = "linux")]
fn open_direct_read(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct_read(_: &Path) -> Option<File> {
    None
}

#[cfg(test)]
#[path = "direct_io_tests.rs"]
mod tests;
