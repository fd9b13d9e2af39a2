//! Where an upload stands, as every protocol shows it: tus (`HEAD`, `PATCH`), the seed
//! API (`init`, `upload`, `resume`) and GraphQL (`initUpload`, `upload`) render this one
//! view, each in its own shape.

use chrono::{DateTime, Utc};

use super::UploadError;
use super::session::{Concat, SessionState, Transfer, UploadSession};
use crate::model::{UploadId, VideoId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadState {
    /// Bytes may still be sent.
    Receiving,
    /// Every byte arrived; `video` is what it made (none for a tus partial upload).
    Complete {
        video: Option<VideoId>,
    },
    Failed {
        reason: String,
    },
    /// It ran out of time before completing.
    Expired,
}

#[derive(Debug, Clone)]
pub struct UploadView {
    pub id: UploadId,
    pub state: UploadState,
    pub file_name: String,
    /// The md5 the client declared (lowercase hex).
    pub declared_md5: Option<String>,
    /// tus `Upload-Metadata` as sent.
    pub tus_metadata: Option<String>,
    pub concat: Concat,
    pub transfer: Transfer,
    /// Declared total size; `None` while a tus upload defers its length.
    pub size: Option<u64>,
    /// Bytes received (whole parts, for part transfers).
    pub received: u64,
    /// Part transfers: the part numbers not received yet.
    pub missing_parts: Vec<u32>,
    /// The video the upload fills.
    pub video_id: Option<VideoId>,
    pub expires_at: DateTime<Utc>,
}

impl UploadView {
    pub fn new(session: UploadSession, missing_parts: Vec<u32>) -> Self {
        let state = match session.state {
            _ if session.is_expired() => UploadState::Expired,
            SessionState::Receiving => UploadState::Receiving,
            SessionState::Done { video_id } => UploadState::Complete { video: video_id },
            SessionState::Failed { ref reason } => UploadState::Failed {
                reason: reason.clone(),
            },
            SessionState::Expired => UploadState::Expired,
        };
        Self {
            received: session.received_bytes(&missing_parts),
            id: session.id,
            state,
            file_name: session.file.name,
            declared_md5: session.file.md5,
            tus_metadata: session.file.tus_metadata,
            concat: session.concat,
            transfer: session.transfer,
            size: session.size,
            missing_parts,
            video_id: session.video_id,
            expires_at: session.expires_at,
        }
    }

    /// The video this upload made, once complete.
    pub fn finished_video(&self) -> Option<VideoId> {
        match self.state {
            UploadState::Complete { video } => video,
            _ => None,
        }
    }

    /// Parts transfers: `(received, count)`.
    pub fn parts(&self) -> Option<(u32, u32)> {
        match self.transfer {
            Transfer::Parts { count, .. } => Some((count - self.missing_parts.len() as u32, count)),
            Transfer::Stream => None,
        }
    }

    /// Why a client may not go on with this upload (expired, failed), for the protocols
    /// that answer those with an error rather than a state.
    pub fn refusal(&self) -> Option<UploadError> {
        match &self.state {
            UploadState::Expired => Some(UploadError::Expired),
            UploadState::Failed { reason } => Some(UploadError::Failed(reason.clone())),
            UploadState::Receiving | UploadState::Complete { .. } => None,
        }
    }
}
