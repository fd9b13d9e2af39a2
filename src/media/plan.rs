//! What a source becomes: the checks a file must pass to be transcoded, and the `Plan`
//! (rungs, audio, duration, frame rate, snapshots) that `transcode` turns into ffmpeg
//! arguments.

use super::MediaError;
use super::ladder::{MIN_SIDE, Rung, ladder};
use super::overlay::Overlay;
use crate::config::MediaConfig;
use crate::model::{AudioTrack, MediaInfo, MediaKind};

/// Bitrates (kb/s) of an audio-only source's AAC ladder, smallest first.
pub const AUDIO_LADDER_KBPS: [u32; 2] = [64, 128];

/// What to make from one source.
#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: MediaKind,
    /// Smallest first; none for an audio-only source.
    pub rungs: Vec<Rung>,
    /// One HLS audio rendition per audio stream (none: a silent video). An audio-only
    /// source has one, encoded at each of `AUDIO_LADDER_KBPS`.
    pub audio: Vec<AudioTrack>,
    /// `-hls_key_info_file` of an encrypted output (docs/architecture.md, "Encryption").
    pub key_info: Option<std::path::PathBuf>,
    /// A watermark burned into every rung (the job resolves it; `reel media plan` has none).
    pub overlay: Option<Overlay>,
    pub duration_ms: i64,
    pub fps: f64,
    pub snapshots: u32,
    pub threads: usize,
}

impl Plan {
    /// The plan for a probed source, or why it cannot be transcoded (always permanent).
    pub fn for_source(
        info: &MediaInfo,
        snapshots: u32,
        config: &MediaConfig,
    ) -> Result<Self, MediaError> {
        let audio = AudioTrack::of_info(info);
        let Some((w, h)) = info.display_size() else {
            return Self::audio_only(info, audio, config);
        };
        if w < MIN_SIDE as i32 || h < MIN_SIDE as i32 {
            return Err(MediaError::Unsuitable(format!(
                "the video is {w}x{h}; at least {MIN_SIDE}x{MIN_SIDE} is needed"
            )));
        }
        let duration_ms = info.duration_ms.filter(|d| *d > 0).ok_or_else(|| {
            MediaError::Unsuitable("the file has no duration (empty or truncated?)".into())
        })?;
        let fps = info.video.as_ref().and_then(|v| v.fps).unwrap_or(30.0);
        check_limits(w, h, duration_ms, fps, config)?;
        Ok(Self {
            kind: MediaKind::Video,
            rungs: ladder(w as u32, h as u32, &config.definitions),
            audio,
            key_info: None,
            overlay: None,
            duration_ms,
            fps,
            snapshots,
            threads: config.threads,
        })
    }

    /// A file with sound and no pictures: one track, an AAC ladder, no snapshots.
    fn audio_only(
        info: &MediaInfo,
        audio: Vec<AudioTrack>,
        config: &MediaConfig,
    ) -> Result<Self, MediaError> {
        let track = audio.into_iter().next().ok_or_else(|| {
            MediaError::Unsuitable("the file has neither a video nor an audio stream".into())
        })?;
        let duration_ms = info.duration_ms.filter(|d| *d > 0).ok_or_else(|| {
            MediaError::Unsuitable("the file has no duration (empty or truncated?)".into())
        })?;
        check_limits(MIN_SIDE as i32, MIN_SIDE as i32, duration_ms, 1.0, config)?;
        Ok(Self {
            kind: MediaKind::Audio,
            rungs: Vec::new(),
            audio: vec![track],
            key_info: None,
            overlay: None,
            duration_ms,
            fps: 0.0,
            snapshots: 0,
            threads: config.threads,
        })
    }

    pub fn has_audio(&self) -> bool {
        !self.audio.is_empty()
    }

    pub fn is_audio_only(&self) -> bool {
        self.kind == MediaKind::Audio
    }

    /// How long the transcode may run: 2 minutes plus `timeout_factor` times the
    /// duration, capped by `max_transcode_secs` (the duration is what the file declares).
    pub fn timeout(&self, config: &MediaConfig) -> std::time::Duration {
        let declared = std::time::Duration::from_millis(self.duration_ms.max(0) as u64);
        let allowed = std::time::Duration::from_secs(120) + declared * config.timeout_factor;
        allowed.min(std::time::Duration::from_secs(
            config.max_transcode_secs.max(1),
        ))
    }

    /// Whether the source gets an early rung and a chunked ladder (long enough, and more
    /// than one rung).
    pub fn is_chunked(&self, config: &MediaConfig) -> bool {
        self.kind == MediaKind::Video
            && self.rungs.len() > 1
            && self.duration_ms as u64 >= config.chunk_threshold_secs.saturating_mul(1000)
    }

    pub fn seconds(&self) -> f64 {
        (self.duration_ms.max(1) as f64) / 1000.0
    }
}

impl Plan {
    /// The chain scaling `input` to `rung` (`flags`: the scaler), ending in yuv420p; the
    /// first scale of the source (`first`) also burns in the overlay, if any.
    pub(super) fn scaled(&self, input: &str, rung: &Rung, flags: &str, first: bool) -> String {
        match (&self.overlay, first) {
            (Some(overlay), true) => overlay.burned(input, rung.width, rung.height, flags),
            _ => format!(
                "[{input}]scale={}:{}:flags={flags},format=yuv420p",
                rung.width, rung.height
            ),
        }
    }

