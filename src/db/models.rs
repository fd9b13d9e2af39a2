//! Rows as diesel reads and writes them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{apps, video_snapshots, videos};
use crate::model::{AppId, Definition, Generation, VideoId, VideoStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = apps, check_for_backend(diesel::pg::Pg))]
pub struct App {
    pub id: AppId,
    pub name: String,
    pub app_key: String,
    /// The secret as stored: sealed when the operator set a master key (crate::sealing).
    #[diesel(column_name = app_secret)]
    pub stored_secret: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The secret before the last rotation, valid until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Every upload of the app is encrypted (AES-128 HLS), whatever it asks.
    pub encrypt_uploads: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = apps)]
pub struct NewApp<'a> {
    pub name: &'a str,
    pub app_key: &'a str,
    /// As stored (see `App::stored_secret`).
    pub app_secret: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = videos, check_for_backend(diesel::pg::Pg))]
pub struct Video {
    pub id: VideoId,
    pub app_id: AppId,
    pub parent_id: Option<VideoId>,
    pub unique_id: Option<VideoId>,
    pub source_name: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub file_size: i64,
    pub video_width: Option<i32>,
    pub video_height: Option<i32>,
    pub duration: Option<i64>,
    pub hash: Option<String>,
    pub definition: Option<Definition>,
    pub storage_uri: String,
    pub status: VideoStatus,
    pub image_index: i32,
    pub image_count: i32,
    pub task_priority: i32,
    pub progress: i16,
    pub error: Option<String>,
    pub passthrough: Option<String>,
    pub media_info: Option<serde_json::Value>,
    /// Sources: the HLS master playlist of the current renditions.
    pub playlist_uri: Option<String>,
    /// Sources: the scrubbing sprite sheet and its WebVTT track.
    pub sprite_uri: Option<String>,
    pub thumbnails_uri: Option<String>,
    /// Sources: the master playlist every origin holds (what play URLs point at).
    pub published_uri: Option<String>,
    /// Sources made by `transcodeUri` with a `dst`: where every transcode of it writes.
    pub output_prefix: Option<String>,
    /// Sources: false while rungs are still coming after the first one was published.
    pub ladder_complete: bool,
    /// Sources with a chunked ladder: its chunks, and how many are encoded.
    pub ladder_chunks: i32,
    pub ladder_chunks_done: i32,
    /// `VIDEO` or `AUDIO` (`MediaKind`), known once transcoded.
    pub kind: String,
    /// Its segments are AES-128 encrypted (asked at upload, or the app's setting).
    pub encrypt: bool,
}

impl Video {
    pub fn media_kind(&self) -> crate::model::MediaKind {
        crate::model::MediaKind::from_db(&self.kind)
    }

    /// What its probe found (none before its first transcode).
    pub fn info(&self) -> Option<crate::model::MediaInfo> {
        serde_json::from_value(self.media_info.clone()?).ok()
    }

    /// The generation its current renditions belong to (sources, once transcoded).
    pub fn generation(&self) -> Option<Generation> {
        self.playlist_uri.as_deref().and_then(Generation::of_master)
    }

    /// The generation every origin holds (what play URLs point at).
    pub fn published_generation(&self) -> Option<Generation> {
        self.published_uri
            .as_deref()
            .and_then(Generation::of_master)
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = videos)]
pub struct NewVideo {
    pub app_id: AppId,
    pub parent_id: Option<VideoId>,
    pub unique_id: Option<VideoId>,
    pub source_name: String,
    pub file_size: i64,
    pub video_width: Option<i32>,
    pub video_height: Option<i32>,
    pub duration: Option<i64>,
    pub hash: Option<String>,
    pub definition: Option<Definition>,
    pub storage_uri: String,
    pub status: VideoStatus,
    pub image_count: i32,
    pub task_priority: i32,
    pub passthrough: Option<String>,
    pub output_prefix: Option<String>,
    pub encrypt: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = video_snapshots, check_for_backend(diesel::pg::Pg))]
pub struct Snapshot {
    pub id: i64,
    pub video_id: VideoId,
    pub image_index: i32,
    pub storage_uri: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub file_size: i64,
    pub create_time: DateTime<Utc>,
}

impl NewVideo {
    /// A source video of `app` in `status`, every optional field empty.
    pub fn source(app_id: AppId, status: VideoStatus, source_name: impl Into<String>) -> Self {
        Self {
            app_id,
            parent_id: None,
            unique_id: None,
            source_name: source_name.into(),
            file_size: 0,
            video_width: None,
            video_height: None,
            duration: None,
            hash: None,
            definition: None,
            storage_uri: String::new(),
            status,
            image_count: 10,
            task_priority: 0,
            passthrough: None,
            output_prefix: None,
            encrypt: false,
        }
    }
}

/// One snapshot image of a transcode, to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = video_snapshots)]
pub struct NewSnapshot {
    pub video_id: VideoId,
    pub image_index: i32,
    pub storage_uri: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub file_size: i64,
}

/// A text track of a video, its WebVTT kept here (small, bounded) so that every new
/// generation can be given it without reading storage.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::text_tracks, check_for_backend(diesel::pg::Pg))]
pub struct TextTrack {
    pub id: i64,
    pub video_id: VideoId,
    pub language: String,
    pub name: String,
    pub kind: String,
    pub is_default: bool,
    pub content: String,
    pub cues: i32,
    pub end_ms: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TextTrack {
    pub fn track_kind(&self) -> crate::model::TextTrackKind {
        self.kind.parse().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = super::schema::text_tracks)]
pub struct NewTextTrack {
    pub video_id: VideoId,
    pub language: String,
    pub name: String,
    pub kind: String,
    pub is_default: bool,
    pub content: String,
    pub cues: i32,
    pub end_ms: i64,
}

/// An audio track added to a video from an audio file (`added_audio`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::added_audio, check_for_backend(diesel::pg::Pg))]
pub struct AddedAudio {
    pub id: i64,
    pub video_id: VideoId,
    pub language: String,
    pub name: String,
    pub source_key: String,
    pub created_at: DateTime<Utc>,
}

impl AddedAudio {
    /// Its directory in a generation.
    pub fn dir(&self) -> String {
        format!("audio_t{}", self.id)
    }
}
