//! Starting an upload: validation, instant upload, the `UPLOADING` video and the session.

use chrono::Utc;
use scoped_futures::ScopedFutureExt;

use super::UploadError;
use super::digest::is_md5_hex;
use super::rules::{part_count, validate_file_name, validate_passthrough};
use super::service::{InitOutcome, NewUpload, TransferRequest, UploadService};
use super::session::{Concat, FileInfo, SessionState, Transfer, UploadSession};
use crate::config::Md5Timing;
use crate::db::models::NewVideo;
use crate::model::{AppId, UploadId, VideoId, VideoStatus};
use crate::storage::io::RunningMd5;
use crate::video::{Video, lifecycle};

impl UploadService {
    /// Starts an upload, or finishes it at once when the app already stores these bytes.
    pub async fn init(&self, req: NewUpload) -> Result<InitOutcome, UploadError> {
        validate_file_name(&req.file.name)?;
        validate_passthrough(req.file.passthrough.as_deref())?;
        self.limits
            .priority(&req.app_key, Some(req.file.priority))?;
        let mut file = req.file;
        if let Some(md5) = &file.md5 {
            if !is_md5_hex(md5) {
                return Err(UploadError::BadRequest(
                    "md5 must be 32 hexadecimal characters".into(),
                ));
            }
            file.md5 = Some(md5.to_ascii_lowercase());
        }
        if let Some(size) = req.size
            && size > self.config.max_size
        {
            return Err(UploadError::TooLarge(self.config.max_size));
        }
        if let Some(choice) = file.watermark {
            self.check_watermark(req.app, choice).await?;
        }
        // A track of an existing video, or a watermark's image: one tus stream, no video
        // of its own.
        let track = match (&file.audio_track, &file.text_track) {
            _ if file.watermark_image => Some(self.check_watermark_image(&file, req.size)),
            (Some(target), _) => Some(self.check_audio_track(req.app, target).await),
            (None, Some(target)) => Some(self.check_text_track(req.app, target, req.size).await),
            (None, None) => None,
        };
        if let Some(checked) = track {
            checked?;
            if !matches!(req.concat, Concat::None)
                || !matches!(req.transfer, TransferRequest::Stream)
            {
                return Err(UploadError::BadRequest(
                    "a track or a watermark image is one tus upload, not parts or a concatenation"
                        .into(),
                ));
            }
            let session = self.new_session(
                req.app,
                None,
                Transfer::Stream,
                req.size,
                file,
                Concat::None,
            );
            self.sessions.put(&session).await?;
            return Ok(InitOutcome::Upload(self.view_of(session).await?));
        }
        let transfer = match req.transfer {
            TransferRequest::Stream => Transfer::Stream,
            TransferRequest::Parts { part_size } => {
                let size = req
                    .size
                    .ok_or_else(|| UploadError::BadRequest("fsize is required".into()))?;
                Transfer::Parts {
                    part_size,
                    count: part_count(size, part_size)?,
                }
            }
        };
        if let (Some(md5), Some(size), Concat::None) = (&file.md5, req.size, &req.concat)
            && let Some(video) = self.instant(req.app, &file, md5, size).await?
        {
            let mut session = self.new_session(
                req.app,
                Some(video.id),
                transfer,
                req.size,
                file,
                Concat::None,
            );
            session.offset = size;
            session.md5_state = None;
            session.state = SessionState::Done {
                video_id: Some(video.id),
            };
            self.sessions.put(&session).await?;
            let upload = self.view_of(session).await?;
            return Ok(InitOutcome::Instant { video, upload });
        }
        if let Concat::Final { parts } = &req.concat {
            let owner = (req.app, req.app_key.as_str());
            let session = self.concat_final(owner, file, parts.clone()).await?;
            return Ok(InitOutcome::Upload(self.view_of(session).await?));
        }
        let partial = matches!(req.concat, Concat::Partial);
        let mut session = self.new_session(req.app, None, transfer, req.size, file, req.concat);
        session.app_key = req.app_key.clone();
        self.reserve(&session).await?;
        if !partial {
            match self.create_video(req.app, &session.file, req.size).await {
                Ok(video) => session.video_id = Some(video.id),
                Err(e) => {
                    // Give the place back.
                    self.sessions.remove(&session.id).await?;
                    return Err(e);
                }
            }
        }
        if let Err(e) = self.sessions.put(&session).await {
            // The session was not stored: nothing will ever complete this video.
            if let Some(video) = session.video_id {
                self.discard_video(req.app, video).await?;
            }
            return Err(e.into());
        }
        if session.size == Some(0) {
            // Nothing to send: stage the empty file and complete now (it fails later, in
            // the pipeline, with a readable reason).
            self.staging
                .write_at(&session.id, 0, futures_util::stream::empty(), 0, true, ())
                .await?;
            let session = self.complete(session).await?;
            return Ok(InitOutcome::Upload(self.view_of(session).await?));
        }
        metrics::counter!(crate::metrics::UPLOADS_STARTED).increment(1);
        Ok(InitOutcome::Upload(self.view_of(session).await?))
    }

    /// A session in `Receiving`, expiring after the configured time.
    pub(super) fn new_session(
        &self,
        app: AppId,
        video_id: Option<VideoId>,
        transfer: Transfer,
        size: Option<u64>,
        file: FileInfo,
        concat: Concat,
    ) -> UploadSession {
        let now = Utc::now();
        UploadSession {
            id: UploadId::generate(),
            app_id: app,
            app_key: String::new(),
            video_id,
            transfer,
            size,
            offset: 0,
            md5_state: (!self.defers_md5(&file, &concat)).then(|| RunningMd5::default().save()),
            file,
            concat,
            created_at: now,
            expires_at: now + chrono::Duration::seconds(self.config.expiry_secs as i64),
            state: SessionState::Receiving,
        }
    }

    /// Whether this file's md5 is left to a job after completion (`upload.md5`).
    pub(super) fn defers_md5(&self, file: &FileInfo, concat: &Concat) -> bool {
        self.config.md5 == Md5Timing::Deferred
            && file.md5.is_none()
            && matches!(concat, Concat::None)
    }

    pub(super) async fn create_video(
        &self,
        app: AppId,
        file: &FileInfo,
        size: Option<u64>,
    ) -> Result<Video, UploadError> {
        let mut new = NewVideo::source(app, VideoStatus::Uploading, file.name.clone());
        new.file_size = size.unwrap_or(0) as i64;
        new.task_priority = file.priority;
        new.passthrough = file.passthrough.clone();
        new.encrypt = file.encrypt;
        let downloads = file.downloads.clone();
        let watermark = file.watermark;
        self.lifecycle
            .commit(|conn, changes| {
                async move {
                    let video = lifecycle::insert(conn, changes, &new).await?;
                    lifecycle::ask_downloads(conn, video.id, downloads.as_deref()).await?;
                    if let Some(choice) = watermark {
                        crate::db::watermarks::choose(conn, app, video.id, choice).await?;
                    }
                    Ok(video)
                }
                .scope_boxed()
            })
            .await
    }
}
