//! The ffmpeg commands that make an image from a few HLS segments, and running them.
//!
//! Every segment starts with a keyframe, so decoding starts at the segment that holds the
//! asked time and never before it. The segments are inputs of their own (an encrypted one
//! through the `crypto` protocol with the generation's key), joined by `concat`; the `fps`
//! filter then starts at the asked offset, which also gives the last frame for a time
//! between it and the segment's end. Everything is written to stdout (bounded by the
//! process wrapper), nothing to disk but a GIF's palette.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{AnimatedFormat, Fit, ImageFormat, ImageSpec, MAX_SIDE, Thumbnail};
use crate::media::process::{ToolError, WaitingError};
use crate::media::{Media, MediaError};

/// One segment on local disk, with the AES-128 key and IV it is encrypted with.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub key: Option<([u8; 16], [u8; 16])>,
}

/// What one image is made of: `inputs` in order, the asked span starting `offset`
/// seconds into the first.
#[derive(Debug, Clone)]
pub struct Source {
    pub inputs: Vec<Input>,
    pub offset: f64,
    /// Threads of the decoder (per input: only one decodes at a time).
    pub threads: usize,
}

/// Frames per second the `fps` filter picks the thumbnail's frame with: fine enough to
/// land on the frame shown at the asked time, whatever the rung's rate.
const PICK_FPS: u32 = 1000;
/// Frames per second the palette of a GIF is computed from (it only needs the colours).
const PALETTE_FPS: u32 = 5;

fn input_args(source: &Source) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-v", "error"]
        .map(String::from)
        .to_vec();
    let threads = source.threads.max(1).to_string();
    for input in &source.inputs {
        let path = input.path.to_string_lossy().into_owned();
        args.extend(["-threads".into(), threads.clone()]);
        // Our own segments only: MPEG-TS from a file, decrypted on the way when encrypted.
        args.extend(["-format_whitelist".into(), "mpegts".into()]);
        match input.key {
            Some((key, iv)) => {
                args.extend([
                    "-protocol_whitelist".into(),
                    "file,crypto".into(),
                    "-key".into(),
                    hex::encode(key),
                    "-iv".into(),
                    hex::encode(iv),
                    "-i".into(),
                    format!("crypto:{path}"),
                ]);
            }
            None => {
                args.extend([
                    "-protocol_whitelist".into(),
                    "file".into(),
                    "-i".into(),
                    path,
                ]);
            }
        }
    }
    args.extend(["-filter_complex_threads".into(), "1".into()]);
    args
}

/// The filter that joins the inputs into one stream (`[0:v]` alone needs none).
fn joined(n: usize) -> String {
    if n <= 1 {
        return "[0:v]".into();
    }
    let ins: String = (0..n).map(|i| format!("[{i}:v]")).collect();
    format!("{ins}concat=n={n}:v=1:a=0,")
}

/// The scaling (and cutting or padding) of a thumbnail.
fn thumbnail_scale(t: &Thumbnail) -> String {
    match (t.width, t.height) {
        (None, None) => format!(
            "scale=w='min(iw,{MAX_SIDE})':h='min(ih,{MAX_SIDE})':force_original_aspect_ratio=decrease"
        ),
        (Some(w), None) => format!("scale={w}:-1"),
        (None, Some(h)) => format!("scale=-1:{h}"),
        (Some(w), Some(h)) => match t.fit {
            Fit::Preserve => format!("scale={w}:{h}:force_original_aspect_ratio=decrease"),
            Fit::Crop => {
                format!("scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}")
            }
            Fit::Pad => format!(
                "scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2"
            ),
        },
    }
}

/// The frames of an animation, `fps` per second over `secs` from the offset, `width` wide.
fn animation_frames(source: &Source, fps: u32, secs: f64, width: u32) -> String {
    let from = source.offset;
    format!(
        "{}fps=fps={fps}:start_time={from:.3}:round=down,trim=end={:.3},setpts=PTS-STARTPTS,\
         scale={width}:-2:flags=lanczos,setsar=1",
        joined(source.inputs.len()),
        from + secs
    )
}

