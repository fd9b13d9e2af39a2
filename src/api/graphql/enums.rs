//! GraphQL enums mirroring the model's.

use async_graphql::Enum;

use crate::auth::Scope;
use crate::model::{Definition, VideoStatus};

/// Where a video is in its life.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "VideoStatus", remote = "VideoStatus")]
pub enum GqlVideoStatus {
    Uploading,
    Uploaded,
    UploadFailed,
    TranscodeQueued,
    Transcoding,
    Transcoded,
    TranscodeFailed,
    Playable,
}

/// Rendition level: LD 360p, SD 480p, HD 720p, FHD 1080p, QHD 1440p, UHD 2160p.
#[allow(clippy::upper_case_acronyms)] // the industry names of the rungs
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Definition", remote = "Definition", rename_items = "UPPERCASE")]
pub enum GqlDefinition {
    LD,
    SD,
    HD,
    FHD,
    QHD,
    UHD,
}

/// What a browser token may do (`createToken(scopes:)`).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "TokenScope", remote = "Scope")]
pub enum GqlTokenScope {
    /// Read videos, uploads and events.
    Read,
    /// Upload, transcode, retranscode and delete videos.
    Upload,
    /// Get signed play and media URLs.
    Play,
    /// Manage webhooks, call `transcodeUri`, and give tokens that may.
    Manage,
}
