//! Why a play or file URL cannot be given.

use super::token::TokenError;
use crate::error::{Coded, ErrorCode};
use crate::model::VideoStatus;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the video has no published renditions yet (it is {0})")]
    NotPlayable(VideoStatus),
    #[error("unknown or disabled CDN {0:?}")]
    UnknownCdn(String),
    #[error("no CDN is enabled")]
    NoCdn,
    #[error("expiresIn must be between 1 and {0} seconds")]
    BadTtl(i64),
    #[error("{0}")]
    Token(#[from] TokenError),
    #[error("signing failed: {0}")]
    Signing(String),
}

impl Coded for DeliveryError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotPlayable(_) => ErrorCode::NotPlayable,
            Self::UnknownCdn(_) | Self::BadTtl(_) => ErrorCode::BadRequest,
            Self::NoCdn | Self::Signing(_) => ErrorCode::Internal,
            Self::Token(_) => ErrorCode::Forbidden,
        }
    }
}
