//! What a transcode does for tracks and protection (docs/architecture.md, "Tracks",
//! "Encryption"): the generation's AES-128 key handed to ffmpeg, the MPEG-TS time of its
//! first frame recorded for text tracks, and the text tracks written into it.

use std::path::{Path, PathBuf};

use super::{JobContext, JobError};
use crate::db;
use crate::media::Plan;
use crate::media::plan::AUDIO_LADDER_KBPS;
use crate::media::transcode::audio_rung_dir;
use crate::model::{Generation, VideoId};
use crate::video::keys::{self, MediaKey};
use crate::video::tracks::Tracks;

/// For an encrypted video: the generation's key (made now, or the one an earlier attempt
/// made) written into `work` beside, never inside, the outputs, and ffmpeg's key info.
pub async fn encryption(
    ctx: &JobContext,
    video: VideoId,
    generation: &Generation,
    work: &Path,
) -> Result<(PathBuf, MediaKey), JobError> {
    let key = {
        let mut conn = ctx.db.get().await?;
        keys::key_for(&mut conn, ctx.delivery.key(), video, generation)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?
    };
    Ok((key_files(work, &key).await?, key))
}

/// Writes `key` and ffmpeg's key info into `work` (beside the outputs, never among them:
/// the key is never stored); returns the key info's path for `-hls_key_info_file`.
pub async fn key_files(work: &Path, key: &MediaKey) -> Result<PathBuf, JobError> {
    let key_file = work.join("enc.key.bin");
    tokio::fs::write(&key_file, key.key).await?;
    let info = work.join("enc.keyinfo");
    tokio::fs::write(&info, key.key_info(&key_file)).await?;
    Ok(info)
}

/// The first segment of the outputs' first variant.
fn first_segment(out: &Path, plan: &Plan) -> PathBuf {
    let dir = match plan.rungs.first() {
        Some(rung) => rung.definition.as_str().to_string(),
        None => audio_rung_dir(AUDIO_LADDER_KBPS[0]),
    };
    out.join(dir).join("seg_00000.ts")
}

/// Records where the generation's timeline starts (text tracks map their zero onto it);
/// a probe that fails leaves the default, logged.
pub async fn record_timeline(
    ctx: &JobContext,
    video: VideoId,
    generation: &Generation,
    out: &Path,
    plan: &Plan,
    key: Option<&MediaKey>,
) -> Result<(), JobError> {
    let segment = first_segment(out, plan);
    let pts = ctx
        .media
        .segment_start_pts(&segment, key.map(|k| (k.key, k.iv)))
        .await;
    match pts {
        Ok(pts) => {
            let mut conn = ctx.db.get().await?;
            db::tracks::put_timeline(&mut conn, video, generation.prefix(), pts as i64).await?;
        }
        Err(e) => tracing::warn!(video = %video, error = %e, "no timeline start probed"),
    }
    Ok(())
}

/// Writes the video's tracks into the generations it plays, logged when it fails: the
/// video plays without them.
pub async fn refresh_tracks(ctx: &JobContext, video: VideoId) {
    let tracks = Tracks {
        db: &ctx.db,
        storage: &ctx.storage,
        origins: ctx.delivery.origins(),
    };
    if let Err(e) = tracks.refresh(video).await {
        tracing::warn!(video = %video, error = %e, "text tracks not written");
    }
}

/// Queues the encode of every audio track added to the video into its new generation.
pub async fn requeue_added_audio(ctx: &JobContext, video: VideoId) -> Result<(), JobError> {
    use scoped_futures::ScopedFutureExt;
    ctx.lifecycle
        .commit(|conn, changes| {
            async move {
                let Some(row) = db::videos::find_any(conn, video).await? else {
                    return Ok(());
                };
                for track in db::audio::of_video(conn, video).await? {
                    let payload = crate::video::work::AddedAudioTrack { track: track.id };
                    let job = crate::queue::NewJob::new(&payload).for_video(&row);
                    crate::video::lifecycle::enqueue(conn, changes, job).await?;
                }
                Ok::<_, JobError>(())
            }
            .scope_boxed()
        })
        .await
}

/// Queues speech-to-text captions of a freshly transcoded video with sound, when the
/// operator configured a command.
pub async fn queue_captions(
    ctx: &JobContext,
    video: VideoId,
    has_audio: bool,
) -> Result<(), JobError> {
    use scoped_futures::ScopedFutureExt;
    if ctx.media.config().captions_command.is_empty() || !has_audio {
        return Ok(());
    }
    ctx.lifecycle
        .commit(|conn, changes| {
            async move {
                let Some(row) = db::videos::find_any(conn, video).await? else {
                    return Ok(());
                };
                let job =
                    crate::queue::NewJob::new(&crate::video::work::Captions {}).for_video(&row);
                crate::video::lifecycle::enqueue(conn, changes, job).await?;
                Ok::<_, JobError>(())
            }
            .scope_boxed()
        })
        .await
}
