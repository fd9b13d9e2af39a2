//! The periodic sweeps: upload sessions that expired before completing, and what uploads
//! leave behind when their sessions are lost.

use std::time::Duration;

use super::UploadError;
use super::service::UploadService;
use super::session::SessionState;
use crate::db;

/// How long past a session's lifetime its leftovers wait before the orphan sweep takes
/// them (a session may be written moments before it expires).
const ORPHAN_MARGIN: Duration = Duration::from_secs(3600);

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
                        self.fail_video(video, "upload expired before it completed")
                            .await?;
                    }
                    session.md5_state = None;
                    session.state = SessionState::Expired;
                    self.sessions.put(&session).await?;
                    swept += 1;
                }
                _ => {}
            }
            lock.release().await;
        }
        Ok(swept)
    }

    /// What the session sweep cannot see because the sessions themselves are gone (they
    /// were in Redis before sessions moved to Postgres, or a row was deleted by hand):
    /// videos still `UPLOADING` past any session's lifetime are failed, and staged bytes
    /// without a session, untouched as long, are deleted. Returns how many of each.
    pub async fn sweep_orphans(&self) -> Result<(usize, usize), UploadError> {
        let lifetime = Duration::from_secs(self.config.expiry_secs) + ORPHAN_MARGIN;
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::MAX);
        let mut conn = self.db.get().await?;
        let stale = db::scans::uploading_since_before(&mut conn, cutoff, 100).await?;
        drop(conn);
        let mut failed = 0;
        for video in stale {
            let reason = "upload session lost before the upload completed";
            if self.fail_video(video, reason).await? {
                failed += 1;
            }
        }
        let mut removed = 0;
        let before = std::time::SystemTime::now() - lifetime;
        for id in self.staging.written_before(before).await? {
            if self.sessions.get(&id).await?.is_none() {
                self.staging.remove(&id).await?;
                removed += 1;
            }
        }
        Ok((failed, removed))
    }

    /// Sweeps expired sessions every `every` until the process ends, and orphans (which
    /// only ever concern things older than `ORPHAN_MARGIN`) about once per margin.
    pub fn spawn_sweeper(self, every: Duration) -> tokio::task::JoinHandle<()> {
        let orphans_every = (ORPHAN_MARGIN.as_secs() / every.as_secs().max(1)).max(1);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            for n in 0u64.. {
                tick.tick().await;
                match self.sweep_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(swept = n, "expired uploads cleaned up"),
                    Err(e) => tracing::warn!(error = %e, "upload sweep failed"),
                }
                if let Err(e) = self.sessions.prune().await {
                    tracing::warn!(error = %e, "pruning finished upload sessions failed");
                }
                if n % orphans_every != 0 {
                    continue;
                }
                match self.sweep_orphans().await {
                    Ok((0, 0)) => {}
                    Ok((videos, staged)) => {
                        tracing::warn!(videos, staged, "uploads without a session cleaned up")
                    }
                    Err(e) => tracing::warn!(error = %e, "orphan upload sweep failed"),
                }
            }
        })
    }
}
