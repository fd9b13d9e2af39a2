//! What a watermark profile is made of, checked before anything is stored: the image's
//! source and bounds, the placement, the name; and the domain's errors.

use crate::error::{Coded, ErrorCode, InfraError};
use crate::model::WatermarkPosition;

/// Largest overlay image accepted, bytes.
pub const MAX_IMAGE_BYTES: u64 = 2 << 20;
/// Longest profile name, characters.
const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum WatermarkError {
    #[error("{0}")]
    BadRequest(String),
    #[error("no such watermark")]
    NotFound,
    #[error("the image is larger than the {0} bytes allowed")]
    TooLarge(u64),
    /// ffprobe could not run (not the image's fault).
    #[error("cannot check the image: {0}")]
    Tool(String),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl Coded for WatermarkError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::NotFound => ErrorCode::NotFound,
            Self::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::Tool(_) => ErrorCode::Internal,
            Self::Infra(e) => e.code(),
        }
    }
}

impl From<diesel::result::Error> for WatermarkError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Infra(e.into())
    }
}

impl From<opendal::Error> for WatermarkError {
    fn from(e: opendal::Error) -> Self {
        Self::Infra(e.into())
    }
}

pub(super) fn bad(message: impl Into<String>) -> WatermarkError {
    WatermarkError::BadRequest(message.into())
}

/// Where a new overlay image comes from.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// The bytes themselves (GraphQL `content`, base64-decoded by the adapter).
    Bytes(Vec<u8>),
    /// A finished upload's stored image (`layout::watermark_upload_key`), taken once.
    Uploaded(String),
}

/// Where and how the overlay is burned in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub position: WatermarkPosition,
    pub margin: f64,
    pub scale: f64,
    pub opacity: f64,
}

impl Default for Placement {
    fn default() -> Self {
        Self {
            position: WatermarkPosition::default(),
            margin: 0.02,
            scale: 0.15,
            opacity: 1.0,
        }
    }
}

impl Placement {
    pub(super) fn check(&self) -> Result<(), WatermarkError> {
        let within = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
        if !within(self.margin, 0.0, 0.5) {
            return Err(bad(format!(
                "margin must be between 0 and 0.5 of the video's width, not {}",
                self.margin
            )));
        }
        if !within(self.scale, 0.0, 1.0) || self.scale == 0.0 {
            return Err(bad(format!(
                "scale must be above 0 and at most 1 (the overlay's share of the video's width), not {}",
                self.scale
            )));
        }
        if !within(self.opacity, 0.0, 1.0) {
            return Err(bad(format!(
                "opacity must be between 0 and 1, not {}",
                self.opacity
            )));
        }
        Ok(())
    }
}

/// A new profile.
#[derive(Debug, Clone)]
pub struct WatermarkInput {
    pub name: String,
    pub image: ImageSource,
    pub placement: Placement,
    /// Becomes the app's default (the one before it stops being the default).
    pub default: bool,
}

/// What an update changes (`None`: left as it is).
#[derive(Debug, Clone, Default)]
pub struct WatermarkUpdate {
    pub name: Option<String>,
    pub image: Option<ImageSource>,
    pub position: Option<WatermarkPosition>,
    pub margin: Option<f64>,
    pub scale: Option<f64>,
    pub opacity: Option<f64>,
    pub default: Option<bool>,
}

pub(super) fn check_name(name: &str) -> Result<String, WatermarkError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(bad(format!(
            "a watermark's name is 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_string())
}
