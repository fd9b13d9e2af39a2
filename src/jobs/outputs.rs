//! What a transcode produced: finding the files, storing them, and swapping the new
//! renditions and snapshots in for the old ones in one transaction (so playback never
//! points at a half-written set).

use std::path::{Path, PathBuf};

use diesel_async::AsyncConnection;
use futures_util::{StreamExt, TryStreamExt};
use opendal::Operator;

use super::JobError;
use crate::db::{self, DbPool, jobs::NewJob, models::NewVideo, videos::VideoChange};
use crate::media::MediaInfo;
use crate::media::transcode::{Plan, thumbnails_vtt};
use crate::video::{Video, VideoStatus};

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
    pub fn collect(out: &Path, plan: &Plan, generation: &str) -> Result<Self, JobError> {
        let vtt = thumbnails_vtt(&plan.sprite(), plan.duration_ms, "sprite.jpg");
        std::fs::write(out.join("thumbnails.vtt"), vtt)?;
        let mut found = Vec::new();
        walk(out, out, &mut found)?;
        let key = |rel: &Path| format!("{generation}{}", rel.to_string_lossy());
        let missing = |what: &str| JobError::Transient(format!("ffmpeg wrote no {what}"));
        if !out.join("master.m3u8").exists() {
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
            master_key: key(Path::new("master.m3u8")),
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

/// Copies every output file into storage, a few at a time, streaming from disk.
pub async fn upload(storage: &Operator, out: &Path, outputs: &Outputs) -> Result<(), JobError> {
    let files: Vec<(PathBuf, String)> = outputs
        .files
        .iter()
        .map(|(rel, key)| (out.join(rel), key.clone()))
        .collect();
    futures_util::stream::iter(files)
        .map(|(path, key)| async move {
            let file = tokio::fs::File::open(path).await?;
            let mut writer = storage
                .writer_with(&key)
                .content_type(crate::storage::content_type(&key))
                .chunk(8 << 20)
                .await?
                .into_futures_async_write();
            let mut sink =
                tokio_util::compat::FuturesAsyncWriteCompatExt::compat_write(&mut writer);
            let mut file = file;
            tokio::io::copy(&mut file, &mut sink).await?;
            tokio::io::AsyncWriteExt::shutdown(&mut sink).await?;
            Ok::<_, JobError>(())
        })
        .buffer_unordered(4)
        .try_collect::<()>()
        .await
}

/// What a committed swap leaves to do.
pub struct Swapped {
    pub transcoded: Video,
    /// Set when no origin needed a copy: the video went on to `PLAYABLE` in the same commit.
    pub playable: Option<Video>,
    /// A generation nobody plays any more (never published): remove it now.
    pub unused: Option<String>,
}

/// How the new generation reaches the origins.
pub struct Publishing {
    /// Some origin is not the storage itself: a `publish` job copies the files.
    pub needs_copies: bool,
    /// How long a replaced, published generation stays for viewers still playing it.
    pub retain_secs: i64,
}

/// Replaces the video's renditions and snapshots with `outputs`, marks it `TRANSCODED`
/// and the job done, and either publishes it at once (`PLAYABLE`) or queues its
/// publication. `None` when the video is gone (deleted meanwhile).
#[allow(clippy::too_many_arguments)]
pub async fn swap(
    db: &DbPool,
    video: &Video,
    info: &MediaInfo,
    plan: &Plan,
    outputs: &Outputs,
    job_id: i64,
    worker: &str,
    publishing: &Publishing,
) -> Result<Option<Swapped>, JobError> {
    let mut conn = db.get().await?;
    let id = video.id;
    conn.transaction::<_, JobError, _>(async |conn| {
        let Some(current) = db::pipeline::find_any_for_update(conn, id).await? else {
            return Ok(None);
        };
        let generation = |uri: &Option<String>| {
            uri.as_deref()
                .and_then(|p| p.strip_suffix("master.m3u8"))
                .map(str::to_string)
        };
        let (old, published) = (
            generation(&current.playlist_uri),
            generation(&current.published_uri),
        );
        db::pipeline::delete_outputs(conn, id).await?;
        for r in &outputs.renditions {
            let rung = plan.rungs[r.index];
            let mut row = NewVideo::source(
                current.app_id,
                VideoStatus::Transcoded,
                current.source_name.clone(),
            );
            row.parent_id = Some(id);
            row.definition = Some(rung.definition);
            row.video_width = Some(rung.width as i32);
            row.video_height = Some(rung.height as i32);
            row.duration = info.duration_ms;
            row.file_size = r.bytes;
            row.storage_uri = r.playlist_key.clone();
            row.task_priority = current.task_priority;
            db::videos::insert(conn, &row).await?;
        }
        let (w, h) = plan
            .rungs
            .last()
            .map(|r| (r.width as i32, r.height as i32))
            .unwrap_or_default();
        let snapshots: Vec<_> = outputs
            .snapshots
            .iter()
            .map(|s| (s.index, s.key.clone(), w, h, s.bytes))
            .collect();
        db::pipeline::insert_snapshots(conn, id, &snapshots).await?;
        db::pipeline::set_outputs(
            conn,
            id,
            &outputs.master_key,
            &outputs.sprite_key,
            &outputs.vtt_key,
        )
        .await?;
        let change = VideoChange {
            progress: Some(100),
            error: Some(None),
            ..VideoChange::default()
        };
        let transcoded = db::videos::transition(conn, id, VideoStatus::Transcoded, change)
            .await?
            .ok_or_else(|| JobError::Transient("the video left TRANSCODING meanwhile".into()))?;
        if !db::jobs::finish(conn, job_id, worker).await? {
            return Err(JobError::Transient(
                "the job was taken over by another worker".into(),
            ));
        }
        let playable = if publishing.needs_copies {
            db::jobs::enqueue(conn, publish_job(&transcoded)).await?;
            None
        } else {
            // The storage is the only origin: published as it was written.
            db::pipeline::set_published(conn, id, &outputs.master_key).await?;
            if let Some(p) = &published {
                db::jobs::enqueue(conn, purge_job(&transcoded, p, publishing.retain_secs)).await?;
            }
            db::videos::transition(conn, id, VideoStatus::Playable, VideoChange::default()).await?
        };
        let unused = old.filter(|o| Some(o) != published.as_ref());
        Ok(Some(Swapped {
            transcoded,
            playable,
            unused,
        }))
    })
    .await
}

pub fn publish_job(video: &Video) -> NewJob<'static> {
    NewJob {
        kind: db::jobs::PUBLISH,
        app_id: Some(video.app_id),
        video_id: Some(video.id),
        payload: serde_json::json!({}),
        // Ahead of transcodes: the hard work is done, viewers are waiting.
        priority: video.task_priority.saturating_add(1000),
        run_at: None,
    }
}

/// Removal of a replaced generation after `retain_secs`; not tied to the video row, so a
/// deletion meanwhile does not cancel it (it then finds nothing to remove).
pub fn purge_job(video: &Video, prefix: &str, retain_secs: i64) -> NewJob<'static> {
    NewJob {
        kind: db::jobs::PURGE,
        app_id: Some(video.app_id),
        video_id: None,
        payload: serde_json::json!({ "prefix": prefix }),
        priority: 0,
        run_at: Some(chrono::Utc::now() + chrono::Duration::seconds(retain_secs.max(0))),
    }
}
