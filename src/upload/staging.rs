//! Where upload bytes wait until the upload completes: a local (or shared) directory, or
//! the object store itself so several API nodes without a shared disk can take turns.
//! Bytes are streamed through a fixed buffer, hashed on the way, never held whole.

use std::path::{Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt};
use opendal::Operator;
use tokio::io::AsyncWriteExt;

use crate::model::UploadId;
use crate::storage::Storage;
use crate::storage::io::{
    Chunks, CopyError, Digester, Sink, StagedFileWriter, Written, drain, pump, read_chunks,
};

/// Chunk size for writes to object stores (multipart uploads need ≥ 5 MiB parts).
const STORE_CHUNK: usize = 8 << 20;

#[derive(Clone)]
pub enum Staging {
    /// Files under `dir`; when storage is fs on the same disk, completion is a rename
    /// instead of a copy.
    Fs { dir: PathBuf },
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
    async fn object(op: &Operator, key: &str) -> Result<impl Chunks + use<>, CopyError> {
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
    ) -> Result<(Written, D), CopyError> {
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
    pub async fn truncate(&self, id: &UploadId, len: u64) -> Result<(), CopyError> {
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

    async fn store_chunks(&self, op: &Operator, id: &UploadId) -> Result<Vec<String>, CopyError> {
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
    ) -> Result<(u64, D), CopyError> {
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
        storage: &Storage,
        key: &str,
    ) -> Result<(), CopyError> {
        if let (Self::Fs { dir }, Some(target)) = (self, storage.local_path(key)) {
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
        match self {
            Self::Fs { dir } => {
                storage
                    .put(key, read_chunks(Self::path(dir, id)).await?)
                    .await?;
            }
            Self::Store { op } => {
                // One staged object open at a time, in order.
                let keys = self.store_chunks(op, id).await?;
                let op = op.clone();
                let objects = futures_util::stream::iter(keys)
                    .then(move |key| {
                        let op = op.clone();
                        async move { Self::object(&op, &key).await.map_err(std::io::Error::other) }
                    })
                    .try_flatten();
                storage.put(key, objects).await?;
            }
        }
        self.remove(id).await
    }

    /// Appends everything staged for `src` to `dst` at `offset` (tus concatenation);
    /// returns the bytes copied.
    pub async fn append_copy(
        &self,
        src: &UploadId,
        dst: &UploadId,
        offset: u64,
    ) -> Result<u64, CopyError> {
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
    pub async fn remove(&self, id: &UploadId) -> Result<(), CopyError> {
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
    ) -> Result<Vec<UploadId>, CopyError> {
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
