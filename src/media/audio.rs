//! Audio tracks added from audio files: one AAC rendition, on the timeline of the video
//! it joins (docs/architecture.md, "Tracks").

use std::path::Path;

use super::transcode::{AUDIO, hls_settings, reading};

/// A couple of seconds of `input`'s audio as MPEG-TS: where the muxer starts its
/// timestamps, so that the rendition can be shifted onto the video's.
pub fn start_probe_args(input: &Path, out: &Path) -> Vec<String> {
    let mut args = reading();
    args.extend(["-i".into(), input.to_string_lossy().into_owned()]);
    args.extend(["-map", "0:a:0", "-t", "2", "-vn", "-sn", "-dn"].map(String::from));
    args.extend(AUDIO.map(String::from));
    args.extend(["-f".into(), "mpegts".into()]);
    args.push(out.to_string_lossy().into_owned());
    args
}

/// `input`'s first audio stream as the 16 kHz mono WAV speech-to-text tools take.
pub fn speech_wav_args(input: &Path, out: &Path) -> Vec<String> {
    let mut args = reading();
    args.extend(["-i".into(), input.to_string_lossy().into_owned()]);
    args.extend(
        [
            "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", "16000",
        ]
        .map(String::from),
    );
    args.extend(["-c:a", "pcm_s16le", "-f", "wav"].map(String::from));
    args.push(out.to_string_lossy().into_owned());
    args
}

/// The operator's speech-to-text `command` with its placeholders filled in.
pub fn speech_command(command: &[String], wav: &Path, vtt: &Path, language: &str) -> Vec<String> {
    command
        .iter()
        .map(|a| {
            a.replace("{input}", &wav.to_string_lossy())
                .replace("{output}", &vtt.to_string_lossy())
                .replace("{language}", language)
        })
        .collect()
}

/// The rendition into `dir` (`index.m3u8`, `seg_NNNNN.ts`), its timestamps moved by
/// `shift_secs`, encrypted as `key_info` says.
pub fn rendition_args(
    input: &Path,
    dir: &Path,
    shift_secs: f64,
    key_info: Option<&Path>,
) -> Vec<String> {
    let mut args = reading();
    args.extend(["-progress".into(), "pipe:1".into(), "-nostats".into()]);
    args.extend(["-i".into(), input.to_string_lossy().into_owned()]);
    args.extend(["-map", "0:a:0", "-vn", "-sn", "-dn"].map(String::from));
    args.extend(AUDIO.map(String::from));
    args.extend(["-output_ts_offset".into(), format!("{shift_secs:.6}")]);
    args.extend(hls_settings(key_info));
    args.push("-hls_segment_filename".into());
    args.push(dir.join("seg_%05d.ts").to_string_lossy().into_owned());
    args.push(dir.join("index.m3u8").to_string_lossy().into_owned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_speech_command_gets_its_files() {
        let cmd = [
            "whisper".to_string(),
            "-f".into(),
            "{input}".into(),
            "-o".into(),
            "{output}".into(),
            "-l".into(),
            "{language}".into(),
        ];
        let filled = speech_command(&cmd, Path::new("/w/a.wav"), Path::new("/w/c.vtt"), "fr");
        assert_eq!(
            filled,
            ["whisper", "-f", "/w/a.wav", "-o", "/w/c.vtt", "-l", "fr"]
        );
    }

    #[test]
    fn the_rendition_is_shifted_and_encrypted_as_asked() {
        let args = rendition_args(
            Path::new("/in.m4a"),
            Path::new("/out/audio_t1"),
            10.5,
            Some(Path::new("/k")),
        );
        let at = args.iter().position(|a| a == "-output_ts_offset").unwrap();
        assert_eq!(args[at + 1], "10.500000");
        assert!(
            args.windows(2)
                .any(|w| w[0] == "-hls_key_info_file" && w[1] == "/k")
        );
        assert_eq!(args.last().unwrap(), "/out/audio_t1/index.m3u8");
    }
}
