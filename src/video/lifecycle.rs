//! The one place a video changes state (docs/architecture.md, "Lifecycle"). Each change
//! is checked against the status machine and, in the caller's transaction, records the
//! webhook event it announces and queues the jobs that follow from it; once that
//! transaction commits, `Lifecycle::announce` tells live subscribers and wakes workers.
//!
//! Use: `Lifecycle::commit` runs a transaction with a `Changes` to collect into and
//! announces them after the commit:
//! ```ignore
//! lifecycle
//!     .commit(|conn, changes| {
//!         async move { lifecycle::transition(conn, changes, id, to, change).await }.scope_boxed()
//!     })
//!     .await?;
//! ```

use chrono::Utc;
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use scoped_futures::ScopedBoxFuture;

use super::work::{Hash, Transcode};
use crate::db::{self, DbPool, PoolError, models::NewVideo, models::Video, videos::VideoChange};
use crate::events::{EventBus, VideoEvent};
use crate::model::{AppId, Definition, JobId, VideoId, VideoStatus};
use crate::queue::{self, JobSignal, NewJob};
use crate::webhook;

/// What one transaction changed: announced once it commits, dropped if it rolls back.
#[must_use = "announce the changes once the transaction commits (Lifecycle::announce)"]
#[derive(Debug, Default)]
pub struct Changes {
    events: Vec<VideoEvent>,
    /// Jobs were queued: wake the workers.
    queued: bool,
}

impl Changes {
    fn changed(&mut self, video: &Video) {
        self.events.push(VideoEvent::snapshot(video));
    }
}

/// Where an uploaded (or fetched) source's bytes are.
#[derive(Debug, Clone)]
pub struct Stored {
    pub key: String,
    pub size: i64,
    /// `None` when it is computed later (`upload.md5 = "deferred"`).
    pub md5: Option<String>,
}

/// A transcode to queue.
#[derive(Debug, Clone, Default)]
pub struct TranscodeRequest {
    /// `None`: the video's own priority.
    pub priority: Option<i32>,
    /// Where the outputs go (a validated prefix); `None`: the video's output directory.
    pub dst: Option<String>,
}

/// What follows an upload.
#[derive(Debug, Clone, Default)]
pub struct AfterUpload {
    /// Transcode at once (`autoTranscode`).
    pub transcode: Option<TranscodeRequest>,
    /// Compute the md5 first (it was not computed while the bytes arrived).
    pub hash: bool,
}

/// A deleted video's rows, for removing its stored bytes.
#[derive(Debug)]
pub struct Deleted {
    /// The video first, then its renditions.
    pub rows: Vec<Video>,
    /// The owner of source bytes no video uses any more.
    pub orphaned_source: Option<VideoId>,
}

/// Inserts a video (an upload starting, or a rendition).
pub async fn insert(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    new: &NewVideo,
) -> QueryResult<Video> {
    let mut new = new.clone();
    // The app's setting encrypts every video it makes, however it arrives.
    if !new.encrypt && new.parent_id.is_none() {
        new.encrypt = db::apps::find(conn, new.app_id)
            .await?
            .is_some_and(|a| a.encrypt_uploads);
    }
    let video = db::videos::insert(conn, &new).await?;
    if new.parent_id.is_none() {
        let downloads = db::downloads::app_default(conn, new.app_id).await?;
        db::downloads::set_requested(conn, video.id, &downloads).await?;
    }
    announced(conn, changes, &video).await?;
    Ok(video)
}

/// The downloads an upload asked for, replacing its app's default (`None`: the default).
pub async fn ask_downloads(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    asked: Option<&[String]>,
) -> QueryResult<()> {
    match asked {
        Some(asked) => db::downloads::set_requested(conn, video, asked).await,
        None => Ok(()),
    }
}

/// Moves a video to `to` if the status machine allows it from where it is; `None` when
/// the video is gone or cannot move there.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    id: VideoId,
    to: VideoStatus,
    change: VideoChange,
) -> QueryResult<Option<Video>> {
    let moved = db::videos::transition(conn, id, to, change).await?;
    if let Some(video) = &moved {
        announced(conn, changes, video).await?;
    }
    Ok(moved)
}

/// A new status: its webhook event (sources only) and its live event.
pub(super) async fn announced(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    video: &Video,
) -> QueryResult<()> {
    if let Some(event) = webhook::event_for(video) {
        changes.queued |= webhook::outbox::record(conn, video, event).await?;
    }
    changes.changed(video);
    Ok(())
}

/// Progress of a running transcode (live event only); `None` when no longer transcoding.
pub async fn progress(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    id: VideoId,
    percent: i16,
) -> QueryResult<Option<Video>> {
    let video = db::videos::set_progress(conn, id, percent).await?;
    if let Some(v) = &video {
        changes.changed(v);
    }
    Ok(video)
}

/// Why a step failed, kept on the video without changing its status (live event only).
pub async fn note_error(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    id: VideoId,
    reason: &str,
) -> QueryResult<Option<Video>> {
    let video = db::videos::set_error(conn, id, reason).await?;
    if let Some(v) = &video {
        changes.changed(v);
    }
    Ok(video)
}

/// One more chunk of the ladder is encoded: the progress, as a live event. `None` when
/// the video is gone.
pub async fn chunk_encoded(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    id: VideoId,
) -> QueryResult<Option<Video>> {
    let video = db::videos::count_chunk(conn, id).await?;
    if let Some(v) = &video {
        changes.changed(v);
    }
    Ok(video)
}

