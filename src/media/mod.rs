//! Media facts about a file (ffprobe) and, later, the ffmpeg pipeline.

mod info;

pub use info::{AudioStream, MediaInfo, VideoStream};
