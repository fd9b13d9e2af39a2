//! Media: what a file is (ffprobe), what it becomes (the plan and its single ffmpeg
//! pass), and the one wrapper that runs both tools. No database and no storage here, so
//! `reel media plan` runs without Postgres or Redis.

pub mod audio;
pub mod chunked;
pub mod chunks;
pub mod clip;
pub mod decorate;
pub mod download;
pub mod image;
pub mod ladder;
pub mod master;
pub mod overlay;
pub mod plan;
pub mod probe;
pub mod process;
pub mod sprite;
pub mod subtitles;
pub mod transcode;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::MediaConfig;
use crate::model::MediaInfo;

pub use plan::Plan;
use process::{ToolError, Tools};

/// Demuxers a source may be read with (`-format_whitelist`). Playlist-like formats (HLS,
/// concat, image sequences) are left out: an uploaded playlist naming files on the
/// server's disk would otherwise read them.
pub const SOURCE_FORMATS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,mxf,asf,ogg,wav,mp3,aac,h264,hevc,m4v,dv,ivf,nut,gif,yuv4mpegpipe";

/// A probe of this long or more means ffprobe hangs.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// ffprobe could not read it.
    #[error("not a media file: {0}")]
    NotMedia(String),
    /// Readable, but not something Reel transcodes.
    #[error("{0}")]
    Unsuitable(String),
    #[error("ffmpeg failed: {0}")]
    Transcode(String),
    /// The tool could not run, or ran too long.
    #[error(transparent)]
    Tool(ToolError),
}

impl MediaError {
    /// Retrying cannot help: the file is what it is.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::NotMedia(_) | Self::Unsuitable(_))
    }
}

/// ffprobe and ffmpeg as this node runs them (paths, threads, at most `max_processes`).
#[derive(Clone)]
pub struct Media {
    tools: Tools,
    config: MediaConfig,
    /// ffmpeg processes started ahead for thumbnails (the image service's only).
    warm: Option<image::warm::WarmThumbnails>,
}

impl Media {
    pub fn new(config: &MediaConfig) -> Self {
        Self {
            tools: Tools::new(config.max_processes),
            config: config.clone(),
            warm: None,
        }
    }

    /// Keeps `per_shape` ffmpeg processes waiting for each kind of thumbnail asked so
    /// far, each with a directory of its own under `dir` (`image/warm.rs`).
    pub fn with_warm_thumbnails(mut self, dir: PathBuf, per_shape: usize) -> Self {
        self.warm = Some(image::warm::WarmThumbnails::new(
            &self.config.ffmpeg,
            self.tools.clone(),
            dir,
            per_shape,
        ));
        self
    }

    pub fn config(&self) -> &MediaConfig {
        &self.config
    }

    /// What `source` is.
    pub async fn probe(&self, source: &Path) -> Result<MediaInfo, MediaError> {
        let out = self
            .tools
            .run(&self.config.ffprobe, &probe::args(source), PROBE_TIMEOUT)
            .await
            .map_err(|e| match e {
                // The server's paths are not the client's business.
                ToolError::Failed { stderr, .. } => MediaError::NotMedia(
                    stderr
                        .lines()
                        .last()
                        .unwrap_or("ffprobe failed")
                        .replace(&*source.to_string_lossy(), "the file"),
                ),
                ToolError::OutputTooLarge { .. } => MediaError::Unsuitable(e.to_string()),
                other => MediaError::Tool(other),
            })?;
        probe::parse(&out.stdout).map_err(|e| MediaError::NotMedia(e.to_string()))
    }

    /// What the image at `path` is, once decoded; `NotMedia` with the reason when it is
    /// not one PNG, JPEG or WebP image Reel can burn in (`overlay`).
    pub async fn probe_image(&self, path: &Path) -> Result<overlay::ImageInfo, MediaError> {
        let out = self
            .tools
            .run(
                &self.config.ffprobe,
                &overlay::image_probe_args(path),
                PROBE_TIMEOUT,
            )
            .await
            .map_err(|e| match e {
                ToolError::Failed { .. } => {
                    MediaError::NotMedia("not a PNG, JPEG or WebP image".into())
                }
                other => MediaError::Tool(other),
            })?;
        overlay::parse_image_probe(&out.stdout).map_err(MediaError::NotMedia)
    }

    /// What `source` is and what would be made of it (also `reel media plan`).
    pub async fn plan_file(
        &self,
        source: &Path,
        snapshots: u32,
    ) -> Result<(MediaInfo, Plan), MediaError> {
        let info = self.probe(source).await?;
        let plan = Plan::for_source(&info, snapshots, &self.config)?;
        Ok((info, plan))
    }