/// The rest of the ladder joined the first rung (docs/architecture.md, "Chunked
/// ladder"): a live event for each rung added, then `video.ladder_complete`. `None`
/// when that ladder is no longer the video's.
pub async fn ladder_completed(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    id: VideoId,
    master: &str,
    added: &[Definition],
) -> QueryResult<Option<Video>> {
    let Some(video) = db::videos::complete_ladder(conn, id, master).await? else {
        return Ok(None);
    };
    for definition in added {
        let mut event = VideoEvent::snapshot(&video);
        event.rendition_added = Some(*definition);
        changes.events.push(event);
    }
    changes.queued |= webhook::outbox::record(conn, &video, webhook::LADDER_COMPLETE).await?;
    Ok(Some(video))
}

/// Queues a job; workers are woken once the transaction commits.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    job: NewJob,
) -> QueryResult<JobId> {
    changes.queued = true;
    queue::enqueue(conn, job).await
}

/// An upload (or fetch) finished: the video becomes `UPLOADED` with its stored bytes,
/// then what follows is queued (the md5 first, the transcode after it). Returns the
/// video as it ends up; `None` when it was no longer uploading.
pub async fn uploaded(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    id: VideoId,
    stored: Stored,
    after: AfterUpload,
) -> QueryResult<Option<Video>> {
    let change = VideoChange {
        file_size: Some(stored.size),
        hash: Some(stored.md5),
        storage_uri: Some(stored.key),
        ..VideoChange::default()
    };
    let Some(video) = transition(conn, changes, id, VideoStatus::Uploaded, change).await? else {
        return Ok(None);
    };
    let hash = match after.hash {
        // Ahead of everything else queued: instant upload needs the hash.
        true => Some(
            enqueue(
                conn,
                changes,
                NewJob::new(&Hash {})
                    .for_video(&video)
                    .priority(video.task_priority.saturating_add(1)),
            )
            .await?,
        ),
        false => None,
    };
    match after.transcode {
        Some(request) => queue_transcode(conn, changes, &video, request, hash).await,
        None => Ok(Some(video)),
    }
}

/// Queues a transcode of `video` (after `after`, when given) and moves it to
/// `TRANSCODE_QUEUED`; `None` when its state does not allow it.
pub async fn queue_transcode(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    video: &Video,
    request: TranscodeRequest,
    after: Option<JobId>,
) -> QueryResult<Option<Video>> {
    let priority = request.priority.unwrap_or(video.task_priority);
    let job = NewJob::new(&Transcode { dst: request.dst })
        .for_video(video)
        .priority(priority)
        .after(after);
    enqueue(conn, changes, job).await?;
    let change = VideoChange {
        task_priority: Some(priority),
        progress: Some(0),
        error: Some(None),
        ..VideoChange::default()
    };
    transition(
        conn,
        changes,
        video.id,
        VideoStatus::TranscodeQueued,
        change,
    )
    .await
}

/// Deletes a video of `app` with its renditions and snapshots (rows; the caller removes
/// the bytes): `video.deleted` for its webhooks, a last event for subscribers. `None`
/// when there is no such video.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    changes: &mut Changes,
    app: AppId,
    id: VideoId,
) -> QueryResult<Option<Deleted>> {
    let Some(video) = db::videos::find(conn, app, id).await? else {
        return Ok(None);
    };
    let owner = video.unique_id.unwrap_or(video.id);
    // Serialises with instant uploads that would start sharing `owner`'s bytes.
    db::videos::lock_shared_bytes(conn, owner).await?;
    let rows = db::videos::delete(conn, app, id).await?;
    let Some(source) = rows.first() else {
        return Ok(None);
    };
    changes.queued |= webhook::outbox::record(conn, source, webhook::DELETED).await?;
    let mut event = VideoEvent::snapshot(source);
    event.deleted = true;
    event.at = Utc::now();
    changes.events.push(event);
    let orphaned = db::videos::count_sharing(conn, owner).await? == 0;
    Ok(Some(Deleted {
        rows,
        orphaned_source: orphaned.then_some(owner),
    }))
}

/// Forgets an upload that will never complete (terminated, or its session could not be
/// written): its `UPLOADING` row goes without an event, as no webhook ever heard of it.
pub async fn discard_upload(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: VideoId,
) -> QueryResult<()> {
    if let Some(video) = db::videos::find(conn, app, id).await?
        && video.status == VideoStatus::Uploading
    {
        db::videos::delete(conn, app, id).await?;
    }
    Ok(())
}

/// Runs transactions of lifecycle changes and announces them once committed: live events
/// to every node, a wake-up to workers.
#[derive(Clone)]
pub struct Lifecycle {
    db: DbPool,
    events: EventBus,
    signal: JobSignal,
}

impl Lifecycle {
    pub fn new(db: DbPool, events: EventBus, signal: JobSignal) -> Self {
        Self { db, events, signal }
    }

    /// Runs `work` in one transaction; once it commits, announces what it changed.
    pub async fn commit<'a, T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(
                &'c mut AsyncPgConnection,
                &'c mut Changes,
            ) -> ScopedBoxFuture<'a, 'c, Result<T, E>>
            + Send
            + 'a,
        T: Send + 'a,
        E: From<diesel::result::Error> + From<PoolError> + Send + 'a,
    {
        let mut changes = Changes::default();
        let mut conn = self.db.get().await?;
        let out = conn
            .transaction::<_, E, _>(async |conn| work(conn, &mut changes).await)
            .await?;
        drop(conn);
        self.announce(changes).await;
        Ok(out)
    }

    /// Announces changes committed by the caller's own transaction.
    pub async fn announce(&self, changes: Changes) {
        if changes.queued {
            self.signal.notify().await;
        }
        for event in &changes.events {
            if let Err(e) = self.events.publish(event).await {
                tracing::warn!(video = %event.video_id, error = %e, "event not published");
            }
        }
    }
}
