//! Reading, listing and deleting an app's videos; shared by every adapter.

use chrono::Utc;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use opendal::Operator;

use super::{Snapshot, Video, VideoError, VideoStatus, uri};
use std::sync::Arc;

use crate::config::Config;
use crate::db::jobs::NewJob;
use crate::db::videos::VideoChange;
use crate::db::{self, DbPool, models::NewVideo};
use crate::delivery::{Delivery, PlayUrl};
use crate::events::{EventBus, VideoEvent};
use crate::ids::{AppId, VideoId};
use crate::jobs::JobSignal;
use crate::storage::layout;

/// One page of a listing.
pub struct Page {
    pub videos: Vec<Video>,
    pub has_next: bool,
}

#[derive(Clone)]
pub struct VideoService {
    db: DbPool,
    storage: Operator,
    delivery: Delivery,
    events: EventBus,
    jobs: JobSignal,
    config: Arc<Config>,
}

impl VideoService {
    pub fn new(
        db: DbPool,
        storage: Operator,
        delivery: Delivery,
        events: EventBus,
        jobs: JobSignal,
        config: Arc<Config>,
    ) -> Self {
        Self {
            db,
            storage,
            delivery,
            events,
            jobs,
            config,
        }
    }

    /// A new video of `app` from a file already in storage (`src`, a storage URI),
    /// queued for transcoding; `dst` (a storage URI prefix) chooses where the outputs go.
    pub async fn transcode_uri(
        &self,
        app: AppId,
        src: &str,
        dst: Option<&str>,
        priority: Option<i32>,
    ) -> Result<Video, VideoError> {
        let dst = dst
            .map(|d| uri::storage_prefix(d, &self.config.storage))
            .transpose()?;
        let key = match uri::source(src, &self.config.storage)? {
            uri::Source::Stored(key) => key,
            uri::Source::Remote(url) => return self.import(app, &url, dst, priority).await,
        };
        // Outputs another app had written to its `dst` are its own: looked at as missing.
        let mut conn = self.db.get().await?;
        if db::videos::owned_by_other_app(&mut conn, app, &key).await? {
            return Err(VideoError::BadRequest(format!("{src} does not exist")));
        }
        drop(conn);
        let size = match self.storage.stat(&key).await {
            Ok(meta) if meta.is_file() => meta.content_length(),
            Ok(_) => return Err(VideoError::BadRequest(format!("{src} is not a file"))),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                return Err(VideoError::BadRequest(format!("{src} does not exist")));
            }
            Err(e) => return Err(VideoError::Infra(e.into())),
        };
        let name = key.rsplit('/').next().unwrap_or(&key).to_string();
        let mut new = NewVideo::source(app, VideoStatus::Uploaded, name);
        new.storage_uri = key;
        new.file_size = size as i64;
        new.task_priority = priority.unwrap_or(0);
        let mut conn = self.db.get().await?;
        let queued = conn
            .transaction::<_, VideoError, _>(async |conn| {
                let video = db::videos::insert(conn, &new).await?;
                self.queue(conn, &video, priority, dst.as_deref()).await
            })
            .await?;
        drop(conn);
        self.announce(&queued).await;
        Ok(queued)
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
        let mut conn = self.db.get().await?;
        let video = conn
            .transaction::<_, VideoError, _>(async |conn| {
                let video = db::videos::insert(conn, &new).await?;
                db::jobs::enqueue(
                    conn,
                    NewJob {
                        kind: db::jobs::IMPORT,
                        app_id: Some(app),
                        video_id: Some(video.id),
                        payload: serde_json::json!({ "url": url, "dst": dst, "priority": priority }),
                        run_at: None,
                        priority: new.task_priority,
                    },
                )
                .await?;
                Ok(video)
            })
            .await?;
        drop(conn);
        self.announce(&video).await;
        Ok(video)
    }

    /// Enqueues the transcode job and moves the video to `TRANSCODE_QUEUED`.
    async fn queue(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        video: &Video,
        priority: Option<i32>,
        dst: Option<&str>,
    ) -> Result<Video, VideoError> {
        let priority = priority.unwrap_or(video.task_priority);
        db::jobs::enqueue(
            conn,
            NewJob {
                kind: db::jobs::TRANSCODE,
                app_id: Some(video.app_id),
                video_id: Some(video.id),
                payload: serde_json::json!({ "dst": dst }),
                priority,
                run_at: None,
            },
        )
        .await?;
        let change = VideoChange {
            task_priority: Some(priority),
            progress: Some(0),
            error: Some(None),
            ..VideoChange::default()
        };
        db::videos::transition(conn, video.id, VideoStatus::TranscodeQueued, change)
            .await?
            .ok_or_else(|| VideoError::Conflict("the video changed meanwhile; try again".into()))
    }

    /// The signed URL of a stored output (snapshot, sprite, WebVTT); adapters hand these
    /// out instead of building them from storage keys.
    pub fn media_url(&self, key: &str) -> String {
        self.delivery.file_url(key).unwrap_or_default()
    }

    /// Signed play URLs of a source of `app` through the chosen CDN (DESIGN §11).
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

    /// Wakes the workers and tells subscribers about `video`.
    async fn announce(&self, video: &Video) {
        self.jobs.notify().await;
        if let Err(e) = self.events.publish(&VideoEvent::snapshot(video)).await {
            tracing::warn!(video = %video.id, error = %e, "event not published");
        }
    }

    /// Queues a (re)transcode of a source of `app`: from `UPLOADED`, `TRANSCODED`,
    /// `TRANSCODE_FAILED` or `PLAYABLE` (whose renditions keep playing until the new ones
    /// replace them). Anything else, or a transcode already queued, is a `Conflict`.
    pub async fn transcode(
        &self,
        app: AppId,
        id: VideoId,
        priority: Option<i32>,
    ) -> Result<Video, VideoError> {
        let mut conn = self.db.get().await?;
        let queued = conn
            .transaction::<_, VideoError, _>(async |conn| {
                let video = db::videos::find(conn, app, id)
                    .await?
                    .ok_or(VideoError::NotFound)?;
                if video.parent_id.is_some() {
                    return Err(VideoError::Conflict(
                        "renditions are not transcoded; transcode their source".into(),
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
                self.queue(conn, &video, priority, None).await
            })
            .await?;
        drop(conn);
        self.announce(&queued).await;
        Ok(queued)
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
        Ok(db::videos::renditions(&mut conn, source.id).await?)
    }

    pub async fn snapshots(&self, video: &Video) -> Result<Vec<Snapshot>, VideoError> {
        let mut conn = self.db.get().await?;
        Ok(db::videos::snapshots(&mut conn, video.id).await?)
    }

    /// Records a video row as given (uploads create videos through this).
    pub async fn insert(&self, new: &NewVideo) -> Result<Video, VideoError> {
        let mut conn = self.db.get().await?;
        Ok(db::videos::insert(&mut conn, new).await?)
    }

    /// Deletes a video of `app`: rows (renditions and snapshots cascade), then the stored
    /// bytes, keeping the source bytes while another video shares them.
    pub async fn delete(&self, app: AppId, id: VideoId) -> Result<(), VideoError> {
        let mut conn = self.db.get().await?;
        let (deleted, orphaned) = conn
            .transaction::<_, VideoError, _>(async |conn| {
                let Some(video) = db::videos::find(conn, app, id).await? else {
                    return Err(VideoError::NotFound);
                };
                let owner = video.unique_id.unwrap_or(video.id);
                // Serialises with instant uploads that would start sharing `owner`'s bytes.
                diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                    .bind::<BigInt, _>(owner.0)
                    .execute(conn)
                    .await?;
                let deleted = db::videos::delete(conn, app, id).await?;
                if let Some(source) = <[Video]>::first(&deleted) {
                    db::webhooks::record_event(conn, source, crate::webhook::DELETED).await?;
                }
                let orphaned = db::videos::count_sharing(conn, owner).await? == 0;
                Ok((deleted, orphaned.then_some(owner)))
            })
            .await?;
        drop(conn);

        let mut dirs = vec![layout::output_dir(id)];
        dirs.extend(orphaned.map(layout::source_dir));
        // Outputs written to a client-chosen `dst` live outside `videos/{id}/`.
        // (Spelled out: diesel's `RunQueryDsl::first` would shadow the slice method.)
        let first = <[Video]>::first(&deleted);
        if let Some(generation) = first
            .and_then(|v| v.playlist_uri.as_deref())
            .and_then(|p| p.strip_suffix("master.m3u8"))
        {
            dirs.push(generation.to_string());
        }
        for dir in dirs {
            if let Err(e) = self.storage.delete_with(&dir).recursive(true).await {
                // The rows are gone; leftover bytes are unreachable and only cost space.
                tracing::warn!(video = %id, dir, error = %e, "could not remove stored bytes");
            }
            if !dir.starts_with("sources/") {
                self.delivery.origins().remove(&dir).await;
            }
        }
        if let Some(video) = first {
            let mut event = VideoEvent::snapshot(video);
            event.deleted = true;
            event.at = Utc::now();
            if let Err(e) = self.events.publish(&event).await {
                tracing::warn!(video = %id, error = %e, "could not publish deletion");
            }
        }
        Ok(())
    }
}
