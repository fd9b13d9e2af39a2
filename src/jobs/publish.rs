//! The `publish` job: copy a transcoded generation to every origin that is not the
//! storage itself, then `PLAYABLE`; the generation it replaces is purged later.

use scoped_futures::ScopedFutureExt;
use serde::{Deserialize, Serialize};

use super::purge::Purge;
use super::{Job, JobContext, JobError};
use crate::db::{self, models::Video, videos::VideoChange};
use crate::media::process::trimmed;
use crate::model::{Generation, VideoStatus};
use crate::queue::{Claimed, NewJob, Payload};
use crate::video::lifecycle;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Publish {}

impl Payload for Publish {
    const KIND: &'static str = "publish";
}

impl Job for Publish {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("publish job without a video".into()))?;
        // Deleted, or retranscoded meanwhile (the new transcode publishes its own outputs).
        let Some(generation) = ctx
            .video(id)
            .await?
            .filter(|v| v.status == VideoStatus::Transcoded)
            .and_then(|v| v.generation())
        else {
            return Ok(());
        };
        let files = ctx
            .delivery
            .origins()
            .publish(&ctx.storage, generation.prefix())
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        let retain = ctx.retain_replaced_secs;
        let master = generation.master();
        let published = ctx
            .lifecycle
            .commit(|conn, changes| {
                async move {
                    let Some(current) = db::videos::find_any_for_update(conn, id).await? else {
                        return Ok(false);
                    };
                    if current.status != VideoStatus::Transcoded
                        || current.generation().as_ref() != Some(&generation)
                    {
                        return Ok(false);
                    }
                    let replaced = current.published_generation().filter(|p| *p != generation);
                    db::outputs::set_published(conn, id, &master).await?;
                    let change = VideoChange {
                        error: Some(None),
                        ..VideoChange::default()
                    };
                    let to = VideoStatus::Playable;
                    let playable = lifecycle::transition(conn, changes, id, to, change).await?;
                    if let (Some(prefix), Some(v)) = (replaced, &playable) {
                        lifecycle::enqueue(conn, changes, purge_job(v, &prefix, retain)).await?;
                    }
                    if !job.finish(conn).await? {
                        return Err(JobError::Transient(
                            "the job was taken over by another worker".into(),
                        ));
                    }
                    Ok(playable.is_some())
                }
                .scope_boxed()
            })
            .await?;
        if published {
            tracing::info!(video = %id, files, "published");
        }
        Ok(())
    }

    /// Stays `TRANSCODED` (never half `PLAYABLE`) with the reason; retried unless last.
    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        metrics::counter!(crate::metrics::PUBLISH_FAILURES).increment(1);
        let Some(id) = job.video_id else { return };
        let reason = match last {
            true => format!("publishing failed: {}", trimmed(error)),
            false => format!("publishing failed, will retry: {}", trimmed(error)),
        };
        ctx.note_error(id, &reason).await;
    }
}

/// Removal of a replaced generation after `retain_secs`; not tied to the video row, so a
/// deletion meanwhile does not cancel it (it then finds nothing to remove).
pub fn purge_job(video: &Video, generation: &Generation, retain_secs: i64) -> NewJob {
    NewJob::new(&Purge {
        prefix: generation.clone(),
    })
    .for_app(video.app_id)
    .run_at(chrono::Utc::now() + chrono::Duration::seconds(retain_secs.max(0)))
}
