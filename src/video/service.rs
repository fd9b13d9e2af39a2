//! What every adapter asks of an app's videos: read, list, (re)transcode, transcode from a
//! URI, play, delete. State changes go through `lifecycle`.

use std::collections::HashMap;
use std::sync::Arc;

use diesel_async::AsyncConnection;
use scoped_futures::ScopedFutureExt;

use super::lifecycle::{self, AfterUpload, Changes, Lifecycle, Stored, TranscodeRequest};
use super::work::Import;
use super::{Snapshot, Video, VideoError, uri};
use crate::config::Config;
use crate::db::{self, DbPool, models::NewVideo};
use crate::delivery::{Delivery, PlayUrl};
use crate::limits::Limits;
use crate::model::{AppId, Definition, VideoId, VideoStatus, layout};
use crate::queue::NewJob;
use crate::storage::Storage;

/// One page of a listing.
pub struct Page {
    pub videos: Vec<Video>,
    pub has_next: bool,
}

#[derive(Clone)]
pub struct VideoService {
    pub(super) db: DbPool,
    pub(super) storage: Storage,
    pub(super) delivery: Delivery,
    pub(super) lifecycle: Lifecycle,
    pub(super) limits: Limits,
    config: Arc<Config>,
}

impl VideoService {
    /// The rungs a video whose ladder is incomplete still waits for, given the ones it has.
    pub fn pending_definitions(&self, video: &Video, have: &[Definition]) -> Vec<Definition> {
        let (Some(w), Some(h)) = (video.video_width, video.video_height) else {
            return Vec::new();
        };
        if video.ladder_complete || video.parent_id.is_some() || w <= 0 || h <= 0 {
            return Vec::new();
        }
        crate::media::ladder::ladder(w as u32, h as u32, &self.config.media.definitions)
            .into_iter()
            .map(|r| r.definition)
            .filter(|d| !have.contains(d))
            .collect()
    }

