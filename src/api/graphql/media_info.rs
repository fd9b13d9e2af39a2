//! GraphQL views of what a probe found in a file (`Video.mediaInfo`).

use async_graphql::SimpleObject;

use crate::model::{AudioStream, MediaInfo, VideoStream};

#[derive(SimpleObject)]
#[graphql(name = "MediaInfo")]
pub struct MediaInfoObject {
    /// Container format names as ffprobe reports them.
    format: String,
    /// Milliseconds.
    duration: Option<i64>,
    /// Bits per second.
    bit_rate: Option<i64>,
    video: Option<VideoStreamObject>,
    /// The first audio stream.
    audio: Option<AudioStreamObject>,
    /// Every audio stream, in the file's order.
    audio_streams: Vec<AudioStreamObject>,
}

impl From<MediaInfo> for MediaInfoObject {
    fn from(m: MediaInfo) -> Self {
        let audio_streams = m
            .audio_streams()
            .into_iter()
            .cloned()
            .map(Into::into)
            .collect();
        Self {
            format: m.format,
            duration: m.duration_ms,
            bit_rate: m.bit_rate,
            video: m.video.map(Into::into),
            audio_streams,
            audio: m.audio.map(Into::into),
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "VideoStreamInfo")]
pub struct VideoStreamObject {
    codec: String,
    profile: Option<String>,
    width: i32,
    height: i32,
    fps: Option<f64>,
    /// Clockwise display rotation in degrees.
    rotation: i32,
    pixel_format: Option<String>,
    bit_rate: Option<i64>,
}

impl From<VideoStream> for VideoStreamObject {
    fn from(v: VideoStream) -> Self {
        Self {
            codec: v.codec,
            profile: v.profile,
            width: v.width,
            height: v.height,
            fps: v.fps,
            rotation: v.rotation,
            pixel_format: v.pixel_format,
            bit_rate: v.bit_rate,
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "AudioStreamInfo")]
pub struct AudioStreamObject {
    codec: String,
    channels: i32,
    sample_rate: i32,
    bit_rate: Option<i64>,
    /// The stream's language tag, when the file has one.
    language: Option<String>,
    /// The stream's title tag.
    title: Option<String>,
}

impl From<AudioStream> for AudioStreamObject {
    fn from(a: AudioStream) -> Self {
        Self {
            codec: a.codec,
            channels: a.channels,
            sample_rate: a.sample_rate,
            bit_rate: a.bit_rate,
            language: a.language,
            title: a.title,
        }
    }
}
