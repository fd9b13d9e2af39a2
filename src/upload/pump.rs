//! Moving bytes from a request body to staging: one buffer at a time (memory does not
//! grow with the file), digests computed on another thread while the next buffer is
//! read and written, and, for files, write-back started early instead of all at the end.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::digest::{ChunkChecksum, PartDigest, RunningMd5};
use super::staging::{StagingError, Written};

/// Read size: large enough for throughput, small enough for many uploads at once.
const BUF: usize = 1 << 20;
/// Buffers in flight to the digest thread (bounds memory per upload to ~8 MiB).
const IN_FLIGHT: usize = 8;
/// Start write-back of a staged file every this many bytes.
const FLUSH_EVERY: u64 = 64 << 20;

/// Whatever is computed over the bytes as they pass.
pub trait Digester: Send + 'static {
    fn update(&mut self, bytes: &[u8]);

    /// Nothing to compute: the copy skips the digest thread.
    fn is_noop(&self) -> bool {
        false
    }
}

impl Digester for () {
    fn update(&mut self, _: &[u8]) {}
    fn is_noop(&self) -> bool {
        true
    }
}

impl Digester for RunningMd5 {
    fn update(&mut self, bytes: &[u8]) {
        RunningMd5::update(self, bytes);
    }
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

/// Copies up to `max` bytes from `reader` to `writer`, feeding `digests` on a blocking
/// thread. A read error (the client went away) ends the copy as incomplete, keeping what
/// arrived; a write error is returned. `flush`, a handle to the file being written, gets
/// periodic background `fdatasync`s so the final one has little left to do.
pub async fn pump<D: Digester>(
    mut reader: impl AsyncRead + Unpin,
    max: u64,
    digests: D,
    writer: &mut (impl AsyncWrite + Unpin),
    flush: Option<std::fs::File>,
) -> Result<(Written, D), StagingError> {
    let (tx, hasher) = if digests.is_noop() {
        (None, Err(digests))
    } else {
        let (tx, mut rx) = mpsc::channel::<Bytes>(IN_FLIGHT);
        let mut digests = digests;
        let task = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = rx.blocking_recv() {
                digests.update(&chunk);
            }
            digests
        });
        (Some(tx), Ok(task))
    };
    let mut total: u64 = 0;
    let mut flushed_at: u64 = 0;
    let mut flushing: Option<JoinHandle<std::io::Result<()>>> = None;
    let result = loop {
        let mut buf = BytesMut::with_capacity(BUF);
        let n = match reader.read_buf(&mut buf).await {
            Ok(0) => break Ok(true),
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, bytes = total, "request body broke off");
                break Ok(false);
            }
        };
        if total + n as u64 > max {
            break Err(StagingError::TooLong(max));
        }
        let chunk = buf.freeze();
        if let Some(tx) = &tx {
            // The digest thread only fails if it panicked; the join below reports it.
            let _ = tx.send(chunk.clone()).await;
        }
        if let Err(e) = writer.write_all(&chunk).await {
            break Err(e.into());
        }
        total += n as u64;
        if let Some(file) = &flush
            && total - flushed_at >= FLUSH_EVERY
            && flushing.as_ref().is_none_or(|f| f.is_finished())
        {
            writer.flush().await?;
            let file = file.try_clone()?;
            flushing = Some(tokio::task::spawn_blocking(move || file.sync_data()));
            flushed_at = total;
        }
    };
    drop(tx);
    if let Some(f) = flushing {
        f.await.map_err(std::io::Error::other)??;
    }
    let digests = match hasher {
        Ok(task) => task.await.map_err(std::io::Error::other)?,
        Err(d) => d,
    };
    let complete = result?;
    writer.flush().await?;
    Ok((
        Written {
            bytes: total,
            complete,
        },
        digests,
    ))
}
