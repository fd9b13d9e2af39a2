//! What a source is (`MediaKind`), its audio renditions and text tracks as every layer
//! names them (docs/architecture.md, "Tracks").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A video with pictures, or sound only (podcasts, music).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MediaKind {
    #[default]
    Video,
    Audio,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Video => "VIDEO",
            Self::Audio => "AUDIO",
        }
    }

    /// As stored (`videos.kind`); anything unknown reads as a video.
    pub fn from_db(s: &str) -> Self {
        match s {
            "AUDIO" => Self::Audio,
            _ => Self::Video,
        }
    }
}

/// Subtitles translate the dialogue; captions also describe the sound (HLS `CHARACTERISTICS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TextTrackKind {
    #[default]
    Subtitles,
    Captions,
}

impl TextTrackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subtitles => "SUBTITLES",
            Self::Captions => "CAPTIONS",
        }
    }
}

impl fmt::Display for TextTrackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown text track kind {0:?} (SUBTITLES or CAPTIONS)")]
pub struct UnknownTrackKind(String);

impl FromStr for TextTrackKind {
    type Err = UnknownTrackKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "SUBTITLES" => Ok(Self::Subtitles),
            "CAPTIONS" => Ok(Self::Captions),
            _ => Err(UnknownTrackKind(s.to_string())),
        }
    }
}

/// One HLS audio rendition of a generation (`EXT-X-MEDIA TYPE=AUDIO`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioTrack {
    /// BCP 47 / ISO 639 code from the stream's tags, when it has one.
    pub language: Option<String>,
    pub name: String,
    pub default: bool,
    /// Its directory in the generation (`audio`, `audio_1`, …).
    pub dir: String,
}

/// At most this many audio streams of a source become renditions (each is an encode).
pub const MAX_AUDIO_TRACKS: usize = 8;

impl AudioTrack {
    /// The renditions of a probed source's audio streams, first one the default.
    pub fn of_info(info: &super::MediaInfo) -> Vec<Self> {
        info.audio_streams()
            .iter()
            .take(MAX_AUDIO_TRACKS)
            .enumerate()
            .map(|(i, a)| Self::of_stream(i, a.language.as_deref(), a.title.as_deref()))
            .collect()
    }

    /// The rendition of the source's `index`-th audio stream (tags `language`, `title`).
    pub fn of_stream(index: usize, language: Option<&str>, title: Option<&str>) -> Self {
        let language = language
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "und")
            .map(str::to_string);
        let name = title
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .or_else(|| language.clone())
            .unwrap_or_else(|| format!("Audio {}", index + 1));
        Self {
            language,
            name,
            default: index == 0,
            dir: match index {
                0 => "audio".into(),
                n => format!("audio_{n}"),
            },
        }
    }
}
