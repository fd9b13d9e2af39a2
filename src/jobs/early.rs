//! The chunked branch of a transcode (docs/architecture.md, "Chunked ladder"): the
//! source's video cut into chunks at its keyframes, stored, and the chunks' jobs queued
//! (other workers start on them at once), then the early pass (lowest rung, audio,
//! snapshots, sprite from one decode, fast preset), which `outputs::swap` publishes.

use std::path::Path;

use scoped_futures::ScopedFutureExt;

use super::ladder::RestOfLadder;
use super::{JobContext, JobError};
use crate::media::Plan;
use crate::media::chunked::split_args;
use crate::media::chunks::split;
use crate::media::master::master_playlist;
use crate::model::{Generation, VideoId, layout};
use crate::queue::Claimed;

/// The source's keyframes, or `None` (with the reason logged) when they cannot be read:
/// the transcode then keeps the single pass.
pub async fn keyframes(ctx: &JobContext, id: VideoId, source: &Path) -> Option<Vec<f64>> {
    match ctx.media.keyframes(source).await {
        Ok(keyframes) if !keyframes.is_empty() => Some(keyframes),
        Ok(_) => {
            tracing::warn!(video = %id, "no keyframe found: single pass");
            None
        }
        Err(e) => {
            tracing::warn!(video = %id, error = %e, "keyframes unreadable: single pass");
            None
        }
    }
}

/// One transcode's early pass and split.
pub struct Early<'a> {
    pub ctx: &'a JobContext,
    pub job: &'a Claimed,
    pub plan: &'a Plan,
    pub source: &'a Path,
    pub work: &'a Path,
}

impl Early<'_> {
    /// Cuts, stores and queues the chunks (once, whatever the attempt), then writes the
    /// early rung's outputs into `work/out`; returns the plan of that one rung and what
    /// the other rungs need.
    pub async fn encode(
        &self,
        keyframes: &[f64],
        generation: &Generation,
        report: impl FnMut(i16) + Send,
    ) -> Result<(Plan, RestOfLadder), JobError> {
        let (plan, config) = (self.plan, self.ctx.media.config());
        let id = self
            .job
            .video_id
            .ok_or_else(|| JobError::Permanent("transcode job without a video".into()))?;
        let start = keyframes[0];
        let chunks = split(
            keyframes,
            start,
            start + plan.seconds(),
            config.chunk_secs as f64,
        );
        let rest = RestOfLadder {
            generation: generation.clone(),
            chunks,
            rungs: plan.rungs.clone(),
            fps: plan.fps,
            audio: plan.audio.clone(),
            duration_ms: plan.duration_ms,
            video: id,
            transcode_job: self.job.id,
        };
        let timeout = plan.timeout(config);
        let queued = {
            let mut conn = self.ctx.db.get().await?;
            rest.queued(&mut conn).await?
        };
        if !queued {
            self.cut(&rest, timeout).await?;
        }

        let out = self.work.join("out");
        let audio = plan.audio.iter().map(|t| t.dir.as_str());
        for dir in [plan.rungs[0].definition.as_str(), "snapshots"]
            .into_iter()
            .chain(audio)
        {
            tokio::fs::create_dir_all(out.join(dir)).await?;
        }
        let args = plan.early_args(&rest.chunks, &config.early_preset, self.source, &out);
        self.ctx
            .media
            .ffmpeg(&args, timeout, plan.duration_ms, report)
            .await?;
        let early = Plan {
            rungs: plan.rungs[..1].to_vec(),
            ..plan.clone()
        };
        let master = master_playlist(&early.rungs, plan.fps, &plan.audio);
        tokio::fs::write(out.join(layout::MASTER), master).await?;

        Ok((early, rest))
    }

    /// Splits the source's video into the chunks, stores them, and queues their jobs.
    async fn cut(&self, rest: &RestOfLadder, timeout: std::time::Duration) -> Result<(), JobError> {
        let chunks = &rest.chunks;
        let id = rest.video;
        let pieces = self.work.join("chunks");
        tokio::fs::create_dir_all(&pieces).await?;
        let args = split_args(chunks, self.source, &pieces);
        self.ctx.media.ffmpeg(&args, timeout, 0, |_| {}).await?;
        for chunk in chunks {
            let path = pieces.join(format!("chunk_{:05}.nut", chunk.index));
            if !tokio::fs::try_exists(&path).await? {
                return Err(JobError::Transient(format!(
                    "the split wrote no chunk {} of {}",
                    chunk.index,
                    chunks.len()
                )));
            }
            let key = layout::chunk_key(id, self.job.id, chunk.index);
            self.ctx.storage.put_file(&path, &key).await?;
        }
        tokio::fs::remove_dir_all(&pieces).await?;
        let video = self
            .ctx
            .video(id)
            .await?
            .ok_or_else(|| JobError::Permanent("the video was deleted".into()))?;
        self.ctx
            .lifecycle
            .commit(|conn, changes| {
                async move { Ok::<_, JobError>(rest.enqueue(conn, changes, &video).await?) }
                    .scope_boxed()
            })
            .await?;
        tracing::info!(video = %id, chunks = chunks.len(), "chunks cut and queued");
        Ok(())
    }
}
