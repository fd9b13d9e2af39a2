//! Starting uploads and receiving their bytes, for tus, the seed API and GraphQL alike.

use std::time::Duration;

use super::UploadError;
use super::session::{
    Concat, FileInfo, SessionState, SessionStore, Transfer, UploadLock, UploadSession,
};
use super::staging::Staging;
use super::view::UploadView;
use crate::config::UploadConfig;
use crate::db::DbPool;
use crate::delivery::Origins;
use crate::limits::Limits;
use crate::model::{AppId, UploadId};
use crate::storage::Storage;
use crate::video::{Lifecycle, Video, lifecycle};

/// How long a writer's lock lives without renewal (renewed every third of it): short,
/// so the lock of a crashed node frees within seconds.
const LOCK_TTL: Duration = Duration::from_secs(6);
/// How long a request waits for an upload's lock before answering 423: a PATCH whose
/// client just went away holds it while it saves what arrived, and a client resuming at
/// once (a reload, a restarted CLI) is often quicker than that.
const LOCK_WAIT: Duration = Duration::from_secs(2);
const LOCK_POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferRequest {
    Stream,
    Parts { part_size: u64 },
}

#[derive(Debug, Clone)]
pub struct NewUpload {
    pub app: AppId,
    /// The app's key, which names its limit overrides.
    pub app_key: String,
    pub file: FileInfo,
    /// `None`: tus `Upload-Defer-Length`.
    pub size: Option<u64>,
    pub transfer: TransferRequest,
    pub concat: Concat,
}

#[allow(clippy::large_enum_variant)] // a one-off return value
pub enum InitOutcome {
    Upload(UploadView),
    /// Instant upload: the bytes were already stored; no data needs to be sent. The
    /// upload is already complete (so tus HEAD and resume answer with the video).
    Instant {
        video: Video,
        upload: UploadView,
    },
}

#[derive(Clone)]
pub struct UploadService {
    pub(super) db: DbPool,
    pub(super) sessions: SessionStore,
    pub(super) staging: Staging,
    pub(super) storage: Storage,
    pub(super) lifecycle: Lifecycle,
    pub(super) limits: Limits,
    pub(super) config: UploadConfig,
    /// Where a text track upload's files are published.
    pub(super) origins: Origins,
}

impl UploadService {
    #[allow(clippy::too_many_arguments)] // the services it stands on, wired once
    pub fn new(
        db: DbPool,
        sessions: SessionStore,
        staging: Staging,
        storage: Storage,
        lifecycle: Lifecycle,
        limits: Limits,
        config: UploadConfig,
        origins: Origins,
    ) -> Self {
        Self {
            origins,
            db,
            sessions,
            staging,
            storage,
            lifecycle,
            limits,
            config,
        }
    }

    pub fn config(&self) -> &UploadConfig {
        &self.config
    }

    pub fn max_size(&self) -> u64 {
        self.config.max_size
    }

    /// The upload `id` of `app`, refusing unknown, foreign and expired ones.
    pub(super) async fn get(
        &self,
        app: AppId,
        id: &UploadId,
    ) -> Result<UploadSession, UploadError> {
        let session = self.sessions.get(id).await?.filter(|s| s.app_id == app);
        unexpired(session)
    }

    /// Like `get`, but only while bytes may still be written.
    pub(super) async fn receiving(
        &self,
        app: AppId,
        id: &UploadId,
    ) -> Result<UploadSession, UploadError> {
        let session = self.get(app, id).await?;
        match &session.state {
            SessionState::Receiving => Ok(session),
            SessionState::Done { .. } => Err(UploadError::AlreadyComplete),
            SessionState::Failed { reason } => Err(UploadError::Failed(reason.clone())),
            SessionState::Expired => Err(UploadError::Expired),
        }
    }

