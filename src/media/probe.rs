//! What ffprobe is asked (`args`) and what its JSON means (`parse`, a pure function
//! tested on checked-in fixtures).

use std::path::Path;

use serde::Deserialize;

use super::SOURCE_FORMATS;
use crate::model::{AudioStream, MediaInfo, VideoStream};

/// The ffprobe arguments that describe `source`, read with the whitelisted demuxers only.
pub fn args(source: &Path) -> Vec<String> {
    [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-format_whitelist",
        SOURCE_FORMATS,
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([source.to_string_lossy().into_owned()])
    .collect()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    #[error("ffprobe output is not valid JSON: {0}")]
    Json(String),
    #[error("not a media file ffprobe understands")]
    NoFormat,
}

#[derive(Deserialize)]
struct Raw {
    format: Option<RawFormat>,
    #[serde(default)]
    streams: Vec<RawStream>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
    bit_rate: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    profile: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    pix_fmt: Option<String>,
    bit_rate: Option<String>,
    channels: Option<i32>,
    sample_rate: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
    #[serde(default)]
    disposition: std::collections::BTreeMap<String, i32>,
}

fn number<T: std::str::FromStr>(s: &Option<String>) -> Option<T> {
    s.as_deref().and_then(|v| v.trim().parse().ok())
}

/// `30000/1001` → 29.97; `0/0` → None.
fn rate(s: &Option<String>) -> Option<f64> {
    let (n, d) = s.as_deref()?.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0.0 && d > 0.0).then(|| (n / d * 1000.0).round() / 1000.0)
}

/// Clockwise display rotation normalised to 0, 90, 180 or 270.
fn rotation(stream: &RawStream) -> i32 {
    let from_side_data = stream
        .side_data_list
        .iter()
        .find_map(|sd| sd.get("rotation").and_then(|r| r.as_f64()));
    let from_tag = stream
        .tags
        .get("rotate")
        .and_then(|r| r.parse::<f64>().ok());
    let degrees = match (from_side_data, from_tag) {
        // The display matrix turns counter-clockwise; the legacy tag clockwise.
        (Some(ccw), _) => -ccw,
        (None, Some(cw)) => cw,
        (None, None) => 0.0,
    };
    ((degrees.round() as i32 % 360) + 360) % 360 / 90 * 90
}

/// A tag of the stream (ffprobe keeps their case: `language`, `LANGUAGE`), trimmed and
/// bounded: tags come from the uploaded file.
fn tag(stream: &RawStream, name: &str) -> Option<String> {
    stream
        .tags
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| {
            v.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
}

pub fn parse(json: &[u8]) -> Result<MediaInfo, ProbeError> {
    let raw: Raw = serde_json::from_slice(json).map_err(|e| ProbeError::Json(e.to_string()))?;
    let format = raw.format.ok_or(ProbeError::NoFormat)?;
    let is_cover_art = |s: &RawStream| s.disposition.get("attached_pic") == Some(&1);
    let video = raw
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && !is_cover_art(s))
        .map(|s| VideoStream {
            codec: s.codec_name.clone().unwrap_or_default(),
            profile: s.profile.clone(),
            width: s.width.unwrap_or(0),
            height: s.height.unwrap_or(0),
            fps: rate(&s.avg_frame_rate).or_else(|| rate(&s.r_frame_rate)),
            rotation: rotation(s),
            pixel_format: s.pix_fmt.clone(),
            bit_rate: number(&s.bit_rate),
        });
    let audio_streams: Vec<AudioStream> = raw
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("audio"))
        .map(|s| AudioStream {
            codec: s.codec_name.clone().unwrap_or_default(),
            channels: s.channels.unwrap_or(0),
            sample_rate: number(&s.sample_rate).unwrap_or(0),
            bit_rate: number(&s.bit_rate),
            language: tag(s, "language"),
            title: tag(s, "title"),
        })
        .collect();
    let audio = audio_streams.first().cloned();
    let seconds: Option<f64> = number(&format.duration).or_else(|| {
        raw.streams
            .iter()
            .filter_map(|s| number::<f64>(&s.duration))
            .reduce(f64::max)
    });
    Ok(MediaInfo {
        format: format.format_name.unwrap_or_default(),
        duration_ms: seconds.map(|s| (s * 1000.0).round() as i64),
        bit_rate: number(&format.bit_rate),
        video,
        audio,
        audio_streams,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/ffprobe/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    #[test]
    fn landscape_clip_with_audio() {
        let info = parse(&fixture("small.json")).unwrap();
        assert_eq!(info.format, "mov,mp4,m4a,3gp,3g2,mj2");
        assert_eq!(info.duration_ms, Some(2000));
        let v = info.video.as_ref().unwrap();
        assert_eq!(
            (v.codec.as_str(), v.width, v.height, v.rotation),
            ("h264", 320, 240, 0)
        );
        assert_eq!(v.fps, Some(25.0));
        assert_eq!(v.profile.as_deref(), Some("High"));
        assert_eq!(v.pixel_format.as_deref(), Some("yuv420p"));
        let a = info.audio.as_ref().unwrap();
        assert_eq!(
            (a.codec.as_str(), a.channels, a.sample_rate),
            ("aac", 1, 44100)
        );
        assert_eq!(info.display_size(), Some((320, 240)));
    }

    #[test]
    fn rotated_phone_video_is_portrait() {
        let info = parse(&fixture("portrait.json")).unwrap();
        let v = info.video.as_ref().unwrap();
        assert_eq!((v.width, v.height), (640, 360));
        assert_eq!(v.rotation % 180, 90);
        assert_eq!(info.display_size(), Some((360, 640)));
        assert!(info.audio.is_none());
    }

    #[test]
    fn audio_only_has_no_video() {
        let info = parse(&fixture("audio.json")).unwrap();
        assert!(info.video.is_none());
        assert_eq!(info.audio.unwrap().codec, "aac");
    }

    #[test]
    fn garbage_is_an_error() {
        assert_eq!(parse(b"{\n\n}").unwrap_err(), ProbeError::NoFormat);
        assert!(matches!(parse(b"not json"), Err(ProbeError::Json(_))));
        assert_eq!(rate(&Some("30000/1001".into())), Some(29.97));
        assert_eq!(rate(&Some("0/0".into())), None);
    }
}
