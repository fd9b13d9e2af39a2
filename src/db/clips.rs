//! Queries on clips: videos cut from another, and the parent generations instant clips
//! keep alive.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::clips;
use crate::model::VideoId;

/// One clip (`clips`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clips, check_for_backend(diesel::pg::Pg))]
pub struct Clip {
    pub video_id: VideoId,
    /// The video it was cut from (`None` once that is deleted).
    pub parent_id: Option<VideoId>,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Frame-accurate: its own asset, transcoded from the range.
    pub precise: bool,
    /// An instant clip's parent generation (its playlists and the segments they name).
    pub generation: Option<String>,
    /// The playlists an instant clip wrote into that generation.
    pub files: Vec<String>,
}

pub async fn insert(conn: &mut AsyncPgConnection, clip: &Clip) -> QueryResult<()> {
    diesel::insert_into(clips::table)
        .values(clip)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: &mut AsyncPgConnection, video: VideoId) -> QueryResult<Option<Clip>> {
    clips::table
        .find(video)
        .select(Clip::as_select())
        .first(conn)
        .await
        .optional()
}

/// The clip rows of `videos` (the GraphQL loader's batch).
pub async fn of_videos(conn: &mut AsyncPgConnection, videos: &[VideoId]) -> QueryResult<Vec<Clip>> {
    clips::table
        .filter(clips::video_id.eq_any(videos))
        .select(Clip::as_select())
        .load(conn)
        .await
}

/// Records the playlists an instant clip wrote.
pub async fn set_files(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    generation: &str,
    files: &[String],
) -> QueryResult<()> {
    diesel::update(clips::table.find(video))
        .set((clips::generation.eq(generation), clips::files.eq(files)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Of `prefixes`, those an instant clip still points into.
pub async fn kept_generations(
    conn: &mut AsyncPgConnection,
    prefixes: &[String],
) -> QueryResult<Vec<String>> {
    clips::table
        .filter(clips::generation.eq_any(prefixes))
        .select(clips::generation.assume_not_null())
        .distinct()
        .load(conn)
        .await
}

/// Whether any instant clip points into `generation`.
pub async fn generation_in_use(
    conn: &mut AsyncPgConnection,
    generation: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        clips::table.filter(clips::generation.eq(generation)),
    ))
    .get_result(conn)
    .await
}

/// The generations of `parent` its instant clips point into.
pub async fn generations_of_parent(
    conn: &mut AsyncPgConnection,
    parent: VideoId,
) -> QueryResult<Vec<String>> {
    clips::table
        .filter(clips::parent_id.eq(parent))
        .filter(clips::generation.is_not_null())
        .select(clips::generation.assume_not_null())
        .distinct()
        .load(conn)
        .await
}

/// An instant clip's row in `videos`: its master playlist is published, what it shows is
/// what its parent's probe found, and it has no ladder to wait for.
pub async fn publish_instant(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    master: &str,
    media_info: Option<serde_json::Value>,
    kind: &str,
) -> QueryResult<crate::db::models::Video> {
    use super::schema::videos;
    diesel::update(videos::table.find(video))
        .set((
            videos::published_uri.eq(master),
            videos::media_info.eq(media_info),
            videos::kind.eq(kind),
            videos::ladder_complete.eq(true),
        ))
        .returning(crate::db::models::Video::as_returning())
        .get_result(conn)
        .await
}

/// The generation a copy of `from`'s key and timeline row belongs to `to` as well, so
/// that an encrypted generation's key outlives its first video while a clip plays it.
pub async fn share_generation(
    conn: &mut AsyncPgConnection,
    generation: &str,
    to: VideoId,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO generations (video_id, generation, sealed_key, timeline_pts) \
         SELECT $1, generation, sealed_key, timeline_pts FROM generations \
         WHERE generation = $2 LIMIT 1 ON CONFLICT DO NOTHING",
    )
    .bind::<diesel::sql_types::BigInt, _>(to.0)
    .bind::<diesel::sql_types::Text, _>(generation)
    .execute(conn)
    .await
}
