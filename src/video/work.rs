//! The work the lifecycle hands to workers: payloads of the jobs it queues. How each runs
//! is in the file of its kind under `jobs/`.

use serde::{Deserialize, Serialize};

use crate::queue::Payload;

/// Probe, transcode and store a source's ladder, then publish it (`jobs/transcode.rs`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Transcode {
    /// The client's output prefix (`transcodeUri`'s `dst`, validated, ending in `/`);
    /// `None`: under the video's own output directory.
    #[serde(default)]
    pub dst: Option<String>,
}

impl Payload for Transcode {
    const KIND: &'static str = "transcode";
}

/// Compute an uploaded source's md5 (`upload.md5 = "deferred"`; `jobs/hash.rs`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hash {}

impl Payload for Hash {
    const KIND: &'static str = "hash";
}

/// Fetch an `https://` source into storage, then transcode it (`jobs/import.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub url: String,
    #[serde(default)]
    pub dst: Option<String>,
    #[serde(default)]
    pub priority: Option<i32>,
}

impl Payload for Import {
    const KIND: &'static str = "import";
}

/// Encode an audio track added from an audio file into the generations the video plays
/// or is about to play, then list it in their master playlists (`jobs/audio_track.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddedAudioTrack {
    /// `added_audio.id`.
    pub track: i64,
}

impl Payload for AddedAudioTrack {
    const KIND: &'static str = "audio_track";
}

/// Captions by the operator's speech-to-text command, added as a text track
/// (`jobs/captions.rs`; `media.captions_command`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Captions {}

impl Payload for Captions {
    const KIND: &'static str = "captions";
}

/// Remux the downloads a video asks for from its current generation (`jobs/downloads.rs`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MakeDownloads {}

impl Payload for MakeDownloads {
    const KIND: &'static str = "downloads";
}