/// The command that writes the image of `spec` to stdout; for a GIF, `palette` is the
/// file `palette_args` made.
pub fn args(spec: &ImageSpec, source: &Source, palette: Option<&Path>) -> Vec<String> {
    let mut args = input_args(source);
    let graph = match spec {
        ImageSpec::Thumbnail(t) => thumbnail_graph(t, source),
        ImageSpec::Animated(a) => {
            let secs = (a.end_ms - a.start_ms) as f64 / 1000.0;
            let frames = animation_frames(source, a.fps, secs, a.width);
            match (a.format, palette) {
                (AnimatedFormat::Gif, Some(palette)) => {
                    args.extend(["-i".into(), palette.to_string_lossy().into_owned()]);
                    let n = source.inputs.len();
                    format!(
                        "{frames}[v];[v][{n}:v]paletteuse=dither=bayer:diff_mode=rectangle[out]"
                    )
                }
                _ => format!("{frames}[out]"),
            }
        }
    };
    args.extend(["-filter_complex".into(), graph]);
    args.extend(output_args(spec));
    args
}

/// The filter graph of a thumbnail: the frame shown at the offset, scaled.
pub(super) fn thumbnail_graph(t: &Thumbnail, source: &Source) -> String {
    format!(
        "{}fps=fps={PICK_FPS}:start_time={:.3}:round=down,{},setsar=1[out]",
        joined(source.inputs.len()),
        source.offset,
        thumbnail_scale(t)
    )
}

/// The command of a thumbnail in `format` from the one segment at `input`, started
/// before its time is known: the graph (`thumbnail_graph`) comes on stdin (`warm.rs`).
pub(super) fn waiting_thumbnail_args(
    format: ImageFormat,
    input: &Path,
    threads: usize,
) -> Vec<String> {
    let source = Source {
        inputs: vec![Input {
            path: input.to_path_buf(),
            key: None,
        }],
        offset: 0.0,
        threads,
    };
    let mut args = input_args(&source);
    args.extend(["-filter_complex_script".into(), "pipe:0".into()]);
    let spec = ImageSpec::Thumbnail(Thumbnail {
        time_ms: 0,
        width: None,
        height: None,
        fit: Fit::Preserve,
        format,
    });
    args.extend(output_args(&spec));
    args
}

/// What is kept of the graph's output and how it is written to stdout.
fn output_args(spec: &ImageSpec) -> Vec<String> {
    let mut args: Vec<String> = ["-map", "[out]", "-an", "-sn", "-dn"]
        .map(String::from)
        .to_vec();
    let output: &[&str] = match spec {
        ImageSpec::Thumbnail(t) => match t.format {
            ImageFormat::Jpg => &[
                "-frames:v",
                "1",
                "-c:v",
                "mjpeg",
                "-q:v",
                "3",
                "-pix_fmt",
                "yuvj420p",
                "-f",
                "image2pipe",
            ],
            ImageFormat::Png => &[
                "-frames:v",
                "1",
                "-c:v",
                "png",
                "-pix_fmt",
                "rgb24",
                "-f",
                "image2pipe",
            ],
            ImageFormat::Webp => &[
                "-frames:v",
                "1",
                "-c:v",
                "libwebp",
                "-quality",
                "80",
                "-f",
                "webp",
            ],
        },
        ImageSpec::Animated(a) => match a.format {
            AnimatedFormat::Gif => &["-c:v", "gif", "-loop", "0", "-f", "gif"],
            AnimatedFormat::Webp => &[
                "-c:v",
                "libwebp_anim",
                "-quality",
                "75",
                "-loop",
                "0",
                "-f",
                "webp",
            ],
        },
    };
    args.extend(output.iter().map(|s| s.to_string()));
    args.push("pipe:1".into());
    args
}

