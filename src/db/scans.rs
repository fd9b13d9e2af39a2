//! Queries over many videos of every app: quotas, the upload sweep, the event replay and
//! the gauges.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::Video;
use super::schema::videos;
use crate::model::{AppId, VideoId, VideoStatus};

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
    before: DateTime<Utc>,
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

/// Videos changed at or after `since` (of `app`, or of every app), oldest change first:
/// what live subscribers missed while the event channel was down, or while they lagged.
pub async fn changed_since(
    conn: &mut AsyncPgConnection,
    app: Option<AppId>,
    since: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let mut query = videos::table
        .filter(videos::update_time.ge(since))
        .order(videos::update_time.asc())
        .limit(limit)
        .select(Video::as_select())
        .into_boxed();
    if let Some(app) = app {
        query = query.filter(videos::app_id.eq(app));
    }
    query.load(conn).await
}

/// Videos whose upload has not finished, across every node.
pub async fn count_uploading(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    videos::table
        .filter(videos::status.eq(VideoStatus::Uploading))
        .count()
        .get_result(conn)
        .await
}
