//! The `transcode` job: probe the source, run the single-pass ffmpeg plan with live
//! progress, store the outputs, then swap the renditions in (`outputs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use scoped_futures::ScopedFutureExt;
use tokio::sync::watch;

use super::early;
use super::outputs::{self, Outputs};
use super::protect;
use super::{Job, JobContext, JobError};
use crate::db::{models::Video, videos::VideoChange};
use crate::media::process::trimmed;
use crate::model::{Generation, MediaKind, VideoId, VideoStatus, layout};
use crate::queue::Claimed;
use crate::video::lifecycle;
use crate::video::work::Transcode;

/// Progress is published at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

impl Job for Transcode {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("transcode job without a video".into()))?;
        let started = std::time::Instant::now();
        let video = start(ctx, id).await?;
        let work = ctx.work_dir("transcode-").await?;
        let source = local_source(ctx, &video, work.path()).await?;
        let snapshots = video.image_count.clamp(1, 100) as u32;
        let (mut info, mut plan) = ctx.media.plan_file(&source, snapshots).await?;
        if plan.kind == MediaKind::Video {
            // Resolved now, so a changed profile reaches every later transcode.
            plan.overlay = ctx
                .watermarks
                .overlay_for(video.app_id, id, work.path())
                .await?;
        }
        // A precise clip: only its range of the shared source, in one pass.
        let range = {
            let mut conn = ctx.db.get().await?;
            let clip = crate::db::clips::find(&mut conn, id).await?;
            let range = clip.filter(|c| c.precise).map(|c| (c.start_ms, c.end_ms));
            if let Some((start_ms, end_ms)) = range {
                plan.duration_ms = end_ms - start_ms;
                info.duration_ms = Some(plan.duration_ms);
            }
            crate::db::videos::record_media_info(&mut conn, id, &info).await?;
            crate::db::tracks::set_kind(&mut conn, id, plan.kind).await?;
            range
        };
        let (tx, rx) = watch::channel(0i16);
        let reporter = tokio::spawn(report_progress(ctx.clone(), id, rx));
        let report = move |p: i16| {
            let _ = tx.send(p);
        };

        let generation = Generation::new(self.dst.as_deref(), id, job.id);
        let key = match video.encrypt {
            true => {
                let (info, key) = protect::encryption(ctx, id, &generation, work.path()).await?;
                plan.key_info = Some(info);
                Some(key)
            }
            false => None,
        };
        let out = work.path().join("out");
        let keyframes = match range.is_none() && plan.is_chunked(ctx.media.config()) {
            true => early::keyframes(ctx, id, &source).await,
            false => None,
        };
        let (plan, outputs, rest) = match keyframes {
            Some(keyframes) => {
                let early = early::Early {
                    ctx,
                    job,
                    plan: &plan,
                    source: &source,
                    work: work.path(),
                };
                let (early_plan, rest) = early.encode(&keyframes, &generation, &report).await?;
                let outputs = Outputs::collect(&out, &early_plan, &generation)?;
                (early_plan, outputs, Some(rest))
            }
            None => {
                tokio::fs::create_dir_all(out.join("snapshots")).await?;
                let transcoded = ctx
                    .media
                    .transcode(&plan, &source, range, &out, &report)
                    .await;
                transcoded?;
                let outputs = Outputs::collect(&out, &plan, &generation)?;
                (plan, outputs, None)
            }
        };
        drop(report);
        let _ = reporter.await;
        protect::record_timeline(ctx, id, &generation, &out, &plan, key.as_ref()).await?;
        outputs::store(&ctx.storage, &out, &outputs).await?;
        // Everything is in storage: the work dir goes before the video is marked done.
        drop(work);
        let swapped = outputs::swap(ctx, &video, &info, &plan, &outputs, job, rest.as_ref()).await;
        match swapped {
            Ok(Some(())) => {
                protect::refresh_tracks(ctx, id).await;
                protect::requeue_added_audio(ctx, id).await?;
                protect::queue_captions(ctx, id, plan.has_audio()).await?;
                super::downloads::queue(ctx, id).await?;
                let seconds = started.elapsed().as_secs_f64();
                let realtime = plan.seconds() / seconds.max(0.001);
                metrics::histogram!(crate::metrics::TRANSCODE_SECONDS).record(seconds);
                metrics::histogram!(crate::metrics::TRANSCODE_REALTIME).record(realtime);
                let rungs = plan.rungs.len();
                tracing::info!(video = %id, rungs, seconds, realtime, "transcoded");
                Ok(())
            }
            // The video was deleted meanwhile: drop what we stored (by default under its
            // output directory, which goes whole, with the chunks' sources).
            Ok(None) => {
                match self.dst {
                    Some(_) => {
                        ctx.remove_generation(generation.prefix()).await;
                    }
                    None => remove_outputs(ctx, id).await,
                }
                Ok(())
            }
            // A chunked ladder's generation also holds what its chunks stored: a retry
            // rewrites the early rung beside it (a failure for good leaves it to
            // `finish_ladder`, which removes a ladder nobody plays).
            Err(e) => {
                if rest.is_none() {
                    ctx.remove_generation(generation.prefix()).await;
                }
                Err(e)
            }
        }
    }

    /// Back to the queue with the reason, or `TRANSCODE_FAILED` after the last attempt.
    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        let Some(id) = job.video_id else { return };
        let to = match last {
            true => VideoStatus::TranscodeFailed,
            false => VideoStatus::TranscodeQueued,
        };
        let change = VideoChange {
            progress: Some(0),
            error: Some(Some(trimmed(error))),
            ..VideoChange::default()
        };
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

    /// The video was deleted while it ran: remove what the attempt left in storage.
    async fn cancelled(ctx: &JobContext, job: &Claimed) {
        let Some(id) = job.video_id else { return };
        if matches!(ctx.video(id).await, Ok(None)) {
            remove_outputs(ctx, id).await;
        }
    }
}

