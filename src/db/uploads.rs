//! Queries on `upload_sessions`, `upload_parts` and `upload_locks`: the durable state of
//! uploads in progress (docs/architecture.md, "Uploads"). The session record itself is
//! opaque JSON here; `upload::session` owns its shape.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{upload_locks, upload_parts, upload_sessions};
use crate::model::AppId;

/// One session as stored.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = upload_sessions)]
pub struct SessionRow<'a> {
    pub id: &'a str,
    pub app_id: AppId,
    pub receiving: bool,
    pub size: i64,
    pub expires_at: DateTime<Utc>,
    pub keep_until: DateTime<Utc>,
    pub session: serde_json::Value,
}

/// Writes the session, whether new or not.
pub async fn upsert(conn: &mut AsyncPgConnection, row: &SessionRow<'_>) -> QueryResult<()> {
    diesel::insert_into(upload_sessions::table)
        .values(row)
        .on_conflict(upload_sessions::id)
        .do_update()
        .set((row, upload_sessions::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Option<serde_json::Value>> {
    upload_sessions::table
        .find(id)
        .select(upload_sessions::session)
        .first(conn)
        .await
        .optional()
}

/// Deletes the session and its parts.
pub async fn delete(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<()> {
    diesel::delete(upload_parts::table.filter(upload_parts::upload_id.eq(id)))
        .execute(conn)
        .await?;
    diesel::delete(upload_sessions::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records part `part`'s md5 unless it is there; returns the md5 already recorded, if any.
pub async fn add_part(
    conn: &mut AsyncPgConnection,
    id: &str,
    part: u32,
    md5: &str,
) -> QueryResult<Option<String>> {
    let part = part as i32;
    let added = diesel::insert_into(upload_parts::table)
        .values((
            upload_parts::upload_id.eq(id),
            upload_parts::part.eq(part),
            upload_parts::md5.eq(md5),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if added == 1 {
        return Ok(None);
    }
    upload_parts::table
        .find((id, part))
        .select(upload_parts::md5)
        .first(conn)
        .await
        .optional()
}

pub async fn parts(conn: &mut AsyncPgConnection, id: &str) -> QueryResult<Vec<(i32, String)>> {
    upload_parts::table
        .filter(upload_parts::upload_id.eq(id))
        .select((upload_parts::part, upload_parts::md5))
        .load(conn)
        .await
}

/// Ids of sessions still receiving whose expiry has passed.
pub async fn expired(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<String>> {
    upload_sessions::table
        .filter(upload_sessions::receiving)
        .filter(upload_sessions::expires_at.le(diesel::dsl::now))
        .select(upload_sessions::id)
        .order(upload_sessions::expires_at)
        .limit(limit)
        .load(conn)
        .await
}

/// Serialises quota decisions of `app` until the transaction ends.
pub async fn lock_app_quota(conn: &mut AsyncPgConnection, app: AppId) -> QueryResult<()> {
    /// Class of the advisory locks taken per app ("rlup"); apps past 2^31 share keys,
    /// which only makes them wait for each other.
    const QUOTA_LOCK_CLASS: i32 = 0x726c_7570;
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind::<Integer, _>(QUOTA_LOCK_CLASS)
        .bind::<Integer, _>(app.0 as i32)
        .execute(conn)
        .await?;
    Ok(())
}

/// The app's open (unexpired, receiving) uploads other than `except`: how many, and the
/// bytes they declared; and whether `except` is one of its open uploads.
pub async fn open_of_app(
    conn: &mut AsyncPgConnection,
    app: AppId,
    except: &str,
) -> QueryResult<(i64, i64, bool)> {
    #[derive(QueryableByName)]
    struct Open {
        #[diesel(sql_type = BigInt)]
        others: i64,
        #[diesel(sql_type = BigInt)]
        bytes: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        counted: bool,
    }
    let open: Open = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE id <> $2) AS others,
                COALESCE(SUM(size) FILTER (WHERE id <> $2), 0)::bigint AS bytes,
                COALESCE(bool_or(id = $2), false) AS counted
         FROM upload_sessions
         WHERE app_id = $1 AND receiving AND expires_at > now()",
    )
    .bind::<BigInt, _>(app)
    .bind::<diesel::sql_types::Text, _>(except)
    .get_result(conn)
    .await?;
    Ok((open.others, open.bytes, open.counted))
}

/// Takes the lease `name` for `ttl_ms` unless a live one is held; true when taken.
pub async fn take_lock(
    conn: &mut AsyncPgConnection,
    name: &str,
    token: &str,
    ttl_ms: i64,
) -> QueryResult<bool> {
    let taken = diesel::sql_query(
        "INSERT INTO upload_locks (name, token, expires_at)
         VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
         WHERE upload_locks.expires_at <= now()",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .bind::<diesel::sql_types::Text, _>(token)
    .bind::<BigInt, _>(ttl_ms)
    .execute(conn)
    .await?;
    Ok(taken == 1)
}

/// Extends the lease while `token` holds it; false when it was lost.
pub async fn renew_lock(
    conn: &mut AsyncPgConnection,
    name: &str,
    token: &str,
    ttl_ms: i64,
) -> QueryResult<bool> {
    let kept = diesel::sql_query(
        "UPDATE upload_locks SET expires_at = now() + $3 * interval '1 millisecond'
         WHERE name = $1 AND token = $2 AND expires_at > now()",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .bind::<diesel::sql_types::Text, _>(token)
    .bind::<BigInt, _>(ttl_ms)
    .execute(conn)
    .await?;
    Ok(kept == 1)
}

pub async fn release_lock(
    conn: &mut AsyncPgConnection,
    name: &str,
    token: &str,
) -> QueryResult<()> {
    diesel::delete(
        upload_locks::table
            .filter(upload_locks::name.eq(name))
            .filter(upload_locks::token.eq(token)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes sessions kept long enough (with their parts) and leases long lapsed; returns
/// how many sessions went.
pub async fn prune(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<usize> {
    let gone: Vec<String> = diesel::sql_query(
        "DELETE FROM upload_sessions WHERE id IN (
           SELECT id FROM upload_sessions WHERE keep_until <= now() LIMIT $1)
         RETURNING id",
    )
    .bind::<BigInt, _>(limit)
    .load::<PrunedId>(conn)
    .await?
    .into_iter()
    .map(|r| r.id)
    .collect();
    diesel::delete(upload_parts::table.filter(upload_parts::upload_id.eq_any(&gone)))
        .execute(conn)
        .await?;
    diesel::sql_query("DELETE FROM upload_locks WHERE expires_at < now() - interval '1 minute'")
        .execute(conn)
        .await?;
    Ok(gone.len())
}

#[derive(QueryableByName)]
struct PrunedId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}
