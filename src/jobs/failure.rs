//! What a failed or cancelled job leaves on its video: back in the queue, failed with
//! the reason, or (for a deleted video) nothing in storage.

use super::transcode::Pipeline;
use crate::db::{self, jobs::Job, videos::VideoChange};
use crate::ids::VideoId;
use crate::storage::layout;
use crate::video::VideoStatus;

impl Pipeline {
    /// After a failed attempt: back to the queue, or failed with the reason
    /// (`UPLOAD_FAILED` for an import, `TRANSCODE_FAILED` for a transcode).
    pub async fn after_failure(&self, job: &Job, error: &str, last: bool) {
        let Some(id) = job.video_id else { return };
        if job.kind == db::jobs::HASH {
            // The video is fine without its md5 (only instant upload misses it); the
            // failure stays on the job row.
            return;
        }
        if job.kind == db::jobs::PUBLISH {
            metrics::counter!(crate::metrics::PUBLISH_FAILURES).increment(1);
            // Stays TRANSCODED (never half-PLAYABLE) with the reason; retried unless last.
            let reason = if last {
                format!("publishing failed: {}", trim(error))
            } else {
                format!("publishing failed, will retry: {}", trim(error))
            };
            if let Ok(mut conn) = self.db.get().await {
                let _ = db::pipeline::set_error(&mut conn, id, &reason).await;
            }
            if let Ok(Some(v)) = self.current(id).await {
                self.announce(&v).await;
            }
            return;
        }
        let (to, progress) = match (job.kind.as_str(), last) {
            (db::jobs::IMPORT, true) => (VideoStatus::UploadFailed, 0),
            // An import waits in UPLOADING between attempts.
            (db::jobs::IMPORT, false) => return,
            (_, true) => (VideoStatus::TranscodeFailed, 0),
            (_, false) => (VideoStatus::TranscodeQueued, 0),
        };
        let change = VideoChange {
            progress: Some(progress),
            error: Some(Some(trim(error))),
            ..VideoChange::default()
        };
        if let Err(e) = self.set(id, to, change).await {
            tracing::error!(video = %id, error = %e, "could not record the failure");
        }
    }

    /// The job was taken away (its video deleted): remove anything it left in storage.
    pub async fn cancelled(&self, job: &Job) {
        let Some(id) = job.video_id else { return };
        if matches!(self.current(id).await, Ok(None)) {
            self.remove_outputs(id).await;
        }
    }

    /// Removes a deleted video's output directory, whole (best effort: the purge of
    /// the deletion covers what is left).
    pub(super) async fn remove_outputs(&self, id: VideoId) {
        let _ = self
            .storage
            .delete_with(&layout::output_dir(id))
            .recursive(true)
            .await;
    }
}

/// The last lines of a tool's error output, short enough for a status field.
pub(super) fn trim(s: &str) -> String {
    const MAX: usize = 1000;
    let s = s.trim();
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut start = s.len() - MAX;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}
