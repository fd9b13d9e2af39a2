//! An overlay image uploaded through tus for a watermark profile (metadata
//! `watermarkImage`): bounded when it starts, kept in the app's area when it ends, and
//! taken by `createWatermark(uploadId:)` or `updateWatermark`, which check it is an image.
//! Also the check of the watermark a video upload asks for.

use super::UploadError;
use super::service::UploadService;
use super::session::{Concat, FileInfo, SessionState, UploadSession};
use crate::apps::watermarks::MAX_IMAGE_BYTES;
use crate::error::InfraError;
use crate::model::{AppId, UploadId, WatermarkChoice, layout};

impl UploadService {
    /// Refuses a video upload naming a watermark profile its app does not have.
    pub(super) async fn check_watermark(
        &self,
        app: AppId,
        choice: WatermarkChoice,
    ) -> Result<(), UploadError> {
        let WatermarkChoice::Profile(id) = choice else {
            return Ok(());
        };
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        match crate::db::watermarks::find(&mut conn, app, id).await? {
            Some(_) => Ok(()),
            None => Err(UploadError::BadRequest(format!(
                "watermark {id} is not a watermark of this app (name one of `watermarks`, or `none`)"
            ))),
        }
    }

    /// Refuses an image upload that could never become a watermark.
    pub(super) fn check_watermark_image(
        &self,
        file: &FileInfo,
        size: Option<u64>,
    ) -> Result<(), UploadError> {
        if file.text_track.is_some() || file.audio_track.is_some() || file.watermark.is_some() {
            return Err(UploadError::BadRequest(
                "a watermark image upload is only that (no track, no watermark of its own)".into(),
            ));
        }
        match size {
            None => Err(UploadError::BadRequest(
                "a watermark image upload declares its length".into(),
            )),
            Some(n) if n > MAX_IMAGE_BYTES => Err(UploadError::TooLarge(MAX_IMAGE_BYTES)),
            Some(_) => Ok(()),
        }
    }

    /// The last byte of a watermark image arrived: kept for the profile that takes it.
    pub(super) async fn complete_watermark_image(
        &self,
        mut session: UploadSession,
    ) -> Result<UploadSession, UploadError> {
        let key = layout::watermark_upload_key(session.app_id, &session.id);
        self.staging
            .commit(&session.id, &self.storage, &key)
            .await?;
        session.state = SessionState::Done { video_id: None };
        self.sessions.put(&session).await?;
        Ok(session)
    }

    /// The stored image of `app`'s finished watermark image upload `upload`.
    pub async fn watermark_image_of(
        &self,
        app: AppId,
        upload: &str,
    ) -> Result<String, UploadError> {
        let id = UploadId::parse(upload).ok_or(UploadError::NotFound)?;
        let session = self
            .settled_session(app, &id)
            .await?
            .ok_or(UploadError::NotFound)?;
        if !session.file.watermark_image || session.concat != Concat::None {
            return Err(UploadError::BadRequest(
                "that upload is not a watermark image (tus metadata watermarkImage)".into(),
            ));
        }
        match &session.state {
            SessionState::Done { .. } => Ok(layout::watermark_upload_key(app, &id)),
            SessionState::Failed { reason } => Err(UploadError::BadRequest(reason.clone())),
            _ => Err(UploadError::BadRequest(
                "the watermark image upload has not finished".into(),
            )),
        }
    }
}
