//! Queries on what a transcode produced: renditions (`videos` rows with a parent),
//! snapshots, and the generation keys a source points at.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{NewSnapshot, Snapshot, Video};
use super::schema::{video_snapshots, videos};
use crate::model::VideoId;

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

/// The renditions of each of `parents` (one query for a page of videos).
pub async fn renditions_of(
    conn: &mut AsyncPgConnection,
    parents: &[VideoId],
) -> QueryResult<Vec<Video>> {
    videos::table
        .filter(videos::parent_id.eq_any(parents))
        .order((videos::video_height.asc(), videos::id.asc()))
        .select(Video::as_select())
        .load(conn)
        .await
}

/// The snapshots of each of `videos` (one query for a page of videos).
pub async fn snapshots_of(
    conn: &mut AsyncPgConnection,
    videos: &[VideoId],
) -> QueryResult<Vec<Snapshot>> {
    video_snapshots::table
        .filter(video_snapshots::video_id.eq_any(videos))
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
            // An audio-only source has neither.
            videos::sprite_uri.eq(Some(sprite).filter(|s| !s.is_empty())),
            videos::thumbnails_uri.eq(Some(thumbnails).filter(|s| !s.is_empty())),
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
