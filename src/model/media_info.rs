//! `MediaInfo`: what a probe learned about a file, stored as JSON on the video
//! (`media::probe` makes it).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// Container format names, as ffprobe gives them (`mov,mp4,m4a,3gp,3g2,mj2`).
    pub format: String,
    pub duration_ms: Option<i64>,
    pub bit_rate: Option<i64>,
    pub video: Option<VideoStream>,
    /// The first audio stream (the one a single-language player plays).
    pub audio: Option<AudioStream>,
    /// Every audio stream, in the file's order (infos stored before they were kept list
    /// none: `audio_streams()` falls back to `audio`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audio_streams: Vec<AudioStream>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VideoStream {
    pub codec: String,
    pub profile: Option<String>,
    /// Coded size; the displayed size swaps them when `rotation` is ±90.
    pub width: i32,
    pub height: i32,
    pub fps: Option<f64>,
    /// Clockwise display rotation in degrees (0, 90, 180, 270).
    pub rotation: i32,
    pub pixel_format: Option<String>,
    pub bit_rate: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudioStream {
    pub codec: String,
    pub channels: i32,
    pub sample_rate: i32,
    pub bit_rate: Option<i64>,
    /// The stream's `language` tag (ISO 639), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The stream's `title` tag, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl MediaInfo {
    /// Every audio stream, first one first.
    pub fn audio_streams(&self) -> Vec<&AudioStream> {
        match self.audio_streams.is_empty() {
            true => self.audio.iter().collect(),
            false => self.audio_streams.iter().collect(),
        }
    }

    /// Width and height as displayed (rotation applied).
    pub fn display_size(&self) -> Option<(i32, i32)> {
        let v = self.video.as_ref()?;
        Some(if v.rotation % 180 == 90 {
            (v.height, v.width)
        } else {
            (v.width, v.height)
        })
    }
}
