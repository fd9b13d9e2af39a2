//! The periodic sweep of upload sessions that expired before completing.

use std::time::Duration;

use super::UploadError;
use super::service::UploadService;
use super::session::SessionState;
use crate::db::{self, videos::VideoChange};
use crate::events::VideoEvent;
use crate::video::VideoStatus;

impl UploadService {
    /// Drops the staged bytes of expired sessions and fails their videos; returns how many.
    pub async fn sweep_expired(&self) -> Result<usize, UploadError> {
        let mut swept = 0;
        for id in self.sessions.expired(100).await? {
            // A writer holds it: it is active after all; look again next time.
            let Some(lock) = self
                .sessions
                .lock(&id, "lock", Duration::from_secs(30))
                .await?
            else {
                continue;
            };
            match self.sessions.get(&id).await? {
                Some(mut session) if session.is_expired() => {
                    self.staging.remove(&id).await?;
                    if let Some(video) = session.video_id {
                        let mut conn = self.db.get().await?;
                        let change = VideoChange {
                            error: Some(Some("upload expired before it completed".into())),
                            ..VideoChange::default()
                        };
                        let failed = db::videos::transition(
                            &mut conn,
                            video,
                            VideoStatus::UploadFailed,
                            change,
                        )
                        .await?;
                        if let Some(failed) = failed
                            && let Err(e) =
                                self.events.publish(&VideoEvent::snapshot(&failed)).await
                        {
                            tracing::warn!(error = %e, "event not published");
                        }
                    }
                    session.md5_state = None;
                    session.state = SessionState::Expired;
                    self.sessions.put(&session).await?;
                    swept += 1;
                }
                // Only the index entry was left.
                None => self.sessions.remove(&id, None).await?,
                Some(_) => {}
            }
            lock.release().await;
        }
        Ok(swept)
    }

    /// Sweeps every `every` until the process ends.
    pub fn spawn_sweeper(self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match self.sweep_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(swept = n, "expired uploads cleaned up"),
                    Err(e) => tracing::warn!(error = %e, "upload sweep failed"),
                }
            }
        })
    }
}