    /// The image's input arguments, after the source's `-i`.
    pub(super) fn overlay_input(&self) -> Vec<String> {
        self.overlay
            .as_ref()
            .map(Overlay::input_args)
            .unwrap_or_default()
    }
}

/// The operator's bounds on what a worker spends on one file (docs/configuration.md,
/// "Media limits"): a crafted file fails here, before any ffmpeg runs.
fn check_limits(
    w: i32,
    h: i32,
    duration_ms: i64,
    fps: f64,
    config: &MediaConfig,
) -> Result<(), MediaError> {
    let pixels = i64::from(w) * i64::from(h);
    if pixels as u64 > config.max_pixels {
        return Err(MediaError::Unsuitable(format!(
            "the video is {w}x{h}; this server transcodes at most {} pixels a frame",
            config.max_pixels
        )));
    }
    if duration_ms as u64 > config.max_duration_secs.saturating_mul(1000) {
        return Err(MediaError::Unsuitable(format!(
            "the video lasts {} s; this server transcodes at most {} s",
            duration_ms / 1000,
            config.max_duration_secs
        )));
    }
    if !fps.is_finite() || fps > config.max_fps {
        return Err(MediaError::Unsuitable(format!(
            "the video has {fps:.0} frames a second; this server transcodes at most {}",
            config.max_fps
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VideoStream;

    fn info(w: i32, h: i32, secs: i64, fps: f64) -> MediaInfo {
        MediaInfo {
            duration_ms: Some(secs * 1000),
            video: Some(VideoStream {
                width: w,
                height: h,
                fps: Some(fps),
                ..VideoStream::default()
            }),
            ..MediaInfo::default()
        }
    }

    fn plan(overlay: Option<Overlay>) -> Plan {
        Plan {
            kind: crate::model::MediaKind::Video,
            rungs: crate::media::ladder::ladder(1920, 1080, &crate::model::Definition::ALL),
            audio: vec![crate::model::AudioTrack::of_stream(0, None, None)],
            key_info: None,
            overlay,
            duration_ms: 120_000,
            fps: 25.0,
            snapshots: 10,
            threads: 1,
        }
    }

    fn graph(args: &[String]) -> &str {
        &args[args.iter().position(|a| a == "-filter_complex").unwrap() + 1]
    }

    /// The image is input 1 in every pass, burned in once at the top rung's size before
    /// the cascade; the source's audio stays `0:a:0`.
    #[test]
    fn every_pass_burns_it_in_once_before_the_cascade() {
        let (input, out) = (std::path::Path::new("/s.mp4"), std::path::Path::new("/o"));
        let p = plan(Some(Overlay {
            path: "/w/overlay".into(),
            position: crate::model::WatermarkPosition::TopLeft,
            margin: 0.02,
            scale: 0.15,
            opacity: 1.0,
        }));
        let chunks = crate::media::chunks::split(&[0.0, 30.0, 60.0, 90.0], 0.0, 120.0, 30.0);
        let passes = [
            p.ffmpeg_args(input, out),
            p.early_args(&chunks, "superfast", input, out),
            p.chunk_args(&p.rungs[1..], &chunks[1], input, out),
        ];
        for args in &passes {
            let inputs: Vec<_> = args.windows(2).filter(|w| w[0] == "-i").collect();
            assert_eq!(inputs.len(), 2, "{args:?}");
            assert_eq!(inputs[1][1], "/w/overlay");
            let g = graph(args);
            assert_eq!(g.matches("overlay=").count(), 1, "{g}");
            assert!(g.starts_with("[1:v]scale=288:-1:"), "{g}");
            assert!(g.contains("[0:v]scale=1920:1080:"), "{g}");
            assert!(g.contains("overlay=x=38:y=38:eof_action=repeat,format=yuv420p,split="));
        }
        assert!(
            passes[0]
                .windows(2)
                .any(|w| w[0] == "-map" && w[1] == "0:a:0")
        );
        assert!(
            passes[1]
                .windows(2)
                .any(|w| w[0] == "-map" && w[1] == "0:a:0")
        );
        // Without a watermark the graphs are as before: one input, no overlay.
        let plain = plan(None).ffmpeg_args(input, out);
        assert_eq!(plain.iter().filter(|a| *a == "-i").count(), 1);
        assert!(!graph(&plain).contains("overlay"));
    }

    #[test]
    fn the_timeout_follows_the_duration_up_to_the_cap() {
        let config = MediaConfig::default();
        let short = Plan::for_source(&info(640, 360, 60, 25.0), 1, &config).unwrap();
        assert_eq!(short.timeout(&config).as_secs(), 120 + 600);
        // Ten hours declared, factor 10: the cap (24 h) bounds it, not 100 h.
        let long = Plan::for_source(&info(640, 360, 36_000, 25.0), 1, &config).unwrap();
        assert_eq!(long.timeout(&config).as_secs(), config.max_transcode_secs);
    }

    #[test]
    fn limits_refuse_what_a_crafted_header_declares() {
        let config = MediaConfig::default();
        for (w, h, secs, fps) in [
            (16384, 16384, 10, 25.0),
            (640, 360, 13 * 3600, 25.0),
            (640, 360, 10, 1000.0),
            (640, 360, 10, f64::INFINITY),
        ] {
            let err = Plan::for_source(&info(w, h, secs, fps), 1, &config).unwrap_err();
            assert!(err.is_permanent(), "{err}");
        }
    }
}