/// The command that writes the 256-colour palette of an animated GIF (a PNG) to stdout,
/// from a few frames per second of the same span: one palette for every frame, without
/// holding the frames in memory.
pub fn palette_args(spec: &ImageSpec, source: &Source) -> Option<Vec<String>> {
    let ImageSpec::Animated(a) = spec else {
        return None;
    };
    if a.format != AnimatedFormat::Gif {
        return None;
    }
    let secs = (a.end_ms - a.start_ms) as f64 / 1000.0;
    let frames = animation_frames(source, a.fps.min(PALETTE_FPS), secs, a.width);
    let mut args = input_args(source);
    args.extend([
        "-filter_complex".into(),
        format!("{frames},palettegen=stats_mode=full[out]"),
    ]);
    args.extend(
        [
            "-map",
            "[out]",
            "-frames:v",
            "1",
            "-c:v",
            "png",
            "-f",
            "image2pipe",
            "pipe:1",
        ]
        .map(String::from),
    );
    Some(args)
}

impl Media {
    /// Makes the image of `spec` from `source` within `timeout`; `work` is a scratch
    /// directory (a GIF's palette). Returns the image's bytes.
    pub async fn image(
        &self,
        spec: &ImageSpec,
        source: &Source,
        work: &Path,
        timeout: Duration,
    ) -> Result<Vec<u8>, MediaError> {
        if let Some(bytes) = self.warm_thumbnail(spec, source, timeout).await? {
            metrics::counter!(crate::metrics::IMAGES_MADE, "ffmpeg" => "waiting").increment(1);
            return Ok(bytes);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        let palette = match palette_args(spec, source) {
            Some(args) => {
                let png = self.run_image(&args, timeout).await?;
                let path = work.join("palette.png");
                tokio::fs::write(&path, png)
                    .await
                    .map_err(|e| MediaError::Transcode(format!("cannot write the palette: {e}")))?;
                Some(path)
            }
            None => None,
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let bytes = self
            .run_image(&args(spec, source, palette.as_deref()), left)
            .await?;
        if bytes.is_empty() {
            return Err(MediaError::Transcode("ffmpeg made no picture".into()));
        }
        metrics::counter!(crate::metrics::IMAGES_MADE, "ffmpeg" => "started").increment(1);
        Ok(bytes)
    }

    /// The thumbnail made by a process started ahead (`warm.rs`); `None` when none fits
    /// or is ready, or the one taken was gone before it could start.
    async fn warm_thumbnail(
        &self,
        spec: &ImageSpec,
        source: &Source,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, MediaError> {
        let Some(warm) = self.warm.as_ref().and_then(|w| w.take(spec, source)) else {
            return Ok(None);
        };
        let (ImageSpec::Thumbnail(t), [input]) = (spec, source.inputs.as_slice()) else {
            return Ok(None);
        };
        if let Err(e) = warm.link(&input.path).await {
            tracing::warn!(error = %e, "cannot link a segment for a waiting ffmpeg");
            return Ok(None);
        }
        let graph = thumbnail_graph(t, source);
        tracing::debug!(%graph, "making a thumbnail with a waiting ffmpeg");
        let timeout = timeout.max(Duration::from_millis(1));
        match warm.process.run(graph.as_bytes(), timeout).await {
            Ok(out) if out.stdout.is_empty() => {
                Err(MediaError::Transcode("ffmpeg made no picture".into()))
            }
            Ok(out) => Ok(Some(out.stdout)),
            Err(WaitingError::Handover(e)) => {
                tracing::warn!(error = %e, "a waiting ffmpeg was gone; starting one afresh");
                Ok(None)
            }
            Err(WaitingError::Tool(e)) => Err(tool_error(e)),
        }
    }

    async fn run_image(&self, args: &[String], timeout: Duration) -> Result<Vec<u8>, MediaError> {
        tracing::debug!(command = %format!("ffmpeg {}", args.join(" ")), "making an image");
        self.tools
            .run(
                &self.config.ffmpeg,
                args,
                timeout.max(Duration::from_millis(1)),
            )
            .await
            .map(|out| out.stdout)
            .map_err(tool_error)
    }
}

fn tool_error(e: ToolError) -> MediaError {
    match e {
        ToolError::Failed { stderr, .. } => {
            MediaError::Transcode(crate::media::process::trimmed(&stderr))
        }
        ToolError::OutputTooLarge { .. } => MediaError::Unsuitable(
            "the image would be too large; ask for a smaller or shorter one".into(),
        ),
        other => MediaError::Tool(other),
    }
}
