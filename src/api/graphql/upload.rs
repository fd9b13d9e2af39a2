//! Starting uploads and asking where they stand (the bytes go through tus or the seed API).

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::errors::{allowed, coded, gql, reel};
use super::types::VideoObject;
use crate::auth::Scope;
use crate::error::{Coded, ErrorCode};
use crate::model::{UploadId, WatermarkChoice, routes};
use crate::upload::{
    Concat, FileInfo, InitOutcome, NewUpload, Transfer, TransferRequest, UploadState as State,
    UploadView,
};
use crate::video::downloads::parse_definitions;

#[derive(Default)]
pub struct UploadQuery;

#[derive(Default)]
pub struct UploadMutation;

/// Mirrors the seed's `upload/init` (`fn`, `fsize`, `psize`, `auto`, `hash`).
#[derive(InputObject)]
pub struct InitUploadInput {
    file_name: String,
    /// Bytes.
    file_size: i64,
    /// Set to upload fixed-size parts through `/video/upload/upload`; leave out to
    /// upload one stream through tus (`tusUrl`).
    part_size: Option<i64>,
    #[graphql(default = true)]
    auto_transcode: bool,
    /// MD5 of the whole file (hex). Verified on completion; a file the app already
    /// stores with this md5 and size is not uploaded again (instant upload).
    md5: Option<String>,
    #[graphql(default)]
    priority: i32,
    /// Echoed in every event and webhook of the video.
    passthrough: Option<String>,
    /// Encrypt the video's segments (AES-128 HLS; the app may encrypt every upload).
    #[graphql(default)]
    encrypt: bool,
    /// Downloads to make once transcoded (`HIGHEST`, rung names, `AUDIO`); default: the
    /// app's setting.
    downloads: Option<Vec<String>>,
    /// A watermark profile id of the app (`watermarks`), or `none`; left out, the app's
    /// default profile (if any) is burned in.
    watermark: Option<String>,
}

/// Either an upload to send bytes to, or (instant upload) the finished video.
#[derive(SimpleObject)]
pub struct InitUploadResult {
    /// True when no bytes need to be sent.
    instant: bool,
    upload: UploadObject,
    video: Option<VideoObject>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    Receiving,
    Complete,
    Failed,
    Expired,
}

/// An upload session (resume information).
#[derive(SimpleObject)]
#[graphql(name = "Upload")]
pub struct UploadObject {
    id: ID,
    state: UploadState,
    /// Where to send the bytes with tus (stream uploads).
    tus_url: Option<String>,
    /// Where to PUT parts (`&pseq=N`), for part uploads.
    part_url: Option<String>,
    file_name: String,
    file_size: Option<i64>,
    part_size: Option<i64>,
    part_count: Option<i32>,
    /// Bytes received.
    offset: i64,
    /// Part numbers still to send (part uploads).
    missing_parts: Vec<i32>,
    video_id: Option<ID>,
    expires_at: DateTime<Utc>,
    error: Option<String>,
}

impl UploadObject {
    fn new(u: UploadView, base: &str) -> Self {
        let (part_size, part_count) = match u.transfer {
            Transfer::Parts { part_size, count } => (Some(part_size as i64), Some(count as i32)),
            Transfer::Stream => (None, None),
        };
        let (state, error) = match u.state {
            State::Receiving => (UploadState::Receiving, None),
            State::Complete { .. } => (UploadState::Complete, None),
            State::Failed { reason } => (UploadState::Failed, Some(reason)),
            State::Expired => (UploadState::Expired, None),
        };
        Self {
            tus_url: part_size
                .is_none()
                .then(|| routes::tus_upload_url(base, &u.id)),
            part_url: part_size.map(|_| routes::part_upload_url(base, &u.id)),
            state,
            file_name: u.file_name,
            file_size: u.size.map(|n| n as i64),
            part_size,
            part_count,
            offset: u.received as i64,
            missing_parts: u.missing_parts.iter().map(|&n| n as i32).collect(),
            video_id: u.video_id.map(|v| ID(v.to_string())),
            expires_at: u.expires_at,
            error,
            id: ID(u.id.to_string()),
        }
    }
}

#[Object]
impl UploadQuery {
    /// An upload of the caller's app; null when unknown.
    async fn upload(&self, ctx: &Context<'_>, id: ID) -> Result<Option<UploadObject>> {
        let caller = allowed(ctx, Scope::Read)?;
        let Some(id) = UploadId::parse(&id) else {
            return Ok(None);
        };
        let reel = reel(ctx);
        match reel.uploads.view(caller.app_id, &id).await {
            Ok(upload) => Ok(Some(UploadObject::new(upload, &reel.config.public_base()))),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(gql(e)),
        }
    }
}

#[Object]
impl UploadMutation {
    /// Starts an upload; for a file the app already stores, returns the new video at once.
    async fn init_upload(
        &self,
        ctx: &Context<'_>,
        input: InitUploadInput,
    ) -> Result<InitUploadResult> {
        let caller = allowed(ctx, Scope::Upload)?;
        let reel = reel(ctx);
        let size = u64::try_from(input.file_size)
            .map_err(|_| coded(ErrorCode::BadRequest, "fileSize must not be negative"))?;
        let transfer = match input.part_size {
            None => TransferRequest::Stream,
            Some(p) => TransferRequest::Parts {
                part_size: u64::try_from(p)
                    .map_err(|_| coded(ErrorCode::BadRequest, "partSize must not be negative"))?,
            },
        };
        let outcome = reel
            .uploads
            .init(NewUpload {
                app: caller.app_id,
                app_key: caller.app_key.clone(),
                file: FileInfo {
                    name: input.file_name,
                    file_type: None,
                    md5: input.md5,
                    auto_transcode: input.auto_transcode,
                    priority: input.priority,
                    passthrough: input.passthrough,
                    tus_metadata: None,
                    encrypt: input.encrypt,
                    text_track: None,
                    audio_track: None,
                    downloads: match input.downloads {
                        Some(d) => Some(parse_definitions(&d).map_err(gql)?),
                        None => None,
                    },
                    watermark: input
                        .watermark
                        .as_deref()
                        .map(WatermarkChoice::parse)
                        .transpose()
                        .map_err(|e| coded(ErrorCode::BadRequest, e))?,
                    watermark_image: false,
                },
                size: Some(size),
                transfer,
                concat: Concat::None,
            })
            .await
            .map_err(gql)?;
        let base = reel.config.public_base();
        Ok(match outcome {
            InitOutcome::Upload(upload) => InitUploadResult {
                instant: false,
                upload: UploadObject::new(upload, &base),
                video: None,
            },
            InitOutcome::Instant { video, upload } => InitUploadResult {
                instant: true,
                upload: UploadObject::new(upload, &base),
                video: Some(VideoObject(video)),
            },
        })
    }
}