/// Moves the video to `TRANSCODING` (or finds it there, taken over after a crash).
async fn start(ctx: &JobContext, id: VideoId) -> Result<Video, JobError> {
    let change = VideoChange {
        progress: Some(0),
        error: Some(None),
        ..VideoChange::default()
    };
    let to = VideoStatus::Transcoding;
    let started = ctx
        .lifecycle
        .commit(|conn, changes| {
            async move {
                    Ok::<_, JobError>(lifecycle::transition(conn, changes, id, to, change).await?)
                }
                .scope_boxed()
        })
        .await?;
    match started {
        Some(v) => Ok(v),
        None => ctx
            .video(id)
            .await?
            .filter(|v| v.status == VideoStatus::Transcoding)
            .ok_or_else(|| JobError::Permanent("the video is not waiting for a transcode".into())),
    }
}

/// Publishes the percent done, at most every `PROGRESS_EVERY`, while it rises.
async fn report_progress(ctx: JobContext, id: VideoId, mut rx: watch::Receiver<i16>) {
    let mut last = 0;
    while rx.changed().await.is_ok() {
        let p = *rx.borrow_and_update();
        if p <= last {
            continue;
        }
        last = p;
        let published = ctx
            .lifecycle
            .commit(|conn, changes| {
                async move { Ok::<_, JobError>(lifecycle::progress(conn, changes, id, p).await?) }
                    .scope_boxed()
            })
            .await;
        if let Err(e) = published {
            tracing::debug!(video = %id, error = %e, "progress not recorded");
        }
        tokio::time::sleep(PROGRESS_EVERY).await;
    }
}

/// A local path to the source: in place on fs storage, otherwise downloaded into `work`.
async fn local_source(ctx: &JobContext, video: &Video, work: &Path) -> Result<PathBuf, JobError> {
    if video.storage_uri.is_empty() {
        return Err(JobError::Permanent("the video has no stored source".into()));
    }
    ctx.storage
        .local_file(&video.storage_uri, &work.join("source"))
        .await?
        .ok_or_else(|| JobError::Permanent("the stored source is missing".into()))
}

/// Removes a deleted video's output directory, whole (best effort: the purge of the
/// deletion covers what is left).
async fn remove_outputs(ctx: &JobContext, id: VideoId) {
    let _ = ctx.storage.remove_all(&layout::output_dir(id)).await;
}
