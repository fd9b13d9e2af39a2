//! Watermark profiles of an app (docs/api.md, "Watermarks"): an overlay image checked
//! with ffprobe and kept in the app's storage area, with where and how it is burned in.
//! Which profile a video gets is decided when its transcode runs (`overlay_for`), so a
//! changed or deleted profile reaches every later transcode and retranscode.

mod input;

use std::path::{Path, PathBuf};

use diesel_async::AsyncConnection;

use crate::db::watermarks::{self as queries, NewWatermark, WatermarkChange};
use crate::db::{DbConn, DbPool};
use crate::error::InfraError;
use crate::media::overlay::{ImageInfo, Overlay};
use crate::media::{Media, MediaError};
use crate::model::{AppId, VideoId, WatermarkChoice, WatermarkId, layout};
use crate::storage::Storage;

pub use crate::db::watermarks::Watermark;
pub use input::{
    ImageSource, MAX_IMAGE_BYTES, Placement, WatermarkError, WatermarkInput, WatermarkUpdate,
};

use input::{bad, check_name};

/// A checked image, stored under its own key.
struct StoredImage {
    key: String,
    info: ImageInfo,
    bytes: i64,
}

#[derive(Clone)]
pub struct WatermarkService {
    db: DbPool,
    storage: Storage,
    media: Media,
    /// Where images are written to be probed, and fetched for a transcode.
    tmp_dir: PathBuf,
}

impl WatermarkService {
    pub fn new(db: DbPool, storage: Storage, media: Media, tmp_dir: PathBuf) -> Self {
        Self {
            db,
            storage,
            media,
            tmp_dir,
        }
    }

    async fn conn(&self) -> Result<DbConn, WatermarkError> {
        Ok(self.db.get().await.map_err(InfraError::from)?)
    }

    /// The app's profiles, oldest first.
    pub async fn list(&self, app: AppId) -> Result<Vec<Watermark>, WatermarkError> {
        Ok(queries::list(&mut *self.conn().await?, app).await?)
    }

    pub async fn get(&self, app: AppId, id: WatermarkId) -> Result<Watermark, WatermarkError> {
        queries::find(&mut *self.conn().await?, app, id)
            .await?
            .ok_or(WatermarkError::NotFound)
    }

    pub async fn create(
        &self,
        app: AppId,
        input: WatermarkInput,
    ) -> Result<Watermark, WatermarkError> {
        let name = check_name(&input.name)?;
        input.placement.check()?;
        let image = self.store_image(app, &input.image).await?;
        let p = input.placement;
        let new = NewWatermark {
            app_id: app,
            name,
            image_key: image.key.clone(),
            image_format: image.info.format.into(),
            image_width: image.info.width,
            image_height: image.info.height,
            image_bytes: image.bytes,
            position: p.position.as_str().into(),
            margin: p.margin,
            scale: p.scale,
            opacity: p.opacity,
            is_default: input.default,
        };
        let mut conn = self.conn().await?;
        let created = (*conn)
            .transaction(async |conn| {
                if new.is_default {
                    queries::lock_app(conn, app).await?;
                    queries::clear_default(conn, app, None).await?;
                }
                queries::insert(conn, &new).await
            })
            .await;
        self.settle_image(created.is_ok(), &image.key, &input.image)
            .await;
        Ok(created?)
    }

    pub async fn update(
        &self,
        app: AppId,
        id: WatermarkId,
        update: WatermarkUpdate,
    ) -> Result<Watermark, WatermarkError> {
        let before = self.get(app, id).await?;
        let name = update.name.as_deref().map(check_name).transpose()?;
        Placement {
            position: update.position.unwrap_or(before.position()),
            margin: update.margin.unwrap_or(before.margin),
            scale: update.scale.unwrap_or(before.scale),
            opacity: update.opacity.unwrap_or(before.opacity),
        }
        .check()?;
        let image = match &update.image {
            Some(source) => Some(self.store_image(app, source).await?),
            None => None,
        };
        let change = WatermarkChange {
            name,
            image_key: image.as_ref().map(|i| i.key.clone()),
            image_format: image.as_ref().map(|i| i.info.format.to_string()),
            image_width: image.as_ref().map(|i| i.info.width),
            image_height: image.as_ref().map(|i| i.info.height),
            image_bytes: image.as_ref().map(|i| i.bytes),
            position: update.position.map(|p| p.as_str().to_string()),
            margin: update.margin,
            scale: update.scale,
            opacity: update.opacity,
            is_default: update.default,
        };
        let mut conn = self.conn().await?;
        let updated = (*conn)
            .transaction(async |conn| {
                if change.is_default == Some(true) {
                    queries::lock_app(conn, app).await?;
                    queries::clear_default(conn, app, Some(id)).await?;
                }
                queries::update(conn, app, id, &change).await
            })
            .await;
        let updated = match (updated, image, update.image) {
            (result, Some(image), Some(source)) => {
                let ok = matches!(result, Ok(Some(_)));
                self.settle_image(ok, &image.key, &source).await;
                result
            }
            (result, _, _) => result,
        }?
        .ok_or(WatermarkError::NotFound)?;
        if updated.image_key != before.image_key {
            self.remove_image(&before.image_key).await;
        }
        Ok(updated)
    }

