//! Uploads (docs/architecture.md, "Uploads"): sessions, staging, the two transfer modes
//! (stream and parts), the view every protocol renders, and the one completion path that
//! hands staged bytes to the video lifecycle.

mod audio_track;
mod complete;
mod concat;
pub mod digest;
mod init;
mod quota;
mod receive;
mod rules;
mod service;
pub mod session;
pub mod staging;
mod sweep;
mod text_track;
mod view;
mod watermark;

pub use rules::{MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, validate_file_name};
pub use service::{InitOutcome, NewUpload, TransferRequest, UploadService};
pub use session::{Concat, FileInfo, Transfer, UploadSession};
pub use view::{UploadState, UploadView};

use crate::error::{Coded, ErrorCode, InfraError};

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("upload not found")]
    NotFound,
    #[error("upload expired")]
    Expired,
    #[error("upload failed: {0}")]
    Failed(String),
    #[error("upload is already complete")]
    AlreadyComplete,
    #[error("{0}")]
    BadRequest(String),
    #[error("file is larger than the {0} bytes allowed")]
    TooLarge(u64),
    #[error("offset {given} does not match the upload's offset {expected}")]
    OffsetMismatch { expected: u64, given: u64 },
    #[error("checksum does not match the chunk; the chunk was discarded")]
    ChecksumMismatch,
    #[error("another request is writing this upload; retry shortly")]
    Locked,
    /// The writer's lock lapsed mid-write (the coordination store was unreachable or
    /// another writer took over): it stopped, and nothing after the last offset counts.
    #[error("the upload's write lock was lost; ask for the offset and resume")]
    LockLost,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Limited(#[from] crate::limits::LimitError),
    #[error(transparent)]
    Staging(#[from] crate::storage::io::CopyError),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl From<diesel::result::Error> for UploadError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Infra(e.into())
    }
}

impl From<crate::db::PoolError> for UploadError {
    fn from(e: crate::db::PoolError) -> Self {
        Self::Infra(e.into())
    }
}

impl Coded for UploadError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Expired => ErrorCode::Gone,
            Self::Failed(_) => ErrorCode::UploadFailed,
            Self::AlreadyComplete | Self::Conflict(_) => ErrorCode::Conflict,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::OffsetMismatch { .. } => ErrorCode::OffsetMismatch,
            Self::ChecksumMismatch => ErrorCode::ChecksumMismatch,
            Self::Locked => ErrorCode::Locked,
            Self::LockLost => ErrorCode::Unavailable,
            Self::Limited(e) => e.code(),
            Self::Staging(crate::storage::io::CopyError::TooLong(_)) => ErrorCode::PayloadTooLarge,
            Self::Staging(_) => ErrorCode::Internal,
            Self::Infra(e) => e.code(),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Limited(e) => e.retry_after(),
            _ => None,
        }
    }
}
