//! The `import` job: fetch an `https://` source (under `video::fetch`'s policy) into
//! storage, then hand it to the lifecycle as if it had been uploaded.

use scoped_futures::ScopedFutureExt;

use super::{Job, JobContext, JobError};
use crate::db::videos::VideoChange;
use crate::media::process::trimmed;
use crate::model::{VideoStatus, layout};
use crate::queue::Claimed;
use crate::video::fetch;
use crate::video::lifecycle::{self, AfterUpload, Stored, TranscodeRequest};
use crate::video::work::Import;

impl Job for Import {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("import job without a video".into()))?;
        let key = layout::source_key(id);
        let (size, md5) = fetch::fetch_into(
            &self.url,
            ctx.media.config(),
            &ctx.storage,
            &key,
            ctx.max_source_bytes,
        )
        .await
        .map_err(|e| match e.is_transient() {
            true => JobError::Transient(e.to_string()),
            false => JobError::Permanent(e.to_string()),
        })?;
        let stored = Stored {
            key,
            size: size as i64,
            md5: Some(md5),
        };
        let after = AfterUpload {
            transcode: Some(TranscodeRequest {
                priority: self.priority,
                dst: self.dst,
            }),
            hash: false,
        };
        let recorded = ctx
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    let video = lifecycle::uploaded(conn, changes, id, stored, after).await?;
                    if !job.finish(conn).await? {
                        return Err(JobError::Transient(
                            "the job was taken over by another worker".into(),
                        ));
                    }
                    Ok(video.is_some())
                }
                .scope_boxed()
            })
            .await?;
        if !recorded {
            // The video is gone (deleted meanwhile): drop the fetched bytes.
            let _ = ctx.storage.remove_all(&layout::source_dir(id)).await;
        }
        Ok(())
    }

    /// An import waits in `UPLOADING` between attempts; after the last it is
    /// `UPLOAD_FAILED` with the reason.
    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        let (Some(id), true) = (job.video_id, last) else {
            return;
        };
        let change = VideoChange {
            progress: Some(0),
            error: Some(Some(trimmed(error))),
            ..VideoChange::default()
        };
        let to = VideoStatus::UploadFailed;
        let moved = ctx
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    Ok::<_, JobError>(lifecycle::transition(conn, changes, id, to, change).await?)
                }
                .scope_boxed()
            })
            .await;
        if let Err(e) = moved {
            tracing::error!(video = %id, error = %e, "could not record the failure");
        }
    }
}
