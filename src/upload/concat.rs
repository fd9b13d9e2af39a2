//! tus concatenation: a final upload joins finished partial uploads. Everything is checked
//! before anything is made (each partial named once, finished, the app's; the total under
//! `upload.max_size` and the app's quota), the partials are locked so one final consumes
//! them, and a failure leaves neither a video nor a session behind.

use std::collections::HashSet;

use super::UploadError;
use super::service::UploadService;
use super::session::{Concat, FileInfo, SessionState, Transfer, UploadSession};
use crate::model::{AppId, UploadId};

impl UploadService {
    /// tus `Upload-Concat: final`: joins finished partial uploads into a new upload and
    /// completes it. `owner` is the app and its key.
    pub(super) async fn concat_final(
        &self,
        owner: (AppId, &str),
        file: FileInfo,
        parts: Vec<UploadId>,
    ) -> Result<UploadSession, UploadError> {
        if parts.is_empty() {
            return Err(UploadError::BadRequest(
                "Upload-Concat: final names no partial uploads".into(),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = parts.iter().find(|id| !seen.insert(*id)) {
            return Err(UploadError::BadRequest(format!(
                "partial upload {twice} is named twice"
            )));
        }
        let mut locks = Vec::with_capacity(parts.len());
        let mut locked = Ok(());
        for id in &parts {
            match self.lock(id, "lock").await {
                Ok(lock) => locks.push(lock),
                Err(e) => {
                    locked = Err(e);
                    break;
                }
            }
        }
        let result = match locked {
            Ok(()) => self.concat_locked(owner, file, parts).await,
            Err(e) => Err(e),
        };
        for lock in locks {
            lock.release().await;
        }
        result
    }

    async fn concat_locked(
        &self,
        (app, app_key): (AppId, &str),
        file: FileInfo,
        parts: Vec<UploadId>,
    ) -> Result<UploadSession, UploadError> {
        let mut partials = Vec::with_capacity(parts.len());
        for id in &parts {
            let partial = self.get(app, id).await.map_err(|_| {
                UploadError::BadRequest(format!("partial upload {id} does not exist"))
            })?;
            let finished = matches!(partial.state, SessionState::Done { video_id: None });
            if partial.concat != Concat::Partial || !finished {
                return Err(UploadError::BadRequest(format!(
                    "upload {id} is not a finished partial upload"
                )));
            }
            partials.push(partial);
        }
        let total: u64 = partials.iter().map(|p| p.offset).sum();
        if total > self.config.max_size {
            return Err(UploadError::TooLarge(self.config.max_size));
        }
        let concat = Concat::Final { parts };
        let mut session = self.new_session(app, None, Transfer::Stream, Some(total), file, concat);
        session.app_key = app_key.to_string();
        // Computed over the joined bytes at completion.
        session.md5_state = None;
        self.reserve(&session).await?;
        let video = match self.create_video(app, &session.file, Some(total)).await {
            Ok(video) => video,
            Err(e) => {
                self.sessions.remove(&session.id).await?;
                return Err(e);
            }
        };
        session.video_id = Some(video.id);
        if let Err(e) = self.join(&mut session, &partials).await {
            self.staging.remove(&session.id).await?;
            self.sessions.remove(&session.id).await?;
            self.discard_video(app, video.id).await?;
            return Err(e);
        }
        // Consumed: a partial joins one final only.
        for partial in &partials {
            self.sessions.remove(&partial.id).await?;
            self.staging.remove(&partial.id).await?;
        }
        self.complete(session).await
    }

    /// Copies the partials' bytes after one another into the final upload's staging.
    async fn join(
        &self,
        session: &mut UploadSession,
        partials: &[UploadSession],
    ) -> Result<(), UploadError> {
        for partial in partials {
            session.offset += self
                .staging
                .append_copy(&partial.id, &session.id, session.offset)
                .await?;
        }
        if Some(session.offset) != session.size {
            return Err(UploadError::Conflict(
                "the partial uploads' bytes changed meanwhile".into(),
            ));
        }
        self.sessions.put(session).await?;
        Ok(())
    }
}
