//! What a transcode produced: finding the files, storing them, and swapping the new
//! renditions and snapshots in for the old ones in one transaction (so playback never
//! points at a half-written set).

use std::path::{Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt};
use scoped_futures::ScopedFutureExt;

use super::ladder::RestOfLadder;
use super::publish::{Publish, purge_job};
use super::{JobContext, JobError};
use crate::db::{self, models::NewSnapshot, models::NewVideo, models::Video, videos::VideoChange};
use crate::media::Plan;
use crate::media::ladder::Rung;
use crate::media::plan::AUDIO_LADDER_KBPS;
use crate::media::sprite::thumbnails_vtt;
use crate::media::transcode::audio_rung_dir;
use crate::model::{Generation, MediaInfo, VideoStatus, layout};
use crate::queue::{Claimed, NewJob};
use crate::storage::Storage;
use crate::video::lifecycle;

pub struct Rendition {
    pub index: usize,
    pub playlist_key: String,
    pub bytes: i64,
}

pub struct Snapshot {
    pub index: i32,
    pub key: String,
    pub bytes: i64,
}

pub struct Outputs {
    /// Every file: path relative to the output dir, and its storage key.
    pub files: Vec<(PathBuf, String)>,
    pub master_key: String,
    pub sprite_key: String,
    pub vtt_key: String,
    pub renditions: Vec<Rendition>,
    pub snapshots: Vec<Snapshot>,
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, u64)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, base, out)?;
        } else {
            let rel = path.strip_prefix(base).expect("under base").to_path_buf();
            out.push((rel, entry.metadata()?.len()));
        }
    }
    Ok(())
}

impl Outputs {
    /// Checks that ffmpeg wrote what the plan promised and writes the WebVTT track.
    pub fn collect(out: &Path, plan: &Plan, generation: &Generation) -> Result<Self, JobError> {
        if plan.is_audio_only() {
            return Self::collect_audio(out, generation);
        }
        let vtt = thumbnails_vtt(&plan.sprite(), plan.duration_ms, "sprite.jpg");
        std::fs::write(out.join("thumbnails.vtt"), vtt)?;
        let mut found = Vec::new();
        walk(out, out, &mut found)?;
        let key = |rel: &Path| generation.key(&rel.to_string_lossy());
        let missing = |what: &str| JobError::Transient(format!("ffmpeg wrote no {what}"));
        if !out.join(layout::MASTER).exists() {
            return Err(missing("master playlist"));
        }
        if !out.join("sprite.jpg").exists() {
            return Err(missing("sprite sheet"));
        }
        let mut renditions = Vec::new();
        for (index, rung) in plan.rungs.iter().enumerate() {
            let dir = PathBuf::from(rung.definition.as_str());
            if !out.join(&dir).join("index.m3u8").exists() {
                return Err(missing(&format!("{} playlist", rung.definition)));
            }
            let bytes = found
                .iter()
                .filter(|(p, _)| p.starts_with(&dir))
                .map(|(_, n)| *n as i64)
                .sum();
            renditions.push(Rendition {
                index,
                playlist_key: key(&dir.join("index.m3u8")),
                bytes,
            });
        }
        let mut snaps: Vec<&(PathBuf, u64)> = found
            .iter()
            .filter(|(p, _)| p.starts_with("snapshots"))
            .collect();
        snaps.sort();
        if snaps.is_empty() {
            return Err(missing("snapshots"));
        }
        let snapshots = snaps
            .iter()
            .enumerate()
            .map(|(i, (p, n))| Snapshot {
                index: i as i32,
                key: key(p),
                bytes: *n as i64,
            })
            .collect();
        Ok(Self {
            master_key: generation.master(),
            sprite_key: key(Path::new("sprite.jpg")),
            vtt_key: key(Path::new("thumbnails.vtt")),
            files: found
                .into_iter()
                .map(|(p, _)| (p.clone(), key(&p)))
                .collect(),
            renditions,
            snapshots,
        })
    }
}

impl Outputs {
    /// An audio-only source's outputs: the master and its AAC ladder, no pictures.
    fn collect_audio(out: &Path, generation: &Generation) -> Result<Self, JobError> {
        let mut found = Vec::new();
        walk(out, out, &mut found)?;
        let missing = |what: String| JobError::Transient(format!("ffmpeg wrote no {what}"));
        if !out.join(layout::MASTER).exists() {
            return Err(missing("master playlist".into()));
        }
        for kbps in AUDIO_LADDER_KBPS {
            let dir = audio_rung_dir(kbps);
            if !out.join(&dir).join("index.m3u8").exists() {
                return Err(missing(format!("{dir} playlist")));
            }
        }
        let key = |rel: &Path| generation.key(&rel.to_string_lossy());
        Ok(Self {
            master_key: generation.master(),
            sprite_key: String::new(),
            vtt_key: String::new(),
            files: found
                .into_iter()
                .map(|(p, _)| (p.clone(), key(&p)))
                .collect(),
            renditions: Vec::new(),
            snapshots: Vec::new(),
        })
    }
}

/// Copies every output file into storage, a few at a time, streaming from disk.
pub async fn store(storage: &Storage, out: &Path, outputs: &Outputs) -> Result<(), JobError> {
    let files = outputs
        .files
        .iter()
        .map(|(rel, key)| (out.join(rel), key.clone()))
        .collect();
    put_files(storage, files).await
}

