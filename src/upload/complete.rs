//! The one completion path: verify, move the bytes into storage, record the video,
//! queue its transcode. Also instant upload and tus concatenation, which end there too.

use std::time::Duration;

use scoped_futures::ScopedFutureExt;

use super::UploadError;
use super::service::{UploadService, with_renewal};
use super::session::{FileInfo, SessionState, Transfer, UploadSession};
use crate::db::{self, models::NewVideo, videos::VideoChange};
use crate::model::{AppId, UploadId, VideoId, VideoStatus, layout};
use crate::storage::io::RunningMd5;
use crate::video::Video;
use crate::video::lifecycle::{self, AfterUpload, Stored, TranscodeRequest};

/// Moving a large file into remote storage can take a while; the lock is renewed meanwhile.
const COMPLETE_LOCK_TTL: Duration = Duration::from_secs(20);

/// What follows the upload of `file`.
fn after_upload(file: &FileInfo, hash: bool) -> AfterUpload {
    AfterUpload {
        transcode: file.auto_transcode.then(TranscodeRequest::default),
        hash,
    }
}

impl UploadService {
    /// Finishes a session whose bytes have all arrived. Safe to call twice or from two
    /// nodes: one completes, the other returns the session as it finds it.
    pub(super) async fn complete(
        &self,
        session: UploadSession,
    ) -> Result<UploadSession, UploadError> {
        let Some(lock) = self
            .sessions
            .lock(&session.id, "complete", COMPLETE_LOCK_TTL)
            .await?
        else {
            return Ok(session);
        };
        let result = with_renewal(&lock, self.complete_locked(&session.id)).await;
        lock.release().await;
        match result? {
            Some(done) => Ok(done),
            None => Ok(session),
        }
    }

