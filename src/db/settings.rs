//! Queries on `settings`: install-wide values every node must agree on.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::settings;

/// The value of `name`, set to `fresh` by the first node that asks.
pub async fn get_or_insert(
    conn: &mut AsyncPgConnection,
    name: &str,
    fresh: &str,
) -> QueryResult<String> {
    diesel::insert_into(settings::table)
        .values((settings::name.eq(name), settings::value.eq(fresh)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    settings::table
        .find(name)
        .select(settings::value)
        .get_result(conn)
        .await
}

/// Sets `name` to `new` if it is still `old`; false when it changed.
pub async fn replace(
    conn: &mut AsyncPgConnection,
    name: &str,
    old: &str,
    new: &str,
) -> QueryResult<bool> {
    let n = diesel::update(settings::table.find(name).filter(settings::value.eq(old)))
        .set(settings::value.eq(new))
        .execute(conn)
        .await?;
    Ok(n == 1)
}
