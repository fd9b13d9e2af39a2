//! Queries on `apps`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{App, NewApp};
use super::schema::apps;
use crate::model::AppId;

pub async fn insert(conn: &mut AsyncPgConnection, new: NewApp<'_>) -> QueryResult<App> {
    diesel::insert_into(apps::table)
        .values(&new)
        .returning(App::as_returning())
        .get_result(conn)
        .await
}

pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<App>> {
    apps::table
        .order(apps::id.asc())
        .select(App::as_select())
        .load(conn)
        .await
}

pub async fn find_by_key(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<Option<App>> {
    apps::table
        .filter(apps::app_key.eq(key))
        .select(App::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_name(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Option<App>> {
    apps::table
        .filter(apps::name.eq(name))
        .order(apps::id.asc())
        .select(App::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: AppId) -> QueryResult<Option<App>> {
    apps::table
        .find(id)
        .select(App::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every app called `name` (names need not be unique).
pub async fn find_all_by_name(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Vec<App>> {
    apps::table
        .filter(apps::name.eq(name))
        .order(apps::id.asc())
        .select(App::as_select())
        .load(conn)
        .await
}

/// Makes `new_secret` the app's secret; the one it replaces stays valid until `grace_until`
/// (or not at all), replacing any earlier previous secret.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    id: AppId,
    new_secret: &str,
    grace_until: Option<DateTime<Utc>>,
) -> QueryResult<App> {
    let update = diesel::update(apps::table.find(id));
    let now = diesel::dsl::now;
    match grace_until {
        Some(until) => {
            update
                .set((
                    apps::previous_secret.eq(apps::app_secret.nullable()),
                    apps::previous_secret_until.eq(until),
                    apps::app_secret.eq(new_secret),
                    apps::updated_at.eq(now),
                ))
                .returning(App::as_returning())
                .get_result(conn)
                .await
        }
        None => {
            update
                .set((
                    apps::previous_secret.eq(None::<String>),
                    apps::previous_secret_until.eq(None::<DateTime<Utc>>),
                    apps::app_secret.eq(new_secret),
                    apps::updated_at.eq(now),
                ))
                .returning(App::as_returning())
                .get_result(conn)
                .await
        }
    }
}

/// Stores the same secrets in another form (sealed anew), if nobody changed them since
/// `app` was read; false when they did.
pub async fn restore_secrets(
    conn: &mut AsyncPgConnection,
    app: &App,
    secret: &str,
    previous: Option<&str>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        apps::table
            .find(app.id)
            .filter(apps::app_secret.eq(&app.stored_secret))
            .filter(apps::previous_secret.is_not_distinct_from(app.previous_secret.as_deref())),
    )
    .set((
        apps::app_secret.eq(secret),
        apps::previous_secret.eq(previous),
    ))
    .execute(conn)
    .await?;
    Ok(changed == 1)
}

/// Sets whether every upload of the app is encrypted.
pub async fn set_encrypt_uploads(
    conn: &mut AsyncPgConnection,
    id: AppId,
    on: bool,
) -> QueryResult<App> {
    diesel::update(apps::table.find(id))
        .set(apps::encrypt_uploads.eq(on))
        .returning(App::as_returning())
        .get_result(conn)
        .await
}
