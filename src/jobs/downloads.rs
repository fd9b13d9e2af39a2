//! The `downloads` job: the MP4/M4A files a video asks for, remuxed from its current
//! generation's renditions (no encode), stored under `{generation}downloads/` and copied
//! to the origins (docs/architecture.md, "Derived media"). Queued when downloads are
//! enabled on a playable video and after each complete ladder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scoped_futures::ScopedFutureExt;

use super::{Job, JobContext, JobError};
use crate::db::{self, models::Video};
use crate::media::download::remux_args;
use crate::media::plan::AUDIO_LADDER_KBPS;
use crate::media::transcode::audio_rung_dir;
use crate::model::{Generation, MediaKind, VideoId};
use crate::queue::Claimed;
use crate::video::downloads::{DownloadTarget, targets};
use crate::video::keys;
use crate::video::work::MakeDownloads;

/// A remux reads and writes at disk speed; this much per minute of media is generous.
const REMUX_SECS_PER_MINUTE: u64 = 20;

impl Job for MakeDownloads {
    async fn run(self, ctx: &JobContext, job: &Claimed) -> Result<(), JobError> {
        let Some(id) = job.video_id else {
            return Ok(());
        };
        let Some(video) = ctx.video(id).await? else {
            return Ok(());
        };
        // A ladder still coming queues this again when it completes.
        let Some(generation) = video.generation().filter(|_| video.ladder_complete) else {
            return Ok(());
        };
        let (wanted, made, renditions) = {
            let mut conn = ctx.db.get().await?;
            (
                db::downloads::requested(&mut conn, id)
                    .await?
                    .unwrap_or_default(),
                db::downloads::of_video(&mut conn, id).await?,
                db::outputs::renditions(&mut conn, id).await?,
            )
        };
        let renditions: Vec<Video> = renditions
            .into_iter()
            .filter(|r| generation.contains(&r.storage_uri))
            .collect();
        let audio = audio_playlist(ctx, &video, &generation).await?;
        let targets = targets(&wanted, video.media_kind(), &renditions, audio.as_deref());
        let mut names = Vec::new();
        for target in &targets {
            names.push(target.definition.clone());
            let current = made
                .iter()
                .any(|d| d.definition == target.definition && d.generation == generation.prefix());
            if !current {
                make(ctx, &video, &generation, target).await?;
            }
        }
        let mut conn = ctx.db.get().await?;
        db::downloads::delete_except(&mut conn, id, &names).await?;
        Ok(())
    }

    async fn failed(ctx: &JobContext, job: &Claimed, error: &str, last: bool) {
        if let (true, Some(video)) = (last, job.video_id) {
            let reason = format!("the downloads could not be made: {error}");
            ctx.note_error(video, &reason).await;
        }
    }
}

/// The key of the audio playlist a download takes its sound from, if the video has sound.
async fn audio_playlist(
    ctx: &JobContext,
    video: &Video,
    generation: &Generation,
) -> Result<Option<String>, JobError> {
    let dir = match video.media_kind() {
        MediaKind::Audio => audio_rung_dir(AUDIO_LADDER_KBPS[AUDIO_LADDER_KBPS.len() - 1]),
        MediaKind::Video => crate::model::AudioTrack::of_stream(0, None, None).dir,
    };
    let key = generation.key(&format!("{dir}/index.m3u8"));
    Ok(ctx
        .storage
        .op()
        .exists(&key)
        .await
        .map_err(|e| JobError::Transient(e.to_string()))?
        .then_some(key))
}

