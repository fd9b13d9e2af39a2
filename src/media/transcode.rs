//! One ffmpeg process per source: decode once, scale each rung from the next larger one,
//! encode every rung to HLS (aligned keyframes, audio once), and take the snapshots and
//! the scrubbing sprite from the same decode.

use std::path::Path;

use super::plan::{AUDIO_LADDER_KBPS, Plan};

/// Where ffmpeg's MPEG-TS output starts its timestamps (90 kHz) for a source starting at
/// zero: its 1.4 s mux delay. Used only when no probe of the output says otherwise.
pub const MPEGTS_START_PTS: u64 = 126_000;

/// Segment length of the HLS output, seconds.
pub const SEGMENT_SECS: u32 = 4;
/// The one audio encoding (stereo AAC).
pub(super) const AUDIO: [&str; 6] = ["-c:a", "aac", "-b:a", "128k", "-ac", "2"];
impl Plan {
    /// Encoder settings every rung shares (the per-rung comparison uses the same).
    fn encoder_settings(&self) -> Vec<String> {
        let gop = self.gop().to_string();
        let threads = self.threads.max(1).to_string();
        [
            "-preset",
            "veryfast",
            "-profile:v",
            "high",
            "-g",
            &gop,
            "-keyint_min",
            &gop,
            "-sc_threshold",
            "0",
            "-threads",
            &threads,
        ]
        .map(String::from)
        .to_vec()
    }

    /// Keyframe interval in frames: one per segment, the same in every rung.
    pub(super) fn gop(&self) -> u32 {
        ((self.fps.clamp(1.0, 120.0)) * f64::from(SEGMENT_SECS)).round() as u32
    }

    /// The ffmpeg arguments writing into `out` (which must exist): `{DEF}/index.m3u8` +
    /// segments, one `audio…/` per audio track, `snapshots/snap_NNN.jpg`, `sprite.jpg`
    /// (the master playlist is Reel's: `Plan::master_playlist`).
    pub fn ffmpeg_args(&self, input: &Path, out: &Path) -> Vec<String> {
        if self.is_audio_only() {
            return self.audio_only_args(input, out);
        }
        let o = |rel: &str| out.join(rel).to_string_lossy().into_owned();
        let sprite = self.sprite();
        let seconds = self.seconds();
        let n = self.rungs.len();

        // Largest rung first; each further rung is scaled from the one before it.
        let mut graph = Vec::new();
        let mut prev = "0:v".to_string();
        for (i, rung) in self.rungs.iter().enumerate().rev() {
            let mut outs = vec![format!("[r{i}]")];
            if i == n - 1 {
                outs.push("[snap]".into());
            }
            if i == 0 {
                outs.push("[spr]".into());
            } else {
                outs.push(format!("[next{i}]"));
            }
            graph.push(format!(
                "{},split={}{}",
                self.scaled(&prev, rung, "bicubic", i == n - 1),
                outs.len(),
                outs.join("")
            ));
            prev = format!("next{i}");
        }
        graph.push(format!(
            "[snap]fps=fps={}/{seconds:.3}[snapshots]",
            self.snapshots.max(1)
        ));
        graph.push(format!("[spr]{}[sprite]", sprite.filter()));

        let mut args = self.reading_with_progress();
        args.push("-i".into());
        args.push(input.to_string_lossy().into_owned());
        args.extend(self.overlay_input());
        args.extend(["-filter_complex".into(), graph.join(";")]);

        let mut stream_map = Vec::new();
        for (i, rung) in self.rungs.iter().enumerate() {
            let (k, max) = (rung.video_kbps, rung.max_kbps());
            args.extend([
                "-map".into(),
                format!("[r{i}]"),
                format!("-c:v:{i}"),
                "libx264".into(),
                format!("-b:v:{i}"),
                format!("{k}k"),
                format!("-maxrate:v:{i}"),
                format!("{max}k"),
                format!("-bufsize:v:{i}"),
                format!("{}k", 2 * k),
            ]);
            let group = if self.has_audio() {
                ",agroup:audio"
            } else {
                ""
            };
            stream_map.push(format!("v:{i}{group},name:{}", rung.definition));
        }
        // Every audio stream, each its own rendition, from the same read of the file.
        for (i, track) in self.audio.iter().enumerate() {
            args.extend(["-map".into(), format!("0:a:{i}")]);
            stream_map.push(format!("a:{i},agroup:audio,name:{}", track.dir));
        }
        if self.has_audio() {
            args.extend(AUDIO.map(String::from));
        }
        args.extend(self.encoder_settings());
        args.extend([
            "-force_key_frames".into(),
            format!("expr:gte(t,n_forced*{SEGMENT_SECS})"),
        ]);
        args.extend(hls_settings(self.key_info.as_deref()));
        args.push("-hls_segment_filename".into());
        args.push(o("%v/seg_%05d.ts"));
        args.extend(["-var_stream_map".into(), stream_map.join(" ")]);
        args.push(o("%v/index.m3u8"));

        args.extend(self.still_outputs(out));
        args
    }

