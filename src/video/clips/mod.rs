//! Clips (docs/architecture.md, "Derived media"): a video cut from another. An instant
//! clip is made in milliseconds from the parent's playlists (`media::clip`) and plays its
//! segments; a precise clip shares the parent's source bytes and is transcoded from the
//! range only. Either is a video of its own: id, status, play URL, deletion (`delete.rs`).

mod delete;

pub(in crate::video) use delete::Deleting;

use scoped_futures::ScopedFutureExt;

use super::lifecycle::{self, TranscodeRequest};
use super::{Video, VideoError, VideoService};
use crate::db::{self, clips::Clip, models::NewVideo};
use crate::media::clip::{clip_master, clip_playlist_name, cut_media_playlist, media_playlists};
use crate::model::{AppId, Generation, VideoId, VideoStatus, random_id};

/// Clip ranges are checked against the parent's duration with this much slack (ms): the
/// probe's duration and the segments' may differ by a frame or two.
const END_SLACK_MS: i64 = 100;

/// Playlists larger than this are not ours.
const MAX_PLAYLIST_BYTES: usize = 4 << 20;

/// An instant clip's playlists, written but not yet recorded.
struct Written {
    generation: Generation,
    master: String,
    files: Vec<String>,
    duration_ms: i64,
}

impl VideoService {
    /// A clip of `parent` (a source of `app`) from `start` to `end` seconds.
    pub async fn create_clip(
        &self,
        (app, app_key): (AppId, &str),
        parent: VideoId,
        start: f64,
        end: f64,
        precise: bool,
    ) -> Result<Video, VideoError> {
        let parent = self.get(app, parent).await?.ok_or(VideoError::NotFound)?;
        let (start_ms, end_ms) = check_range(&parent, start, end)?;
        match precise {
            true => self.precise_clip(app_key, &parent, start_ms, end_ms).await,
            false => self.instant_clip(&parent, start_ms, end_ms).await,
        }
    }

    /// The video `video` was cut from, while it exists.
    pub async fn clip_of(&self, video: &Video) -> Result<Option<Video>, VideoError> {
        let mut conn = self.db.get().await?;
        let Some(parent) = db::clips::find(&mut conn, video.id)
            .await?
            .and_then(|c| c.parent_id)
        else {
            return Ok(None);
        };
        Ok(db::videos::find(&mut conn, video.app_id, parent).await?)
    }