/// Remuxes one file, stores it, copies it to the origins and records it.
async fn make(
    ctx: &JobContext,
    video: &Video,
    generation: &Generation,
    target: &DownloadTarget,
) -> Result<(), JobError> {
    let work = ctx.work_dir("download-").await?;
    let key = {
        let mut conn = ctx.db.get().await?;
        keys::existing_key(&mut conn, ctx.delivery.key(), generation)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?
    };
    let key_file = match key {
        Some(key) => {
            let path = work.path().join("key.bin");
            tokio::fs::write(&path, key.key).await?;
            Some(path)
        }
        None => None,
    };
    let local = |playlist: &Option<String>, name: &'static str| {
        let key_file = key_file.clone();
        let work = work.path().to_path_buf();
        let playlist = playlist.clone();
        async move {
            match playlist {
                Some(p) => localize(ctx, &p, &work.join(name), key_file.as_deref())
                    .await
                    .map(Some),
                None => Ok(None),
            }
        }
    };
    let video_list = local(&target.video, "video").await?;
    let audio_list = local(&target.audio, "audio").await?;
    let out = work.path().join(format!("out.{}", target.extension));
    let minutes = video.duration.unwrap_or(0).max(0) as u64 / 60_000 + 1;
    let timeout = Duration::from_secs(60 + minutes * REMUX_SECS_PER_MINUTE);
    let args = remux_args(video_list.as_deref(), audio_list.as_deref(), &out);
    ctx.media
        .ffmpeg(&args, timeout, 0, |_| {})
        .await
        .map_err(JobError::from)?;
    let stored = generation.key(&format!(
        "downloads/{}.{}",
        target.definition, target.extension
    ));
    let size = ctx.storage.put_file(&out, &stored).await?;
    if ctx.delivery.origins().need_copies() {
        ctx.delivery
            .origins()
            .publish(&ctx.storage, &stored)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
    }
    let (id, definition) = (video.id, target.definition.clone());
    let prefix = generation.prefix().to_string();
    ctx.lifecycle
        .commit(|conn, _changes| {
            async move {
                record(conn, id, &definition, &prefix, &stored, size as i64).await?;
                Ok::<_, JobError>(())
            }
            .scope_boxed()
        })
        .await
}

/// Records a made file unless the video moved to another generation meanwhile (its
/// next ladder makes its own).
async fn record(
    conn: &mut diesel_async::AsyncPgConnection,
    id: VideoId,
    definition: &str,
    prefix: &str,
    stored: &str,
    size: i64,
) -> Result<(), JobError> {
    let Some(video) = db::videos::find_any(conn, id).await? else {
        return Ok(());
    };
    if video.generation().is_some_and(|g| g.prefix() == prefix) {
        db::downloads::upsert(conn, id, definition, prefix, stored, size).await?;
    }
    Ok(())
}

/// A local copy of the media playlist `key` for ffmpeg, written under `dir`: segment URIs
/// become local paths (the stored file itself on a disk store, else a copy) and the key
/// URI the key file. Nothing else in it is followed.
async fn localize(
    ctx: &JobContext,
    key: &str,
    dir: &Path,
    key_file: Option<&Path>,
) -> Result<PathBuf, JobError> {
    tokio::fs::create_dir_all(dir).await?;
    let text = ctx
        .storage
        .get_small(key)
        .await
        .map_err(|e| JobError::Transient(e.to_string()))?
        .ok_or_else(|| JobError::Permanent(format!("{key} is missing")))?;
    let text = String::from_utf8(text)
        .map_err(|_| JobError::Permanent(format!("{key} is not a playlist")))?;
    let base = key.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut out = String::new();
    for (index, line) in text.lines().map(str::trim_end).enumerate() {
        if line.starts_with("#EXT-X-KEY") {
            let Some(file) = key_file else {
                return Err(JobError::Permanent(
                    "the generation's key is missing".into(),
                ));
            };
            let uri = format!("URI=\"{}\"", crate::model::layout::KEY_FILE);
            out.push_str(&line.replace(&uri, &format!("URI=\"{}\"", file.display())));
        } else if line.is_empty() || line.starts_with('#') {
            out.push_str(line);
        } else {
            if line.contains('/') || line.contains("..") {
                return Err(JobError::Permanent(format!("{key} names {line:?}")));
            }
            let scratch = dir.join(format!("{index:06}.seg"));
            let path = ctx
                .storage
                .local_file(&format!("{base}/{line}"), &scratch)
                .await?
                .ok_or_else(|| JobError::Permanent(format!("{base}/{line} is missing")))?;
            out.push_str(&path.to_string_lossy());
        }
        out.push('\n');
    }
    let path = dir.join("index.m3u8");
    tokio::fs::write(&path, out).await?;
    Ok(path)
}

/// After a ladder completes: queues the downloads the video asks for, if any.
pub async fn queue(ctx: &JobContext, id: VideoId) -> Result<(), JobError> {
    ctx.lifecycle
        .commit(|conn, changes| {
            async move {
                if let Some(video) = db::videos::find_any(conn, id).await?
                    && video.ladder_complete
                {
                    crate::video::downloads::queue_if_asked(conn, changes, &video).await?;
                }
                Ok::<_, JobError>(())
            }
            .scope_boxed()
        })
        .await
}
