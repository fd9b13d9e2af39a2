//! Webhooks (DESIGN §12): endpoints apps register, the events they receive, and how a
//! delivery is signed. Sending is `dispatch`'s job.

pub mod dispatch;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::db::{self, DbPool, webhooks::WebhookRow};
use crate::error::{Coded, ErrorCode, InfraError};
use crate::ids::AppId;
use crate::video::{Video, VideoStatus};

pub const DELETED: &str = "video.deleted";
/// Every event an endpoint can ask for.
pub const EVENTS: [&str; 7] = [
    "video.uploaded",
    "video.upload_failed",
    "video.transcoding",
    "video.transcoded",
    "video.transcode_failed",
    "video.playable",
    DELETED,
];
/// Endpoints one app may register.
const MAX_WEBHOOKS: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// How long one POST may take, in seconds.
    pub timeout_secs: u64,
    /// How long a delivery is retried before it is given up, in hours.
    pub retry_hours: i64,
    /// Let endpoints be on private, loopback and link-local addresses (closed networks only).
    pub allow_private: bool,
    /// First retry delay in seconds; later ones grow (×3, ×6, ×30, … up to 4 h).
    pub retry_base_secs: i64,
    /// Deliveries sent at once by one node.
    pub concurrency: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout_secs: 10,
            retry_hours: 24,
            allow_private: false,
            retry_base_secs: 10,
            concurrency: 8,
        }
    }
}

/// The event a source's current status announces, if any.
pub fn event_for(video: &Video) -> Option<&'static str> {
    if video.parent_id.is_some() {
        return None;
    }
    Some(match video.status {
        VideoStatus::Uploaded => "video.uploaded",
        VideoStatus::UploadFailed => "video.upload_failed",
        VideoStatus::Transcoding => "video.transcoding",
        VideoStatus::Transcoded => "video.transcoded",
        VideoStatus::TranscodeFailed => "video.transcode_failed",
        VideoStatus::Playable => "video.playable",
        VideoStatus::Uploading | VideoStatus::TranscodeQueued => return None,
    })
}

/// The JSON body of an event.
pub fn payload(event_id: &str, event: &str, video: &Video, at: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "id": event_id,
        "type": event,
        "created_at": at.to_rfc3339(),
        "data": {
            "video_id": video.id.to_string(),
            "status": video.status.as_str(),
            "error": video.error,
            "passthrough": video.passthrough,
            "source_name": video.source_name,
            "file_size": video.file_size,
            "duration": video.duration,
        }
    })
}

/// `Reel-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    BadRequest(String),
    #[error("webhook not found")]
    NotFound,
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl From<diesel::result::Error> for WebhookError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Infra(e.into())
    }
}

impl From<db::PoolError> for WebhookError {
    fn from(e: db::PoolError) -> Self {
        Self::Infra(e.into())
    }
}

impl Coded for WebhookError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::NotFound => ErrorCode::NotFound,
            Self::Infra(e) => e.code(),
        }
    }
}

/// Checks an endpoint URL as given: http(s), a host, no credentials. Where it resolves
/// is checked again at every delivery (DNS may change).
pub fn check_url(raw: &str) -> Result<url::Url, WebhookError> {
    let url = url::Url::parse(raw)
        .map_err(|_| WebhookError::BadRequest(format!("{raw:?} is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WebhookError::BadRequest(
            "webhooks are http:// or https://".into(),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(WebhookError::BadRequest("the URL has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebhookError::BadRequest(
            "credentials do not belong in the URL".into(),
        ));
    }
    if raw.len() > 2000 {
        return Err(WebhookError::BadRequest("the URL is too long".into()));
    }
    Ok(url)
}

#[derive(Clone)]
pub struct WebhookService {
    db: DbPool,
}

impl WebhookService {
    pub fn new(db: DbPool) -> Self {
        Self { db }
    }

    /// Registers an endpoint for `events` (empty: all); the returned secret signs deliveries.
    pub async fn create(
        &self,
        app: AppId,
        url: &str,
        events: &[String],
    ) -> Result<WebhookRow, WebhookError> {
        let url = check_url(url)?;
        if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(WebhookError::BadRequest(format!(
                "unknown event {bad:?}; known: {}",
                EVENTS.join(", ")
            )));
        }
        let mut conn = self.db.get().await?;
        if db::webhooks::list(&mut conn, app).await?.len() >= MAX_WEBHOOKS {
            return Err(WebhookError::BadRequest(format!(
                "an app has at most {MAX_WEBHOOKS} webhooks"
            )));
        }
        let secret = format!("whsec_{}", hex::encode(rand::random::<[u8; 24]>()));
        let mut events = events.to_vec();
        events.sort();
        events.dedup();
        Ok(db::webhooks::insert(&mut conn, app, url.as_str(), &events, &secret).await?)
    }

    pub async fn list(&self, app: AppId) -> Result<Vec<WebhookRow>, WebhookError> {
        let mut conn = self.db.get().await?;
        Ok(db::webhooks::list(&mut conn, app).await?)
    }

    pub async fn delete(&self, app: AppId, id: i64) -> Result<(), WebhookError> {
        let mut conn = self.db.get().await?;
        if db::webhooks::delete(&mut conn, app, id).await? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    pub async fn deliveries(
        &self,
        app: AppId,
        webhook: i64,
        first: i64,
    ) -> Result<Vec<db::webhooks::DeliveryRow>, WebhookError> {
        let mut conn = self.db.get().await?;
        Ok(db::webhooks::deliveries(&mut conn, app, webhook, first).await?)
    }

    pub async fn attempts(
        &self,
        delivery: i64,
    ) -> Result<Vec<db::webhooks::AttemptRow>, WebhookError> {
        let mut conn = self.db.get().await?;
        Ok(db::webhooks::attempts(&mut conn, delivery).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_known_answer() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn urls() {
        assert!(check_url("https://hooks.example.com/reel").is_ok());
        assert!(check_url("http://127.0.0.1:9000/x").is_ok());
        for bad in [
            "ftp://x/y",
            "https://user:pw@x/",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
