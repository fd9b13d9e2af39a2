//! Queries on downloadable files: the definitions a video (or an app's new videos) should
//! have as downloads, and the files made.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{app_download_defaults, download_requests, downloads};
use crate::model::{AppId, VideoId};

/// One made file (`downloads`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = downloads, check_for_backend(diesel::pg::Pg))]
pub struct Download {
    pub video_id: VideoId,
    /// A rung name, or `AUDIO`.
    pub definition: String,
    pub generation: String,
    pub storage_key: String,
    pub file_size: i64,
    pub created_at: DateTime<Utc>,
}

/// The definitions asked for `video` (none: no row).
pub async fn requested(
    conn: &mut AsyncPgConnection,
    video: VideoId,
) -> QueryResult<Option<Vec<String>>> {
    download_requests::table
        .find(video)
        .select(download_requests::definitions)
        .first(conn)
        .await
        .optional()
}

/// Sets the definitions asked for `video` (empty: none).
pub async fn set_requested(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    definitions: &[String],
) -> QueryResult<()> {
    if definitions.is_empty() {
        diesel::delete(download_requests::table.find(video))
            .execute(conn)
            .await?;
        return Ok(());
    }
    diesel::insert_into(download_requests::table)
        .values((
            download_requests::video_id.eq(video),
            download_requests::definitions.eq(definitions),
        ))
        .on_conflict(download_requests::video_id)
        .do_update()
        .set((
            download_requests::definitions.eq(excluded(download_requests::definitions)),
            download_requests::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The files made for `video`, by definition.
pub async fn of_video(conn: &mut AsyncPgConnection, video: VideoId) -> QueryResult<Vec<Download>> {
    downloads::table
        .filter(downloads::video_id.eq(video))
        .order(downloads::definition.asc())
        .select(Download::as_select())
        .load(conn)
        .await
}

/// The files made for each of `videos` (the GraphQL loader's batch).
pub async fn of_videos(
    conn: &mut AsyncPgConnection,
    videos: &[VideoId],
) -> QueryResult<Vec<Download>> {
    downloads::table
        .filter(downloads::video_id.eq_any(videos))
        .order((downloads::video_id.asc(), downloads::definition.asc()))
        .select(Download::as_select())
        .load(conn)
        .await
}

/// Records a made file, replacing the one of an older generation.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    definition: &str,
    generation: &str,
    storage_key: &str,
    file_size: i64,
) -> QueryResult<()> {
    diesel::insert_into(downloads::table)
        .values((
            downloads::video_id.eq(video),
            downloads::definition.eq(definition),
            downloads::generation.eq(generation),
            downloads::storage_key.eq(storage_key),
            downloads::file_size.eq(file_size),
        ))
        .on_conflict((downloads::video_id, downloads::definition))
        .do_update()
        .set((
            downloads::generation.eq(excluded(downloads::generation)),
            downloads::storage_key.eq(excluded(downloads::storage_key)),
            downloads::file_size.eq(excluded(downloads::file_size)),
            downloads::created_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the files of `video` not in `keep` (no longer asked, or of another generation).
pub async fn delete_except(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    keep: &[String],
) -> QueryResult<usize> {
    diesel::delete(
        downloads::table
            .filter(downloads::video_id.eq(video))
            .filter(downloads::definition.ne_all(keep)),
    )
    .execute(conn)
    .await
}

/// What every new video of `app` asks for.
pub async fn app_default(conn: &mut AsyncPgConnection, app: AppId) -> QueryResult<Vec<String>> {
    Ok(app_download_defaults::table
        .find(app)
        .select(app_download_defaults::definitions)
        .first(conn)
        .await
        .optional()?
        .unwrap_or_default())
}

/// Sets what every new video of `app` asks for (empty: nothing).
pub async fn set_app_default(
    conn: &mut AsyncPgConnection,
    app: AppId,
    definitions: &[String],
) -> QueryResult<()> {
    diesel::delete(app_download_defaults::table.find(app))
        .execute(conn)
        .await?;
    if !definitions.is_empty() {
        diesel::insert_into(app_download_defaults::table)
            .values((
                app_download_defaults::app_id.eq(app),
                app_download_defaults::definitions.eq(definitions),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}
