//! Queries on `jobs`, the durable work queue: insert in the caller's transaction (waiting
//! for other jobs or not), claim with `FOR UPDATE SKIP LOCKED`, hold by lease, end (which
//! frees the jobs waiting for this one). `queue` is the typed interface over these.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::schema::{job_dependencies, jobs};
use crate::model::{AppId, JobId, VideoId};

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJobRow {
    pub kind: &'static str,
    pub app_id: Option<AppId>,
    pub video_id: Option<VideoId>,
    pub payload: serde_json::Value,
    pub priority: i32,
    pub run_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs, check_for_backend(diesel::pg::Pg))]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub app_id: Option<AppId>,
    pub video_id: Option<VideoId>,
    pub payload: serde_json::Value,
    pub priority: i32,
    pub attempts: i32,
}

/// Inserts a job, runnable once every job of `after` has ended (done or failed).
/// The prerequisites are locked until the caller's transaction commits, so one ending
/// meanwhile either is counted as ended here or sees the new dependency.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    job: &NewJobRow,
    after: &[JobId],
) -> QueryResult<JobId> {
    // A transaction of its own (a savepoint inside the caller's), so the prerequisites
    // stay locked until the dependency rows exist.
    conn.transaction(async |conn| {
        let waiting: Vec<JobId> = if after.is_empty() {
            Vec::new()
        } else {
            jobs::table
                .filter(jobs::id.eq_any(after))
                .filter(jobs::state.ne_all(["done", "failed"]))
                .for_share()
                .select(jobs::id)
                .load(conn)
                .await?
        };
        let state = if waiting.is_empty() {
            "queued"
        } else {
            "waiting"
        };
        let id: JobId = diesel::insert_into(jobs::table)
            .values((
                job,
                jobs::state.eq(state),
                jobs::waiting_for.eq(waiting.len() as i32),
            ))
            .returning(jobs::id)
            .get_result(conn)
            .await?;
        if !waiting.is_empty() {
            let edges: Vec<_> = waiting
                .iter()
                .map(|&on| {
                    (
                        job_dependencies::job_id.eq(id),
                        job_dependencies::depends_on.eq(on),
                    )
                })
                .collect();
            diesel::insert_into(job_dependencies::table)
                .values(edges)
                .execute(conn)
                .await?;
        }
        Ok(id)
    })
    .await
}

/// Takes a job of `kinds` whose worker died (lease expired), else the most urgent ready
/// one (highest priority, then oldest), and leases it to `worker`.
///
/// The claim commits without waiting for its WAL flush (docs/architecture.md, "Jobs"):
/// a claim lost in a Postgres crash leaves the job queued, and it runs again, as it
/// would after its worker died.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    worker: &str,
    lease_secs: i32,
    kinds: &[&str],
) -> QueryResult<Option<JobRow>> {
    // One round trip: two probes, each along its own partial index (`jobs_leased`, then
    // `jobs_ready` in its order; the second runs only when the first found nothing), as
    // one query with `OR` between them sorted every ready job on each claim.
    // `set_config(…, true)` is `SET LOCAL` for the statement's own transaction.
    diesel::sql_query(
        "WITH expired AS (
             SELECT id FROM jobs
             WHERE state = 'running' AND lease_until < now() AND kind = ANY($3)
             ORDER BY lease_until
             FOR UPDATE SKIP LOCKED
             LIMIT 1
         ), ready AS (
             SELECT id FROM jobs
             WHERE state = 'queued' AND run_at <= now() AND kind = ANY($3)
               AND NOT EXISTS (SELECT FROM expired)
             ORDER BY priority DESC, run_at, id
             FOR UPDATE SKIP LOCKED
             LIMIT 1
         )
         UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $1,
                lease_until = now() + make_interval(secs => $2), updated_at = now()
         WHERE id = (SELECT id FROM expired UNION ALL SELECT id FROM ready LIMIT 1)
           AND set_config('synchronous_commit', 'off', true) IS NOT NULL
         RETURNING id, kind, app_id, video_id, payload, priority, attempts",
    )
    .bind::<Text, _>(worker)
    .bind::<Integer, _>(lease_secs)
    .bind::<Array<Text>, _>(kinds)
    .get_result(conn)
    .await
    .optional()
}

/// Deletes up to `limit` jobs that ended (done or failed) more than `keep_secs` ago;
/// returns how many. What waited for them was freed when they ended.
pub async fn prune(conn: &mut AsyncPgConnection, keep_secs: i64, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM jobs WHERE id IN (
             SELECT id FROM jobs
             WHERE state IN ('done', 'failed')
               AND updated_at < now() - make_interval(secs => $1)
             ORDER BY updated_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED)",
    )
    .bind::<diesel::sql_types::Double, _>(keep_secs as f64)
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await
}

/// Extends the lease; false when the job is gone (video deleted) or taken over (a job
/// that finished itself stays its worker's).
pub async fn renew(
    conn: &mut AsyncPgConnection,
    id: JobId,
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
    if n == 1 {
        return Ok(true);
    }
    // A job that finished itself with its effects (`Claimed::finish`) is still its
    // worker's while it cleans up: nobody else can take a done job.
    let done: i64 = jobs::table
        .filter(jobs::id.eq(id))
        .filter(jobs::worker.eq(worker))
        .filter(jobs::state.eq("done"))
        .count()
        .get_result(conn)
        .await?;
    Ok(done == 1)
}

/// Marks the job done and frees what waited for it; false when it was no longer ours.
/// In the caller's transaction, which commits durably (the job's effects may be in it).
pub async fn finish(conn: &mut AsyncPgConnection, id: JobId, worker: &str) -> QueryResult<bool> {
    end_running(conn, id, worker, "").await
}

