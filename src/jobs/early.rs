//! The chunked branch of a transcode (docs/architecture.md, "Chunked ladder"): the early
//! pass (lowest rung, audio, snapshots, sprite from one decode, fast preset), then the
//! source's video cut into chunks at its keyframes and stored for the chunk jobs, which
//! `outputs::swap` queues when it publishes the early rung.

use std::path::Path;

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
    /// Writes the early rung's outputs into `work/out` (as a plan of that one rung, which
    /// it returns) and stores the chunks; returns what the other rungs need.
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
        let out = self.work.join("out");
        for dir in [plan.rungs[0].definition.as_str(), "audio", "snapshots"] {
            tokio::fs::create_dir_all(out.join(dir)).await?;
        }
        let args = plan.early_args(&chunks, &config.early_preset, self.source, &out);
        let timeout = plan.timeout(config);
        self.ctx
            .media
            .ffmpeg(&args, timeout, plan.duration_ms, report)
            .await?;
        let early = Plan {
            rungs: plan.rungs[..1].to_vec(),
            ..plan.clone()
        };
        let master = master_playlist(&early.rungs, plan.fps, plan.has_audio);
        tokio::fs::write(out.join(layout::MASTER), master).await?;

        let pieces = self.work.join("chunks");
        tokio::fs::create_dir_all(&pieces).await?;
        let args = split_args(&chunks, self.source, &pieces);
        self.ctx.media.ffmpeg(&args, timeout, 0, |_| {}).await?;
        for chunk in &chunks {
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
        tracing::info!(video = %id, chunks = chunks.len(), "early rung encoded, chunks cut");
        let rest = RestOfLadder {
            generation: generation.clone(),
            chunks,
            rungs: plan.rungs.clone(),
            fps: plan.fps,
            has_audio: plan.has_audio,
            duration_ms: plan.duration_ms,
            video: id,
            transcode_job: self.job.id,
        };
        Ok((early, rest))
    }
}