    /// An audio-only source: its first audio stream at each bitrate of the AAC ladder,
    /// from one decode, into `audio_{kbps}k/`.
    fn audio_only_args(&self, input: &Path, out: &Path) -> Vec<String> {
        let mut args = self.reading_with_progress();
        args.extend(["-i".into(), input.to_string_lossy().into_owned()]);
        args.extend(["-vn", "-sn", "-dn"].map(String::from));
        let mut stream_map = Vec::new();
        for (i, kbps) in AUDIO_LADDER_KBPS.iter().enumerate() {
            args.extend([
                "-map".into(),
                "0:a:0".into(),
                format!("-c:a:{i}"),
                "aac".into(),
                format!("-b:a:{i}"),
                format!("{kbps}k"),
                format!("-ac:a:{i}"),
                "2".into(),
            ]);
            stream_map.push(format!("a:{i},name:{}", audio_rung_dir(*kbps)));
        }
        args.extend(hls_settings(self.key_info.as_deref()));
        args.push("-hls_segment_filename".into());
        args.push(out.join("%v/seg_%05d.ts").to_string_lossy().into_owned());
        args.extend(["-var_stream_map".into(), stream_map.join(" ")]);
        args.push(out.join("%v/index.m3u8").to_string_lossy().into_owned());
        args
    }
}

/// The directory of an audio-only source's rung of `kbps`.
pub fn audio_rung_dir(kbps: u32) -> String {
    format!("audio_{kbps}k")
}

impl Plan {
    /// The naive alternative, for comparison (`bench/transcode`): one ffmpeg per rung, each
    /// decoding the source again and encoding its own audio.
    pub fn per_rung_args(&self, input: &Path, out: &Path) -> Vec<Vec<String>> {
        self.rungs
            .iter()
            .map(|rung| {
                let dir = out.join(rung.definition.as_str());
                let mut args = reading();
                args.push("-i".into());
                args.push(input.to_string_lossy().into_owned());
                args.extend([
                    "-vf".into(),
                    format!(
                        "scale={}:{}:flags=bicubic,format=yuv420p",
                        rung.width, rung.height
                    ),
                    "-c:v".into(),
                    "libx264".into(),
                    "-b:v".into(),
                    format!("{}k", rung.video_kbps),
                    "-maxrate".into(),
                    format!("{}k", rung.max_kbps()),
                    "-bufsize".into(),
                    format!("{}k", 2 * rung.video_kbps),
                ]);
                if self.has_audio() {
                    args.extend(AUDIO.map(String::from));
                }
                args.extend(self.encoder_settings());
                args.extend(hls_settings(None));
                args.push("-hls_segment_filename".into());
                args.push(dir.join("seg_%05d.ts").to_string_lossy().into_owned());
                args.push(dir.join("index.m3u8").to_string_lossy().into_owned());
                args
            })
            .collect()
    }
}

/// How every ffmpeg of Reel starts: quiet, never asking, reading whitelisted demuxers only
/// (the input follows).
pub(super) fn reading() -> Vec<String> {
    ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
        .into_iter()
        .chain(["-format_whitelist", super::SOURCE_FORMATS])
        .map(String::from)
        .collect()
}

