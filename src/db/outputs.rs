//! Queries on what a transcode produced: renditions (`videos` rows with a parent),
//! snapshots, and the generation keys a source points at.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{NewSnapshot, Snapshot, Video};
use super::schema::{video_snapshots, videos};
use crate::model::{AppId, VideoId, layout};

/// Renditions of a source, smallest first.
pub async fn renditions(conn: &mut AsyncPgConnection, parent: VideoId) -> QueryResult<Vec<Video>> {
    videos::table
        .filter(videos::parent_id.eq(parent))
        .order((videos::video_height.asc(), videos::id.asc()))
        .select(Video::as_select())
        .load(conn)
        .await
}

pub async fn snapshots(conn: &mut AsyncPgConnection, video: VideoId) -> QueryResult<Vec<Snapshot>> {
    video_snapshots::table
        .filter(video_snapshots::video_id.eq(video))
        .order(video_snapshots::image_index.asc())
        .select(Snapshot::as_select())
        .load(conn)
        .await
}

/// Drops a source's renditions and snapshots (rows only).
pub async fn delete_outputs(conn: &mut AsyncPgConnection, source: VideoId) -> QueryResult<()> {
    diesel::delete(videos::table.filter(videos::parent_id.eq(source)))
        .execute(conn)
        .await?;
    diesel::delete(video_snapshots::table.filter(video_snapshots::video_id.eq(source)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_snapshots(
    conn: &mut AsyncPgConnection,
    snapshots: &[NewSnapshot],
) -> QueryResult<()> {
    diesel::insert_into(video_snapshots::table)
        .values(snapshots)
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a source's current generation keeps its master playlist, sprite and WebVTT.
pub async fn set_outputs(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    playlist: &str,
    sprite: &str,
    thumbnails: &str,
) -> QueryResult<()> {
    diesel::update(videos::table.find(id))
        .set((
            videos::playlist_uri.eq(playlist),
            videos::sprite_uri.eq(sprite),
            videos::thumbnails_uri.eq(thumbnails),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that every origin holds `master` (and what it holds).
pub async fn set_published(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    master: &str,
) -> QueryResult<()> {
    diesel::update(videos::table.find(id))
        .set(videos::published_uri.eq(Some(master)))
        .execute(conn)
        .await?;
    Ok(())
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
    // A generation is its master playlist's key without the file name.
    let row: Found = diesel::sql_query(
        "SELECT EXISTS (
             SELECT 1 FROM videos
             WHERE app_id <> $1
               AND (storage_uri = $2
                    OR (playlist_uri LIKE '%' || $3
                        AND starts_with($2, left(playlist_uri, length(playlist_uri) - length($3))))
                    OR (published_uri LIKE '%' || $3
                        AND starts_with($2, left(published_uri, length(published_uri) - length($3)))))
         ) AS found",
    )
    .bind::<diesel::sql_types::BigInt, _>(app)
    .bind::<diesel::sql_types::Text, _>(key)
    .bind::<diesel::sql_types::Text, _>(layout::MASTER)
    .get_result(conn)
    .await?;
    Ok(row.found)
}