    /// Deletes the profile and its image; the videos that chose it get the app's default.
    pub async fn delete(&self, app: AppId, id: WatermarkId) -> Result<(), WatermarkError> {
        let deleted = queries::delete(&mut *self.conn().await?, app, id)
            .await?
            .ok_or(WatermarkError::NotFound)?;
        self.remove_image(&deleted.image_key).await;
        Ok(())
    }

    /// The profile the video's transcodes use now: its own choice, else the app's
    /// default; `None` for no watermark.
    pub async fn applying(
        &self,
        app: AppId,
        video: VideoId,
    ) -> Result<Option<Watermark>, WatermarkError> {
        let mut conn = self.conn().await?;
        Ok(match queries::choice_of(&mut conn, video).await? {
            Some(WatermarkChoice::None) => None,
            Some(WatermarkChoice::Profile(id)) => queries::find(&mut conn, app, id).await?,
            None => queries::default_of(&mut conn, app).await?,
        })
    }

    /// What a transcode of `video` burns in, its image fetched into `dir` (a job's work
    /// directory); `None` for no watermark.
    pub async fn overlay_for(
        &self,
        app: AppId,
        video: VideoId,
        dir: &Path,
    ) -> Result<Option<Overlay>, WatermarkError> {
        let Some(watermark) = self.applying(app, video).await? else {
            return Ok(None);
        };
        let bytes = self
            .storage
            .get_small(&watermark.image_key)
            .await?
            .ok_or_else(|| {
                // Replaced or deleted this instant: the retry reads the profile again.
                InfraError::Storage(opendal::Error::new(
                    opendal::ErrorKind::NotFound,
                    "the watermark's image is missing",
                ))
            })?;
        let path = dir.join("overlay");
        tokio::fs::write(&path, bytes)
            .await
            .map_err(|e| WatermarkError::Tool(format!("cannot write the overlay: {e}")))?;
        Ok(Some(Overlay {
            path,
            position: watermark.position(),
            margin: watermark.margin,
            scale: watermark.scale,
            opacity: watermark.opacity,
        }))
    }

    /// Checks the image (size, then ffprobe decodes it) and stores it under a new key.
    async fn store_image(
        &self,
        app: AppId,
        source: &ImageSource,
    ) -> Result<StoredImage, WatermarkError> {
        let bytes = match source {
            ImageSource::Bytes(bytes) => bytes.clone(),
            ImageSource::Uploaded(key) => self.storage.get_small(key).await?.ok_or_else(|| {
                bad("the upload's image is gone (each upload makes one watermark image)")
            })?,
        };
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            return Err(WatermarkError::TooLarge(MAX_IMAGE_BYTES));
        }
        if bytes.is_empty() {
            return Err(bad("the image is empty"));
        }
        tokio::fs::create_dir_all(&self.tmp_dir)
            .await
            .map_err(|e| WatermarkError::Tool(e.to_string()))?;
        let scratch = tempfile::Builder::new()
            .prefix("watermark-")
            .tempdir_in(&self.tmp_dir)
            .map_err(|e| WatermarkError::Tool(e.to_string()))?;
        let path = scratch.path().join("image");
        tokio::fs::write(&path, &bytes)
            .await
            .map_err(|e| WatermarkError::Tool(e.to_string()))?;
        let info = self.media.probe_image(&path).await.map_err(|e| match e {
            MediaError::NotMedia(reason) | MediaError::Unsuitable(reason) => bad(reason),
            other => WatermarkError::Tool(other.to_string()),
        })?;
        let key = layout::watermark_key(
            app,
            &format!("{}.{}", crate::model::random_id(), info.format),
        );
        let size = bytes.len() as i64;
        self.storage.put_bytes(&key, bytes).await?;
        Ok(StoredImage {
            key,
            info,
            bytes: size,
        })
    }

    /// After the transaction: an uploaded image that became a profile's is removed from
    /// the upload's place; a stored copy no profile took is removed.
    async fn settle_image(&self, taken: bool, key: &str, source: &ImageSource) {
        match (taken, source) {
            (true, ImageSource::Uploaded(upload)) => self.remove_image(upload).await,
            (false, _) => self.remove_image(key).await,
            (true, ImageSource::Bytes(_)) => {}
        }
    }

    /// Best effort: a leftover image costs bytes, never correctness.
    async fn remove_image(&self, key: &str) {
        if let Err(e) = self.storage.op().delete(key).await {
            tracing::warn!(key, error = %e, "could not remove a watermark image");
        }
    }
}