    async fn complete_locked(&self, id: &UploadId) -> Result<Option<UploadSession>, UploadError> {
        let Some(mut session) = self.sessions.get(id).await? else {
            return Ok(None);
        };
        if session.state != SessionState::Receiving {
            return Ok(Some(session));
        }
        if let Transfer::Parts { count, .. } = session.transfer {
            let have = self.sessions.parts(id).await?.len();
            if have != count as usize {
                return Ok(Some(session));
            }
        }
        let deferred = self.defers_md5(&session.file, &session.concat);
        let (md5, total) = match (session.transfer, session.md5_state.as_deref()) {
            (Transfer::Stream, Some(state)) if RunningMd5::restore(state).is_some() => (
                Some(RunningMd5::restore(state).unwrap_or_default().hex()),
                session.offset,
            ),
            // Every part was checked to be exactly its length when it arrived.
            (Transfer::Parts { .. }, _) if deferred => (None, session.size.unwrap_or(0)),
            (Transfer::Stream, _) if deferred => (None, session.offset),
            _ => {
                let (total, md5) = self.staging.read_all(id, RunningMd5::default()).await?;
                (Some(md5.hex()), total)
            }
        };
        if let Some(size) = session.size
            && size != total
        {
            let reason = format!("received {total} bytes, expected {size}");
            return self.fail(session, reason).await.map(Some);
        }
        if let (Some(declared), Some(md5)) = (&session.file.md5, &md5)
            && declared != md5
        {
            let reason = format!("md5 mismatch: declared {declared}, received {md5}");
            return self.fail(session, reason).await.map(Some);
        }
        session.md5_state = None;
        if let Some(target) = session.file.text_track.clone() {
            return self.complete_text_track(session, target).await.map(Some);
        }
        if let Some(target) = session.file.audio_track.clone() {
            return self.complete_audio_track(session, target).await.map(Some);
        }
        if session.file.watermark_image {
            return self.complete_watermark_image(session).await.map(Some);
        }
        let Some(video) = session.video_id else {
            // A tus partial upload: its bytes wait for the final upload that joins them.
            session.file.md5 = md5;
            session.state = SessionState::Done { video_id: None };
            self.sessions.put(&session).await?;
            return Ok(Some(session));
        };
        let key = layout::source_key(video);
        self.staging.commit(id, &self.storage, &key).await?;
        let after = after_upload(&session.file, md5.is_none());
        let stored = Stored {
            key,
            size: total as i64,
            md5,
        };
        let recorded = self
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    Ok::<_, UploadError>(
                        lifecycle::uploaded(conn, changes, video, stored, after).await?,
                    )
                }
                .scope_boxed()
            })
            .await?;
        if recorded.is_none() {
            // Deleted while its last bytes arrived: keep nothing of it.
            self.storage
                .remove_all(&layout::source_dir(video))
                .await
                .map_err(crate::error::InfraError::from)?;
            return self
                .fail(session, "the video was deleted".into())
                .await
                .map(Some);
        }
        metrics::counter!(crate::metrics::UPLOADS_COMPLETED).increment(1);
        session.state = SessionState::Done {
            video_id: Some(video),
        };
        self.sessions.put(&session).await?;
        Ok(Some(session))
    }

    /// Ends a session as failed: bytes dropped, video `UPLOAD_FAILED` with the reason.
    pub(super) async fn fail(
        &self,
        mut session: UploadSession,
        reason: String,
    ) -> Result<UploadSession, UploadError> {
        tracing::info!(upload = %session.id, reason, "upload failed");
        metrics::counter!(crate::metrics::UPLOADS_FAILED).increment(1);
        self.staging.remove(&session.id).await?;
        if let Some(video) = session.video_id {
            self.fail_video(video, &reason).await?;
        }
        session.md5_state = None;
        session.state = SessionState::Failed {
            reason: reason.clone(),
        };
        self.sessions.put(&session).await?;
        Err(UploadError::Failed(reason))
    }

    /// Marks an upload's video `UPLOAD_FAILED` with `reason` and tells subscribers;
    /// false when it was no longer uploading.
    pub(super) async fn fail_video(
        &self,
        video: VideoId,
        reason: &str,
    ) -> Result<bool, UploadError> {
        let change = VideoChange {
            error: Some(Some(reason.to_string())),
            ..VideoChange::default()
        };
        let failed = self
            .lifecycle
            .commit(|conn, changes| {
                let to = VideoStatus::UploadFailed;
                async move {
                    Ok::<_, UploadError>(
                        lifecycle::transition(conn, changes, video, to, change).await?,
                    )
                }
                .scope_boxed()
            })
            .await?;
        Ok(failed.is_some())
    }

    /// Instant upload: a new video sharing the bytes `app` already stores with this md5
    /// and size. `None` when there are none.
    pub(super) async fn instant(
        &self,
        app: AppId,
        file: &FileInfo,
        md5: &str,
        size: u64,
    ) -> Result<Option<Video>, UploadError> {
        let mut new = NewVideo::source(app, VideoStatus::Uploading, file.name.clone());
        new.task_priority = file.priority;
        new.passthrough = file.passthrough.clone();
        new.encrypt = file.encrypt;
        let downloads = file.downloads.clone();
        let after = after_upload(file, false);
        let watermark = file.watermark;
        self.lifecycle
            .commit(|conn, changes| {
                async move {
                    let Some(existing) =
                        db::videos::find_by_content(conn, app, md5, size as i64).await?
                    else {
                        return Ok(None);
                    };
                    let owner = existing.unique_id.unwrap_or(existing.id);
                    // Serialises with a delete of the last video that holds these bytes.
                    db::videos::lock_shared_bytes(conn, owner).await?;
                    if db::videos::count_sharing(conn, owner).await? == 0 {
                        return Ok(None);
                    }
                    new.unique_id = Some(owner);
                    let video = lifecycle::insert(conn, changes, &new).await?;
                    lifecycle::ask_downloads(conn, video.id, downloads.as_deref()).await?;
                    if let Some(choice) = watermark {
                        db::watermarks::choose(conn, app, video.id, choice).await?;
                    }
                    let stored = Stored {
                        key: existing.storage_uri,
                        size: existing.file_size,
                        md5: existing.hash,
                    };
                    lifecycle::uploaded(conn, changes, video.id, stored, after)
                        .await?
                        .ok_or_else(|| UploadError::Conflict("cannot record the upload".into()))
                        .map(Some)
                }
                .scope_boxed()
            })
            .await
    }
}
