//! The master playlist, written by Reel (a chunked ladder's pieces come from several
//! ffmpeg processes, and tracks join later: `decorate`): the rungs that exist so far with
//! their bandwidth, resolution and codecs, and the audio group with one rendition per
//! language of the source.

use super::ladder::Rung;
use super::plan::{AUDIO_LADDER_KBPS, Plan};
use super::transcode::audio_rung_dir;
use crate::model::AudioTrack;

impl Plan {
    /// The master playlist of this plan's outputs.
    pub fn master_playlist(&self) -> String {
        match self.is_audio_only() {
            true => audio_only_master(),
            false => master_playlist(&self.rungs, self.fps, &self.audio),
        }
    }
}

/// An attribute value as HLS allows it inside quotes (no `"`, no line breaks).
pub(super) fn quoted(value: &str) -> String {
    value
        .chars()
        .map(|c| if c == '"' { '\'' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

/// The master playlist of an audio-only source: one variant per AAC bitrate.
pub fn audio_only_master() -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for kbps in AUDIO_LADDER_KBPS {
        out.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"mp4a.40.2\"\n{}/index.m3u8\n",
            kbps * 1100,
            kbps * 1000,
            audio_rung_dir(kbps)
        ));
    }
    out
}

/// The `EXT-X-MEDIA` lines of the audio group: one per track, names made unique.
fn audio_group(audio: &[AudioTrack]) -> String {
    let mut out = String::new();
    let mut names: Vec<String> = Vec::new();
    for track in audio {
        let mut name = quoted(&track.name);
        if names.contains(&name) {
            name = format!("{name} ({})", names.len() + 1);
        }
        names.push(name.clone());
        let language = track
            .language
            .as_deref()
            .map(|l| format!(",LANGUAGE=\"{}\"", quoted(l)))
            .unwrap_or_default();
        let default = if track.default { "YES" } else { "NO" };
        out.push_str(&format!(
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"{name}\"{language},\
             DEFAULT={default},AUTOSELECT=YES,URI=\"{}/index.m3u8\"\n",
            track.dir
        ));
    }
    out
}

/// The master playlist of a video: the rungs that exist so far, smallest first, each with
/// the audio group when there is audio.
pub fn master_playlist(rungs: &[Rung], fps: f64, audio: &[AudioTrack]) -> String {
    let has_audio = !audio.is_empty();
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    out.push_str(&audio_group(audio));
    for rung in rungs {
        let audio_kbps = if has_audio { 128 } else { 0 };
        let bandwidth = (rung.max_kbps() + audio_kbps) * 1000;
        let level = h264_level(rung, fps);
        let (codecs, group) = match has_audio {
            true => (
                format!("avc1.6400{level:02x},mp4a.40.2"),
                ",AUDIO=\"audio\"",
            ),
            false => (format!("avc1.6400{level:02x}"), ""),
        };
        out.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},AVERAGE-BANDWIDTH={},RESOLUTION={}x{},\
             FRAME-RATE={fps:.3},CODECS=\"{codecs}\"{group}\n{}/index.m3u8\n",
            (rung.video_kbps + audio_kbps) * 1000,
            rung.width,
            rung.height,
            rung.definition
        ));
    }
    out
}

/// The lowest H.264 level (times ten) whose frame size, macroblock rate and bitrate fit
/// the rung, as x264 chooses it (ITU-T H.264 table A-1, High profile bitrates).
fn h264_level(rung: &Rung, fps: f64) -> u32 {
    const LEVELS: [(u32, u64, u64, u32); 10] = [
        (30, 40_500, 1_620, 12_500),
        (31, 108_000, 3_600, 17_500),
        (32, 216_000, 5_120, 25_000),
        (40, 245_760, 8_192, 25_000),
        (41, 245_760, 8_192, 62_500),
        (42, 522_240, 8_704, 62_500),
        (50, 589_824, 22_080, 168_750),
        (51, 983_040, 36_864, 300_000),
        (52, 2_073_600, 36_864, 300_000),
        (62, 16_711_680, 139_264, 800_000),
    ];
    let frame = u64::from(rung.width.div_ceil(16)) * u64::from(rung.height.div_ceil(16));
    let rate = (frame as f64 * fps.max(1.0)).ceil() as u64;
    LEVELS
        .iter()
        .find(|(_, mbps, fs, kbps)| frame <= *fs && rate <= *mbps && rung.max_kbps() <= *kbps)
        .map_or(62, |l| l.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ladder::ladder;
    use crate::model::Definition;

    #[test]
    fn master_lists_the_rungs_given_with_levels_x264_would_pick() {
        let rungs = ladder(1920, 1080, &Definition::ALL);
        let audio = [
            AudioTrack::of_stream(0, Some("eng"), Some("English")),
            AudioTrack::of_stream(1, Some("fre"), None),
        ];
        let master = master_playlist(&rungs[..1], 30.0, &audio);
        assert!(
            master.contains("NAME=\"English\",LANGUAGE=\"eng\",DEFAULT=YES,AUTOSELECT=YES,URI=\"audio/index.m3u8\""),
            "{master}"
        );
        assert!(
            master.contains(
                "NAME=\"fre\",LANGUAGE=\"fre\",DEFAULT=NO,AUTOSELECT=YES,URI=\"audio_1/index.m3u8\""
            ),
            "{master}"
        );
        assert!(master.contains("RESOLUTION=640x360"), "{master}");
        assert!(master.contains("avc1.64001e,mp4a.40.2"), "{master}");
        assert!(!master.contains("SD/index.m3u8"));
        let full = master_playlist(&rungs, 30.0, &[]);
        assert!(full.contains("avc1.640028\""), "{full}");
        assert!(!full.contains("AUDIO"));
        assert_eq!(full.matches("#EXT-X-STREAM-INF").count(), 4);
    }

    #[test]
    fn audio_only_lists_the_aac_ladder() {
        let m = audio_only_master();
        assert!(
            m.contains("CODECS=\"mp4a.40.2\"\naudio_64k/index.m3u8"),
            "{m}"
        );
        assert!(m.contains("audio_128k/index.m3u8"), "{m}");
    }
}
