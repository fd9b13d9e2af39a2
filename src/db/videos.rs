//! Queries on `videos`: one video at a time. Every lookup a client can reach is scoped by
//! app; the `*_any` ones are for workers, which act for no app. State changes go through
//! `video::lifecycle`, which adds the webhook outbox and the events.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{NewVideo, Video};
use super::schema::videos;
use crate::model::{AppId, MediaInfo, VideoId, VideoStatus};

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewVideo) -> QueryResult<Video> {
    diesel::insert_into(videos::table)
        .values(new)
        .returning(Video::as_returning())
        .get_result(conn)
        .await
}

/// A video of `app`, source or rendition.
pub async fn find(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: VideoId,
) -> QueryResult<Option<Video>> {
    videos::table
        .filter(videos::id.eq(id).and(videos::app_id.eq(app)))
        .select(Video::as_select())
        .first(conn)
        .await
        .optional()
}

/// A video of any app.
pub async fn find_any(conn: &mut AsyncPgConnection, id: VideoId) -> QueryResult<Option<Video>> {
    videos::table
        .find(id)
        .select(Video::as_select())
        .first(conn)
        .await
        .optional()
}

/// A video of any app, locked until the transaction ends.
pub async fn find_any_for_update(
    conn: &mut AsyncPgConnection,
    id: VideoId,
) -> QueryResult<Option<Video>> {
    videos::table
        .find(id)
        .for_update()
        .select(Video::as_select())
        .first(conn)
        .await
        .optional()
}

/// One page of `app`'s source videos, newest first, strictly older than `before`.
pub async fn list_sources(
    conn: &mut AsyncPgConnection,
    app: AppId,
    status: Option<VideoStatus>,
    before: Option<VideoId>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let mut query = videos::table
        .filter(videos::app_id.eq(app).and(videos::parent_id.is_null()))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(videos::status.eq(status));
    }
    if let Some(before) = before {
        query = query.filter(videos::id.lt(before));
    }
    query
        .order(videos::id.desc())
        .limit(limit)
        .select(Video::as_select())
        .load(conn)
        .await
}

/// Deletes a video of `app` with its renditions and snapshots (cascade); returns the
/// deleted rows (the video first) so their stored bytes can be removed.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: VideoId,
) -> QueryResult<Vec<Video>> {
    let parent_filter = videos::parent_id.eq(id);
    let doomed: Vec<Video> = videos::table
        .filter(videos::app_id.eq(app))
        .filter(videos::id.eq(id).or(parent_filter))
        .order(videos::id.asc())
        .for_update()
        .select(Video::as_select())
        .load(conn)
        .await?;
    if !doomed.iter().any(|v| v.id == id) {
        return Ok(Vec::new());
    }
    diesel::delete(videos::table.filter(videos::id.eq(id).and(videos::app_id.eq(app))))
        .execute(conn)
        .await?;
    let (mut first, rest): (Vec<_>, Vec<_>) = doomed.into_iter().partition(|v| v.id == id);
    first.extend(rest);
    Ok(first)
}

