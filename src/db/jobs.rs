//! Queries on `jobs`, the durable work queue: enqueue in the caller's transaction,
//! claim with `FOR UPDATE SKIP LOCKED`, hold by lease, retry with backoff.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::jobs;
use crate::ids::{AppId, VideoId};

/// What a worker is asked to do.
pub const TRANSCODE: &str = "transcode";
/// Fetch a source from `payload.url`, then queue its transcode.
pub const IMPORT: &str = "import";
/// Copy a transcoded generation to every origin, then mark the video `PLAYABLE`.
pub const PUBLISH: &str = "publish";
/// Remove a replaced generation (`payload.prefix`) from storage and origins, once viewers
/// holding its playlists are done.
pub const PURGE: &str = "purge";
/// Compute the md5 of an uploaded source and record it (`upload.md5 = "deferred"`).
pub const HASH: &str = "hash";

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub app_id: Option<AppId>,
    pub video_id: Option<VideoId>,
    pub payload: serde_json::Value,
    pub priority: i32,
    /// Not before this time (`None`: now).
    pub run_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs, check_for_backend(diesel::pg::Pg))]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub app_id: Option<AppId>,
    pub video_id: Option<VideoId>,
    pub payload: serde_json::Value,
    pub priority: i32,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Attempts a job gets before it fails for good (`jobs.max_attempts`), set once at start-up.
static MAX_ATTEMPTS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(3);

pub fn set_max_attempts(n: i32) {
    MAX_ATTEMPTS.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// Queues a job; call inside the transaction that changes the video's status.
pub async fn enqueue(conn: &mut AsyncPgConnection, job: NewJob<'_>) -> QueryResult<i64> {
    let attempts =
        std::sync::atomic::AtomicI32::load(&MAX_ATTEMPTS, std::sync::atomic::Ordering::Relaxed);
    diesel::insert_into(jobs::table)
        .values((&job, jobs::max_attempts.eq(attempts)))
        .returning(jobs::id)
        .get_result(conn)
        .await
}

/// Takes the most urgent ready job (highest priority, then oldest), or one whose
/// worker died (lease expired), and leases it to `worker`.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    worker: &str,
    lease_secs: i32,
    kinds: &[&str],
) -> QueryResult<Option<Job>> {
    diesel::sql_query(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $1,
                lease_until = now() + make_interval(secs => $2), updated_at = now()
         WHERE id = (
             SELECT id FROM jobs
             WHERE kind = ANY($3)
               AND ((state = 'queued' AND run_at <= now())
                    OR (state = 'running' AND lease_until < now()))
             ORDER BY priority DESC, run_at, id
             FOR UPDATE SKIP LOCKED
             LIMIT 1)
         RETURNING id, kind, app_id, video_id, payload, priority, state, attempts,
                   max_attempts, lease_until, last_error",
    )
    .bind::<Text, _>(worker)
    .bind::<Integer, _>(lease_secs)
    .bind::<diesel::sql_types::Array<Text>, _>(kinds)
    .get_result(conn)
    .await
    .optional()
}

/// Extends the lease; false when the job is gone (video deleted) or taken over.
pub async fn renew(
    conn: &mut AsyncPgConnection,
    id: i64,
    worker: &str,
    lease_secs: i32,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE jobs SET lease_until = now() + make_interval(secs => $3), updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Integer, _>(lease_secs)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Marks the job done; false when it was no longer ours.
pub async fn finish(conn: &mut AsyncPgConnection, id: i64, worker: &str) -> QueryResult<bool> {
    let n = diesel::update(
        jobs::table.filter(
            jobs::id
                .eq(id)
                .and(jobs::worker.eq(worker))
                .and(jobs::state.eq("running")),
        ),
    )
    .set((
        jobs::state.eq("done"),
        jobs::lease_until.eq(None::<DateTime<Utc>>),
        jobs::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Records a failed attempt: back to the queue after `retry_in_secs`, or `failed` when
/// `retry_in_secs` is `None`. Returns the job's new state.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    id: i64,
    worker: &str,
    error: &str,
    retry_in_secs: Option<i32>,
) -> QueryResult<Option<String>> {
    let (state, delay) = match retry_in_secs {
        Some(s) => ("queued", s),
        None => ("failed", 0),
    };
    diesel::sql_query(
        "UPDATE jobs SET state = $3, last_error = $4, lease_until = NULL, worker = NULL,
                run_at = now() + make_interval(secs => $5), updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'
         RETURNING state",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(worker)
    .bind::<Text, _>(state)
    .bind::<Text, _>(error)
    .bind::<Integer, _>(delay)
    .load::<StateRow>(conn)
    .await
    .map(|rows| rows.into_iter().next().map(|r| r.state))
}

/// Gives a job back untouched (graceful shutdown): the attempt does not count.
pub async fn release(conn: &mut AsyncPgConnection, id: i64, worker: &str) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), worker = NULL,
                lease_until = NULL, updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(worker)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text)]
    state: String,
}

/// Jobs not yet finished for a video.
pub async fn pending_for_video(conn: &mut AsyncPgConnection, video: VideoId) -> QueryResult<i64> {
    jobs::table
        .filter(jobs::video_id.eq(video))
        .filter(jobs::state.eq_any(["queued", "running"]))
        .count()
        .get_result(conn)
        .await
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What media workers do (webhooks have their own dispatcher).
pub const MEDIA_KINDS: [&str; 5] = [TRANSCODE, IMPORT, PUBLISH, PURGE, HASH];

/// Every kind of job there is (the webhook sender's included).
pub const KINDS: [&str; 6] = {
    let [a, b, c, d, e] = MEDIA_KINDS;
    [a, b, c, d, e, super::webhooks::WEBHOOK]
};

/// Jobs by kind and state, every state listed for every kind (zeros included, so a
/// gauge drops back to 0). Done jobs are not counted: they only grow.
pub async fn counts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, String, i64)>> {
    let rows: Vec<CountRow> = diesel::sql_query(
        "SELECT k.kind, s.state, count(j.id) AS n
         FROM unnest($1::text[]) AS k(kind)
         CROSS JOIN (VALUES ('queued'), ('running'), ('failed')) AS s(state)
         LEFT JOIN jobs j ON j.kind = k.kind AND j.state = s.state
         GROUP BY k.kind, s.state",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(&KINDS[..])
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.state, r.n)).collect())
}
