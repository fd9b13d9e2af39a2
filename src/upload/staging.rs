//! Where upload bytes wait until the upload completes: a local (or shared) directory, or
//! the object store itself so several API nodes without a shared disk can take turns.
//! Bytes are streamed through a fixed buffer, hashed on the way, never held whole.

use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use opendal::Operator;
use tokio::io::AsyncWriteExt;

use super::direct::{StagedFileWriter, read_chunks};
use super::pump::{Chunks, Digester, Sink, pump};
use super::session::UploadId;

/// Chunk size for writes to object stores (multipart uploads need ≥ 5 MiB parts).
const STORE_CHUNK: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    #[error("body is larger than the {0} bytes expected")]
    TooLong(u64),
    #[error("staging i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("staging storage: {0}")]
    Store(#[from] opendal::Error),
}

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    /// False when the client's body broke off (the bytes before the break are kept).
    pub complete: bool,
}

#[derive(Clone)]
pub enum Staging {
    /// Files under `dir`; `storage_root` is set when storage is fs on the same disk,
    /// so completion is a rename instead of a copy.
    Fs {
        dir: PathBuf,
        storage_root: Option<PathBuf>,
    },
    /// Objects under `staging/` in the storage operator: one per chunk or part.
    Store { op: Operator },
}

impl Staging {
    fn path(dir: &Path, id: &UploadId) -> PathBuf {
        dir.join(id.as_str())
    }

    fn chunk_key(id: &UploadId, offset: u64) -> String {
        format!("staging/{id}/{offset:020}")
    }

    /// A staged object's bytes as the store hands them over (no copy into a read buffer).
    async fn object(op: &Operator, key: &str) -> Result<impl Chunks + use<>, StagingError> {
        Ok(op.reader(key).await?.into_bytes_stream(..).await?)
    }

    /// Writes `body` at `offset`, at most `max` bytes, feeding `digests` on the way.
    /// `truncate` drops whatever followed `offset` (stream transfers: a crashed earlier
    /// write may have left bytes past the recorded offset).
    pub async fn write_at<D: Digester>(
        &self,
        id: &UploadId,
        offset: u64,
        body: impl Chunks,
        max: u64,
        truncate: bool,
        digests: D,
    ) -> Result<(Written, D), StagingError> {
        match self {
            Self::Fs { dir, .. } => {
                tokio::fs::create_dir_all(dir).await?;
                let path = Self::path(dir, id);
                let file = tokio::task::spawn_blocking(move || {
                    StagedFileWriter::open(&path, offset, truncate)
                })
                .await
                .map_err(std::io::Error::other)??;
                pump(body, max, digests, Sink::File(file)).await
            }
            Self::Store { op } => {
                let mut writer = op
                    .writer_with(&Self::chunk_key(id, offset))
                    .chunk(STORE_CHUNK)
                    .await?
                    .into_futures_async_write();
                let mut sink =
                    tokio_util::compat::FuturesAsyncWriteCompatExt::compat_write(&mut writer);
                // Even a body that broke off keeps what arrived (tus semantics).
                let written = pump(body, max, digests, Sink::Async(&mut sink)).await?;
                sink.shutdown().await?;
                Ok(written)
            }
        }
    }

    /// Forgets everything staged after `len` (a rejected chunk).
    pub async fn truncate(&self, id: &UploadId, len: u64) -> Result<(), StagingError> {
        match self {
            Self::Fs { dir, .. } => {
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(Self::path(dir, id))
                    .await?;
                file.set_len(len).await?;
                Ok(())
            }
            Self::Store { op } => {
                for key in self.store_chunks(op, id).await? {
                    let start: u64 = key.rsplit('/').next().unwrap_or("0").parse().unwrap_or(0);
                    if start >= len {
                        op.delete(&key).await?;
                    }
                }
                Ok(())
            }
        }
    }

    async fn store_chunks(
        &self,
        op: &Operator,
        id: &UploadId,
    ) -> Result<Vec<String>, StagingError> {
        let mut keys: Vec<String> = op
            .lister(&format!("staging/{id}/"))
            .await?
            .map_ok(|e| e.path().to_string())
            .try_collect()
            .await?;
        keys.retain(|k| !k.ends_with('/'));
        keys.sort();
        Ok(keys)
    }

    /// Reads the staged bytes in order through `digests` (for digests computed at the end).
    pub async fn read_all<D: Digester>(
        &self,
        id: &UploadId,
        digests: D,
    ) -> Result<(u64, D), StagingError> {
        match self {
            Self::Fs { dir, .. } => {
                let (w, d) =
                    drain(read_chunks(Self::path(dir, id)).await?, u64::MAX, digests).await?;
                Ok((w.bytes, d))
            }
            Self::Store { op } => {
                let (mut total, mut digests) = (0, digests);
                for key in self.store_chunks(op, id).await? {
                    let (w, d) = drain(Self::object(op, &key).await?, u64::MAX, digests).await?;
                    total += w.bytes;
                    digests = d;
                }
                Ok((total, digests))
            }
        }
    }