/// Copies local files to their keys, a few at a time, streaming from disk.
pub async fn put_files(storage: &Storage, files: Vec<(PathBuf, String)>) -> Result<(), JobError> {
    futures_util::stream::iter(files)
        .map(|(path, key)| async move {
            storage.put_file(&path, &key).await?;
            Ok::<_, JobError>(())
        })
        .buffer_unordered(4)
        .try_collect::<()>()
        .await
}

/// The row of one rendition of `source`: its rung, its media playlist's key and size.
pub fn rendition_row(
    source: &Video,
    rung: &Rung,
    duration_ms: Option<i64>,
    playlist_key: &str,
    bytes: i64,
) -> NewVideo {
    let mut row = NewVideo::source(
        source.app_id,
        VideoStatus::Transcoded,
        source.source_name.clone(),
    );
    row.parent_id = Some(source.id);
    row.definition = Some(rung.definition);
    row.video_width = Some(rung.width as i32);
    row.video_height = Some(rung.height as i32);
    row.duration = duration_ms;
    row.file_size = bytes;
    row.storage_uri = playlist_key.to_string();
    row.task_priority = source.task_priority;
    row
}

/// Replaces the video's renditions and snapshots with `outputs`, marks it `TRANSCODED`
/// and the job done, and either publishes it at once (`PLAYABLE`, when the storage is the
/// only origin) or queues its publication; a generation nobody plays any more is removed.
/// With `rest`, the outputs are the early rung of a chunked ladder whose other rungs are
/// on their way (their jobs queued earlier). `None` when the video is gone.
pub async fn swap(
    ctx: &JobContext,
    video: &Video,
    info: &MediaInfo,
    plan: &Plan,
    outputs: &Outputs,
    job: &Claimed,
    rest: Option<&RestOfLadder>,
) -> Result<Option<()>, JobError> {
    let id = video.id;
    let needs_copies = ctx.delivery.origins().need_copies();
    let retain_secs = ctx.retain_replaced_secs;
    let unused = ctx
        .lifecycle
        .commit(|conn, changes| {
            async move {
                let Some(current) = db::videos::find_any_for_update(conn, id).await? else {
                    return Ok(None);
                };
                let (old, published) = (current.generation(), current.published_generation());
                db::outputs::delete_outputs(conn, id).await?;
                for r in &outputs.renditions {
                    let rung = &plan.rungs[r.index];
                    let row =
                        rendition_row(&current, rung, info.duration_ms, &r.playlist_key, r.bytes);
                    // Renditions are outputs, not videos with a life of their own: no event.
                    db::videos::insert(conn, &row).await?;
                }
                // Snapshots are taken at the top rung's size, also by an early pass.
                let (w, h) = rest
                    .map_or(&plan.rungs, |r| &r.rungs)
                    .last()
                    .map(|r| (r.width as i32, r.height as i32))
                    .unwrap_or_default();
                let snapshots: Vec<NewSnapshot> = outputs
                    .snapshots
                    .iter()
                    .map(|s| NewSnapshot {
                        video_id: id,
                        image_index: s.index,
                        storage_uri: s.key.clone(),
                        width: Some(w),
                        height: Some(h),
                        file_size: s.bytes,
                    })
                    .collect();
                db::outputs::insert_snapshots(conn, &snapshots).await?;
                db::outputs::set_outputs(
                    conn,
                    id,
                    &outputs.master_key,
                    &outputs.sprite_key,
                    &outputs.vtt_key,
                )
                .await?;
                let change = match rest {
                    // With rungs to come, the progress counts their chunks from here.
                    Some(_) => VideoChange {
                        progress: Some(db::videos::ladder_progress(&current)),
                        error: Some(None),
                        ladder_complete: Some(false),
                        ..VideoChange::default()
                    },
                    None => VideoChange {
                        progress: Some(100),
                        error: Some(None),
                        ladder_complete: Some(true),
                        ladder_chunks: Some(0),
                        ladder_chunks_done: Some(0),
                        ..VideoChange::default()
                    },
                };
                let transcoded =
                    lifecycle::transition(conn, changes, id, VideoStatus::Transcoded, change)
                        .await?
                        .ok_or_else(|| {
                            JobError::Transient("the video left TRANSCODING meanwhile".into())
                        })?;
                if !job.finish(conn).await? {
                    return Err(JobError::Transient(
                        "the job was taken over by another worker".into(),
                    ));
                }
                if needs_copies {
                    let publish = NewJob::new(&Publish {})
                        .for_video(&transcoded)
                        // Ahead of transcodes: the hard work is done, viewers are waiting.
                        .priority(transcoded.task_priority.saturating_add(1000));
                    lifecycle::enqueue(conn, changes, publish).await?;
                } else {
                    // The storage is the only origin: published as it was written.
                    db::outputs::set_published(conn, id, &outputs.master_key).await?;
                    if let Some(p) = &published {
                        let purge = purge_job(&transcoded, p, retain_secs);
                        lifecycle::enqueue(conn, changes, purge).await?;
                    }
                    let to = VideoStatus::Playable;
                    lifecycle::transition(conn, changes, id, to, VideoChange::default()).await?;
                }
                Ok(Some(old.filter(|o| Some(o) != published.as_ref())))
            }
            .scope_boxed()
        })
        .await?;
    let Some(unused) = unused else {
        return Ok(None);
    };
    if let Some(generation) = unused {
        ctx.remove_generation(generation.prefix()).await;
    }
    Ok(Some(()))
}
