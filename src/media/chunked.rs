//! The ffmpeg arguments of the chunked ladder (docs/architecture.md, "Chunked ladder"):
//! the early pass (the lowest rung, the audio, snapshots and sprite from one decode), the
//! split of the source's video into chunks (stream copy), and one chunk's encode of the
//! other rungs. All of them keep the source's timestamps (`-copyts`, shifted by
//! `TIMELINE_OFFSET_SECS` so that no encoder has to shift negative timestamps on its own),
//! so every piece lands on one timeline and the chunks' segments continue each other.

use std::path::Path;

use super::chunks::Chunk;
use super::ladder::Rung;
use super::plan::Plan;
use super::transcode::{AUDIO, hls_settings, reading};

/// Added to every source timestamp (seconds).
pub const TIMELINE_OFFSET_SECS: f64 = 10.0;

/// Keyframes come only where they are forced, so every keyframe starts a segment.
const CUT_AT_EVERY_KEYFRAME: &str = "0.5";

fn strings<const N: usize>(items: [&str; N]) -> Vec<String> {
    items.map(String::from).to_vec()
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `-force_key_frames` list: every segment start on the shifted timeline, a millisecond
/// early so that the frame at that instant is the one forced.
fn keyframe_list(segments: impl Iterator<Item = f64>) -> String {
    segments
        .map(|t| format!("{:.3}", (t + TIMELINE_OFFSET_SECS - 0.001).max(0.0)))
        .collect::<Vec<_>>()
        .join(",")
}

impl Plan {
    /// `input` read with its timestamps kept; `shift`: moved onto the timeline (the
    /// source), or already on it (a chunk, shifted by the split).
    fn input_on_timeline(&self, input: &Path, shift: bool) -> Vec<String> {
        let mut args = self.reading_with_progress();
        args.push("-copyts".into());
        if shift {
            args.extend(["-itsoffset".into(), format!("{TIMELINE_OFFSET_SECS}")]);
        }
        args.extend(["-i".into(), path(input)]);
        args.extend(self.overlay_input());
        args
    }

    /// x264 settings of the chunked ladder: keyframes only where forced (the GOP is longer
    /// than any segment).
    fn forced_keyframe_settings(&self, preset: &str, keyframes: String) -> Vec<String> {
        let gop = (2 * self.gop()).to_string();
        let threads = self.threads.max(1).to_string();
        let mut args = strings([
            "-preset",
            preset,
            "-profile:v",
            "high",
            "-g",
            &gop,
            "-sc_threshold",
            "0",
            "-threads",
            &threads,
            "-force_key_frames",
        ]);
        args.push(keyframes);
        args
    }

    /// The early pass: the lowest rung with `preset` into `LD/` (or whichever is lowest),
    /// the audio into `audio/`, snapshots at the top rung's size and the sprite, from one
    /// decode. `out` must exist.
    pub fn early_args(
        &self,
        chunks: &[Chunk],
        preset: &str,
        input: &Path,
        out: &Path,
    ) -> Vec<String> {
        let rung = self.rungs[0];
        let top = *self.rungs.last().expect("a plan has rungs");
        let sprite = self.sprite();
        let seconds = self.seconds();
        let mut args = self.input_on_timeline(input, true);
        let snapshots = self.snapshots.max(1);
        let (head, stills) = match self.overlay {
            // The watermark is burned in once, at the top rung's size, as in every pass;
            // the early rung and the stills are made from that picture.
            Some(_) => (
                format!(
                    "{},split=2[main][still]",
                    self.scaled("0:v", &top, "bicubic", true)
                ),
                format!("[still]fps=fps={snapshots}/{seconds:.3}[snapshots]"),
            ),
            None => (
                "[0:v]split=2[main][still]".to_string(),
                format!(
                    "[still]fps=fps={snapshots}/{seconds:.3},scale={}:{}:flags=bicubic,format=yuv420p[snapshots]",
                    top.width, top.height
                ),
            ),
        };
        let graph = [
            head,
            stills,
            // Straight from the source's size: `area` averages as well as bicubic does for
            // a large downscale, at a tenth less of the early pass's CPU.
            format!(
                "[main]scale={}:{}:flags=area,format=yuv420p,split=2[r0][spr]",
                rung.width, rung.height
            ),
            format!("[spr]{}[sprite]", sprite.filter()),
        ];
        args.extend(["-filter_complex".into(), graph.join(";")]);
        args.extend(["-map".into(), "[r0]".into()]);
        args.extend(rung_rate(&rung, None));
        let keyframes = keyframe_list(chunks.iter().flat_map(|c| c.segments.iter().copied()));
        args.extend(self.forced_keyframe_settings(preset, keyframes));
        args.push("-an".into());
        args.extend(video_hls(
            &out.join(rung.definition.as_str()),
            "seg_%05d.ts",
            "index.m3u8",
            self.key_info.as_deref(),
        ));
        // Audio once for the whole file (no drift at chunk boundaries), every track.
        for (i, track) in self.audio.iter().enumerate() {
            args.extend(["-map".into(), format!("0:a:{i}"), "-vn".into()]);
            args.extend(AUDIO.map(String::from));
            args.extend(hls_settings(self.key_info.as_deref()));
            args.push("-hls_segment_filename".into());
            args.push(path(&out.join(&track.dir).join("seg_%05d.ts")));
            args.push(path(&out.join(&track.dir).join("index.m3u8")));
        }
        args.extend(self.still_outputs(out));
        args
    }

    /// One chunk's encode of `rungs` (every rung but the early one), one decode scaled down
    /// rung by rung, into `{DEF}/chunk_NNNNN.m3u8` and `{DEF}/seg_NNNNN_MMMMM.ts`.
    pub fn chunk_args(
        &self,
        rungs: &[Rung],
        chunk: &Chunk,
        input: &Path,
        out: &Path,
    ) -> Vec<String> {
        let mut args = self.input_on_timeline(input, false);
        let n = rungs.len();
        let mut graph = Vec::new();
        let mut prev = "0:v".to_string();
        for (i, rung) in rungs.iter().enumerate().rev() {
            let outs = match i {
                0 => format!("[r{i}]"),
                _ => format!("[r{i}][next{i}]"),
            };
            graph.push(format!(
                "{},split={}{outs}",
                self.scaled(&prev, rung, "bicubic", i == n - 1),
                if i == 0 { 1 } else { 2 },
            ));
            prev = format!("next{i}");
        }
        args.extend(["-filter_complex".into(), graph.join(";")]);
        let mut stream_map = Vec::with_capacity(n);
        for (i, rung) in rungs.iter().enumerate() {
            args.extend(["-map".into(), format!("[r{i}]")]);
            args.extend(rung_rate(rung, Some(i)));
            stream_map.push(format!("v:{i},name:{}", rung.definition));
        }
        let keyframes = keyframe_list(chunk.segments.iter().copied());
        args.extend(self.forced_keyframe_settings("veryfast", keyframes));
        args.push("-an".into());
        let index = chunk.index;
        args.extend(video_hls(
            &out.join("%v"),
            &format!("seg_{index:05}_%05d.ts"),
            &format!("chunk_{index:05}.m3u8"),
            self.key_info.as_deref(),
        ));
        let at = args.len() - 1;
        args.insert(at, stream_map.join(" "));
        args.insert(at, "-var_stream_map".into());
        args
    }
}

/// x264 and its rate control for one rung (`stream`: its index among several outputs).
fn rung_rate(rung: &Rung, stream: Option<usize>) -> Vec<String> {
    let s = |opt: &str| match stream {
        Some(i) => format!("-{opt}:v:{i}"),
        None => format!("-{opt}:v"),
    };
    let k = rung.video_kbps;
    vec![
        s("c"),
        "libx264".into(),
        s("b"),
        format!("{k}k"),
        s("maxrate"),
        format!("{}k", rung.max_kbps()),
        s("bufsize"),
        format!("{}k", 2 * k),
    ]
}

/// HLS settings of a video-only output cut at every (forced) keyframe.
fn video_hls(dir: &Path, segment: &str, playlist: &str, key: Option<&Path>) -> Vec<String> {
    let mut args = hls_settings(key);
    let at = args.iter().position(|a| a == "-hls_time").expect("set") + 1;
    args[at] = CUT_AT_EVERY_KEYFRAME.into();
    args.push("-hls_segment_filename".into());
    args.push(path(&dir.join(segment)));
    args.push(path(&dir.join(playlist)));
    args
}

/// Splits the source's video into `chunk_NNNNN.nut` files in `out` at the chunks' starts,
/// without re-encoding, on the timeline (the source's timestamps shifted by
/// `TIMELINE_OFFSET_SECS`). NUT holds any codec with exact timestamps.
pub fn split_args(chunks: &[Chunk], input: &Path, out: &Path) -> Vec<String> {
    let mut args = reading();
    args.extend(["-i".into(), path(input)]);
    // Shifted here, before any muxer sees a negative timestamp (B-frames): a muxer would
    // shift the first chunk alone to avoid it, two frames off the others.
    args.extend(strings([
        "-map",
        "0:v:0",
        "-c",
        "copy",
        "-output_ts_offset",
    ]));
    args.push(format!("{TIMELINE_OFFSET_SECS}"));
    args.extend(strings(["-f", "segment"]));
    let cuts: Vec<String> = chunks
        .iter()
        .skip(1)
        .map(|c| format!("{:.3}", c.start + TIMELINE_OFFSET_SECS - 0.001))
        .collect();
    if !cuts.is_empty() {
        args.extend(["-segment_times".into(), cuts.join(",")]);
    }
    args.extend(strings([
        "-reset_timestamps",
        "0",
        "-segment_format",
        "nut",
    ]));
    args.push(path(&out.join("chunk_%05d.nut")));
    args
}

/// Everything the chunked ladder runs for one source (`reel media plan --chunks`).
#[derive(Debug, serde::Serialize)]
pub struct ChunkedCommands {
    /// Whether this source gets the chunked ladder (`media.chunk_threshold_secs`, and
    /// more than one rung); the commands are shown either way.
    pub applies: bool,
    pub chunks: Vec<Chunk>,
    pub early: Vec<String>,
    pub split: Vec<String>,
    /// Each chunk's encode, reading `OUT/chunks/chunk_NNNNN.nut`.
    pub chunk_encodes: Vec<Vec<String>>,
}

impl ChunkedCommands {
    pub fn new(
        plan: &Plan,
        chunks: Vec<Chunk>,
        config: &crate::config::MediaConfig,
        input: &Path,
        out: &Path,
    ) -> Self {
        let pieces = out.join("chunks");
        let chunk_encodes = chunks
            .iter()
            .map(|c| {
                let input = pieces.join(format!("chunk_{:05}.nut", c.index));
                plan.chunk_args(&plan.rungs[1..], c, &input, out)
            })
            .collect();
        Self {
            applies: plan.is_chunked(config),
            early: plan.early_args(&chunks, &config.early_preset, input, out),
            split: split_args(&chunks, input, &pieces),
            chunk_encodes,
            chunks,
        }
    }
}

/// Keyframe times of the source's video: packets only, nothing decoded.
pub fn keyframe_probe_args(input: &Path) -> Vec<String> {
    let mut args = strings([
        "-v",
        "error",
        "-format_whitelist",
        super::SOURCE_FORMATS,
        "-select_streams",
        "v:0",
        "-show_entries",
        "packet=pts_time,flags",
        "-of",
        "csv=p=0",
    ]);
    args.push(path(input));
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::chunks::split;
    use crate::media::ladder::ladder;
    use crate::model::Definition;

    fn plan() -> Plan {
        Plan {
            kind: crate::model::MediaKind::Video,
            key_info: None,
            overlay: None,
            rungs: ladder(1920, 1080, &Definition::ALL),
            audio: vec![crate::model::AudioTrack::of_stream(0, None, None)],
            duration_ms: 120_000,
            fps: 30.0,
            snapshots: 10,
            threads: 1,
        }
    }

    fn after<'a>(args: &'a [String], flag: &str) -> &'a str {
        &args[args.iter().position(|a| a == flag).unwrap() + 1]
    }

    #[test]
    fn chunks_share_one_keyframe_schedule_with_the_early_rung() {
        let keyframes: Vec<f64> = (0..24).map(|i| f64::from(i) * 5.0).collect();
        let chunks = split(&keyframes, 0.0, 120.0, 30.0);
        let early = plan().early_args(&chunks, "superfast", Path::new("/s.mp4"), Path::new("/o"));
        let all = after(&early, "-force_key_frames");
        let chunk = plan().chunk_args(
            &plan().rungs[1..],
            &chunks[1],
            Path::new("/c1.nut"),
            Path::new("/o"),
        );
        let own = after(&chunk, "-force_key_frames");
        assert!(all.contains(own), "{own} not in {all}");
        assert!(own.starts_with("39.999,43.999"), "{own}");
        assert_eq!(
            after(&chunk, "-var_stream_map"),
            "v:0,name:SD v:1,name:HD v:2,name:FHD"
        );
        assert!(chunk.last().unwrap().ends_with("/o/%v/chunk_00001.m3u8"));
        assert!(
            !chunk.iter().any(|a| a == "-itsoffset"),
            "chunks come shifted"
        );
        assert_eq!(after(&early, "-itsoffset"), "10");
        assert!(chunk.iter().any(|a| a == "-copyts"));
        assert_eq!(after(&early, "-preset"), "superfast");
        assert!(early.iter().any(|a| a.ends_with("/o/audio/index.m3u8")));
    }

    #[test]
    fn split_cuts_just_before_each_chunk_start() {
        let chunks = split(&[0.0, 30.0, 60.0, 90.0], 0.0, 120.0, 30.0);
        let args = split_args(&chunks, Path::new("/s.mp4"), Path::new("/w"));
        assert_eq!(after(&args, "-segment_times"), "39.999,69.999,99.999");
        assert_eq!(after(&args, "-output_ts_offset"), "10");
        assert_eq!(after(&args, "-c"), "copy");
    }
}
