//! Upload sessions in Redis: one record per upload for both protocols, a hash of the
//! received parts, and a lock that serialises writers across nodes.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::error::InfraError;
use crate::kv::Kv;
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

#[derive(Clone)]
pub struct SessionStore {
    kv: Kv,
}

impl SessionStore {
    pub fn new(kv: Kv) -> Self {
        Self { kv }
    }

    fn key(&self, id: &UploadId) -> String {
        self.kv.key(&format!("upload:{id}"))
    }

    fn parts_key(&self, id: &UploadId) -> String {
        self.kv.key(&format!("upload:{id}:parts"))
    }

    fn index_key(&self) -> String {
        self.kv.key("uploads:expiry")
    }

    /// An app's open uploads, scored by expiry (for `limits.max_concurrent_uploads`).
    pub(super) fn app_uploads_key(&self, app: AppId) -> String {
        self.kv.key(&format!("uploads:app:{app}"))
    }

    /// Declared sizes of an app's open uploads (for `limits.max_storage_bytes`).
    pub(super) fn app_bytes_key(&self, app: AppId) -> String {
        self.kv.key(&format!("uploads:app:{app}:bytes"))
    }

    pub(super) fn conn(&self) -> redis::aio::ConnectionManager {
        self.kv.conn()
    }

    pub async fn get(&self, id: &UploadId) -> Result<Option<UploadSession>, InfraError> {
        let raw: Option<String> = self.kv.conn().get(self.key(id)).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// Writes the session; unfinished sessions are indexed by expiry for the sweeper.
    pub async fn put(&self, session: &UploadSession) -> Result<(), InfraError> {
        let json = serde_json::to_string(session).expect("sessions serialize");
        let mut conn = self.kv.conn();
        let ttl = match session.state {
            SessionState::Receiving => {
                let left = (session.expires_at - Utc::now()).num_seconds().max(1) as u64;
                left + EXPIRED_GRACE.as_secs()
            }
            _ => TOMBSTONE_TTL.as_secs(),
        };
        let mut pipe = redis::pipe();
        pipe.set_ex(self.key(&session.id), json, ttl);
        let (app_uploads, app_bytes) = (
            self.app_uploads_key(session.app_id),
            self.app_bytes_key(session.app_id),
        );
        match session.state {
            SessionState::Receiving => {
                let expires = session.expires_at.timestamp();
                pipe.zadd(self.index_key(), session.id.as_str(), expires)
                    .zadd(&app_uploads, session.id.as_str(), expires)
                    .hset(&app_bytes, session.id.as_str(), session.size.unwrap_or(0))
                    .expire(&app_uploads, ttl as i64)
                    .expire(&app_bytes, ttl as i64)
            }
            _ => pipe
                .zrem(self.index_key(), session.id.as_str())
                .zrem(&app_uploads, session.id.as_str())
                .hdel(&app_bytes, session.id.as_str()),
        };
        pipe.expire(self.parts_key(&session.id), ttl as i64);
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Removes the session and its parts entirely (and from `app`'s open uploads).
    pub async fn remove(&self, id: &UploadId, app: Option<AppId>) -> Result<(), InfraError> {
        let mut conn = self.kv.conn();
        let mut pipe = redis::pipe();
        pipe.del(self.key(id))
            .del(self.parts_key(id))
            .zrem(self.index_key(), id.as_str());
        if let Some(app) = app {
            pipe.zrem(self.app_uploads_key(app), id.as_str())
                .hdel(self.app_bytes_key(app), id.as_str());
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Records a received part's md5 unless the part is already there; returns the md5
    /// already recorded for it, if any.
    pub async fn add_part(
        &self,
        id: &UploadId,
        part: u32,
        md5: &str,
    ) -> Result<Option<String>, InfraError> {
        let mut conn = self.kv.conn();
        let key = self.parts_key(id);
        let added: bool = conn.hset_nx(&key, part, md5).await?;
        if added {
            return Ok(None);
        }
        Ok(conn.hget(&key, part).await?)
    }

    pub async fn parts(&self, id: &UploadId) -> Result<BTreeMap<u32, String>, InfraError> {
        Ok(self.kv.conn().hgetall(self.parts_key(id)).await?)
    }

    /// Ids of sessions whose expiry has passed.
    pub async fn expired(&self, limit: usize) -> Result<Vec<UploadId>, InfraError> {
        let ids: Vec<String> = self
            .kv
            .conn()
            .zrangebyscore_limit(
                self.index_key(),
                "-inf",
                Utc::now().timestamp(),
                0,
                limit as isize,
            )
            .await?;
        Ok(ids.iter().filter_map(|s| UploadId::parse(s)).collect())
    }

    /// Takes `name`'s lock on this upload for `ttl`; `None` when another holder has it.
    pub async fn lock(
        &self,
        id: &UploadId,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<UploadLock>, InfraError> {
        let key = self.kv.key(&format!("upload:{id}:{name}"));
        let token = random_id();
        let mut conn = self.kv.conn();
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        Ok(taken.map(|_| UploadLock {
            kv: self.kv.clone(),
            key,
            token,
            ttl,
        }))
    }
}

/// A held lock. Renew it during long writes; release it when done (it expires otherwise).
pub struct UploadLock {
    kv: Kv,
    key: String,
    token: String,
    ttl: Duration,
}

const RELEASE: &str = r#"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"#;
const RENEW: &str = r#"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end"#;

impl UploadLock {
    /// Extends the lock; false when it was lost (expired and taken by someone else).
    pub async fn renew(&self) -> Result<bool, InfraError> {
        let kept: i64 = redis::Script::new(RENEW)
            .key(&self.key)
            .arg(&self.token)
            .arg(self.ttl.as_millis() as u64)
            .invoke_async(&mut self.kv.conn())
            .await?;
        Ok(kept == 1)
    }

    pub async fn release(self) {
        let released: Result<i64, _> = redis::Script::new(RELEASE)
            .key(&self.key)
            .arg(&self.token)
            .invoke_async(&mut self.kv.conn())
            .await;
        if let Err(e) = released {
            tracing::warn!(key = self.key, error = %e, "lock not released; it will expire");
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}