    async fn instant_clip(
        &self,
        parent: &Video,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Video, VideoError> {
        let master_key = match (parent.status, parent.published_uri.as_deref()) {
            (VideoStatus::Playable, Some(master)) => master.to_string(),
            _ => {
                return Err(VideoError::Conflict(format!(
                    "a video in {} has nothing to clip yet; wait until it is PLAYABLE",
                    parent.status
                )));
            }
        };
        let written = self.write_playlists(&master_key, start_ms, end_ms).await?;
        let (parent, files) = (parent.clone(), written.files.clone());
        let inserted = self
            .lifecycle
            .commit(|conn, changes| {
                let written = &written;
                async move {
                    let mut new = NewVideo::source(
                        parent.app_id,
                        VideoStatus::Playable,
                        parent.source_name.clone(),
                    );
                    new.video_width = parent.video_width;
                    new.video_height = parent.video_height;
                    new.duration = Some(written.duration_ms);
                    new.encrypt = parent.encrypt;
                    new.task_priority = parent.task_priority;
                    new.image_count = parent.image_count;
                    new.storage_uri = written.master.clone();
                    let row = db::videos::insert(conn, &new).await?;
                    let prefix = written.generation.prefix();
                    let clip = Clip {
                        video_id: row.id,
                        parent_id: Some(parent.id),
                        start_ms,
                        end_ms,
                        precise: false,
                        generation: Some(prefix.to_string()),
                        files: written.files.clone(),
                    };
                    db::clips::insert(conn, &clip).await?;
                    db::clips::share_generation(conn, prefix, row.id).await?;
                    let video = db::clips::publish_instant(
                        conn,
                        row.id,
                        &written.master,
                        parent.media_info.clone(),
                        &parent.kind,
                    )
                    .await?;
                    lifecycle::announced(conn, changes, &video).await?;
                    Ok::<_, VideoError>(video)
                }
                .scope_boxed()
            })
            .await;
        if inserted.is_err() {
            self.remove_files(&files).await;
        }
        inserted
    }

    /// Cuts each media playlist of the master at `master_key` and writes the clip's
    /// playlists beside them, then copies them to the origins.
    async fn write_playlists(
        &self,
        master_key: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Written, VideoError> {
        let generation = Generation::of_playlist(master_key)
            .ok_or_else(|| VideoError::Conflict("the video has no playlists to clip".into()))?;
        let name = clip_playlist_name(random_id());
        let master = self.read_playlist(master_key).await?;
        let (start, end) = (start_ms as f64 / 1000.0, end_ms as f64 / 1000.0);
        let mut files = Vec::new();
        let mut duration = None;
        for uri in media_playlists(&master) {
            if uri.contains("..") || uri.starts_with('/') || uri.contains("://") {
                continue;
            }
            let media = self.read_playlist(&generation.key(&uri)).await?;
            let Some(cut) = cut_media_playlist(&media, start, end) else {
                continue;
            };
            // The first variant (video, or the audio-only ladder) is the clip's length.
            duration.get_or_insert(cut.duration);
            let dir = uri.rsplit_once('/').map(|(d, _)| format!("{d}/"));
            let key = generation.key(&format!("{}{name}", dir.unwrap_or_default()));
            self.put_playlist(&key, cut.text, &mut files).await?;
        }
        let duration = duration.ok_or_else(|| {
            VideoError::BadRequest("no segment of the video is in the range".into())
        })?;
        let master_clip = generation.key(&name);
        self.put_playlist(&master_clip, clip_master(&master, &name), &mut files)
            .await?;
        if self.delivery.origins().need_copies() {
            for key in &files {
                if let Err(e) = self.delivery.origins().publish(&self.storage, key).await {
                    self.remove_files(&files).await;
                    return Err(VideoError::Conflict(format!(
                        "the clip could not be copied to the origins ({e}); try again"
                    )));
                }
            }
        }
        Ok(Written {
            generation,
            master: master_clip,
            files,
            duration_ms: (duration * 1000.0).round() as i64,
        })
    }

    async fn read_playlist(&self, key: &str) -> Result<String, VideoError> {
        let bytes = self
            .storage
            .get_small(key)
            .await
            .map_err(|e| VideoError::Infra(e.into()))?
            .filter(|b| b.len() <= MAX_PLAYLIST_BYTES)
            .ok_or_else(|| VideoError::Conflict(format!("the playlist {key} is missing")))?;
        String::from_utf8(bytes)
            .map_err(|_| VideoError::Conflict(format!("{key} is not a playlist")))
    }

    async fn put_playlist(
        &self,
        key: &str,
        text: String,
        files: &mut Vec<String>,
    ) -> Result<(), VideoError> {
        let put = self.storage.put_bytes(key, text.into_bytes()).await;
        if let Err(e) = put {
            self.remove_files(files).await;
            return Err(VideoError::Infra(e.into()));
        }
        files.push(key.to_string());
        Ok(())
    }

    /// Removes an instant clip's playlists from storage and the origins (best effort).
    pub(super) async fn remove_files(&self, files: &[String]) {
        for key in files {
            if let Err(e) = self.storage.op().delete(key).await {
                tracing::warn!(key, error = %e, "could not remove a clip playlist");
            }
            self.delivery.origins().remove(key).await;
        }
    }

    /// A new video sharing the parent's source bytes, queued for a transcode of the range
    /// only (`jobs/transcode.rs` trims the input to the clip).
    async fn precise_clip(
        &self,
        app_key: &str,
        parent: &Video,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Video, VideoError> {
        if parent.storage_uri.is_empty() || parent.hash.is_none() && parent.file_size == 0 {
            return Err(VideoError::Conflict(
                "the video has no stored source to cut from".into(),
            ));
        }
        let mut conn = self.db.get().await?;
        let parent_clip = db::clips::find(&mut conn, parent.id).await?;
        drop(conn);
        if parent_clip.is_some_and(|c| !c.precise) {
            return Err(VideoError::BadRequest(
                "an instant clip has no source of its own; clip the video it was cut from".into(),
            ));
        }
        let priority = self.limits.priority(app_key, None)?;
        let parent = parent.clone();
        self.lifecycle
            .commit(|conn, changes| {
                async move {
                    let owner = parent.unique_id.unwrap_or(parent.id);
                    db::videos::lock_shared_bytes(conn, owner).await?;
                    let mut new = NewVideo::source(
                        parent.app_id,
                        VideoStatus::Uploaded,
                        parent.source_name.clone(),
                    );
                    new.unique_id = Some(owner);
                    new.storage_uri = parent.storage_uri.clone();
                    new.file_size = parent.file_size;
                    new.hash = parent.hash.clone();
                    new.encrypt = parent.encrypt;
                    new.image_count = parent.image_count;
                    new.task_priority = parent.task_priority;
                    let video = lifecycle::insert(conn, changes, &new).await?;
                    let clip = Clip {
                        video_id: video.id,
                        parent_id: Some(parent.id),
                        start_ms,
                        end_ms,
                        precise: true,
                        generation: None,
                        files: Vec::new(),
                    };
                    db::clips::insert(conn, &clip).await?;
                    let request = TranscodeRequest {
                        priority,
                        dst: None,
                    };
                    lifecycle::queue_transcode(conn, changes, &video, request, None)
                        .await?
                        .ok_or_else(|| VideoError::Conflict("the clip changed meanwhile".into()))
                }
                .scope_boxed()
            })
            .await
    }
}

/// The range in milliseconds, inside the parent.
fn check_range(parent: &Video, start: f64, end: f64) -> Result<(i64, i64), VideoError> {
    if !start.is_finite() || !end.is_finite() || start < 0.0 {
        return Err(VideoError::BadRequest(
            "start and end are seconds from the video's start".into(),
        ));
    }
    if end <= start {
        return Err(VideoError::BadRequest(format!(
            "end ({end}) must be after start ({start})"
        )));
    }
    let (start_ms, end_ms) = (
        (start * 1000.0).round() as i64,
        (end * 1000.0).round() as i64,
    );
    let duration = parent.duration.unwrap_or(0);
    if duration > 0 && end_ms > duration + END_SLACK_MS {
        return Err(VideoError::BadRequest(format!(
            "end ({end} s) is past the video's end ({} s)",
            duration as f64 / 1000.0
        )));
    }
    if duration > 0 && start_ms >= duration {
        return Err(VideoError::BadRequest(format!(
            "start ({start} s) is past the video's end"
        )));
    }
    Ok((
        start_ms,
        if duration > 0 {
            end_ms.min(duration)
        } else {
            end_ms
        },
    ))
}
