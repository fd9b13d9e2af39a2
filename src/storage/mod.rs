//! Object storage through opendal (`fs` under the data dir by default, `s3` or `oss` by
//! config) and the byte I/O over it (`io`). Keys come from `model::layout`.

pub mod io;

use std::path::{Path, PathBuf};
use std::pin::Pin;

use opendal::{Operator, services};

use self::io::{Chunks, CopyError, Sink, pump, read_chunks};

use crate::config::{StorageConfig, StorageKind};

#[derive(Debug, thiserror::Error)]
#[error("cannot open {kind} storage: {reason}")]
pub struct StorageSetupError {
    kind: &'static str,
    reason: String,
}

/// Root directory of the fs service (`None` for object stores).
pub fn fs_root(cfg: &StorageConfig, data_dir: &Path) -> Option<std::path::PathBuf> {
    if cfg.kind != StorageKind::Fs {
        return None;
    }
    let root = cfg
        .options
        .get("root")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| data_dir.join("storage"));
    Some(std::path::absolute(&root).unwrap_or(root))
}

/// The configured store, and where it lives on disk when it is `fs` (files are then read
/// and renamed in place instead of streamed).
#[derive(Clone)]
pub struct Storage {
    op: Operator,
    fs_root: Option<PathBuf>,
}

/// Stored objects are written in parts this large (object stores need ≥ 5 MiB parts).
const WRITE_CHUNK: usize = 8 << 20;

impl Storage {
    pub fn open(cfg: &StorageConfig, data_dir: &Path) -> Result<Self, StorageSetupError> {
        Ok(Self {
            op: build(cfg, data_dir)?,
            fs_root: fs_root(cfg, data_dir),
        })
    }

    pub fn op(&self) -> &Operator {
        &self.op
    }

    /// Root directory of fs storage (`None` for object stores).
    pub fn fs_root(&self) -> Option<&Path> {
        self.fs_root.as_deref()
    }

