//! Media: what a file is (ffprobe) and what becomes of it (the ffmpeg pipeline).

mod info;
pub mod ladder;
pub mod probe;
pub mod process;
pub mod sprite;
pub mod transcode;

pub use info::{AudioStream, MediaInfo, VideoStream};

/// Demuxers a source may be read with (`-format_whitelist`). Playlist-like formats (HLS,
/// concat, image sequences) are left out: an uploaded playlist naming files on the
/// server's disk would otherwise read them.
pub const SOURCE_FORMATS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,mxf,asf,ogg,wav,mp3,aac,h264,hevc,m4v,dv,ivf,nut,gif,yuv4mpegpipe";
