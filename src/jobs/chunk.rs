//! The `transcode_chunk` job: fetch one chunk of the source's video (only it), encode
//! every rung but the early one from one decode, store the segments and the chunk's
//! playlists under the ladder's generation, count the chunk on the video.

use std::path::Path;

use scoped_futures::ScopedFutureExt;

use super::ladder::EncodeChunk;
use super::outputs::put_files;
use super::{Job, JobContext, JobError};
use crate::db;
use crate::media::Plan;
use crate::media::process::trimmed;
use crate::model::{Generation, VideoId};
use crate::queue::Claimed;
use crate::storage::Storage;
use crate::video::lifecycle;

impl Job for EncodeChunk {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("chunk job without a video".into()))?;
        // Retranscoded or finished meanwhile: this ladder is nobody's any more.
        if !self.still_wanted(ctx, id).await? {
            return Ok(());
        }
        let work = ctx.work_dir("chunk-").await?;
        // The chunk only, never the whole source.
        let input = ctx
            .storage
            .local_file(&self.source_key, &work.path().join("chunk.nut"))
            .await?
            .ok_or_else(|| JobError::Transient("the chunk's source is missing".into()))?;
        let out = work.path().join("out");
        for rung in &self.rungs {
            tokio::fs::create_dir_all(out.join(rung.definition.as_str())).await?;
        }
        // An encrypted ladder: every chunk with the generation's one key and IV.
        let key = {
            let mut conn = ctx.db.get().await?;
            crate::video::keys::existing_key(&mut conn, ctx.delivery.key(), &self.generation)
                .await
                .map_err(|e| JobError::Transient(e.to_string()))?
        };
        let key_info = match key {
            Some(key) => Some(super::protect::key_files(work.path(), &key).await?),
            None => None,
        };
        // The watermark as the video's profile says now (the early rung's was resolved
        // when the transcode ran).
        let Some(video) = ctx.video(id).await? else {
            return Ok(());
        };
        let overlay = ctx
            .watermarks
            .overlay_for(video.app_id, id, work.path())
            .await?;
        let plan = Plan {
            kind: crate::model::MediaKind::Video,
            rungs: self.rungs.clone(),
            audio: Vec::new(),
            key_info,
            overlay,
            duration_ms: (self.chunk.seconds() * 1000.0).round() as i64,
            fps: self.fps,
            snapshots: 1,
            threads: ctx.media.config().threads,
        };
        let args = plan.chunk_args(&self.rungs, &self.chunk, &input, &out);
        let timeout = plan.timeout(ctx.media.config());
        ctx.media
            .ffmpeg(&args, timeout, plan.duration_ms, |_| {})
            .await?;
        store_chunk(&ctx.storage, &out, &self.generation).await?;
        drop(work);

        let counted = ctx
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    let Some(video) = lifecycle::chunk_encoded(conn, changes, id).await? else {
                        // Deleted: the job went with the video.
                        return Ok(None);
                    };
                    if !job.finish(conn).await? {
                        return Err(JobError::Transient(
                            "the job was taken over by another worker".into(),
                        ));
                    }
                    Ok(Some(video))
                }
                .scope_boxed()
            })
            .await?;
        match counted {
            Some(v) => {
                let (done, of) = (v.ladder_chunks_done, v.ladder_chunks);
                tracing::info!(video = %id, chunk = self.chunk.index, done, of, "chunk encoded");
            }
            // Deleted while this chunk was stored: what it stored goes too.
            None => remove_if_deleted(ctx, id, &self.generation).await,
        }
        Ok(())
    }

    /// The video was deleted while the chunk ran (its job went with it).
    async fn cancelled(ctx: &JobContext, job: &Claimed) {
        let (Some(id), Ok(payload)) = (job.video_id, job.payload::<EncodeChunk>()) else {
            return;
        };
        remove_if_deleted(ctx, id, &payload.generation).await;
    }

    /// The ladder waits for the other chunks; the reason stays on the video.
    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        let Some(id) = job.video_id else { return };
        let index = job
            .payload::<EncodeChunk>()
            .map(|p| p.chunk.index.to_string())
            .unwrap_or_else(|_| "?".into());
        let reason = match last {
            true => format!("chunk {index} failed: {}", trimmed(error)),
            false => format!("chunk {index} failed, will retry: {}", trimmed(error)),
        };
        ctx.note_error(id, &reason).await;
    }
}

impl EncodeChunk {
    /// While its transcode job runs (the early rung), or while its generation is the
    /// video's and the ladder incomplete; not once retranscoded, finished or deleted.
    async fn still_wanted(&self, ctx: &JobContext, id: VideoId) -> Result<bool, JobError> {
        let mut conn = ctx.db.get().await?;
        let Some(video) = db::videos::find_any(&mut conn, id).await? else {
            return Ok(false);
        };
        if !video.ladder_complete && video.generation().as_ref() == Some(&self.generation) {
            return Ok(true);
        }
        Ok(db::jobs::is_pending(&mut conn, self.transcode_job).await?)
    }
}

/// Removes the ladder's generation and the video's output directory when the video is
/// gone (the deletion removed them once; a chunk stored after it must not linger).
async fn remove_if_deleted(ctx: &JobContext, id: VideoId, generation: &Generation) {
    if matches!(ctx.video(id).await, Ok(None)) {
        ctx.remove_generation(generation.prefix()).await;
        let _ = ctx
            .storage
            .remove_all(&crate::model::layout::output_dir(id))
            .await;
    }
}

/// Stores the chunk's segments, then its playlists (a playlist in storage means its
/// segments are there).
async fn store_chunk(
    storage: &Storage,
    out: &Path,
    generation: &Generation,
) -> Result<(), JobError> {
    let mut files = Vec::new();
    let mut dirs = tokio::fs::read_dir(out).await?;
    while let Some(dir) = dirs.next_entry().await? {
        let mut entries = tokio::fs::read_dir(dir.path()).await?;
        while let Some(file) = entries.next_entry().await? {
            let rel = format!(
                "{}/{}",
                dir.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            );
            files.push((file.path(), generation.key(&rel)));
        }
    }
    let (playlists, segments): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(p, _)| p.extension().is_some_and(|e| e == "m3u8"));
    put_files(storage, segments).await?;
    put_files(storage, playlists).await
}
