//! The image API (docs/architecture.md, "Images"): thumbnails and animated previews of a
//! generation, made on demand from the segments of one rendition and kept in storage
//! under the generation (`{generation}images/…`), so the next request is a file read and
//! the generation's removal takes them with it.

mod flight;
mod make;

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::config::{Config, ImagesConfig};
use crate::db::DbPool;
use crate::delivery::Delivery;
use crate::error::{Coded, ErrorCode, InfraError};
use crate::media::Media;
use crate::media::image::{BadSpec, ImageSpec};
use crate::model::{Generation, MediaKind};
use crate::storage::Storage;
use crate::storage::io::{Chunks, CopyError};
use crate::video::Video;

/// Why an image cannot be had. Clone: every request waiting for one image gets its error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImageError {
    #[error("{0}")]
    BadRequest(String),
    /// No video plays the generation (deleted, purged, or never made).
    #[error("not found")]
    NotFound,
    #[error("an audio-only video has no images")]
    AudioOnly,
    #[error("this app is making as many images as it may; try again shortly")]
    Busy(Duration),
    /// ffmpeg failed or ran too long (logged; the client sees an internal error).
    #[error("the image could not be made: {0}")]
    Failed(String),
    #[error("{message}")]
    Infra { code: ErrorCode, message: String },
}

impl Coded for ImageError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::NotFound | Self::AudioOnly => ErrorCode::NotFound,
            Self::Busy(_) => ErrorCode::Unavailable,
            Self::Failed(_) => ErrorCode::Internal,
            Self::Infra { code, .. } => *code,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Busy(after) => Some(*after),
            _ => None,
        }
    }
}

impl From<BadSpec> for ImageError {
    fn from(e: BadSpec) -> Self {
        Self::BadRequest(e.0)
    }
}

impl ImageError {
    fn infra(e: impl Into<InfraError>) -> Self {
        let e: InfraError = e.into();
        Self::Infra {
            code: e.code(),
            message: e.to_string(),
        }
    }

    fn storage(e: CopyError) -> Self {
        match e {
            CopyError::Store(e) => Self::infra(e),
            other => Self::Infra {
                code: ErrorCode::Internal,
                message: other.to_string(),
            },
        }
    }
}

/// An image's bytes: just made, or streamed from its stored copy.
pub enum ImageBody {
    Made(Bytes),
    Stored(Pin<Box<dyn Chunks>>),
}

pub struct Image {
    pub content_type: &'static str,
    pub len: u64,
    /// Read from its stored copy (made by an earlier request).
    pub cached: bool,
    pub body: ImageBody,
}

/// Makes, keeps and hands out images of the videos of every app.
#[derive(Clone)]
pub struct ImageService {
    inner: Arc<Inner>,
}

struct Inner {
    db: DbPool,
    storage: Storage,
    delivery: Delivery,
    /// Its own process cap (`images.max_processes`), apart from the transcodes'.
    media: Media,
    config: ImagesConfig,
    /// Scratch directories (segments fetched from object stores, a GIF's palette).
    tmp_dir: PathBuf,
    flights: flight::Flights<String, Result<Bytes, ImageError>>,
    apps: flight::AppSlots,
}

impl ImageService {
    pub fn new(config: &Config, db: DbPool, storage: Storage, delivery: Delivery) -> Self {
        let mut media = config.media.clone();
        media.max_processes = config.images.max_processes.max(1);
        let tmp_dir = config.data_dir.join("tmp");
        let media =
            Media::new(&media).with_warm_thumbnails(tmp_dir.clone(), config.images.warm_processes);
        Self {
            inner: Arc::new(Inner {
                db,
                storage,
                delivery,
                media,
                config: config.images.clone(),
                tmp_dir,
                flights: flight::Flights::new(),
                apps: flight::AppSlots::new(config.images.per_app),
            }),
        }
    }

    /// The image `spec` of `generation` (the caller checked the viewer may see it): its
    /// stored copy, or made now (once, however many ask meanwhile) and stored.
    pub async fn get(
        &self,
        generation: &Generation,
        spec: &ImageSpec,
    ) -> Result<Image, ImageError> {
        let key = generation.key(&spec.cache_name());
        let content_type = spec.content_type();
        if let Some((len, stream)) = self
            .inner
            .storage
            .read_object(&key)
            .await
            .map_err(ImageError::storage)?
        {
            return Ok(Image {
                content_type,
                len,
                cached: true,
                body: ImageBody::Stored(stream),
            });
        }
        let made = self
            .inner
            .flights
            .run(key.clone(), || self.make(generation, spec, &key))
            .await?;
        Ok(Image {
            content_type,
            len: made.len() as u64,
            cached: false,
            body: ImageBody::Made(made),
        })
    }

    /// The signed URL of image `spec` of `video`'s published generation; `None` while
    /// nothing is published. A time outside the video is refused here already.
    pub fn url(&self, video: &Video, spec: &ImageSpec) -> Result<Option<String>, ImageError> {
        if video.media_kind() == MediaKind::Audio {
            return Err(ImageError::AudioOnly);
        }
        if let Some(duration) = video.duration {
            spec.within(duration)?;
        }
        Ok(self
            .inner
            .delivery
            .generation_url(video, &spec.file_name(), &spec.query()))
    }
}
