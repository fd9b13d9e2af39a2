//! Queries on `apps`.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::{AppRow, NewApp};
use super::schema::apps;
use crate::ids::AppId;

pub async fn insert(conn: &mut AsyncPgConnection, new: NewApp<'_>) -> QueryResult<AppRow> {
    diesel::insert_into(apps::table)
        .values(&new)
        .returning(AppRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<AppRow>> {
    apps::table
        .order(apps::id.asc())
        .select(AppRow::as_select())
        .load(conn)
        .await
}

pub async fn find_by_key(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<Option<AppRow>> {
    apps::table
        .filter(apps::app_key.eq(key))
        .select(AppRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_name(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Option<AppRow>> {
    apps::table
        .filter(apps::name.eq(name))
        .order(apps::id.asc())
        .select(AppRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: AppId) -> QueryResult<Option<AppRow>> {
    apps::table
        .find(id)
        .select(AppRow::as_select())
        .first(conn)
        .await
        .optional()
}
