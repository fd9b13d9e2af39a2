//! `[media]`: the ffmpeg tools, the ladder, the chunked ladder and the limits on what a
//! worker spends on one file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::Definition;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaConfig {
    pub ffmpeg: String,
    pub ffprobe: String,
    /// Threads one ffmpeg may use.
    pub threads: usize,
    /// ffmpeg/ffprobe processes one node runs at once.
    pub max_processes: usize,
    /// The ladder's rungs (`LD`, `SD`, `HD`, `FHD`, `QHD`, `UHD`); larger than the source are skipped.
    pub definitions: Vec<Definition>,
    /// A transcode may take 2 minutes plus this many times the video's duration…
    pub timeout_factor: u32,
    /// …and never more than this many seconds, whatever the file declares.
    pub max_transcode_secs: u64,
    /// Longest source transcoded, in seconds (longer ones fail at once).
    pub max_duration_secs: u64,
    /// Largest source frame transcoded, width × height (default 8K, 8192 × 4320).
    pub max_pixels: u64,
    /// Highest source frame rate transcoded.
    pub max_fps: f64,
    /// The import area: storage keys under this prefix are `transcodeUri` sources every
    /// app may name as they are (an operator's drop box; never a `dst`). Every other key
    /// a client names is inside its app's own area. Empty: no import area.
    pub import_prefix: String,
    /// Hosts `transcodeUri` may fetch `https://` sources from (empty: none).
    pub fetch_allow_hosts: Vec<String>,
    /// Let fetches reach private, loopback and link-local addresses (closed networks only).
    pub fetch_allow_private: bool,
    /// An extra trusted CA (PEM) for fetches, e.g. an internal one.
    pub fetch_ca_file: Option<PathBuf>,
    /// A fetch must be complete within this many seconds (sizes are bounded by
    /// `upload.max_size`, as uploads are).
    pub fetch_timeout_secs: u64,
    /// Sources at least this long (seconds) are playable on their lowest rung first and
    /// get the rest of the ladder in chunks spread over the workers; shorter ones keep the
    /// single pass (docs/architecture.md, "Chunked ladder").
    pub chunk_threshold_secs: u64,
    /// Length of a chunk, seconds (cuts fall on the source's keyframes nearest to it).
    pub chunk_secs: u64,
    /// x264 preset of the early rung (the lowest, encoded first so that the video plays
    /// seconds after upload): faster presets play sooner at a lower quality.
    pub early_preset: String,
    /// Captions made by speech-to-text: the operator's command (program and arguments),
    /// run on a 16 kHz mono WAV of each transcoded video's first audio stream, writing
    /// WebVTT; `{input}`, `{output}` and `{language}` in the arguments are replaced.
    /// Empty: off (docs/configuration.md, "Captions by speech-to-text").
    pub captions_command: Vec<String>,
    /// The language (BCP 47) of the captions the command makes.
    pub captions_language: String,
    /// The command must be done within this many seconds.
    pub captions_timeout_secs: u64,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            max_processes: 4,
            definitions: Definition::ALL.to_vec(),
            timeout_factor: 10,
            max_transcode_secs: 24 * 3600,
            max_duration_secs: 12 * 3600,
            max_pixels: 8192 * 4320,
            max_fps: 240.0,
            import_prefix: "imports/".into(),
            fetch_allow_hosts: Vec::new(),
            fetch_allow_private: false,
            fetch_ca_file: None,
            fetch_timeout_secs: 2 * 3600,
            chunk_threshold_secs: 60,
            chunk_secs: 30,
            early_preset: "superfast".into(),
            captions_command: Vec::new(),
            captions_language: "en".into(),
            captions_timeout_secs: 3600,
        }
    }
}
