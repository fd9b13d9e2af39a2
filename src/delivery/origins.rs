//! Origins: the named stores players' CDNs pull from, and copying a generation of
//! outputs to every one of them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use opendal::Operator;

use crate::config::delivery::{DeliveryConfig, LOCAL_ORIGIN, OriginConfig};
use crate::config::{StorageConfig, StorageKind};
use crate::storage::{self, Storage, StorageSetupError};

/// Files copied to one origin at once.
const PARALLEL_COPIES: usize = 8;
/// Tries per file before the attempt fails (the job queue retries the attempt later).
const TRIES: u32 = 3;

#[derive(Clone)]
pub struct Origin {
    pub name: String,
    pub op: Operator,
    /// Directory of an fs origin (what `/media/` serves).
    pub fs_root: Option<PathBuf>,
    /// The origin is the storage itself: outputs are there already.
    pub is_storage: bool,
}

#[derive(Clone)]
pub struct Origins {
    list: Vec<Origin>,
}

impl Origins {
    /// Builds the configured origins (or the default `local` one).
    pub fn build(
        delivery: &DeliveryConfig,
        storage: &StorageConfig,
        store: &Storage,
        data_dir: &Path,
    ) -> Result<Self, StorageSetupError> {
        let storage_root = store.fs_root().map(Path::to_path_buf);
        let mut configured = delivery.origins.clone();
        if configured.is_empty() {
            let root = storage_root
                .clone()
                .unwrap_or_else(|| data_dir.join("media"));
            configured.insert(
                LOCAL_ORIGIN.into(),
                OriginConfig {
                    kind: StorageKind::Fs,
                    options: [("root".to_string(), root.to_string_lossy().into_owned())].into(),
                },
            );
        }
        let mut list = Vec::new();
        for (name, cfg) in configured {
            let as_storage = StorageConfig {
                kind: cfg.kind,
                options: cfg.options.clone(),
            };
            let fs_root = storage::fs_root(&as_storage, data_dir);
            let is_storage = match (&fs_root, &storage_root) {
                (Some(a), Some(b)) => same_dir(a, b),
                _ => {
                    cfg.kind == storage.kind
                        && cfg.kind != StorageKind::Fs
                        && cfg.options == storage.options
                }
            };
            let op = if is_storage {
                store.op().clone()
            } else {
                storage::build(&as_storage, data_dir)?
            };
            list.push(Origin {
                name,
                op,
                fs_root,
                is_storage,
            });
        }
        Ok(Self { list })
    }

    pub fn get(&self, name: &str) -> Option<&Origin> {
        self.list.iter().find(|o| o.name == name)
    }

    /// Whether publishing has anything to copy.
    pub fn need_copies(&self) -> bool {
        self.list.iter().any(|o| !o.is_storage)
    }

    /// Copies every object under `prefix` from `storage` to each origin that is not the
    /// storage itself, origins in parallel, files a few at a time, streamed.
    pub async fn publish(&self, storage: &Storage, prefix: &str) -> Result<usize, PublishError> {
        let storage = storage.op();
        let mut lister = storage.lister_with(prefix).recursive(true).await?;
        let mut keys = Vec::new();
        while let Some(entry) = lister.try_next().await? {
            if entry.metadata().is_file() {
                keys.push(entry.path().to_string());
            }
        }
        if keys.is_empty() {
            return Err(PublishError::Nothing(prefix.to_string()));
        }
        let copies: Vec<(Origin, String)> = self
            .list
            .iter()
            .filter(|o| !o.is_storage)
            .flat_map(|o| keys.iter().map(move |k| (o.clone(), k.clone())))
            .collect();
        let targets = self.list.iter().filter(|o| !o.is_storage).count().max(1);
        futures_util::stream::iter(copies)
            .map(|(origin, key)| {
                let storage = storage.clone();
                async move { copy_with_retries(&storage, &origin, &key).await }
            })
            .buffer_unordered(PARALLEL_COPIES * targets)
            .try_collect::<()>()
            .await?;
        Ok(keys.len())
    }

    /// Removes `prefix` from every origin that is not the storage (best effort).
    pub async fn remove(&self, prefix: &str) {
        for origin in self.list.iter().filter(|o| !o.is_storage) {
            if let Err(e) = origin.op.delete_with(prefix).recursive(true).await {
                tracing::warn!(origin = %origin.name, prefix, error = %e, "could not remove");
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("nothing to publish under {0}")]
    Nothing(String),
    #[error("origin {origin}: {key}: {error}")]
    Copy {
        origin: String,
        key: String,
        error: String,
    },
    #[error("storage: {0}")]
    Storage(#[from] opendal::Error),
}

fn same_dir(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}

async fn copy_with_retries(
    storage: &Operator,
    origin: &Origin,
    key: &str,
) -> Result<(), PublishError> {
    let mut last = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt))).await;
        }
        match copy(storage, &origin.op, key).await {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(PublishError::Copy {
        origin: origin.name.clone(),
        key: key.to_string(),
        error: last,
    })
}

async fn copy(from: &Operator, to: &Operator, key: &str) -> std::io::Result<()> {
    let reader = from
        .reader_with(key)
        .chunk(4 << 20)
        .await?
        .into_futures_async_read(..)
        .await?;
    let mut reader = tokio_util::compat::FuturesAsyncReadCompatExt::compat(reader);
    let writer = to
        .writer_with(key)
        .content_type(crate::storage::content_type(key))
        .chunk(8 << 20)
        .await?
        .into_futures_async_write();
    let mut sink = tokio_util::compat::FuturesAsyncWriteCompatExt::compat_write(writer);
    tokio::io::copy(&mut reader, &mut sink).await?;
    tokio::io::AsyncWriteExt::shutdown(&mut sink).await?;
    Ok(())
}
