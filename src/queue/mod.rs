//! The durable job queue (docs/architecture.md, "Jobs"): typed payloads enqueued in the
//! caller's transaction, optionally after other jobs (fan-out, fan-in), claimed by the
//! runner in `jobs`. Payloads are defined by whoever enqueues them; the file of each kind
//! under `jobs/` says how it runs.

mod signal;

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::{self, jobs::JobRow, jobs::NewJobRow, models::Video};
use crate::model::{AppId, JobId, VideoId, random_id};

pub use signal::JobSignal;

/// What a job is asked to do, stored as JSON in `jobs.payload`.
pub trait Payload: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored in `jobs.kind`: never rename one that may still be queued somewhere.
    const KIND: &'static str;
}

/// A job to enqueue.
#[derive(Debug)]
pub struct NewJob {
    row: NewJobRow,
    after: Vec<JobId>,
}

impl NewJob {
    pub fn new<P: Payload>(payload: &P) -> Self {
        Self {
            row: NewJobRow {
                kind: P::KIND,
                app_id: None,
                video_id: None,
                payload: serde_json::to_value(payload).expect("payloads serialize"),
                priority: 0,
                run_at: None,
            },
            after: Vec::new(),
        }
    }

    /// About `video` (deleting the video deletes the job and stops its worker), at the
    /// video's priority.
    pub fn for_video(mut self, video: &Video) -> Self {
        self.row.app_id = Some(video.app_id);
        self.row.video_id = Some(video.id);
        self.row.priority = video.task_priority;
        self
    }

    /// For `app`, tied to no video (a deletion meanwhile does not cancel it).
    pub fn for_app(mut self, app: AppId) -> Self {
        self.row.app_id = Some(app);
        self.row.video_id = None;
        self
    }

    /// Higher first.
    pub fn priority(mut self, priority: i32) -> Self {
        self.row.priority = priority;
        self
    }

    /// Not before `at`.
    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.row.run_at = Some(at);
        self
    }

    /// Only once every job of `jobs` has ended (done or failed).
    pub fn after(mut self, jobs: impl IntoIterator<Item = JobId>) -> Self {
        self.after.extend(jobs);
        self
    }
}

/// Queues `job`; call it inside the transaction whose changes asked for it (through
/// `video::lifecycle`, which also wakes the workers once it commits).
pub async fn enqueue(conn: &mut AsyncPgConnection, job: NewJob) -> QueryResult<JobId> {
    db::jobs::insert(conn, &job.row, &job.after).await
}

/// A job a worker holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: JobId,
    pub kind: String,
    pub app_id: Option<AppId>,
    pub video_id: Option<VideoId>,
    pub priority: i32,
    /// This attempt's number, from 1.
    pub attempt: i32,
    /// The claimer holding the lease.
    pub worker: String,
    payload: serde_json::Value,
}

impl Claimed {
    pub fn new(row: JobRow, worker: &str) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            app_id: row.app_id,
            video_id: row.video_id,
            priority: row.priority,
            attempt: row.attempts,
            worker: worker.to_string(),
            payload: row.payload,
        }
    }

    pub fn payload<P: Payload>(&self) -> Result<P, serde_json::Error> {
        serde_json::from_value(self.payload.clone())
    }

    /// Marks the job done (and frees what waited for it) in the caller's transaction, so
    /// the work's effects and its completion commit together; false when the job was
    /// taken over meanwhile.
    pub async fn finish(&self, conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        db::jobs::finish(conn, self.id, &self.worker).await
    }

    /// Marks the job done on its own, once its effects are stored: the runner's end of
    /// a job that did not finish itself (`db::jobs::finish_alone`).
    pub async fn finish_alone(&self, conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        db::jobs::finish_alone(conn, self.id, &self.worker).await
    }
}

/// A name for this process's claims on the queue (`host:role:pid:nonce`), so job rows
/// say who holds them.
pub fn claimer_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}:{role}:{}:{}", std::process::id(), &random_id()[..6])
}
