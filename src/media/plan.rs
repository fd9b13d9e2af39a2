//! What a source becomes: the checks a file must pass to be transcoded, and the `Plan`
//! (rungs, audio, duration, frame rate, snapshots) that `transcode` turns into ffmpeg
//! arguments.

use super::MediaError;
use super::ladder::{MIN_SIDE, Rung, ladder};
use crate::config::MediaConfig;
use crate::model::MediaInfo;

/// What to make from one source.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Smallest first.
    pub rungs: Vec<Rung>,
    pub has_audio: bool,
    pub duration_ms: i64,
    pub fps: f64,
    pub snapshots: u32,
    pub threads: usize,
}

impl Plan {
    /// The plan for a probed source, or why it cannot be transcoded (always permanent).
    pub fn for_source(
        info: &MediaInfo,
        snapshots: u32,
        config: &MediaConfig,
    ) -> Result<Self, MediaError> {
        let (w, h) = info.display_size().ok_or_else(|| {
            MediaError::Unsuitable(
                "no video stream: audio-only and other files are not transcoded".into(),
            )
        })?;
        if w < MIN_SIDE as i32 || h < MIN_SIDE as i32 {
            return Err(MediaError::Unsuitable(format!(
                "the video is {w}x{h}; at least {MIN_SIDE}x{MIN_SIDE} is needed"
            )));
        }
        let duration_ms = info.duration_ms.filter(|d| *d > 0).ok_or_else(|| {
            MediaError::Unsuitable("the file has no duration (empty or truncated?)".into())
        })?;
        Ok(Self {
            rungs: ladder(w as u32, h as u32, &config.definitions),
            has_audio: info.audio.is_some(),
            duration_ms,
            fps: info.video.as_ref().and_then(|v| v.fps).unwrap_or(30.0),
            snapshots,
            threads: config.threads,
        })
    }

    pub fn seconds(&self) -> f64 {
        (self.duration_ms.max(1) as f64) / 1000.0
    }
}
