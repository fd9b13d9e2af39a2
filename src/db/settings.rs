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
