//! Queries on `apps`.

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
