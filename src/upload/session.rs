//! Upload sessions: one record per upload for both protocols, the received parts, and the
//! leases that serialise writers across nodes, all in Postgres.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::{self, DbPool};
use crate::error::InfraError;
use crate::model::{AppId, UploadId, VideoId, WatermarkChoice, random_id};

/// How the bytes arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Transfer {
    /// One stream in order (tus PATCHes, or seed uploads with `Content-Range`).
    Stream,
    /// Fixed-size parts 1..=count in any order (seed part API).
    Parts { part_size: u64, count: u32 },
}

/// tus concatenation role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Concat {
    #[default]
    None,
    /// Bytes only, later joined by a final upload; creates no video.
    Partial,
    /// The join of these partial uploads.
    Final { parts: Vec<UploadId> },
}

/// What the client said about the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    pub name: String,
    pub file_type: Option<String>,
    pub md5: Option<String>,
    pub auto_transcode: bool,
    pub priority: i32,
    pub passthrough: Option<String>,
    /// tus `Upload-Metadata` as sent, echoed on HEAD.
    pub tus_metadata: Option<String>,
    /// Encrypt the video's segments (AES-128), whatever the app's setting.
    #[serde(default)]
    pub encrypt: bool,
    /// The upload is a text track of an existing video, not a video.
    #[serde(default)]
    pub text_track: Option<TextTrackFor>,
    /// The upload is an audio track (another language) of an existing video.
    #[serde(default)]
    pub audio_track: Option<AudioTrackFor>,
    /// The downloads the video asks for (checked definitions); `None`: the app's default.
    #[serde(default)]
    pub downloads: Option<Vec<String>>,
    /// The video's watermark: a profile of the app, or none; unset, the app's default.
    #[serde(default)]
    pub watermark: Option<WatermarkChoice>,
    /// The upload is an overlay image for a watermark profile, not a video.
    #[serde(default)]
    pub watermark_image: bool,
}

/// What an audio track upload becomes (tus metadata `audioTrackFor`, `language`, `name`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioTrackFor {
    pub video: VideoId,
    pub language: String,
    pub name: Option<String>,
}

/// What a text track upload becomes (tus metadata `textTrackFor`, `language`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextTrackFor {
    pub video: VideoId,
    pub language: String,
    pub name: Option<String>,
    pub kind: crate::model::TextTrackKind,
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SessionState {
    Receiving,
    /// Finished; kept as a small tombstone so HEAD/resume can answer with the video.
    Done {
        video_id: Option<VideoId>,
    },
    Failed {
        reason: String,
    },
    /// Expired before completing; its bytes were swept.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadSession {
    pub id: UploadId,
    pub app_id: AppId,
    /// The app's key, which names its limit overrides (sessions from before it was kept
    /// have none: the default limits apply).
    #[serde(default)]
    pub app_key: String,
    /// The `UPLOADING` video this upload fills (none for tus partial uploads).
    pub video_id: Option<VideoId>,
    pub transfer: Transfer,
    /// Declared total size; `None` while a tus upload defers its length.
    pub size: Option<u64>,
    /// Stream transfers: bytes received so far.
    pub offset: u64,
    /// Stream transfers: MD5 state of bytes `0..offset` (see `digest::RunningMd5`).
    pub md5_state: Option<String>,
    pub file: FileInfo,
    pub concat: Concat,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub state: SessionState,
}

impl UploadSession {
    /// The video this upload made, once it is complete.
    pub fn finished_video(&self) -> Option<VideoId> {
        match self.state {
            SessionState::Done { video_id } => video_id,
            _ => None,
        }
    }

    /// Bytes received so far (parts transfers count whole parts).
    pub fn received_bytes(&self, missing_parts: &[u32]) -> u64 {
        match self.transfer {
            Transfer::Stream => self.offset,
            Transfer::Parts { part_size, count } => {
                let size = self.size.unwrap_or(0);
                let missing: u64 = missing_parts
                    .iter()
                    .map(|&n| super::rules::part_len(size, part_size, count, n))
                    .sum();
                size - missing
            }
        }
    }

    pub fn is_expired(&self) -> bool {
        matches!(self.state, SessionState::Receiving) && Utc::now() >= self.expires_at
    }
}

/// How long tombstones of finished uploads are kept.
const TOMBSTONE_TTL: Duration = Duration::from_secs(24 * 3600);
/// Expired sessions stay readable this long, so clients get 410 rather than 404.
const EXPIRED_GRACE: Duration = Duration::from_secs(24 * 3600);

/// The sessions, their parts and the writers' leases, in Postgres: they outlive a Redis
/// that restarts empty or is down (docs/architecture.md, "Uploads").
#[derive(Clone)]
pub struct SessionStore {
    db: DbPool,
}

