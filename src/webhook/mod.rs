//! Webhooks (docs/architecture.md, "Webhooks"): endpoints apps register, the events
//! they receive, how a delivery is signed, and the outbox that records deliveries in the
//! transaction that changes the video. Sending is the `webhook` job's (`jobs/webhook.rs`).

pub mod outbox;
mod service;

pub use crate::db::webhooks::{AttemptRow, DeliveryRow, WebhookRow};
pub use service::{ResealError, WebhookService};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::models::Video;
use crate::error::{Coded, ErrorCode, InfraError};
use crate::model::VideoStatus;

pub const DELETED: &str = "video.deleted";
/// Every rung of a video that became playable on its first one has joined it.
pub const LADDER_COMPLETE: &str = "video.ladder_complete";
/// Every event an endpoint can ask for.
pub const EVENTS: [&str; 8] = [
    "video.uploaded",
    "video.upload_failed",
    "video.transcoding",
    "video.transcoded",
    "video.transcode_failed",
    "video.playable",
    LADDER_COMPLETE,
    DELETED,
];

/// Whose a sealed webhook secret is (crate::sealing): the app's, so a secret copied to
/// another app's endpoint does not open.
pub fn secret_owner(app: crate::model::AppId) -> String {
    format!("webhook:{app}")
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

impl From<crate::db::PoolError> for WebhookError {
    fn from(e: crate::db::PoolError) -> Self {
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