/// Serialises, until the transaction ends, everything that starts or stops sharing the
/// stored bytes of `owner` (instant uploads and deletions).
pub async fn lock_shared_bytes(conn: &mut AsyncPgConnection, owner: VideoId) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(owner.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many videos still use the stored bytes of `owner` (itself included when alive).
pub async fn count_sharing(conn: &mut AsyncPgConnection, owner: VideoId) -> QueryResult<i64> {
    videos::table
        .filter(videos::id.eq(owner).or(videos::unique_id.eq(owner)))
        .count()
        .get_result(conn)
        .await
}

/// A stored source of `app` with these bytes, fit to share (instant upload).
pub async fn find_by_content(
    conn: &mut AsyncPgConnection,
    app: AppId,
    md5: &str,
    size: i64,
) -> QueryResult<Option<Video>> {
    videos::table
        .filter(videos::app_id.eq(app))
        .filter(videos::parent_id.is_null())
        .filter(videos::hash.eq(md5))
        .filter(videos::file_size.eq(size))
        .filter(videos::status.ne_all([VideoStatus::Uploading, VideoStatus::UploadFailed]))
        .order(videos::id.asc())
        .select(Video::as_select())
        .first(conn)
        .await
        .optional()
}

/// Column changes that ride along with a status change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = videos)]
pub struct VideoChange {
    pub file_size: Option<i64>,
    pub hash: Option<Option<String>>,
    pub storage_uri: Option<String>,
    pub unique_id: Option<Option<VideoId>>,
    pub progress: Option<i16>,
    pub error: Option<Option<String>>,
    pub task_priority: Option<i32>,
    pub ladder_complete: Option<bool>,
    pub ladder_chunks: Option<i32>,
    pub ladder_chunks_done: Option<i32>,
}

/// Moves a video to `to` when the status machine allows it from its current state;
/// `None` when the video is missing or in a state that cannot move there.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    to: VideoStatus,
    change: VideoChange,
) -> QueryResult<Option<Video>> {
    diesel::update(
        videos::table.filter(
            videos::id
                .eq(id)
                .and(videos::status.eq_any(VideoStatus::predecessors(to))),
        ),
    )
    .set((
        videos::status.eq(to),
        videos::update_time.eq(diesel::dsl::now),
        change,
    ))
    .returning(Video::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Progress of a running transcode; `None` when the video is no longer transcoding.
pub async fn set_progress(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    progress: i16,
) -> QueryResult<Option<Video>> {
    diesel::update(
        videos::table.filter(
            videos::id
                .eq(id)
                .and(videos::status.eq(VideoStatus::Transcoding))
                .and(videos::progress.lt(progress)),
        ),
    )
    .set((
        videos::progress.eq(progress),
        videos::update_time.eq(diesel::dsl::now),
    ))
    .returning(Video::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// A chunked ladder of `chunks` chunks starts (its chunks may be encoded before the
/// early rung is published).
pub async fn start_ladder(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    chunks: i32,
) -> QueryResult<()> {
    diesel::update(videos::table.find(id))
        .set((
            videos::ladder_chunks.eq(chunks),
            videos::ladder_chunks_done.eq(0),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// One more chunk of the ladder is encoded. Once the early rung is published the
/// progress follows the chunks (before, it is the early pass's own). `None` when the
/// video is gone.
pub async fn count_chunk(conn: &mut AsyncPgConnection, id: VideoId) -> QueryResult<Option<Video>> {
    let Some(video) = diesel::update(videos::table.find(id).filter(videos::ladder_chunks.gt(0)))
        .set(videos::ladder_chunks_done.eq(videos::ladder_chunks_done + 1))
        .returning(Video::as_returning())
        .get_result(conn)
        .await
        .optional()?
    else {
        return Ok(None);
    };
    if video.ladder_complete || video.status == VideoStatus::Transcoding {
        return Ok(Some(video));
    }
    diesel::update(videos::table.find(id))
        .set((
            videos::progress.eq(ladder_progress(&video)),
            videos::update_time.eq(diesel::dsl::now),
        ))
        .returning(Video::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Percent of a chunked ladder's chunks encoded (100 only once it is complete).
pub fn ladder_progress(video: &Video) -> i16 {
    let (done, total) = (video.ladder_chunks_done, video.ladder_chunks.max(1));
    (done.min(total) * 99 / total) as i16
}

/// The ladder whose master playlist is `master` has every rung; `None` when it is no
/// longer the video's or was complete already.
pub async fn complete_ladder(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    master: &str,
) -> QueryResult<Option<Video>> {
    diesel::update(
        videos::table
            .find(id)
            .filter(videos::playlist_uri.eq(master))
            .filter(videos::ladder_complete.eq(false)),
    )
    .set((
        videos::ladder_complete.eq(true),
        videos::progress.eq(100),
        videos::error.eq(None::<String>),
        videos::update_time.eq(diesel::dsl::now),
    ))
    .returning(Video::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// The reason a step failed, kept on the video without changing its status.
pub async fn set_error(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    error: &str,
) -> QueryResult<Option<Video>> {
    diesel::update(videos::table.find(id))
        .set((
            videos::error.eq(Some(error)),
            videos::update_time.eq(diesel::dsl::now),
        ))
        .returning(Video::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The md5 of a source computed after its upload (kept if one is already known).
pub async fn set_hash_if_unknown(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    md5: &str,
) -> QueryResult<()> {
    diesel::update(videos::table.find(id).filter(videos::hash.is_null()))
        .set(videos::hash.eq(md5))
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores what the probe found, with the seed's size and duration columns.
pub async fn record_media_info(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    info: &MediaInfo,
) -> QueryResult<()> {
    let (w, h) = info.display_size().unzip();
    diesel::update(videos::table.find(id))
        .set((
            videos::media_info.eq(serde_json::to_value(info).ok()),
            videos::video_width.eq(w),
            videos::video_height.eq(h),
            videos::duration.eq(info.duration_ms),
            videos::update_time.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
