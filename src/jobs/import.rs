//! The import job: fetch an `https://` source (under `video::fetch`'s policy) into
//! storage, then queue its transcode, as if it had been uploaded.

use diesel_async::AsyncConnection;
use serde_json::json;

use super::JobError;
use super::transcode::Pipeline;
use crate::db::{self, jobs::Job, jobs::NewJob, videos::VideoChange};
use crate::storage::layout;
use crate::video::{VideoStatus, fetch};

impl Pipeline {
    pub async fn import(&self, job: &Job, worker: &str) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("import job without a video".into()))?;
        let url = job.payload["url"]
            .as_str()
            .ok_or_else(|| JobError::Permanent("import job without a url".into()))?;
        let key = format!("{}source", layout::source_dir(id));
        let (size, md5) = fetch::fetch_into(
            url,
            &self.config,
            &self.storage,
            &key,
            self.max_source_bytes,
        )
        .await
        .map_err(|e| match e.is_transient() {
            true => JobError::Transient(e.to_string()),
            false => JobError::Permanent(e.to_string()),
        })?;
        let dst = job.payload["dst"].clone();
        let priority = job.payload["priority"].as_i64().map(|p| p as i32);
        let mut conn = self.db.get().await?;
        let changed = conn
            .transaction::<_, JobError, _>(async |conn| {
                let change = VideoChange {
                    file_size: Some(size as i64),
                    hash: Some(Some(md5)),
                    storage_uri: Some(key.clone()),
                    ..VideoChange::default()
                };
                let Some(uploaded) =
                    db::videos::transition(conn, id, VideoStatus::Uploaded, change).await?
                else {
                    return Ok(Vec::new());
                };
                db::jobs::enqueue(
                    conn,
                    NewJob {
                        kind: db::jobs::TRANSCODE,
                        app_id: Some(uploaded.app_id),
                        video_id: Some(id),
                        payload: json!({ "dst": dst }),
                        priority: priority.unwrap_or(uploaded.task_priority),
                        run_at: None,
                    },
                )
                .await?;
                let queued = db::videos::transition(
                    conn,
                    id,
                    VideoStatus::TranscodeQueued,
                    VideoChange::default(),
                )
                .await?;
                if !db::jobs::finish(conn, job.id, worker).await? {
                    return Err(JobError::Transient(
                        "the job was taken over by another worker".into(),
                    ));
                }
                Ok([Some(uploaded), queued].into_iter().flatten().collect())
            })
            .await?;
        drop(conn);
        if changed.is_empty() {
            // The video is gone (deleted meanwhile): drop the fetched bytes.
            let _ = self
                .storage
                .delete_with(&layout::source_dir(id))
                .recursive(true)
                .await;
            return Ok(());
        }
        for video in &changed {
            self.announce(video).await;
        }
        self.signal.notify().await;
        Ok(())
    }
}