/// [`finish`] for a job whose effects are already committed (or in storage), committed
/// without waiting for its WAL flush: lost in a Postgres crash, the job runs again, as
/// jobs may (docs/architecture.md, "Jobs"). A later durable commit flushes it anyway, so
/// nothing that depends on this end can outlive its loss.
pub async fn finish_alone(
    conn: &mut AsyncPgConnection,
    id: JobId,
    worker: &str,
) -> QueryResult<bool> {
    let unflushed = "AND set_config('synchronous_commit', 'off', true) IS NOT NULL";
    end_running(conn, id, worker, unflushed).await
}

/// Marks a running job of `worker` done and frees what waited for it; `also` is one more
/// condition on the job. Two statements in one transaction: as one statement (the release
/// reading the update's `RETURNING` through a CTE), a release blocked by a concurrent one
/// lost its decrement when Postgres rechecked the row (`tests/queue.rs` caught it).
async fn end_running(
    conn: &mut AsyncPgConnection,
    id: JobId,
    worker: &str,
    also: &str,
) -> QueryResult<bool> {
    let sql = format!(
        "UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = now()
         WHERE id = $1 AND worker = $2 AND state = 'running' {also}"
    );
    conn.transaction(async |conn| {
        let n = diesel::sql_query(&sql)
            .bind::<BigInt, _>(id)
            .bind::<Text, _>(worker)
            .execute(conn)
            .await?;
        if n == 1 {
            release_dependents(conn, id).await?;
        }
        Ok(n == 1)
    })
    .await
}

/// Records a failed attempt: back to the queue after `retry_in_secs`, or `failed` for
/// good when `retry_in_secs` is `None` (which frees what waited for it).
pub async fn fail(
    conn: &mut AsyncPgConnection,
    id: JobId,
    worker: &str,
    error: &str,
    retry_in_secs: Option<i32>,
) -> QueryResult<()> {
    let (state, delay) = match retry_in_secs {
        Some(s) => ("queued", s),
        None => ("failed", 0),
    };
    conn.transaction(async |conn| {
        let n = diesel::sql_query(
            "UPDATE jobs SET state = $3, last_error = $4, lease_until = NULL, worker = NULL,
                    run_at = now() + make_interval(secs => $5), updated_at = now()
             WHERE id = $1 AND worker = $2 AND state = 'running'",
        )
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(worker)
        .bind::<Text, _>(state)
        .bind::<Text, _>(error)
        .bind::<Integer, _>(delay)
        .execute(conn)
        .await?;
        if n == 1 && retry_in_secs.is_none() {
            release_dependents(conn, id).await?;
        }
        Ok(())
    })
    .await
}

/// One prerequisite of each job waiting for `ended` is over; those with none left are
/// queued. (Row locks serialise the decrements, so two prerequisites ending at once
/// cannot both leave the count above zero.)
async fn release_dependents(conn: &mut AsyncPgConnection, ended: JobId) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE jobs SET waiting_for = waiting_for - 1,
                state = CASE WHEN waiting_for = 1 THEN 'queued' ELSE state END,
                run_at = CASE WHEN waiting_for = 1 THEN greatest(run_at, now()) ELSE run_at END,
                updated_at = now()
         WHERE state = 'waiting'
           AND id IN (SELECT job_id FROM job_dependencies WHERE depends_on = $1)",
    )
    .bind::<BigInt, _>(ended)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives a job back untouched (graceful shutdown): the attempt does not count.
pub async fn release(conn: &mut AsyncPgConnection, id: JobId, worker: &str) -> QueryResult<()> {
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

/// Whether job `id` has not ended yet (waiting, queued or running).
pub async fn is_pending(conn: &mut AsyncPgConnection, id: JobId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::state.eq_any(["waiting", "queued", "running"])),
    ))
    .get_result(conn)
    .await
}

/// Whether a job of `kind` about `video` has `payload.{field}` = `value` (a retried job
/// checks that what it queued the first time is there).
pub async fn exists_with(
    conn: &mut AsyncPgConnection,
    video: VideoId,
    kind: &str,
    field: &str,
    value: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        jobs::table
            .filter(jobs::video_id.eq(video))
            .filter(jobs::kind.eq(kind))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("payload->>")
                    .bind::<Text, _>(field)
                    .sql(" = ")
                    .bind::<Text, _>(value),
            ),
    ))
    .get_result(conn)
    .await
}

/// Jobs of a video not yet ended.
pub async fn pending_for_video(conn: &mut AsyncPgConnection, video: VideoId) -> QueryResult<i64> {
    jobs::table
        .filter(jobs::video_id.eq(video))
        .filter(jobs::state.eq_any(["waiting", "queued", "running"]))
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

/// Jobs of `kinds` by kind and state, every state listed for every kind (zeros included,
/// so a gauge drops back to 0). Done jobs are not counted: they only grow.
pub async fn counts(
    conn: &mut AsyncPgConnection,
    kinds: &[&str],
) -> QueryResult<Vec<(String, String, i64)>> {
    let rows: Vec<CountRow> = diesel::sql_query(
        "SELECT k.kind, s.state, count(j.id) AS n
         FROM unnest($1::text[]) AS k(kind)
         CROSS JOIN (VALUES ('waiting'), ('queued'), ('running'), ('failed')) AS s(state)
         LEFT JOIN jobs j ON j.kind = k.kind AND j.state = s.state
         GROUP BY k.kind, s.state",
    )
    .bind::<Array<Text>, _>(kinds)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.state, r.n)).collect())
}
