//! Queries on a video's text tracks, its kind as a transcode found it, and its
//! generations of outputs (AES-128 key, first frame's MPEG-TS time).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{NewTextTrack, TextTrack};
use super::schema::{generations, text_tracks, videos};
use crate::model::{MediaKind, VideoId};

/// A video's text tracks, oldest first (the master lists them in this order).
pub async fn text_tracks(
    conn: &mut AsyncPgConnection,
    video: VideoId,
) -> QueryResult<Vec<TextTrack>> {
    text_tracks::table
        .filter(text_tracks::video_id.eq(video))
        .order(text_tracks::id.asc())
        .select(TextTrack::as_select())
        .load(conn)
        .await
}

/// The text tracks of each of `videos` (one query for a page).
pub async fn text_tracks_of(
    conn: &mut AsyncPgConnection,
    videos: &[VideoId],
) -> QueryResult<Vec<TextTrack>> {
    text_tracks::table
        .filter(text_tracks::video_id.eq_any(videos))
        .order(text_tracks::id.asc())
        .select(TextTrack::as_select())
        .load(conn)
        .await
}

pub async fn text_track(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<TextTrack>> {
    text_tracks::table
        .find(id)
        .select(TextTrack::as_select())
        .first(conn)
        .await
        .optional()
}

/// Adds the track, or replaces the video's track of the same language and kind.
pub async fn upsert_text_track(
    conn: &mut AsyncPgConnection,
    track: &NewTextTrack,
) -> QueryResult<TextTrack> {
    diesel::insert_into(text_tracks::table)
        .values(track)
        .on_conflict((
            text_tracks::video_id,
            text_tracks::language,
            text_tracks::kind,
        ))
        .do_update()
        .set((track, text_tracks::updated_at.eq(diesel::dsl::now)))
        .returning(TextTrack::as_returning())
        .get_result(conn)
        .await
}

/// Makes `keep` the video's only default text track.
pub async fn clear_other_defaults(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    keep: i64,
) -> QueryResult<usize> {
    diesel::update(
        text_tracks::table
            .filter(text_tracks::video_id.eq(video))
            .filter(text_tracks::id.ne(keep)),
    )
    .set(text_tracks::is_default.eq(false))
    .execute(conn)
    .await
}

pub async fn delete_text_track(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    let n = diesel::delete(text_tracks::table.find(id))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Records what a transcode learned: the kind of the source.
pub async fn set_kind(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    kind: MediaKind,
) -> QueryResult<usize> {
    diesel::update(videos::table.find(video))
        .set(videos::kind.eq(kind.as_str()))
        .execute(conn)
        .await
}

/// Takes the video's row lock: writers of its master playlist take it in turn.
pub async fn lock_video(conn: &mut AsyncPgConnection, video: VideoId) -> QueryResult<bool> {
    let found: Option<VideoId> = videos::table
        .find(video)
        .select(videos::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// One generation of a video's outputs: its sealed key, its first frame's MPEG-TS time.
#[derive(Debug, Clone, Queryable)]
pub struct GenerationRow {
    pub video_id: VideoId,
    pub sealed_key: Option<String>,
    pub timeline_pts: Option<i64>,
}

pub async fn generation(
    conn: &mut AsyncPgConnection,
    generation: &str,
) -> QueryResult<Option<GenerationRow>> {
    generations::table
        .filter(generations::generation.eq(generation))
        .select((
            generations::video_id,
            generations::sealed_key,
            generations::timeline_pts,
        ))
        .first(conn)
        .await
        .optional()
}

/// Whether `video`'s transcode recorded `generation` (and it was not purged).
pub async fn has_generation(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    generation: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        generations::table.find((video, generation)),
    ))
    .get_result(conn)
    .await
}

/// Stores the key of a generation unless it has one (a retried attempt keeps the first),
/// and returns the one stored.
pub async fn put_key(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    generation: &str,
    sealed: &str,
) -> QueryResult<String> {
    diesel::insert_into(generations::table)
        .values((
            generations::video_id.eq(video),
            generations::generation.eq(generation),
            generations::sealed_key.eq(sealed),
        ))
        .on_conflict((generations::video_id, generations::generation))
        .do_update()
        .set(generations::sealed_key.eq(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Text>,
        >(
            "COALESCE(generations.sealed_key, excluded.sealed_key)"
        )))
        .returning(generations::sealed_key)
        .get_result::<Option<String>>(conn)
        .await
        .map(|k| k.unwrap_or_else(|| sealed.to_string()))
}

/// Records the MPEG-TS time of a generation's first frame.
pub async fn put_timeline(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    generation: &str,
    pts: i64,
) -> QueryResult<usize> {
    diesel::insert_into(generations::table)
        .values((
            generations::video_id.eq(video),
            generations::generation.eq(generation),
            generations::timeline_pts.eq(pts),
        ))
        .on_conflict((generations::video_id, generations::generation))
        .do_update()
        .set(generations::timeline_pts.eq(pts))
        .execute(conn)
        .await
}

/// Forgets a purged generation (its key with it).
pub async fn delete_generation(
    conn: &mut AsyncPgConnection,
    generation: &str,
) -> QueryResult<usize> {
    diesel::delete(generations::table.filter(generations::generation.eq(generation)))
        .execute(conn)
        .await
}