    /// Text tracks of this service's videos.
    pub fn tracks(&self) -> super::tracks::Tracks<'_> {
        super::tracks::Tracks {
            db: &self.db,
            storage: &self.storage,
            origins: self.delivery.origins(),
        }
    }

    pub fn new(
        db: DbPool,
        storage: Storage,
        delivery: Delivery,
        lifecycle: Lifecycle,
        limits: Limits,
        config: Arc<Config>,
    ) -> Self {
        Self {
            db,
            storage,
            delivery,
            lifecycle,
            limits,
            config,
        }
    }

    /// A new video of `app` from a file already in storage (`src`, a storage URI),
    /// queued for transcoding as if it had been uploaded; `dst` (a storage URI prefix)
    /// chooses where the outputs go. `app_key` names the app's limits.
    pub async fn transcode_uri(
        &self,
        (app, app_key): (AppId, &str),
        src: &str,
        dst: Option<&str>,
        priority: Option<i32>,
    ) -> Result<Video, VideoError> {
        let priority = self.limits.priority(app_key, priority)?;
        let namespace = uri::Namespace {
            storage: &self.config.storage,
            import_prefix: &self.config.media.import_prefix,
            app,
        };
        let dst = dst.map(|d| namespace.destination(d)).transpose()?;
        let key = match namespace.source(src)? {
            uri::Source::Stored(key) => key,
            uri::Source::Remote(url) => return self.import(app, &url, dst, priority).await,
        };
        // One answer for whatever is not a file this app may read, so probing tells
        // nothing about which keys exist.
        let size = match self.storage.op().stat(&key).await {
            Ok(meta) if meta.is_file() => meta.content_length(),
            Ok(_) => return Err(VideoError::BadRequest(format!("{src} does not exist"))),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                return Err(VideoError::BadRequest(format!("{src} does not exist")));
            }
            Err(e) => return Err(VideoError::Infra(e.into())),
        };
        let name = key.rsplit('/').next().unwrap_or(&key).to_string();
        let mut new = NewVideo::source(app, VideoStatus::Uploading, name);
        new.task_priority = priority.unwrap_or(0);
        new.output_prefix = dst.clone();
        let stored = Stored {
            key,
            size: size as i64,
            md5: None,
        };
        let after = AfterUpload {
            transcode: Some(TranscodeRequest { priority, dst }),
            hash: false,
        };
        self.lifecycle
            .commit(|conn, changes| {
                async move {
                    let video = lifecycle::insert(conn, changes, &new).await?;
                    lifecycle::uploaded(conn, changes, video.id, stored, after)
                        .await?
                        .ok_or_else(|| VideoError::Conflict("the video changed meanwhile".into()))
                }
                .scope_boxed()
            })
            .await
    }

    /// `transcodeUri` with an `https://` source: an `UPLOADING` video whose bytes a worker
    /// fetches (an `import` job) before transcoding them.
    async fn import(
        &self,
        app: AppId,
        url: &str,
        dst: Option<String>,
        priority: Option<i32>,
    ) -> Result<Video, VideoError> {
        // Refuse early what the worker would refuse (the worker checks again: DNS may change).
        super::fetch::check(url, &self.config.media).await?;
        let name = url::Url::parse(url)
            .ok()
            .and_then(|u| u.path_segments()?.next_back().map(str::to_string))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "download".into());
        let mut new = NewVideo::source(app, VideoStatus::Uploading, name);
        new.task_priority = priority.unwrap_or(0);
        new.output_prefix = dst.clone();
        let import = Import {
            url: url.to_string(),
            dst,
            priority,
        };
        self.lifecycle
            .commit(|conn, changes| {
                async move {
                    let video = lifecycle::insert(conn, changes, &new).await?;
                    let job = NewJob::new(&import).for_video(&video);
                    lifecycle::enqueue(conn, changes, job).await?;
                    Ok(video)
                }
                .scope_boxed()
            })
            .await
    }

    /// The signed URL of a stored output (snapshot, sprite, WebVTT); adapters hand these
    /// out instead of building them from storage keys.
    pub fn media_url(&self, key: &str) -> String {
        self.delivery.file_url(key).unwrap_or_default()
    }

    /// Signed play URLs of a source of `app` through the chosen CDN.
    pub async fn play_url(
        &self,
        video: &Video,
        cdn: Option<&str>,
        expires_in: Option<i64>,
        viewer: &str,
    ) -> Result<PlayUrl, VideoError> {
        let renditions = if video.published_uri.is_some() {
            self.renditions(video).await?
        } else {
            Vec::new()
        };
        Ok(self
            .delivery
            .play_url(video, &renditions, cdn, expires_in, viewer)?)
    }

    /// Queues a (re)transcode of a source of `app`: from `UPLOADED`, `TRANSCODED`,
    /// `TRANSCODE_FAILED` or `PLAYABLE` (whose renditions keep playing until the new ones
    /// replace them). Anything else, or a job of the video still pending, is a `Conflict`.
    pub async fn transcode(
        &self,
        (app, app_key): (AppId, &str),
        id: VideoId,
        priority: Option<i32>,
    ) -> Result<Video, VideoError> {
        let priority = self.limits.priority(app_key, priority)?;
        self.lifecycle
            .commit(|conn, changes| {
                async move {
                    let video = db::videos::find(conn, app, id)
                        .await?
                        .ok_or(VideoError::NotFound)?;
                    if video.parent_id.is_some() {
                        return Err(VideoError::Conflict(
                            "renditions are not transcoded; transcode their source".into(),
                        ));
                    }
                    if db::clips::find(conn, id).await?.is_some_and(|c| !c.precise) {
                        return Err(VideoError::Conflict(
                            "an instant clip has no source of its own; make a precise clip to transcode it".into(),
                        ));
                    }
                    if !video.status.can_become(VideoStatus::TranscodeQueued) {
                        return Err(VideoError::Conflict(format!(
                            "a video in {} cannot be transcoded",
                            video.status
                        )));
                    }
                    if db::jobs::pending_for_video(conn, id).await? > 0 {
                        return Err(VideoError::Conflict(
                            "a transcode of this video is already queued".into(),
                        ));
                    }
                    // Outputs go where the client first asked (`transcodeUri`'s `dst`).
                    let request = TranscodeRequest {
                        priority,
                        dst: video.output_prefix.clone(),
                    };
                    lifecycle::queue_transcode(conn, changes, &video, request, None)
                        .await?
                        .ok_or_else(|| {
                            VideoError::Conflict("the video changed meanwhile; try again".into())
                        })
                }
                .scope_boxed()
            })
            .await
    }

    /// A video of `app`; `None` when missing or another app's.
    pub async fn get(&self, app: AppId, id: VideoId) -> Result<Option<Video>, VideoError> {
        let mut conn = self.db.get().await?;
        Ok(db::videos::find(&mut conn, app, id).await?)
    }

    /// `app`'s source videos newest first, after the cursor `after` (exclusive).
    pub async fn list(
        &self,
        app: AppId,
        status: Option<VideoStatus>,
        after: Option<VideoId>,
        first: i64,
    ) -> Result<Page, VideoError> {
        let mut conn = self.db.get().await?;
        let mut videos = db::videos::list_sources(&mut conn, app, status, after, first + 1).await?;
        let has_next = videos.len() as i64 > first;
        videos.truncate(first as usize);
        Ok(Page { videos, has_next })
    }

    pub async fn renditions(&self, source: &Video) -> Result<Vec<Video>, VideoError> {
        let mut conn = self.db.get().await?;
        Ok(db::outputs::renditions(&mut conn, source.id).await?)
    }

    /// The renditions of several sources at once, by source (smallest first).
    pub async fn renditions_by_source(
        &self,
        sources: &[VideoId],
    ) -> Result<HashMap<VideoId, Vec<Video>>, VideoError> {
        let mut conn = self.db.get().await?;
        let mut by_source: HashMap<VideoId, Vec<Video>> = HashMap::new();
        for rendition in db::outputs::renditions_of(&mut conn, sources).await? {
            if let Some(parent) = rendition.parent_id {
                by_source.entry(parent).or_default().push(rendition);
            }
        }
        Ok(by_source)
    }

    /// The snapshots of several videos at once, by video (in index order).
    pub async fn snapshots_by_video(
        &self,
        videos: &[VideoId],
    ) -> Result<HashMap<VideoId, Vec<Snapshot>>, VideoError> {
        let mut conn = self.db.get().await?;
        let mut by_video: HashMap<VideoId, Vec<Snapshot>> = HashMap::new();
        for snapshot in db::outputs::snapshots_of(&mut conn, videos).await? {
            by_video
                .entry(snapshot.video_id)
                .or_default()
                .push(snapshot);
        }
        Ok(by_video)
    }

    pub async fn snapshots(&self, video: &Video) -> Result<Vec<Snapshot>, VideoError> {
        let mut conn = self.db.get().await?;
        Ok(db::outputs::snapshots(&mut conn, video.id).await?)
    }

    /// Records a video row as given (tests and tools start from any state this way).
    pub async fn insert(&self, new: &NewVideo) -> Result<Video, VideoError> {
        self.lifecycle
            .commit(|conn, changes| {
                async move { Ok(lifecycle::insert(conn, changes, new).await?) }.scope_boxed()
            })
            .await
    }

    /// Deletes a video of `app`: rows (renditions and snapshots cascade), then the stored
    /// bytes, keeping the source bytes while another video shares them.
    pub async fn delete(&self, app: AppId, id: VideoId) -> Result<(), VideoError> {
        let mut changes = Changes::default();
        let mut conn = self.db.get().await?;
        // Committed and announced apart: the bytes go before the last event does.
        let (deleted, clips) = conn
            .transaction::<_, VideoError, _>(async |conn| {
                let clips = super::clips::Deleting::before(conn, id).await?;
                let deleted = lifecycle::delete(conn, &mut changes, app, id)
                    .await?
                    .ok_or(VideoError::NotFound)?;
                Ok((deleted, clips.after(conn).await?))
            })
            .await?;
        drop(conn);

        let mut dirs = vec![layout::output_dir(id)];
        dirs.extend(deleted.orphaned_source.map(layout::source_dir));
        // Outputs written to a client-chosen `dst` live outside `videos/{id}/`.
        if let Some(generation) = deleted.rows.first().and_then(Video::generation) {
            dirs.push(generation.prefix().to_string());
        }
        let dirs = self.without_clipped(clips, dirs).await;
        for dir in dirs {
            if let Err(e) = self.storage.remove_all(&dir).await {
                // The rows are gone; leftover bytes are unreachable and only cost space.
                tracing::warn!(video = %id, dir, error = %e, "could not remove stored bytes");
            }
            if !dir.starts_with("sources/") {
                self.delivery.origins().remove(&dir).await;
            }
        }
        self.lifecycle.announce(changes).await;
        Ok(())
    }
}
