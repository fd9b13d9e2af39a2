//! Making one image: the video that holds the generation, the rung and segments to cut
//! it from (read through `Storage`, so any backend), ffmpeg, and its stored copy.

use std::time::Duration;

use bytes::Bytes;

use super::{ImageError, ImageService};
use crate::db;
use crate::media::MediaError;
use crate::media::image::args::{Input, Source};
use crate::media::image::{ImageSpec, hls};
use crate::media::process::ToolError;
use crate::model::{Generation, MediaKind};
use crate::video::keys::existing_key;
use crate::video::{Video, VideoError};

/// Largest playlist read (ours are a few KiB).
const MAX_PLAYLIST_BYTES: usize = 4 << 20;

impl ImageService {
    /// Makes image `spec` of `generation` and stores it at `key`.
    pub(super) async fn make(
        &self,
        generation: &Generation,
        spec: &ImageSpec,
        key: &str,
    ) -> Result<Bytes, ImageError> {
        let inner = &self.inner;
        // Made by a request that finished between our look and our flight.
        if let Some(bytes) = inner
            .storage
            .get_small(key)
            .await
            .map_err(ImageError::infra)?
        {
            return Ok(bytes.into());
        }
        let video = self.holder(generation).await?;
        if video.media_kind() == MediaKind::Audio {
            return Err(ImageError::AudioOnly);
        }
        let wait = Duration::from_secs(inner.config.queue_secs);
        let _slot = inner
            .apps
            .acquire(video.app_id, wait)
            .await
            .ok_or(ImageError::Busy(Duration::from_secs(1)))?;

        let variants = hls::variants(&self.playlist(&generation.master()).await?);
        let variant = hls::choose(&variants, spec).ok_or(ImageError::AudioOnly)?;
        let playlist_key = generation.key(&variant.uri);
        let dir = playlist_key
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| format!("{d}/"));
        let playlist = hls::media_playlist(&self.playlist(&playlist_key).await?);
        let cut = playlist.cut(spec)?;
        let media_key = match playlist.encrypted {
            false => None,
            true => Some(self.key(generation).await?),
        };

        let work = self.work_dir().await?;
        let mut inputs = Vec::new();
        for (i, segment) in cut.segments.iter().enumerate() {
            let scratch = work.path().join(format!("segment_{i}.ts"));
            let path = inner
                .storage
                .local_file(&format!("{dir}{}", segment.uri), &scratch)
                .await
                .map_err(ImageError::storage)?
                .ok_or(ImageError::NotFound)?;
            inputs.push(Input {
                path,
                key: media_key,
            });
        }
        let source = Source {
            inputs,
            offset: cut.offset,
            threads: inner.config.threads,
        };
        let timeout = Duration::from_secs(inner.config.timeout_secs.max(1));
        let started = std::time::Instant::now();
        let bytes: Bytes = inner
            .media
            .image(spec, &source, work.path(), timeout)
            .await
            .map_err(|e| match e {
                MediaError::Unsuitable(reason) => ImageError::BadRequest(reason),
                MediaError::Tool(ToolError::Timeout { .. }) => ImageError::Failed(format!(
                    "it took longer than {} s (images.timeout_secs)",
                    timeout.as_secs()
                )),
                other => ImageError::Failed(other.to_string()),
            })?
            .into();
        tracing::debug!(key, ms = started.elapsed().as_millis() as u64, "image made");
        if let Err(e) = inner.storage.put_whole(key, bytes.clone()).await {
            // The image is good; the next request makes it again.
            tracing::warn!(key, error = %e, "cannot store an image");
        } else if matches!(self.holder(generation).await, Err(ImageError::NotFound)) {
            // Deleted meanwhile: its rows go before its bytes, so either the removal
            // took the copy or this check sees the rows gone.
            let _ = inner.storage.op().delete(key).await;
        }
        Ok(bytes)
    }

    /// The source video that holds `generation`: the one its prefix names, playing it,
    /// about to play it, or still keeping it for viewers of a replaced one.
    async fn holder(&self, generation: &Generation) -> Result<Video, ImageError> {
        let id = generation.video().ok_or(ImageError::NotFound)?;
        let mut conn = self.inner.db.get().await.map_err(ImageError::infra)?;
        let video = db::videos::find_any(&mut conn, id)
            .await
            .map_err(ImageError::infra)?
            .filter(|v| v.parent_id.is_none())
            .ok_or(ImageError::NotFound)?;
        let holds = video.published_generation().as_ref() == Some(generation)
            || video.generation().as_ref() == Some(generation)
            || db::tracks::has_generation(&mut conn, id, generation.prefix())
                .await
                .map_err(ImageError::infra)?;
        holds.then_some(video).ok_or(ImageError::NotFound)
    }

    /// The AES-128 key and IV of an encrypted generation.
    async fn key(&self, generation: &Generation) -> Result<([u8; 16], [u8; 16]), ImageError> {
        let mut conn = self.inner.db.get().await.map_err(ImageError::infra)?;
        match existing_key(&mut conn, self.inner.delivery.key(), generation).await {
            Ok(Some(k)) => Ok((k.key, k.iv)),
            Ok(None) => Err(ImageError::Failed(format!(
                "{generation} is encrypted but has no key"
            ))),
            Err(VideoError::Infra(e)) => Err(ImageError::infra(e)),
            Err(e) => Err(ImageError::Failed(e.to_string())),
        }
    }

    async fn playlist(&self, key: &str) -> Result<String, ImageError> {
        let bytes = self
            .inner
            .storage
            .get_small(key)
            .await
            .map_err(ImageError::infra)?
            .ok_or(ImageError::NotFound)?;
        if bytes.len() > MAX_PLAYLIST_BYTES {
            return Err(ImageError::Failed(format!("{key} is too large")));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn work_dir(&self) -> Result<tempfile::TempDir, ImageError> {
        let dir = &self.inner.tmp_dir;
        let made = async {
            tokio::fs::create_dir_all(dir).await?;
            tempfile::Builder::new().prefix("image-").tempdir_in(dir)
        };
        made.await.map_err(|e| ImageError::Infra {
            code: crate::error::ErrorCode::Internal,
            message: format!("scratch directory: {e}"),
        })
    }
}
