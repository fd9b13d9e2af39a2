//! A text track uploaded through tus (metadata `textTrackFor`, `language`, …): checked
//! when it starts (a video of the app, a declared size within the track limit), and on
//! its last byte handed to the tracks service instead of becoming a video.

use super::UploadError;
use super::service::UploadService;
use super::session::{SessionState, TextTrackFor, UploadSession};
use crate::error::InfraError;
use crate::media::subtitles::SubtitleLimits;
use crate::model::AppId;
use crate::storage::io::Digester;
use crate::video::VideoError;
use crate::video::tracks::{TextTrackInput, Tracks};

/// Keeps the staged bytes (bounded by the declared size, itself bounded).
#[derive(Default)]
struct Collect(Vec<u8>);

impl Digester for Collect {
    fn update(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

impl UploadService {
    fn tracks(&self) -> Tracks<'_> {
        Tracks {
            db: &self.db,
            storage: &self.storage,
            origins: &self.origins,
        }
    }

    /// Refuses a text track upload that could never become one.
    pub(super) async fn check_text_track(
        &self,
        app: AppId,
        target: &TextTrackFor,
        size: Option<u64>,
    ) -> Result<(), UploadError> {
        let max = SubtitleLimits::default().max_bytes as u64;
        match size {
            None => {
                return Err(UploadError::BadRequest(
                    "a text track upload declares its length".into(),
                ));
            }
            Some(n) if n > max => return Err(UploadError::TooLarge(max)),
            Some(_) => {}
        }
        crate::video::tracks::check_language(&target.language).map_err(bad)?;
        self.check_own_source(app, target.video).await
    }

    /// Refuses a track for a video that is not one of `app`'s sources.
    pub(super) async fn check_own_source(
        &self,
        app: AppId,
        video: crate::model::VideoId,
    ) -> Result<(), UploadError> {
        let mut conn = self.db.get().await.map_err(InfraError::from)?;
        let video = crate::db::videos::find(&mut conn, app, video)
            .await
            .map_err(InfraError::from)?;
        match video {
            Some(v) if v.parent_id.is_none() => Ok(()),
            _ => Err(UploadError::NotFound),
        }
    }

    /// The last byte of a text track arrived: the track replaces the video a plain upload
    /// would have made; a malformed file fails the upload with the line at fault.
    pub(super) async fn complete_text_track(
        &self,
        mut session: UploadSession,
        target: TextTrackFor,
    ) -> Result<UploadSession, UploadError> {
        let (_, Collect(content)) = self
            .staging
            .read_all(&session.id, Collect::default())
            .await?;
        let input = TextTrackInput {
            video: target.video,
            language: target.language,
            name: target.name,
            kind: target.kind,
            default: target.default,
            content,
        };
        let added = self
            .tracks()
            .add(session.app_id, input, SubtitleLimits::default())
            .await;
        match added {
            Ok(_) => {}
            Err(VideoError::BadRequest(reason)) => return self.fail(session, reason).await,
            Err(VideoError::NotFound) => {
                return self.fail(session, "the video was deleted".into()).await;
            }
            Err(e) => return Err(UploadError::BadRequest(e.to_string())),
        }
        self.staging.remove(&session.id).await?;
        session.md5_state = None;
        session.state = SessionState::Done {
            video_id: Some(target.video),
        };
        self.sessions.put(&session).await?;
        Ok(session)
    }
}

fn bad(e: VideoError) -> UploadError {
    UploadError::BadRequest(e.to_string())
}

impl UploadService {
    /// Whether `upload` is `app`'s finished text track upload for `video` (GraphQL
    /// `addTextTrack(uploadId:)` names the track it made).
    pub async fn text_track_of(
        &self,
        app: AppId,
        upload: &str,
        video: crate::model::VideoId,
    ) -> Result<bool, UploadError> {
        let id = crate::model::UploadId::parse(upload).ok_or(UploadError::NotFound)?;
        let session = self
            .settled_session(app, &id)
            .await?
            .ok_or(UploadError::NotFound)?;
        let for_video = session
            .file
            .text_track
            .as_ref()
            .is_some_and(|t| t.video == video);
        match (&session.state, for_video) {
            (SessionState::Done { .. }, true) => Ok(true),
            (SessionState::Failed { reason }, true) => Err(UploadError::BadRequest(reason.clone())),
            (_, true) => Err(UploadError::BadRequest(
                "the text track upload has not finished".into(),
            )),
            (_, false) => Err(UploadError::BadRequest(
                "that upload is not a text track of this video (tus metadata textTrackFor)".into(),
            )),
        }
    }
}