    /// Takes `name`'s lock on the upload, waiting up to `LOCK_WAIT` for the holder before
    /// answering `Locked`.
    pub(super) async fn lock(&self, id: &UploadId, name: &str) -> Result<UploadLock, UploadError> {
        let deadline = tokio::time::Instant::now() + LOCK_WAIT;
        loop {
            if let Some(lock) = self.sessions.lock(id, name, LOCK_TTL).await? {
                return Ok(lock);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(UploadError::Locked);
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }

    /// `app`'s upload `id`, read after waiting (up to `LOCK_WAIT`) for a stream write in
    /// flight to finish, so the offset a resuming client is given (tus HEAD, seed resume,
    /// GraphQL `upload`) is not the one from before its own broken-off request.
    pub(super) async fn settled_session(
        &self,
        app: AppId,
        id: &UploadId,
    ) -> Result<Option<UploadSession>, UploadError> {
        let mine = |s: &UploadSession| s.app_id == app;
        let session = self.sessions.get(id).await?.filter(mine);
        let writing = |s: &UploadSession| {
            s.transfer == Transfer::Stream && s.state == SessionState::Receiving
        };
        if !session.as_ref().is_some_and(writing) {
            return Ok(session);
        }
        match self.lock(id, "lock").await {
            Ok(lock) => lock.release().await,
            Err(UploadError::Locked) => {} // a live write: its offset is still moving
            Err(e) => return Err(e),
        }
        Ok(self.sessions.get(id).await?.filter(mine))
    }

    /// Where the upload stands, as its owner may see it (expired or finished included,
    /// after any stream write in flight); `NotFound` when unknown or another app's.
    pub async fn view(&self, app: AppId, id: &UploadId) -> Result<UploadView, UploadError> {
        let session = self
            .settled_session(app, id)
            .await?
            .ok_or(UploadError::NotFound)?;
        self.view_of(session).await
    }

    pub(super) async fn view_of(&self, session: UploadSession) -> Result<UploadView, UploadError> {
        let missing = match session.transfer {
            // A finished upload lacks nothing (an instant one never had parts).
            Transfer::Parts { .. } if session.state != SessionState::Receiving => Vec::new(),
            Transfer::Parts { count, .. } => {
                let have = self.sessions.parts(&session.id).await?;
                (1..=count).filter(|n| !have.contains_key(n)).collect()
            }
            Transfer::Stream => Vec::new(),
        };
        Ok(UploadView::new(session, missing))
    }

    /// tus termination: forgets the upload, its bytes and its unfinished video.
    pub async fn terminate(&self, app: AppId, id: &UploadId) -> Result<(), UploadError> {
        let session = self.get(app, id).await?;
        let lock = self.lock(id, "lock").await?;
        self.staging.remove(id).await?;
        self.sessions.remove(id).await?;
        if let (SessionState::Receiving, Some(video)) = (&session.state, session.video_id) {
            self.discard_video(app, video).await?;
        }
        lock.release().await;
        Ok(())
    }
}

impl UploadService {
    /// Drops the `UPLOADING` video of an upload that will not finish.
    pub(super) async fn discard_video(
        &self,
        app: AppId,
        video: crate::model::VideoId,
    ) -> Result<(), UploadError> {
        let mut conn = self.db.get().await?;
        Ok(lifecycle::discard_upload(&mut conn, app, video).await?)
    }
}

/// An upload its caller may still write to or ask about: unknown and expired refused.
fn unexpired(session: Option<UploadSession>) -> Result<UploadSession, UploadError> {
    let session = session.ok_or(UploadError::NotFound)?;
    if session.is_expired() || session.state == SessionState::Expired {
        return Err(UploadError::Expired);
    }
    Ok(session)
}

/// Runs `work` while renewing `lock` in the background, so long writes keep it. When the
/// lock is lost (taken by another writer), or cannot be renewed for so long that it may
/// lapse before the next try, `work` is stopped: two writers never write at once.
pub(super) async fn with_renewal<T>(
    lock: &UploadLock,
    work: impl Future<Output = Result<T, UploadError>>,
) -> Result<T, UploadError> {
    let every = lock.ttl() / 3;
    let renew = async {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        let mut held_at = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            let asked = tokio::time::Instant::now();
            match lock.renew().await {
                Ok(true) => held_at = asked,
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "upload lock could not be renewed");
                    // The lock lapses `ttl` after the last renewal; stop a tick before.
                    if held_at.elapsed() + every >= lock.ttl() {
                        return;
                    }
                }
            }
        }
    };
    tokio::select! {
        out = work => out,
        () = renew => {
            tracing::warn!("upload lock lost: the write stops");
            Err(UploadError::LockLost)
        }
    }
}
