//! Copying a stream of chunks (a request body, stored bytes) to a file, a store or
//! nowhere. The chunks' own buffers are passed on without copying (memory does not grow
//! with the file), batched, and shared by two threads: one computes the digests, one
//! writes the file and starts its write-back early, so the receiving task only receives.

use std::pin::pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::direct_io::StagedFileWriter;
use super::{Chunks, CopyError, Written};

/// Bytes gathered before they are handed on: large enough that channel hops and
/// syscalls are rare, small enough for many uploads at once.
const BATCH: usize = 512 << 10;
/// Batches queued for each of the digest and writer threads, which share the buffers:
/// a few MiB per upload at most, even with eight parts arriving at once.
const IN_FLIGHT: usize = 4;

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

impl Digester for super::RunningMd5 {
    fn update(&mut self, bytes: &[u8]) {
        super::RunningMd5::update(self, bytes);
    }
}

/// Where the bytes go.
pub enum Sink<'a> {
    /// A staged file; written on its own thread and made durable before the copy returns.
    File(StagedFileWriter),
    /// An async writer (an object-store upload); the caller finishes it.
    Async(&'a mut (dyn AsyncWrite + Unpin + Send)),
    /// Nowhere: only the digests are wanted.
    Discard,
}

type Batch = Arc<Vec<Bytes>>;

/// Copies up to `max` bytes from `body` to `sink`, feeding `digests` on the way. A body
/// that breaks off (the client went away) ends the copy as incomplete, keeping what
/// arrived; a write error is returned.
pub async fn pump<D: Digester>(
    body: impl Chunks,
    max: u64,
    digests: D,
    sink: Sink<'_>,
) -> Result<(Written, D), CopyError> {
    let mut body = pin!(body);
    let (to_digests, digesting) = if digests.is_noop() {
        (None, Err(digests))
    } else {
        let (tx, rx) = mpsc::channel::<Batch>(IN_FLIGHT);
        let task = tokio::task::spawn_blocking(move || digest_batches(rx, digests));
        (Some(tx), Ok(task))
    };
    let (mut async_sink, to_file, writing) = match sink {
        Sink::File(file) => {
            let (tx, rx) = mpsc::channel::<Batch>(IN_FLIGHT);
            let task = tokio::task::spawn_blocking(move || write_batches(rx, file));
            (None, Some(tx), Some(task))
        }
        Sink::Async(writer) => (Some(writer), None, None),
        Sink::Discard => (None, None, None),
    };

    let mut total: u64 = 0;
    let mut ended = false;
    let mut complete = true;
    let mut result = Ok(());
    while !ended {
        let mut batch = Vec::new();
        let mut batch_len = 0;
        while batch_len < BATCH {
            match body.next().await {
                None => {
                    ended = true;
                    break;
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, bytes = total + batch_len as u64, "request body broke off");
                    (ended, complete) = (true, false);
                    break;
                }
                Some(Ok(chunk)) if chunk.is_empty() => {}
                Some(Ok(chunk)) => {
                    if total + (batch_len + chunk.len()) as u64 > max {
                        result = Err(CopyError::TooLong(max));
                        ended = true;
                        break;
                    }
                    batch_len += chunk.len();
                    batch.push(chunk);
                }
            }
        }
        if batch.is_empty() {
            break;
        }
        let batch = Arc::new(batch);
        if let Some(tx) = &to_digests {
            // Fails only if the digest thread panicked; the join below reports it.
            let _ = tx.send(batch.clone()).await;
        }
        if let Some(tx) = &to_file
            && tx.send(batch.clone()).await.is_err()
        {
            break; // the writer failed: its error is reported below
        }
        if let Some(writer) = async_sink.as_mut() {
            for chunk in batch.iter() {
                if let Err(e) = writer.write_all(chunk).await {
                    result = Err(e.into());
                    break;
                }
            }
            if result.is_err() {
                break;
            }
        }
        total += batch_len as u64;
    }
    drop((to_digests, to_file));
    if let Some(task) = writing {
        task.await.map_err(std::io::Error::other)??;
    }
    let digests = match digesting {
        Ok(task) => task.await.map_err(std::io::Error::other)?,
        Err(d) => d,
    };
    result?;
    if let Some(writer) = async_sink {
        writer.flush().await?;
    }
    Ok((
        Written {
            bytes: total,
            complete,
        },
        digests,
    ))
}

fn digest_batches<D: Digester>(mut rx: mpsc::Receiver<Batch>, mut digests: D) -> D {
    while let Some(batch) = rx.blocking_recv() {
        for chunk in batch.iter() {
            digests.update(chunk);
        }
    }
    digests
}

/// The writer thread.
fn write_batches(mut rx: mpsc::Receiver<Batch>, mut file: StagedFileWriter) -> std::io::Result<()> {
    while let Some(batch) = rx.blocking_recv() {
        for chunk in batch.iter() {
            file.write(chunk)?;
        }
    }
    file.finish()
}

/// Reads `body` through `digests` without storing it (at most `max` bytes).
pub async fn drain<D: Digester>(
    body: impl Chunks,
    max: u64,
    digests: D,
) -> Result<(Written, D), CopyError> {
    pump(body, max, digests, Sink::Discard).await
}

#[cfg(test)]
#[path = "pump_tests.rs"]
mod tests;
