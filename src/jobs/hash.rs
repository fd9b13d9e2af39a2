//! The hash job (`upload.md5 = "deferred"`): the md5 of an uploaded source, computed from
//! storage after the upload completed, so uploads run at disk speed rather than md5 speed.

use super::JobError;
use super::transcode::Pipeline;
use crate::db::{self, jobs::Job};
use crate::upload::digest::RunningMd5;
use crate::upload::staging::drain;

impl Pipeline {
    pub async fn hash_job(&self, job: &Job, worker: &str) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("hash job without a video".into()))?;
        // Deleted meanwhile, or already known (an instant upload shares a hashed source).
        let Some(video) = self.current(id).await?.filter(|v| v.hash.is_none()) else {
            return self.finish(job, worker).await;
        };
        let source = self.source_chunks(&video).await?;
        let (read, md5) = drain(source, u64::MAX, RunningMd5::default())
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        if !read.complete || read.bytes as i64 != video.file_size {
            return Err(JobError::Transient(format!(
                "read {} of the source's {} bytes",
                read.bytes, video.file_size
            )));
        }
        let md5 = md5.hex();
        tracing::debug!(video = %id, md5, "source hashed");
        let mut conn = self.db.get().await?;
        db::pipeline::set_hash_if_unknown(&mut conn, id, &md5).await?;
        db::jobs::finish(&mut conn, job.id, worker).await?;
        Ok(())
    }
}
