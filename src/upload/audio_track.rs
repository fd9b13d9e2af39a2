//! An audio track uploaded through tus (metadata `audioTrackFor`, `language`, `name`):
//! its bytes are kept beside the video's outputs and an `audio_track` job encodes them
//! into the video's playlists (docs/architecture.md, "Tracks").

use scoped_futures::ScopedFutureExt;

use super::UploadError;
use super::service::UploadService;
use super::session::{AudioTrackFor, SessionState, UploadSession};
use crate::model::AppId;
use crate::video::{VideoError, added_audio};

impl UploadService {
    /// Refuses an audio track upload for a video that is not the app's.
    pub(super) async fn check_audio_track(
        &self,
        app: AppId,
        target: &AudioTrackFor,
    ) -> Result<(), UploadError> {
        crate::video::tracks::check_language(&target.language)
            .map_err(|e| UploadError::BadRequest(e.to_string()))?;
        self.check_own_source(app, target.video).await
    }

    /// The last byte of an audio track arrived: stored, recorded, its encode queued.
    pub(super) async fn complete_audio_track(
        &self,
        mut session: UploadSession,
        target: AudioTrackFor,
    ) -> Result<UploadSession, UploadError> {
        let key = added_audio::source_key(target.video, session.id.as_str());
        self.staging
            .commit(&session.id, &self.storage, &key)
            .await?;
        let (app, target_ref, key_ref) = (session.app_id, &target, &key);
        let added = self
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    let Some(video) = crate::db::videos::find(conn, app, target_ref.video).await?
                    else {
                        return Err(VideoError::NotFound);
                    };
                    let name = target_ref.name.as_deref();
                    added_audio::add(conn, changes, &video, &target_ref.language, name, key_ref)
                        .await
                }
                .scope_boxed()
            })
            .await;
        if let Err(e) = added {
            let _ = self.storage.op().delete(&key).await;
            return match e {
                VideoError::NotFound => self.fail(session, "the video was deleted".into()).await,
                VideoError::BadRequest(reason) => self.fail(session, reason).await,
                other => Err(UploadError::BadRequest(other.to_string())),
            };
        }
        session.state = SessionState::Done {
            video_id: Some(target.video),
        };
        self.sessions.put(&session).await?;
        Ok(session)
    }
}
