//! Queries on `jobs`, the durable work queue.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::jobs;
use crate::ids::{AppId, VideoId};

/// What a worker is asked to do.
pub const TRANSCODE: &str = "transcode";

#[derive(Debug, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub app_id: Option<AppId>,
    pub video_id: Option<VideoId>,
    pub payload: serde_json::Value,
    pub priority: i32,
}

/// Queues a job; call inside the transaction that changes the video's status.
pub async fn enqueue(conn: &mut AsyncPgConnection, job: NewJob<'_>) -> QueryResult<i64> {
    diesel::insert_into(jobs::table)
        .values(&job)
        .returning(jobs::id)
        .get_result(conn)
        .await
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
