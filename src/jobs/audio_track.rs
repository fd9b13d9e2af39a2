//! The `audio_track` job: an audio track added from an audio file, encoded into each
//! generation the video plays or is about to play (once per generation), on its timeline
//! and with its key, then listed in the master playlists (docs/architecture.md, "Tracks").

use std::path::Path;
use std::time::Duration;

use super::outputs::put_files;
use super::protect::refresh_tracks;
use super::{Job, JobContext, JobError};
use crate::db::{self, models::AddedAudio};
use crate::media::audio::{rendition_args, start_probe_args};
use crate::media::transcode::MPEGTS_START_PTS;
use crate::model::Generation;
use crate::queue::Claimed;
use crate::video::keys::{self, MediaKey};
use crate::video::work::AddedAudioTrack;

impl Job for AddedAudioTrack {
    async fn run(self, ctx: &JobContext, _: &Claimed) -> Result<(), JobError> {
        let track = {
            let mut conn = ctx.db.get().await?;
            db::audio::find(&mut conn, self.track).await?
        };
        let Some(track) = track else { return Ok(()) };
        let Some(video) = ctx.video(track.video_id).await? else {
            return Ok(());
        };
        let mut generations: Vec<Generation> = video.generation().into_iter().collect();
        if let Some(p) = video
            .published_generation()
            .filter(|p| !generations.contains(p))
        {
            generations.push(p);
        }
        for generation in &generations {
            let done = {
                let mut conn = ctx.db.get().await?;
                db::audio::is_encoded(&mut conn, track.id, generation.prefix()).await?
            };
            if !done {
                encode_into(ctx, &track, generation).await?;
                let mut conn = ctx.db.get().await?;
                db::audio::mark_encoded(&mut conn, track.id, generation.prefix()).await?;
            }
        }
        refresh_tracks(ctx, video.id).await;
        Ok(())
    }

    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        if let (true, Some(video)) = (last, job.video_id) {
            let reason = format!("the added audio track could not be encoded: {error}");
            ctx.note_error(video, &reason).await;
        }
    }
}

/// Encodes the track into `generation`'s `audio_t{id}/` and copies it to the origins.
async fn encode_into(
    ctx: &JobContext,
    track: &AddedAudio,
    generation: &Generation,
) -> Result<(), JobError> {
    let work = ctx.work_dir("audio-").await?;
    let input = ctx
        .storage
        .local_file(&track.source_key, &work.path().join("source"))
        .await?
        .ok_or_else(|| JobError::Permanent("the audio file is missing".into()))?;
    let info = ctx.media.probe(&input).await?;
    if info.audio_streams().is_empty() {
        return Err(JobError::Permanent("the file has no audio stream".into()));
    }
    let key = {
        let mut conn = ctx.db.get().await?;
        keys::existing_key(&mut conn, ctx.delivery.key(), generation)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?
    };
    let target = target_start(ctx, generation, key.as_ref(), work.path()).await?;
    let probe = work.path().join("start.ts");
    let timeout = Duration::from_secs(600);
    ctx.media
        .ffmpeg(&start_probe_args(&input, &probe), timeout, 0, |_| {})
        .await?;
    let start = ctx.media.segment_start_pts(&probe, None).await? as f64 / 90_000.0;
    let key_info = match &key {
        Some(key) => Some(super::protect::key_files(work.path(), key).await?),
        None => None,
    };
    let dir = work.path().join("out");
    tokio::fs::create_dir_all(&dir).await?;
    let args = rendition_args(&input, &dir, target - start, key_info.as_deref());
    let duration = info.duration_ms.unwrap_or(0);
    let timeout = Duration::from_secs(120) + Duration::from_millis(duration.max(0) as u64) * 4;
    ctx.media.ffmpeg(&args, timeout, duration, |_| {}).await?;
    let mut files = Vec::new();
    let mut entries = tokio::fs::read_dir(&dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        files.push((
            entry.path(),
            generation.key(&format!("{}/{name}", track.dir())),
        ));
    }
    put_files(&ctx.storage, files).await?;
    let origins = ctx.delivery.origins();
    if origins.need_copies() {
        let prefix = generation.key(&format!("{}/", track.dir()));
        origins
            .publish(&ctx.storage, &prefix)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
    }
    Ok(())
}

/// Where the generation's audio starts (its first audio segment), or else its first
/// frame: the added rendition is shifted to start there too.
async fn target_start(
    ctx: &JobContext,
    generation: &Generation,
    key: Option<&MediaKey>,
    work: &Path,
) -> Result<f64, JobError> {
    let first = work.join("first.ts");
    let first_key = generation.key("audio/seg_00000.ts");
    // A silent source has none (an object store's missing key is an error, not `None`).
    let audio = match ctx.storage.op().exists(&first_key).await? {
        true => ctx.storage.local_file(&first_key, &first).await?,
        false => None,
    };
    if let Some(segment) = audio {
        let pts = ctx
            .media
            .segment_start_pts(&segment, key.map(|k| (k.key, k.iv)))
            .await?;
        return Ok(pts as f64 / 90_000.0);
    }
    let mut conn = ctx.db.get().await?;
    let timeline = db::tracks::generation(&mut conn, generation.prefix())
        .await?
        .and_then(|g| g.timeline_pts);
    let pts = timeline.map_or(MPEGTS_START_PTS, |p| p.max(0) as u64);
    Ok(pts as f64 / 90_000.0)
}
