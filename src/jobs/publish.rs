//! The publish job (copy a transcoded generation to every origin, then `PLAYABLE`) and
//! the purge job (remove a replaced generation once its viewers are done).

use diesel_async::AsyncConnection;

use super::JobError;
use super::outputs::purge_job;
use super::transcode::Pipeline;
use crate::db::{self, jobs::Job, videos::VideoChange};
use crate::video::VideoStatus;

impl Pipeline {
    /// One attempt of a publish job.
    pub async fn publish_job(&self, job: &Job, worker: &str) -> Result<(), JobError> {
        let id = job
            .video_id
            .ok_or_else(|| JobError::Permanent("publish job without a video".into()))?;
        let Some(video) = self.current(id).await? else {
            return self.finish(job, worker).await;
        };
        // A retranscode queued meanwhile will publish its own outputs.
        let Some(master) = video
            .playlist_uri
            .clone()
            .filter(|_| video.status == VideoStatus::Transcoded)
        else {
            return self.finish(job, worker).await;
        };
        let generation = master
            .strip_suffix("master.m3u8")
            .unwrap_or(&master)
            .to_string();
        let files = self
            .delivery
            .origins()
            .publish(&self.storage, &generation)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;

        let mut conn = self.db.get().await?;
        let retain = self.retain_replaced_secs;
        let done = conn
            .transaction::<_, JobError, _>(async |conn| {
                let Some(current) = db::pipeline::find_any_for_update(conn, id).await? else {
                    return Ok(None);
                };
                if current.status != VideoStatus::Transcoded
                    || current.playlist_uri.as_deref() != Some(master.as_str())
                {
                    return Ok(None);
                }
                let replaced = current
                    .published_uri
                    .as_deref()
                    .and_then(|p| p.strip_suffix("master.m3u8"))
                    .filter(|p| *p != generation)
                    .map(str::to_string);
                db::pipeline::set_published(conn, id, &master).await?;
                let change = VideoChange {
                    error: Some(None),
                    ..VideoChange::default()
                };
                let playable =
                    db::videos::transition(conn, id, VideoStatus::Playable, change).await?;
                if let (Some(prefix), Some(v)) = (replaced, &playable) {
                    db::jobs::enqueue(conn, purge_job(v, &prefix, retain)).await?;
                }
                if !db::jobs::finish(conn, job.id, worker).await? {
                    return Err(JobError::Transient(
                        "the job was taken over by another worker".into(),
                    ));
                }
                Ok(playable)
            })
            .await?;
        drop(conn);
        match done {
            Some(video) => {
                tracing::info!(video = %id, files, "published");
                self.announce(&video).await;
                Ok(())
            }
            // Deleted or retranscoded meanwhile: nothing to announce.
            None => self.finish(job, worker).await,
        }
    }

    /// One attempt of a purge job.
    pub async fn purge_job(&self, job: &Job, worker: &str) -> Result<(), JobError> {
        let prefix = job
            .payload
            .get("prefix")
            .and_then(|p| p.as_str())
            .filter(|p| p.ends_with('/') && !p.split('/').any(|s| s == ".."))
            .ok_or_else(|| JobError::Permanent("purge job without a generation".into()))?;
        self.remove_generation(prefix).await;
        self.finish(job, worker).await
    }

    pub(super) async fn finish(&self, job: &Job, worker: &str) -> Result<(), JobError> {
        let mut conn = self.db.get().await?;
        db::jobs::finish(&mut conn, job.id, worker).await?;
        Ok(())
    }
}
