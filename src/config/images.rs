//! `[images]`: what the image API (thumbnails and animated previews made on demand on
//! the `/media/` origin) may spend.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ImagesConfig {
    /// ffmpeg processes making images at once on one node (apart from the transcodes').
    pub max_processes: usize,
    /// Images of one app made at once on one node, so one app cannot take every slot.
    pub per_app: usize,
    /// How long a request waits for a slot of its app before it is refused (503).
    pub queue_secs: u64,
    /// One image must be made within this many seconds (ffmpeg is stopped after).
    pub timeout_secs: u64,
    /// Threads of one image's ffmpeg.
    pub threads: usize,
    /// ffmpeg processes kept started ahead for each kind of thumbnail asked (their start-up
    /// is most of a short thumbnail's time); 0: none.
    pub warm_processes: usize,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        Self {
            max_processes: 2,
            per_app: 2,
            queue_secs: 10,
            timeout_secs: 30,
            threads: 1,
            warm_processes: 2,
        }
    }
}