    /// Where `key` is on local disk, on fs storage.
    pub fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.fs_root.as_ref().map(|root| root.join(key))
    }

    /// A stored object's bytes as the store hands them over; on fs storage the file
    /// itself, read around the page cache (large sources are read once).
    pub async fn chunks(&self, key: &str) -> Result<Pin<Box<dyn Chunks>>, CopyError> {
        if let Some(path) = self.local_path(key) {
            return Ok(Box::pin(read_chunks(path).await?));
        }
        let reader = self.op.reader_with(key).chunk(WRITE_CHUNK).await?;
        Ok(Box::pin(reader.into_bytes_stream(..).await?))
    }

    /// `key` as a local file: in place on fs storage (`None` when it is missing), otherwise
    /// streamed into `scratch` (an object store's missing key is its error).
    pub async fn local_file(
        &self,
        key: &str,
        scratch: &Path,
    ) -> Result<Option<PathBuf>, CopyError> {
        if let Some(path) = self.local_path(key) {
            return Ok(tokio::fs::try_exists(&path).await?.then_some(path));
        }
        let mut source = self.chunks(key).await?;
        let mut file = tokio::fs::File::create(scratch).await?;
        while let Some(bytes) = futures_util::StreamExt::next(&mut source).await {
            tokio::io::AsyncWriteExt::write_all(&mut file, &bytes?).await?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file).await?;
        Ok(Some(scratch.to_path_buf()))
    }

    /// Streams `chunks` into `key` with its content type; returns the bytes written.
    pub async fn put(&self, key: &str, chunks: impl Chunks) -> Result<u64, CopyError> {
        let mut writer = self
            .op
            .writer_with(key)
            .content_type(content_type(key))
            .chunk(WRITE_CHUNK)
            .await?
            .into_futures_async_write();
        let mut sink = tokio_util::compat::FuturesAsyncWriteCompatExt::compat_write(&mut writer);
        let (written, ()) = pump(chunks, u64::MAX, (), Sink::Async(&mut sink)).await?;
        tokio::io::AsyncWriteExt::shutdown(&mut sink).await?;
        Ok(written.bytes)
    }

    /// Copies a local file into `key`.
    pub async fn put_file(&self, path: &Path, key: &str) -> Result<u64, CopyError> {
        let file = tokio_util::io::ReaderStream::with_capacity(
            tokio::fs::File::open(path).await?,
            256 << 10,
        );
        self.put(key, file).await
    }

    /// Writes a small object (a playlist) with its content type.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), opendal::Error> {
        // Playlists are rewritten while players and the image API read them (a master
        // gains its tracks after the video plays): never half-written.
        self.put_whole(key, bytes.into())
            .await
            .map_err(|e| match e {
                CopyError::Store(e) => e,
                other => opendal::Error::new(opendal::ErrorKind::Unexpected, other.to_string()),
            })
    }

    /// Writes a small object that readers may look for at any moment (a cached image):
    /// never seen half-written. Object stores replace whole objects; on fs the bytes go
    /// to a temporary file beside it, renamed into place.
    pub async fn put_whole(&self, key: &str, bytes: bytes::Bytes) -> Result<(), CopyError> {
        let Some(path) = self.local_path(key) else {
            self.op
                .write_with(key, bytes)
                .content_type(content_type(key))
                .await?;
            return Ok(());
        };
        let dir = path.parent().unwrap_or(&path).to_path_buf();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let mut file = tempfile::NamedTempFile::new_in(&dir)?;
            std::io::Write::write_all(&mut file, &bytes)?;
            // As readable as the store's other files (a temporary file starts private).
            use std::os::unix::fs::PermissionsExt;
            file.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
            file.persist(&path).map_err(|e| e.error)?;
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok(())
    }

    /// A stored object's length and bytes, read through the store in parts of at most
    /// 512 KiB (whatever the backend); `None` when it does not exist.
    pub async fn read_object(
        &self,
        key: &str,
    ) -> Result<Option<(u64, Pin<Box<dyn Chunks>>)>, CopyError> {
        let meta = match self.op.stat(key).await {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = meta.content_length();
        let reader = self.op.reader_with(key).chunk(512 << 10).await?;
        let stream = reader.into_bytes_stream(..len).await?;
        Ok(Some((len, Box::pin(stream))))
    }

    /// Reads a small object (a playlist) whole; `None` when it does not exist.
    pub async fn get_small(&self, key: &str) -> Result<Option<Vec<u8>>, opendal::Error> {
        match self.op.read(key).await {
            Ok(buffer) => Ok(Some(buffer.to_vec())),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes everything under `prefix` (a directory on fs).
    pub async fn remove_all(&self, prefix: &str) -> Result<(), opendal::Error> {
        self.op.delete_with(prefix).recursive(true).await
    }

    /// The keys and prefixes directly under `prefix` (a directory ending in `/`).
    pub async fn children(&self, prefix: &str) -> Result<Vec<String>, opendal::Error> {
        let entries = self.op.list(prefix).await?;
        Ok(entries
            .into_iter()
            .map(|e| e.path().to_string())
            .filter(|p| p != prefix)
            .collect())
    }
}

/// Builds the operator of the configured service.
pub fn build(cfg: &StorageConfig, data_dir: &Path) -> Result<Operator, StorageSetupError> {
    // The HTTP transport of the object stores (first call wins; later calls are no-ops).
    opendal::install_default();
    let mut options = cfg.options.clone();
    let (kind, result) = match cfg.kind {
        StorageKind::Fs => {
            let root = fs_root(cfg, data_dir).expect("fs storage has a root");
            if let Err(e) = std::fs::create_dir_all(&root) {
                return Err(StorageSetupError {
                    kind: "fs",
                    reason: format!("{}: {e}", root.display()),
                });
            }
            options.insert("root".into(), root.to_string_lossy().into_owned());
            ("fs", Operator::from_iter::<services::Fs>(options))
        }
        StorageKind::S3 => ("s3", Operator::from_iter::<services::S3>(options)),
        StorageKind::Oss => ("oss", Operator::from_iter::<services::Oss>(options)),
    };
    result.map_err(|e| StorageSetupError {
        kind,
        reason: e.to_string(),
    })
}

/// The media type of a stored object by its extension (any case), without charset;
/// `application/octet-stream` when unknown.
pub fn content_type(name: &str) -> &'static str {
    const TYPES: &[(&str, &str)] = &[
        ("m3u8", "application/vnd.apple.mpegurl"),
        ("m4s", "video/iso.segment"),
        ("ts", "video/mp2t"),
        ("mp4", "video/mp4"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("gif", "image/gif"),
        ("vtt", "text/vtt"),
    ];
    let Some((_, ext)) = name.rsplit_once('.') else {
        return "application/octet-stream";
    };
    TYPES
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map_or("application/octet-stream", |(_, t)| t)
}
