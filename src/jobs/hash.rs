//! The `hash` job (`upload.md5 = "deferred"`): the md5 of an uploaded source, computed
//! from storage after the upload completed, so uploads run at disk speed rather than md5
//! speed. A failure leaves the video without its md5 (only instant upload misses it).

use super::{Job, JobContext, JobError};
use crate::db;
use crate::queue::Claimed;
use crate::storage::io::{RunningMd5, drain};
use crate::video::work::Hash;

impl Job for Hash {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("hash job without a video".into()))?;
        // Deleted meanwhile, or already known (an instant upload shares a hashed source).
        let Some(video) = ctx.video(id).await?.filter(|v| v.hash.is_none()) else {
            return Ok(());
        };
        let source = ctx.storage.chunks(&video.storage_uri).await?;
        let (read, md5) = drain(source, u64::MAX, RunningMd5::default()).await?;
        if !read.complete || read.bytes as i64 != video.file_size {
            return Err(JobError::Transient(format!(
                "read {} of the source's {} bytes",
                read.bytes, video.file_size
            )));
        }
        let md5 = md5.hex();
        tracing::debug!(video = %id, md5, "source hashed");
        let mut conn = ctx.db.get().await?;
        db::videos::set_hash_if_unknown(&mut conn, id, &md5).await?;
        Ok(())
    }
}