impl SessionStore {
    pub fn new(db: DbPool) -> Self {
        Self { db }
    }

    pub async fn get(&self, id: &UploadId) -> Result<Option<UploadSession>, InfraError> {
        let mut conn = self.db.get().await?;
        let stored = db::uploads::get(&mut conn, id.as_str()).await?;
        Ok(stored.and_then(|json| match serde_json::from_value(json) {
            Ok(session) => Some(session),
            Err(e) => {
                tracing::error!(upload = %id, error = %e, "unreadable upload session");
                None
            }
        }))
    }

    /// Writes the session (it keeps counting against its app's limits while receiving).
    pub async fn put(&self, session: &UploadSession) -> Result<(), InfraError> {
        let mut conn = self.db.get().await?;
        self.put_with(&mut conn, session).await
    }

    /// `put` on the caller's connection (inside its transaction).
    pub async fn put_with(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        session: &UploadSession,
    ) -> Result<(), InfraError> {
        Ok(db::uploads::upsert(conn, &session.row()).await?)
    }

    /// Removes the session and its parts entirely.
    pub async fn remove(&self, id: &UploadId) -> Result<(), InfraError> {
        let mut conn = self.db.get().await?;
        Ok(db::uploads::delete(&mut conn, id.as_str()).await?)
    }

    /// Records a received part's md5 unless the part is already there; returns the md5
    /// already recorded for it, if any.
    pub async fn add_part(
        &self,
        id: &UploadId,
        part: u32,
        md5: &str,
    ) -> Result<Option<String>, InfraError> {
        let mut conn = self.db.get().await?;
        Ok(db::uploads::add_part(&mut conn, id.as_str(), part, md5).await?)
    }

    pub async fn parts(&self, id: &UploadId) -> Result<BTreeMap<u32, String>, InfraError> {
        let mut conn = self.db.get().await?;
        let parts = db::uploads::parts(&mut conn, id.as_str()).await?;
        Ok(parts.into_iter().map(|(n, md5)| (n as u32, md5)).collect())
    }

    /// Ids of sessions whose expiry has passed.
    pub async fn expired(&self, limit: usize) -> Result<Vec<UploadId>, InfraError> {
        let mut conn = self.db.get().await?;
        let ids = db::uploads::expired(&mut conn, limit as i64).await?;
        Ok(ids.iter().filter_map(|s| UploadId::parse(s)).collect())
    }

    /// Deletes tombstones kept long enough and lapsed leases; returns how many sessions.
    pub async fn prune(&self) -> Result<usize, InfraError> {
        let mut conn = self.db.get().await?;
        Ok(db::uploads::prune(&mut conn, 1000).await?)
    }

    /// Takes `name`'s lease on this upload for `ttl`; `None` when another holder has it.
    pub async fn lock(
        &self,
        id: &UploadId,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<UploadLock>, InfraError> {
        let name = format!("{id}:{name}");
        let token = random_id();
        let mut conn = self.db.get().await?;
        let taken =
            db::uploads::take_lock(&mut conn, &name, &token, ttl.as_millis() as i64).await?;
        Ok(taken.then(|| UploadLock {
            db: self.db.clone(),
            name,
            token,
            ttl,
        }))
    }
}

impl UploadSession {
    fn row(&self) -> db::uploads::SessionRow<'_> {
        let receiving = self.state == SessionState::Receiving;
        let keep_until = if receiving {
            self.expires_at + EXPIRED_GRACE
        } else {
            Utc::now() + TOMBSTONE_TTL
        };
        db::uploads::SessionRow {
            id: self.id.as_str(),
            app_id: self.app_id,
            receiving,
            size: self.size.unwrap_or(0) as i64,
            expires_at: self.expires_at,
            keep_until,
            session: serde_json::to_value(self).expect("sessions serialize"),
        }
    }
}

/// A held lease. Renew it during long writes; release it when done (it lapses otherwise).
/// Leases are timed by the database's clock, so nodes with skewed clocks agree.
pub struct UploadLock {
    db: DbPool,
    name: String,
    token: String,
    ttl: Duration,
}

impl UploadLock {
    /// Extends the lease; false when it was lost (lapsed, and perhaps taken by another).
    pub async fn renew(&self) -> Result<bool, InfraError> {
        let mut conn = self.db.get().await?;
        let ttl = self.ttl.as_millis() as i64;
        Ok(db::uploads::renew_lock(&mut conn, &self.name, &self.token, ttl).await?)
    }

    pub async fn release(self) {
        let released = match self.db.get().await {
            Ok(mut conn) => db::uploads::release_lock(&mut conn, &self.name, &self.token)
                .await
                .map_err(InfraError::from),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = released {
            tracing::warn!(lock = self.name, error = %e, "lease not released; it will lapse");
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}
