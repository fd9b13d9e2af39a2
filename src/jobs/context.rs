//! What a job runs with: the services of the process that claimed it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use scoped_futures::ScopedFutureExt;

use crate::apps::watermarks::WatermarkService;
use crate::config::{Config, JobsConfig, WebhookConfig};
use crate::db::{self, DbPool, models::Video};
use crate::delivery::Delivery;
use crate::media::Media;
use crate::model::VideoId;
use crate::sealing::SecretBox;
use crate::storage::Storage;
use crate::video::Lifecycle;

#[derive(Clone)]
pub struct JobContext {
    pub db: DbPool,
    pub storage: Storage,
    pub delivery: Delivery,
    pub lifecycle: Lifecycle,
    pub media: Media,
    pub jobs: JobsConfig,
    pub webhooks: WebhookConfig,
    /// `delivery.retain_replaced_secs`: how long a replaced generation stays for viewers.
    pub retain_replaced_secs: i64,
    /// Largest source an import may fetch (`upload.max_size`).
    pub max_source_bytes: u64,
    /// Opens webhook secrets.
    pub sealing: Arc<SecretBox>,
    /// Which watermark a transcode burns in, resolved when it runs.
    pub watermarks: WatermarkService,
    /// Work directories of transcodes.
    tmp_dir: PathBuf,
}

impl JobContext {
    pub fn new(
        config: &Config,
        db: DbPool,
        storage: Storage,
        delivery: Delivery,
        lifecycle: Lifecycle,
        sealing: Arc<SecretBox>,
    ) -> Self {
        let media = Media::new(&config.media);
        let tmp_dir = config.data_dir.join("tmp");
        Self {
            sealing,
            watermarks: WatermarkService::new(
                db.clone(),
                storage.clone(),
                media.clone(),
                tmp_dir.clone(),
            ),
            media,
            jobs: config.jobs.clone(),
            webhooks: config.webhooks.clone(),
            retain_replaced_secs: config.delivery.retain_replaced_secs,
            max_source_bytes: config.upload.max_size,
            tmp_dir,
            db,
            storage,
            delivery,
            lifecycle,
        }
    }

    /// A video of any app, as it is now.
    pub async fn video(&self, id: VideoId) -> Result<Option<Video>, super::JobError> {
        let mut conn = self.db.get().await?;
        Ok(db::videos::find_any(&mut conn, id).await?)
    }

    /// A fresh work directory, removed when dropped (on every path).
    pub async fn work_dir(&self, prefix: &str) -> Result<tempfile::TempDir, super::JobError> {
        tokio::fs::create_dir_all(&self.tmp_dir).await?;
        Ok(tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(Path::new(&self.tmp_dir))?)
    }

    /// Keeps why a step failed on the video, without changing its status (best effort:
    /// logged when it cannot be written).
    pub async fn note_error(&self, id: VideoId, reason: &str) {
        let noted = self
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    Ok::<_, super::JobError>(
                        crate::video::lifecycle::note_error(conn, changes, id, reason).await?,
                    )
                }
                .scope_boxed()
            })
            .await;
        if let Err(e) = noted {
            tracing::error!(video = %id, error = %e, "could not record the failure");
        }
    }

    /// Removes a generation of outputs from storage and every origin (best effort),
    /// unless an instant clip still plays its segments (the clip's deletion removes it).
    /// False when it stays.
    pub async fn remove_generation(&self, prefix: &str) -> bool {
        match self.db.get().await {
            Ok(mut conn) => match db::clips::generation_in_use(&mut conn, prefix).await {
                Ok(false) => {}
                Ok(true) => return false,
                Err(e) => {
                    tracing::warn!(prefix, error = %e, "kept a generation: cannot check its clips");
                    return false;
                }
            },
            Err(e) => {
                tracing::warn!(prefix, error = %e, "kept a generation: cannot check its clips");
                return false;
            }
        }
        if let Err(e) = self.storage.remove_all(prefix).await {
            tracing::warn!(prefix, error = %e, "could not remove a generation");
        }
        self.delivery.origins().remove(prefix).await;
        true
    }
}
