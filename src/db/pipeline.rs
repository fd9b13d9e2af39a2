//! Queries of the media pipeline (workers act for no app, so these are not app-scoped).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::VideoRow;
use super::schema::{video_snapshots, videos};
use crate::ids::VideoId;
use crate::media::MediaInfo;
use crate::video::VideoStatus;

pub async fn find_any(conn: &mut AsyncPgConnection, id: VideoId) -> QueryResult<Option<VideoRow>> {
    videos::table
        .find(id)
        .select(VideoRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The video, locked until the transaction ends.
pub async fn find_any_for_update(
    conn: &mut AsyncPgConnection,
    id: VideoId,
) -> QueryResult<Option<VideoRow>> {
    videos::table
        .find(id)
        .for_update()
        .select(VideoRow::as_select())
        .first(conn)
        .await
        .optional()
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

/// Progress of a running transcode; `None` when the video is no longer transcoding.
pub async fn set_progress(
    conn: &mut AsyncPgConnection,
    id: VideoId,
    progress: i16,
) -> QueryResult<Option<VideoRow>> {
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
    .returning(VideoRow::as_returning())
    .get_result(conn)
    .await
    .optional()
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

/// `(image_index, storage_uri, width, height, bytes)` per snapshot.
pub async fn insert_snapshots(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    snapshots: &[(i32, String, i32, i32, i64)],
) -> QueryResult<()> {
    let rows: Vec<_> = snapshots
        .iter()
        .map(|(index, key, w, h, bytes)| {
            (
                video_snapshots::video_id.eq(video),
                video_snapshots::image_index.eq(*index),
                video_snapshots::storage_uri.eq(key.clone()),
                video_snapshots::width.eq(Some(*w)),
                video_snapshots::height.eq(Some(*h)),
                video_snapshots::file_size.eq(*bytes),
            )
        })
        .collect();
    diesel::insert_into(video_snapshots::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

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

/// The reason a step failed, kept on the video without changing its status.
pub async fn set_error(conn: &mut AsyncPgConnection, id: VideoId, error: &str) -> QueryResult<()> {
    diesel::update(videos::table.find(id))
        .set((
            videos::error.eq(Some(error)),
            videos::update_time.eq(diesel::dsl::now),
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
