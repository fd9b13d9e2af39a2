//! Queries on watermark profiles (`watermarks`) and the videos' own choices
//! (`video_watermarks`). Every query of a profile names its app, so no app reaches
//! another's.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{apps, video_watermarks, watermarks};
use crate::model::{AppId, VideoId, WatermarkChoice, WatermarkId, WatermarkPosition};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = watermarks, check_for_backend(diesel::pg::Pg))]
pub struct Watermark {
    pub id: WatermarkId,
    pub app_id: AppId,
    pub name: String,
    /// The overlay image in storage (`layout::watermark_key`).
    pub image_key: String,
    /// `png`, `jpeg` or `webp`.
    pub image_format: String,
    pub image_width: i32,
    pub image_height: i32,
    pub image_bytes: i64,
    pub position: String,
    /// Fraction of the video's width between the overlay and the edges it is near.
    pub margin: f64,
    /// The overlay's width as a fraction of the video's width.
    pub scale: f64,
    pub opacity: f64,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Watermark {
    pub fn position(&self) -> WatermarkPosition {
        self.position.parse().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = watermarks)]
pub struct NewWatermark {
    pub app_id: AppId,
    pub name: String,
    pub image_key: String,
    pub image_format: String,
    pub image_width: i32,
    pub image_height: i32,
    pub image_bytes: i64,
    pub position: String,
    pub margin: f64,
    pub scale: f64,
    pub opacity: f64,
    pub is_default: bool,
}

/// What an update changes (`None`: left as it is).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = watermarks)]
pub struct WatermarkChange {
    pub name: Option<String>,
    pub image_key: Option<String>,
    pub image_format: Option<String>,
    pub image_width: Option<i32>,
    pub image_height: Option<i32>,
    pub image_bytes: Option<i64>,
    pub position: Option<String>,
    pub margin: Option<f64>,
    pub scale: Option<f64>,
    pub opacity: Option<f64>,
    pub is_default: Option<bool>,
}

/// Serialises changes of an app's default profile (taken before clearing or setting it).
pub async fn lock_app(conn: &mut AsyncPgConnection, app: AppId) -> QueryResult<()> {
    apps::table
        .find(app)
        .select(apps::id)
        .for_update()
        .first::<AppId>(conn)
        .await
        .optional()
        .map(|_| ())
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewWatermark) -> QueryResult<Watermark> {
    diesel::insert_into(watermarks::table)
        .values(new)
        .returning(Watermark::as_returning())
        .get_result(conn)
        .await
}

/// The app's profiles, oldest first.
pub async fn list(conn: &mut AsyncPgConnection, app: AppId) -> QueryResult<Vec<Watermark>> {
    watermarks::table
        .filter(watermarks::app_id.eq(app))
        .order(watermarks::id.asc())
        .select(Watermark::as_select())
        .load(conn)
        .await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: WatermarkId,
) -> QueryResult<Option<Watermark>> {
    watermarks::table
        .filter(watermarks::id.eq(id).and(watermarks::app_id.eq(app)))
        .select(Watermark::as_select())
        .first(conn)
        .await
        .optional()
}

/// The app's default profile, if it has one.
pub async fn default_of(
    conn: &mut AsyncPgConnection,
    app: AppId,
) -> QueryResult<Option<Watermark>> {
    watermarks::table
        .filter(watermarks::app_id.eq(app).and(watermarks::is_default))
        .select(Watermark::as_select())
        .first(conn)
        .await
        .optional()
}

/// Makes no profile of the app its default but `keep`.
pub async fn clear_default(
    conn: &mut AsyncPgConnection,
    app: AppId,
    keep: Option<WatermarkId>,
) -> QueryResult<usize> {
    let others = watermarks::app_id
        .eq(app)
        .and(watermarks::is_default)
        .and(watermarks::id.ne(keep.unwrap_or(WatermarkId(0))));
    diesel::update(watermarks::table.filter(others))
        .set((
            watermarks::is_default.eq(false),
            watermarks::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: WatermarkId,
    change: &WatermarkChange,
) -> QueryResult<Option<Watermark>> {
    diesel::update(watermarks::table.filter(watermarks::id.eq(id).and(watermarks::app_id.eq(app))))
        .set((change, watermarks::updated_at.eq(diesel::dsl::now)))
        .returning(Watermark::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Deletes the profile (and the choices of the videos that named it).
pub async fn delete(
    conn: &mut AsyncPgConnection,
    app: AppId,
    id: WatermarkId,
) -> QueryResult<Option<Watermark>> {
    diesel::delete(watermarks::table.filter(watermarks::id.eq(id).and(watermarks::app_id.eq(app))))
        .returning(Watermark::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Records what `video` (of `app`) asked for. A profile that is not the app's (or was
/// deleted meanwhile) records nothing: the video gets the app's default.
pub async fn choose(
    conn: &mut AsyncPgConnection,
    app: AppId,
    video: VideoId,
    choice: WatermarkChoice,
) -> QueryResult<()> {
    match choice {
        WatermarkChoice::None => {
            diesel::insert_into(video_watermarks::table)
                .values((
                    video_watermarks::video_id.eq(video),
                    video_watermarks::watermark_id.eq(None::<WatermarkId>),
                ))
                .on_conflict(video_watermarks::video_id)
                .do_update()
                .set(video_watermarks::watermark_id.eq(None::<WatermarkId>))
                .execute(conn)
                .await?;
        }
        WatermarkChoice::Profile(id) => {
            // Held until the caller commits, so the profile cannot go meanwhile.
            let own: Option<WatermarkId> = watermarks::table
                .filter(watermarks::id.eq(id).and(watermarks::app_id.eq(app)))
                .select(watermarks::id)
                .for_share()
                .first(conn)
                .await
                .optional()?;
            if own.is_none() {
                return Ok(());
            }
            diesel::insert_into(video_watermarks::table)
                .values((
                    video_watermarks::video_id.eq(video),
                    video_watermarks::watermark_id.eq(Some(id)),
                ))
                .on_conflict(video_watermarks::video_id)
                .do_update()
                .set(video_watermarks::watermark_id.eq(Some(id)))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// The video's own choice: `None` when it made none (the app's default applies).
pub async fn choice_of(
    conn: &mut AsyncPgConnection,
    video: VideoId,
) -> QueryResult<Option<WatermarkChoice>> {
    let row: Option<Option<WatermarkId>> = video_watermarks::table
        .find(video)
        .select(video_watermarks::watermark_id)
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|id| match id {
        Some(id) => WatermarkChoice::Profile(id),
        None => WatermarkChoice::None,
    }))
}
