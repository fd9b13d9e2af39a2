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
    pub audio: Option<AudioStream>,
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
}

impl MediaInfo {
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
