//! Videos: the status machine, rendition levels, and the service that reads and deletes them.

mod definition;
pub mod fetch;
mod service;
mod status;
pub mod uri;

pub use definition::Definition;
pub use service::{Page, VideoService};
pub use status::VideoStatus;

use crate::error::{Coded, ErrorCode, InfraError};

/// A source video or a rendition, as stored.
pub type Video = crate::db::models::VideoRow;
/// One snapshot image of a video.
pub type Snapshot = crate::db::models::SnapshotRow;

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
            Self::Infra(e) => e.code(),
        }
    }
}
