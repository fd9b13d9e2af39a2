//! Videos: the lifecycle (the one place a video changes state), the work it queues, and
//! the service adapters call to read, transcode, play and delete them.

pub mod added_audio;
pub mod clips;
pub mod downloads;
pub mod fetch;
pub mod images;
pub mod keys;
pub mod lifecycle;
mod service;
pub mod tracks;
pub mod uri;
pub mod work;

pub use crate::db::models::{Snapshot, Video};
pub use lifecycle::Lifecycle;
pub use service::{Page, VideoService};

use crate::error::{Coded, ErrorCode, InfraError};

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("video not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Delivery(#[from] crate::delivery::DeliveryError),
    #[error(transparent)]
    Limited(#[from] crate::limits::LimitError),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl From<uri::UriError> for VideoError {
    fn from(e: uri::UriError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

impl From<fetch::FetchError> for VideoError {
    fn from(e: fetch::FetchError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

impl From<diesel::result::Error> for VideoError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Infra(e.into())
    }
}

impl From<crate::db::PoolError> for VideoError {
    fn from(e: crate::db::PoolError) -> Self {
        Self::Infra(e.into())
    }
}

impl Coded for VideoError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Delivery(e) => e.code(),
            Self::Limited(e) => e.code(),
            Self::Infra(e) => e.code(),
        }
    }
}
