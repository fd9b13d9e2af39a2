//! The stable error codes every adapter speaks (GraphQL `extensions.code`, REST `code`)
//! and the one mapping of each to an HTTP status. No web framework here: adapters turn
//! the number into their own status type.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadRequest,
    Conflict,
    PayloadTooLarge,
    /// An upload that expired (HTTP 410).
    Gone,
    UploadFailed,
    OffsetMismatch,
    /// tus checksum extension: 460.
    ChecksumMismatch,
    Locked,
    /// A request body that did not arrive in time.
    RequestTimeout,
    RateLimited,
    Unavailable,
    /// A play URL asked of a video without published renditions.
    NotPlayable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadRequest => "BAD_REQUEST",
            Self::Conflict => "CONFLICT",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::Gone => "EXPIRED",
            Self::UploadFailed => "UPLOAD_FAILED",
            Self::OffsetMismatch => "OFFSET_MISMATCH",
            Self::ChecksumMismatch => "CHECKSUM_MISMATCH",
            Self::Locked => "LOCKED",
            Self::RequestTimeout => "TIMEOUT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::NotPlayable => "NOT_PLAYABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status of the code, for every adapter that answers over HTTP.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::BadRequest => 400,
            Self::Conflict | Self::OffsetMismatch | Self::NotPlayable => 409,
            Self::PayloadTooLarge => 413,
            Self::RequestTimeout => 408,
            Self::Gone => 410,
            Self::UploadFailed => 422,
            Self::Locked => 423,
            Self::RateLimited => 429,
            // tus checksum extension.
            Self::ChecksumMismatch => 460,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }
}

/// Implemented by each domain's error enum: the one place its variants get a code.
pub trait Coded: std::error::Error {
    fn code(&self) -> ErrorCode;

    /// When the client may try again (`Retry-After`), for refusals that pass with time.
    fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }

    /// The text shown to clients. Internal errors hide their details (they are logged).
    fn public_message(&self) -> String {
        match self.code() {
            ErrorCode::Internal => "internal error".into(),
            _ => self.to_string(),
        }
    }
}

/// Failures of the infrastructure under a service (database, Redis, storage).
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("storage: {0}")]
    Storage(#[from] opendal::Error),
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for InfraError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Pool(e.to_string())
    }
}

impl InfraError {
    /// Infrastructure that is down or saturated is 503, not a bug.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Pool(_) => ErrorCode::Unavailable,
            Self::Redis(e) if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() => {
                ErrorCode::Unavailable
            }
            _ => ErrorCode::Internal,
        }
    }
}
