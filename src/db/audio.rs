//! Queries on audio tracks added from audio files, and the generations that hold them.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::AddedAudio;
use super::schema::{added_audio, added_audio_outputs};
use crate::model::VideoId;

pub async fn insert(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    language: &str,
    name: &str,
    source_key: &str,
) -> QueryResult<AddedAudio> {
    diesel::insert_into(added_audio::table)
        .values((
            added_audio::video_id.eq(video),
            added_audio::language.eq(language),
            added_audio::name.eq(name),
            added_audio::source_key.eq(source_key),
        ))
        .returning(AddedAudio::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<AddedAudio>> {
    added_audio::table
        .find(id)
        .select(AddedAudio::as_select())
        .first(conn)
        .await
        .optional()
}

/// A video's added tracks, oldest first.
pub async fn of_video(
    conn: &mut AsyncPgConnection,
    video: VideoId,
) -> QueryResult<Vec<AddedAudio>> {
    added_audio::table
        .filter(added_audio::video_id.eq(video))
        .order(added_audio::id.asc())
        .select(AddedAudio::as_select())
        .load(conn)
        .await
}

/// The added tracks `generation` holds.
pub async fn in_generation(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    generation: &str,
) -> QueryResult<Vec<AddedAudio>> {
    added_audio::table
        .inner_join(added_audio_outputs::table)
        .filter(added_audio::video_id.eq(video))
        .filter(added_audio_outputs::generation.eq(generation))
        .order(added_audio::id.asc())
        .select(AddedAudio::as_select())
        .load(conn)
        .await
}

/// Records that `generation` holds the track's rendition.
pub async fn mark_encoded(
    conn: &mut AsyncPgConnection,
    track: i64,
    generation: &str,
) -> QueryResult<usize> {
    diesel::insert_into(added_audio_outputs::table)
        .values((
            added_audio_outputs::track_id.eq(track),
            added_audio_outputs::generation.eq(generation),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

pub async fn is_encoded(
    conn: &mut AsyncPgConnection,
    track: i64,
    generation: &str,
) -> QueryResult<bool> {
    let n: i64 = added_audio_outputs::table
        .filter(added_audio_outputs::track_id.eq(track))
        .filter(added_audio_outputs::generation.eq(generation))
        .count()
        .get_result(conn)
        .await?;
    Ok(n > 0)
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    let n = diesel::delete(added_audio::table.find(id))
        .execute(conn)
        .await?;
    Ok(n > 0)
}