    /// Runs `plan` on `source` (or its `range` in ms: a precise clip) into `out`, calling
    /// `progress` with the percent done, within `Plan::timeout`.
    pub async fn transcode(
        &self,
        plan: &Plan,
        source: &Path,
        range: Option<(i64, i64)>,
        out: &Path,
        progress: impl FnMut(i16) + Send,
    ) -> Result<(), MediaError> {
        let mut args = plan.ffmpeg_args(source, out);
        if let Some((start_ms, end_ms)) = range {
            clip::trim_input(&mut args, start_ms, end_ms);
        }
        let timeout = plan.timeout(&self.config);
        self.ffmpeg(&args, timeout, plan.duration_ms, progress)
            .await?;
        let master = plan.master_playlist();
        tokio::fs::write(out.join(crate::model::layout::MASTER), master)
            .await
            .map_err(|e| MediaError::Transcode(format!("cannot write the master playlist: {e}")))
    }

    /// The MPEG-TS time (90 kHz) at which the HLS segment `segment` starts: what a WebVTT
    /// track's `X-TIMESTAMP-MAP` maps its zero onto.
    /// An encrypted segment is read through ffmpeg's `crypto` protocol with its `key`
    /// and IV.
    pub async fn segment_start_pts(
        &self,
        segment: &Path,
        key: Option<([u8; 16], [u8; 16])>,
    ) -> Result<u64, MediaError> {
        let mut args: Vec<String> = Vec::new();
        let mut input = segment.to_string_lossy().into_owned();
        if let Some((key, iv)) = key {
            args.extend([
                "-key".into(),
                hex::encode(key),
                "-iv".into(),
                hex::encode(iv),
            ]);
            input = format!("crypto:{input}");
        }
        args.extend(
            [
                "-v",
                "error",
                "-show_entries",
                "format=start_time",
                "-of",
                "default=noprint_wrappers=1:nokey=1",
                "-format_whitelist",
                "mpegts",
            ]
            .map(String::from),
        );
        args.push(input);
        let out = self
            .tools
            .run(&self.config.ffprobe, &args, PROBE_TIMEOUT)
            .await
            .map_err(MediaError::Tool)?;
        let text = String::from_utf8_lossy(&out.stdout);
        let secs: f64 = text.trim().parse().map_err(|_| {
            MediaError::Transcode(format!("no start time in the first segment: {text:?}"))
        })?;
        Ok((secs.max(0.0) * 90_000.0).round() as u64)
    }

    /// Runs ffmpeg with `args` (which write `-progress pipe:1` for `duration_ms` of media
    /// when `progress` is to be called).
    pub async fn ffmpeg(
        &self,
        args: &[String],
        timeout: Duration,
        duration_ms: i64,
        mut progress: impl FnMut(i16) + Send,
    ) -> Result<(), MediaError> {
        tracing::debug!(command = %format!("ffmpeg {}", args.join(" ")), "running ffmpeg");
        self.tools
            .run_with_lines(&self.config.ffmpeg, args, timeout, move |line| {
                if let Some(p) = transcode::progress_line(line, duration_ms) {
                    progress(p);
                }
            })
            .await
            .map(|_| ())
            .map_err(|e| match e {
                ToolError::Failed { stderr, .. } => {
                    MediaError::Transcode(process::trimmed(&stderr))
                }
                other => MediaError::Tool(other),
            })
    }

    /// Runs the operator's speech-to-text command on `wav`, which writes WebVTT to `vtt`.
    pub async fn speech_to_text(&self, wav: &Path, vtt: &Path) -> Result<(), MediaError> {
        let config = &self.config;
        let filled = audio::speech_command(
            &config.captions_command,
            wav,
            vtt,
            &config.captions_language,
        );
        let Some((program, args)) = filled.split_first() else {
            return Err(MediaError::Unsuitable("no speech-to-text command".into()));
        };
        let timeout = Duration::from_secs(config.captions_timeout_secs.max(1));
        self.tools
            .run(program, args, timeout)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                ToolError::Failed { stderr, .. } => MediaError::Transcode(format!(
                    "the speech-to-text command failed: {}",
                    process::trimmed(&stderr)
                )),
                other => MediaError::Tool(other),
            })
    }

    /// What the chunked ladder would run for `source` (`reel media plan --chunks`).
    pub async fn chunked_plan(
        &self,
        plan: &Plan,
        source: &Path,
        out: &Path,
    ) -> Result<chunked::ChunkedCommands, MediaError> {
        let keyframes = self.keyframes(source).await?;
        let start = keyframes.first().copied().unwrap_or(0.0);
        let chunks = chunks::split(
            &keyframes,
            start,
            start + plan.seconds(),
            self.config.chunk_secs as f64,
        );
        Ok(chunked::ChunkedCommands::new(
            plan,
            chunks,
            &self.config,
            source,
            out,
        ))
    }

    /// The keyframe times of `source`'s video (packets only: no decode).
    pub async fn keyframes(&self, source: &Path) -> Result<Vec<f64>, MediaError> {
        let args = chunked::keyframe_probe_args(source);
        let out = self
            .tools
            .run(&self.config.ffprobe, &args, PROBE_TIMEOUT)
            .await
            .map_err(|e| match e {
                ToolError::Failed { stderr, .. } => MediaError::NotMedia(process::trimmed(&stderr)),
                other => MediaError::Tool(other),
            })?;
        Ok(chunks::parse_keyframes(&String::from_utf8_lossy(
            &out.stdout,
        )))
    }
}