impl Plan {
    /// The `[snapshots]` and `[sprite]` outputs of a filter graph into `out`.
    pub(super) fn still_outputs(&self, out: &Path) -> Vec<String> {
        let o = |rel: &str| out.join(rel).to_string_lossy().into_owned();
        let frames = self.snapshots.max(1).to_string();
        let mut args: Vec<String> = ["-map", "[snapshots]", "-frames:v", &frames, "-q:v", "3"]
            .map(String::from)
            .to_vec();
        args.push(o("snapshots/snap_%03d.jpg"));
        args.extend(
            [
                "-map",
                "[sprite]",
                "-frames:v",
                "1",
                "-q:v",
                "5",
                "-update",
                "1",
            ]
            .map(String::from),
        );
        args.push(o("sprite.jpg"));
        args
    }

    /// `reading()`, reporting progress on stdout, with this plan's filter threads.
    pub(super) fn reading_with_progress(&self) -> Vec<String> {
        let mut args = reading();
        let threads = self.threads.max(1).to_string();
        args.extend(
            [
                "-progress",
                "pipe:1",
                "-nostats",
                "-filter_complex_threads",
                &threads,
            ]
            .map(String::from),
        );
        args
    }
}

/// HLS output settings shared by the single pass and the per-rung comparison; with
/// `key_info`, segments are AES-128 encrypted as that file says (key URI, key file, IV).
pub(super) fn hls_settings(key_info: Option<&Path>) -> Vec<String> {
    let segment = SEGMENT_SECS.to_string();
    let mut args: Vec<String> = [
        "-f",
        "hls",
        "-hls_time",
        &segment,
        "-hls_playlist_type",
        "vod",
        "-hls_flags",
        "independent_segments",
        "-hls_segment_type",
        "mpegts",
    ]
    .map(String::from)
    .to_vec();
    if let Some(file) = key_info {
        args.push("-hls_key_info_file".into());
        args.push(file.to_string_lossy().into_owned());
    }
    args
}

/// Percent done from one `-progress` line (`out_time_us=…`), if it is one.
pub fn progress_line(line: &str, duration_ms: i64) -> Option<i16> {
    let us: i64 = line.strip_prefix("out_time_us=")?.trim().parse().ok()?;
    if duration_ms <= 0 || us < 0 {
        return None;
    }
    Some(((us / 1000) * 100 / duration_ms).clamp(0, 99) as i16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ladder::ladder;
    use crate::model::Definition;

    fn plan(w: u32, h: u32, audio: bool) -> Plan {
        Plan {
            kind: crate::model::MediaKind::Video,
            rungs: ladder(w, h, &Definition::ALL),
            audio: match audio {
                true => vec![crate::model::AudioTrack::of_stream(0, Some("eng"), None)],
                false => vec![],
            },
            key_info: None,
            overlay: None,
            duration_ms: 30_000,
            fps: 30.0,
            snapshots: 10,
            threads: 2,
        }
    }

    #[test]
    fn cascade_scales_each_rung_from_the_next_larger() {
        let args = plan(1920, 1080, true).ffmpeg_args(Path::new("/in.mp4"), Path::new("/out"));
        let graph = &args[args.iter().position(|a| a == "-filter_complex").unwrap() + 1];
        assert!(graph.starts_with("[0:v]scale=1920:1080"), "{graph}");
        assert!(graph.contains("[next3]scale=1280:720"), "{graph}");
        assert!(graph.contains("[next1]scale=640:360"), "{graph}");
        let map = &args[args.iter().position(|a| a == "-var_stream_map").unwrap() + 1];
        assert_eq!(
            map,
            "v:0,agroup:audio,name:LD v:1,agroup:audio,name:SD v:2,agroup:audio,name:HD v:3,agroup:audio,name:FHD a:0,agroup:audio,name:audio"
        );
        assert!(args.windows(2).any(|w| w[0] == "-g" && w[1] == "120"));
    }

    #[test]
    fn no_audio_no_audio_group() {
        let args = plan(320, 240, false).ffmpeg_args(Path::new("/in.mp4"), Path::new("/out"));
        let map = &args[args.iter().position(|a| a == "-var_stream_map").unwrap() + 1];
        assert_eq!(map, "v:0,name:LD");
        assert!(!args.iter().any(|a| a == "0:a:0"));
    }

    #[test]
    fn progress_lines() {
        assert_eq!(progress_line("out_time_us=15000000", 30_000), Some(50));
        assert_eq!(progress_line("out_time_us=31000000", 30_000), Some(99));
        assert_eq!(progress_line("frame=12", 30_000), None);
        assert_eq!(progress_line("out_time_us=N/A", 30_000), None);
    }
}