    /// Moves the staged bytes to `key` in `storage`: a rename when both are on one disk,
    /// otherwise one streaming copy.
    pub async fn commit(
        &self,
        id: &UploadId,
        storage: &Operator,
        key: &str,
    ) -> Result<(), StagingError> {
        if let Self::Fs {
            dir,
            storage_root: Some(root),
        } = self
        {
            let target = root.join(key);
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            match tokio::fs::rename(Self::path(dir, id), &target).await {
                Ok(()) => return Ok(()),
                // Different filesystems: fall back to copying.
                Err(e) if e.raw_os_error() == Some(18) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut writer = storage
            .writer_with(key)
            .chunk(STORE_CHUNK)
            .await?
            .into_futures_async_write();
        let mut sink = tokio_util::compat::FuturesAsyncWriteCompatExt::compat_write(&mut writer);
        match self {
            Self::Fs { dir, .. } => {
                let file = read_chunks(Self::path(dir, id)).await?;
                pump(file, u64::MAX, (), Sink::Async(&mut sink)).await?;
            }
            Self::Store { op } => {
                for chunk in self.store_chunks(op, id).await? {
                    let object = Self::object(op, &chunk).await?;
                    pump(object, u64::MAX, (), Sink::Async(&mut sink)).await?;
                }
            }
        }
        sink.shutdown().await?;
        self.remove(id).await
    }

    /// Appends everything staged for `src` to `dst` at `offset` (tus concatenation);
    /// returns the bytes copied.
    pub async fn append_copy(
        &self,
        src: &UploadId,
        dst: &UploadId,
        offset: u64,
    ) -> Result<u64, StagingError> {
        match self {
            Self::Fs { dir, .. } => {
                let file = read_chunks(Self::path(dir, src)).await?;
                let (w, ()) = self.write_at(dst, offset, file, u64::MAX, true, ()).await?;
                Ok(w.bytes)
            }
            Self::Store { op } => {
                let mut at = offset;
                for key in self.store_chunks(op, src).await? {
                    let len = op.stat(&key).await?.content_length();
                    op.copy(&key, &Self::chunk_key(dst, at)).await?;
                    at += len;
                }
                Ok(at - offset)
            }
        }
    }

    /// Deletes whatever is staged for `id`.
    pub async fn remove(&self, id: &UploadId) -> Result<(), StagingError> {
        match self {
            Self::Fs { dir, .. } => match tokio::fs::remove_file(Self::path(dir, id)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
            Self::Store { op } => {
                op.delete_with(&format!("staging/{id}/"))
                    .recursive(true)
                    .await?;
                Ok(())
            }
        }
    }
}

impl Staging {
    /// Uploads with staged bytes last written before `before` (candidates for the sweep
    /// when their session is gone).
    pub async fn written_before(
        &self,
        before: std::time::SystemTime,
    ) -> Result<Vec<UploadId>, StagingError> {
        let mut old = Vec::new();
        match self {
            Self::Fs { dir, .. } => {
                let mut entries = match tokio::fs::read_dir(dir).await {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(old),
                    Err(e) => return Err(e.into()),
                };
                while let Some(entry) = entries.next_entry().await? {
                    let Some(id) = entry.file_name().to_str().and_then(UploadId::parse) else {
                        continue;
                    };
                    let modified = entry.metadata().await?.modified()?;
                    if modified < before {
                        old.push(id);
                    }
                }
            }
            Self::Store { op } => {
                let mut newest = std::collections::HashMap::<UploadId, bool>::new();
                let mut lister = op.lister_with("staging/").recursive(true).await?;
                while let Some(entry) = lister.try_next().await? {
                    let Some(id) = entry.path().split('/').nth(1).and_then(UploadId::parse) else {
                        continue;
                    };
                    let fresh = entry
                        .metadata()
                        .last_modified()
                        .is_none_or(|t| std::time::SystemTime::from(t) >= before);
                    *newest.entry(id).or_default() |= fresh;
                }
                old.extend(newest.into_iter().filter(|(_, f)| !f).map(|(id, _)| id));
            }
        }
        Ok(old)
    }
}

/// Reads a body through `digests` without storing it (at most `max` bytes).
pub async fn drain<D: Digester>(
    body: impl Chunks,
    max: u64,
    digests: D,
) -> Result<(Written, D), StagingError> {
    pump(body, max, digests, Sink::Discard).await
}
