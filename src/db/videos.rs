//! Queries on `videos` and `video_snapshots`. Every lookup a client can reach is scoped by app.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::models::{NewVideo, SnapshotRow, VideoRow};
use super::schema::{video_snapshots, videos};
use crate::ids::{AppId, VideoId};
use crate::video::VideoStatus;

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewVideo) -> QueryResult<VideoRow> {
    conn.transaction(async |conn| {
        let video: VideoRow = diesel::insert_into(videos::table)
            .values(new)
            .returning(VideoRow::as_returning())
            .get_result(conn)
            .await?;
        announce(conn, &video).await?;
        Ok(video)
    })
    .await
}

/// Records the webhook event of a source's new status, if it has one (DESIGN §12).
async fn announce(conn: &mut AsyncPgConnection, video: &VideoRow) -> QueryResult<()> {
    match crate::webhook::event_for(video) {
        Some(event) => super::webhooks::record_event(conn, video, event).await,
        None => Ok(()),
    }
}

/// A video of `app`, source or rendition.
pub async fn find(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: VideoId,
) -> QueryResult<Option<VideoRow>> {
    videos::table
        .filter(videos::id.eq(id).and(videos::app_id.eq(app)))
        .select(VideoRow::as_select())
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
) -> QueryResult<Vec<VideoRow>> {
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
        .select(VideoRow::as_select())
        .load(conn)
        .await
}

/// Renditions of a source, smallest first.
pub async fn renditions(
    conn: &mut AsyncPgConnection,
    parent: VideoId,
) -> QueryResult<Vec<VideoRow>> {
    videos::table
        .filter(videos::parent_id.eq(parent))
        .order((videos::video_height.asc(), videos::id.asc()))
        .select(VideoRow::as_select())
        .load(conn)
        .await
}

pub async fn snapshots(
    conn: &mut AsyncPgConnection,
    video: VideoId,
) -> QueryResult<Vec<SnapshotRow>> {
    video_snapshots::table
        .filter(video_snapshots::video_id.eq(video))
        .order(video_snapshots::image_index.asc())
        .select(SnapshotRow::as_select())
        .load(conn)
        .await
}

/// Deletes a video of `app` with its renditions and snapshots (cascade); returns the
/// deleted rows (the video first) so their stored bytes can be removed.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: VideoId,
) -> QueryResult<Vec<VideoRow>> {
    let parent_filter = videos::parent_id.eq(id);
    let doomed: Vec<VideoRow> = videos::table
        .filter(videos::app_id.eq(app))
        .filter(videos::id.eq(id).or(parent_filter))
        .order(videos::id.asc())
        .for_update()
        .select(VideoRow::as_select())
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

/// How many videos still use the stored bytes of `owner` (itself included when alive).
pub async fn count_sharing(conn: &mut AsyncPgConnection, owner: VideoId) -> QueryResult<i64> {
    videos::table
        .filter(videos::id.eq(owner).or(videos::unique_id.eq(owner)))
        .count()
        .get_result(conn)
        .await
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
}

/// Moves a video to `to` when DESIGN §4 allows it from its current state; `None`
/// when the video is missing or in a state that cannot move there.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    to: VideoStatus,
    change: VideoChange,
) -> QueryResult<Option<VideoRow>> {
    conn.transaction(async |conn| {
        let moved: Option<VideoRow> = diesel::update(
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
        .returning(VideoRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
        if let Some(video) = &moved {
            announce(conn, video).await?;
        }
        Ok(moved)
    })
    .await
}

/// A stored source of `app` with these bytes, fit to share (instant upload).
pub async fn find_by_content(
    conn: &mut AsyncPgConnection,
    app: AppId,
    md5: &str,
    size: i64,
) -> QueryResult<Option<VideoRow>> {
    videos::table
        .filter(videos::app_id.eq(app))
        .filter(videos::parent_id.is_null())
        .filter(videos::hash.eq(md5))
        .filter(videos::file_size.eq(size))
        .filter(videos::status.ne_all([VideoStatus::Uploading, VideoStatus::UploadFailed]))
        .order(videos::id.asc())
        .select(VideoRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Whether `key` is a stored file of another app's video: its source, or anything under
/// one of its output generations.
pub async fn owned_by_other_app(
    conn: &mut AsyncPgConnection,
    app: AppId,
    key: &str,
) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let row: Found = diesel::sql_query(
        "SELECT EXISTS (
             SELECT 1 FROM videos
             WHERE app_id <> $1
               AND (storage_uri = $2
                    OR (playlist_uri LIKE '%master.m3u8'
                        AND starts_with($2, left(playlist_uri, length(playlist_uri) - 11)))
                    OR (published_uri LIKE '%master.m3u8'
                        AND starts_with($2, left(published_uri, length(published_uri) - 11))))
         ) AS found",
    )
    .bind::<diesel::sql_types::BigInt, _>(app)
    .bind::<diesel::sql_types::Text, _>(key)
    .get_result(conn)
    .await?;
    Ok(row.found)
}

/// Bytes `app` stores: sources (shared bytes counted once) and renditions, not counting
/// uploads still in progress or failed.
pub async fn stored_bytes(conn: &mut AsyncPgConnection, app: AppId) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        bytes: i64,
    }
    let row: Total = diesel::sql_query(
        "SELECT COALESCE(SUM(file_size), 0)::bigint AS bytes FROM videos
         WHERE app_id = $1 AND unique_id IS NULL
           AND status NOT IN ('UPLOADING', 'UPLOAD_FAILED')",
    )
    .bind::<diesel::sql_types::BigInt, _>(app)
    .get_result(conn)
    .await?;
    Ok(row.bytes)
}

/// Ids of sources still `UPLOADING` that were created before `before`: past their
/// session's lifetime, their session is gone (e.g. Redis lost its data).
pub async fn uploading_since_before(
    conn: &mut AsyncPgConnection,
    before: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> QueryResult<Vec<VideoId>> {
    videos::table
        .filter(videos::status.eq(VideoStatus::Uploading))
        .filter(videos::parent_id.is_null())
        .filter(videos::create_time.lt(before))
        .order(videos::id.asc())
        .limit(limit)
        .select(videos::id)
        .load(conn)
        .await
}

/// Videos (of every app) changed at or after `since`, oldest change first: what live
/// subscribers may have missed while the event channel was down.
pub async fn changed_since(
    conn: &mut AsyncPgConnection,
    since: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> QueryResult<Vec<VideoRow>> {
    videos::table
        .filter(videos::update_time.ge(since))
        .order(videos::update_time.asc())
        .limit(limit)
        .select(VideoRow::as_select())
        .load(conn)
        .await
}

/// Videos whose upload has not finished, across every node.
pub async fn count_uploading(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    videos::table
        .filter(videos::status.eq(VideoStatus::Uploading))
        .count()
        .get_result(conn)
        .await
}
