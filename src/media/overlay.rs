//! Watermarks in the filter graph: the overlay image as ffmpeg's second input, burned
//! once into the picture at the top rung's size, before the split/scale cascade, so
//! every rung, snapshot and sprite shows it from the same single decode. Also the
//! ffprobe check that an uploaded file is one decodable image.

use std::path::PathBuf;

use serde::Deserialize;

use crate::model::WatermarkPosition;

/// Demuxers an overlay image may be read with (no `image2`: it reads file sequences).
pub const IMAGE_FORMATS: &str = "png_pipe,jpeg_pipe,webp_pipe";

/// Largest overlay image, pixels a side (bounds the decode of a crafted header).
pub const MAX_IMAGE_SIDE: i32 = 4096;

/// An image burned into every rung.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// The image, a local file (PNG, JPEG or WebP; alpha is kept).
    pub path: PathBuf,
    pub position: WatermarkPosition,
    /// Space to the nearest edges, as a fraction of the video's width.
    pub margin: f64,
    /// The overlay's width as a fraction of the video's width (its height follows).
    pub scale: f64,
    /// 0 (invisible) to 1 (opaque), times the image's own alpha.
    pub opacity: f64,
}

impl Overlay {
    /// The image as input 1 (the source stays input 0, so `0:a:N` keeps its meaning).
    pub(super) fn input_args(&self) -> Vec<String> {
        vec![
            "-format_whitelist".into(),
            IMAGE_FORMATS.into(),
            "-i".into(),
            self.path.to_string_lossy().into_owned(),
        ]
    }

    /// A filter chain from `input` to the picture at `width`x`height` (yuv420p) with the
    /// overlay burned in; the caller continues the chain (`,split=…`).
    pub(super) fn burned(&self, input: &str, width: u32, height: u32, flags: &str) -> String {
        let w = f64::from(width);
        let overlay_w = ((self.scale.clamp(0.0, 1.0) * w).round() as u32).max(1);
        let m = (self.margin.clamp(0.0, 0.5) * w).round() as u32;
        let (x, y) = match self.position {
            WatermarkPosition::TopLeft => (format!("{m}"), format!("{m}")),
            WatermarkPosition::TopRight => (format!("W-w-{m}"), format!("{m}")),
            WatermarkPosition::BottomLeft => (format!("{m}"), format!("H-h-{m}")),
            WatermarkPosition::BottomRight => (format!("W-w-{m}"), format!("H-h-{m}")),
            WatermarkPosition::Center => ("(W-w)/2".into(), "(H-h)/2".into()),
        };
        let opacity = self.opacity.clamp(0.0, 1.0);
        let fade = match opacity < 1.0 {
            true => format!(",colorchannelmixer=aa={opacity:.3}"),
            false => String::new(),
        };
        format!(
            "[1:v]scale={overlay_w}:-1:flags=bicubic,format=rgba{fade}[wm];\
             [{input}]scale={width}:{height}:flags={flags},format=yuv420p[wmbase];\
             [wmbase][wm]overlay=x={x}:y={y}:eof_action=repeat,format=yuv420p"
        )
    }
}

/// The ffprobe arguments that decode `path` as one image (`-count_frames`).
pub fn image_probe_args(path: &std::path::Path) -> Vec<String> {
    [
        "-v",
        "error",
        "-format_whitelist",
        IMAGE_FORMATS,
        "-count_frames",
        "-show_entries",
        "stream=codec_type,codec_name,width,height,nb_read_frames:format=format_name",
        "-of",
        "json",
    ]
    .into_iter()
    .map(String::from)
    .chain([path.to_string_lossy().into_owned()])
    .collect()
}

/// What an image probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// `png`, `jpeg` or `webp`.
    pub format: &'static str,
    pub width: i32,
    pub height: i32,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    nb_read_frames: Option<String>,
}

/// The image in an image probe's JSON, or why it is not one Reel can burn in.
pub fn parse_image_probe(json: &[u8]) -> Result<ImageInfo, String> {
    let probe: Probe =
        serde_json::from_slice(json).map_err(|_| "not a PNG, JPEG or WebP image".to_string())?;
    let [stream] = probe.streams.as_slice() else {
        return Err("not a PNG, JPEG or WebP image".into());
    };
    let format = match stream.codec_name.as_deref() {
        Some("png") => "png",
        Some("mjpeg") => "jpeg",
        Some("webp") => "webp",
        _ => return Err("not a PNG, JPEG or WebP image".into()),
    };
    let decoded = stream
        .nb_read_frames
        .as_deref()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    let (w, h) = (stream.width.unwrap_or(0), stream.height.unwrap_or(0));
    if stream.codec_type.as_deref() != Some("video") || decoded != 1 || w <= 0 || h <= 0 {
        return Err(format!(
            "the {format} image cannot be decoded (truncated or animated?)"
        ));
    }
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(format!(
            "the image is {w}x{h}; at most {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} is accepted"
        ));
    }
    Ok(ImageInfo {
        format,
        width: w,
        height: h,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay(position: WatermarkPosition, opacity: f64) -> Overlay {
        Overlay {
            path: "/w/overlay".into(),
            position,
            margin: 0.02,
            scale: 0.15,
            opacity,
        }
    }

    #[test]
    fn sized_and_placed_from_the_frame_it_is_burned_into() {
        let chain = overlay(WatermarkPosition::BottomRight, 0.5).burned("0:v", 1280, 720, "area");
        assert!(chain.starts_with("[1:v]scale=192:-1:"), "{chain}");
        assert!(chain.contains("colorchannelmixer=aa=0.500"), "{chain}");
        assert!(chain.contains("[0:v]scale=1280:720:flags=area"), "{chain}");
        assert!(chain.contains("overlay=x=W-w-26:y=H-h-26"), "{chain}");
        let opaque = overlay(WatermarkPosition::TopLeft, 1.0).burned("0:v", 640, 360, "bicubic");
        assert!(!opaque.contains("colorchannelmixer"), "{opaque}");
        assert!(opaque.contains("overlay=x=13:y=13"), "{opaque}");
    }

    #[test]
    fn only_one_decodable_image_passes() {
        let png = br#"{"streams":[{"codec_type":"video","codec_name":"png","width":64,"height":32,"nb_read_frames":"1"}],"format":{"format_name":"png_pipe"}}"#;
        assert_eq!(
            parse_image_probe(png).unwrap(),
            ImageInfo {
                format: "png",
                width: 64,
                height: 32
            }
        );
        let truncated =
            br#"{"streams":[{"codec_type":"video","codec_name":"png","width":0,"height":0}]}"#;
        assert!(parse_image_probe(truncated).is_err());
        assert!(parse_image_probe(br#"{}"#).is_err());
        let gif = br#"{"streams":[{"codec_type":"video","codec_name":"gif","width":9,"height":9,"nb_read_frames":"1"}]}"#;
        assert!(parse_image_probe(gif).is_err());
        let huge = br#"{"streams":[{"codec_type":"video","codec_name":"mjpeg","width":9000,"height":9,"nb_read_frames":"1"}]}"#;
        assert!(parse_image_probe(huge).unwrap_err().contains("9000x9"));
    }
}
