//! Media: what a file is (ffprobe) and what becomes of it (the ffmpeg pipeline).

mod info;
pub mod ladder;
pub mod probe;
pub mod process;
pub mod transcode;

pub use info::{AudioStream, MediaInfo, VideoStream};
