//! Downloads: MP4 (or audio-only M4A) files remuxed from a generation's HLS renditions,
//! no second encode; `moov` first (`+faststart`) so any player starts before the end.

use std::path::Path;

/// ffmpeg's arguments to remux the media playlists `video` and/or `audio` (local files whose
/// segment URIs and key URI are local paths) into `out` (`.mp4` or `.m4a`).
pub fn remux_args(video: Option<&Path>, audio: Option<&Path>, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-y", "-v", "error"]
        .map(String::from)
        .to_vec();
    let mut maps = Vec::new();
    for (index, (playlist, map)) in [(video, "v:0"), (audio, "a:0")]
        .into_iter()
        .filter_map(|(p, m)| Some((p?, m)))
        .enumerate()
    {
        // Only our own rewritten playlists are read: segments, the key, nothing else.
        args.extend(
            [
                "-protocol_whitelist",
                "file,crypto",
                "-allowed_extensions",
                "ALL",
                "-f",
                "hls",
                "-i",
            ]
            .map(String::from),
        );
        args.push(playlist.to_string_lossy().into_owned());
        maps.extend(["-map".to_string(), format!("{index}:{map}")]);
    }
    args.extend(maps);
    args.extend(["-c", "copy", "-movflags", "+faststart"].map(String::from));
    args.push(out.to_string_lossy().into_owned());
    args
}

/// A file name for `Content-Disposition`: the upload's name without its extension, the
/// definition, and the extension; only characters every file system and header takes.
pub fn file_name(source_name: &str, definition: &str, extension: &str) -> String {
    let stem = source_name
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(source_name);
    let stem: String = stem
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' | ' ' => c,
            _ => '_',
        })
        .take(80)
        .collect();
    let stem = stem.trim_matches(|c| c == '.' || c == ' ');
    let stem = if stem.is_empty() { "video" } else { stem };
    format!("{stem}-{definition}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remux_maps_video_then_audio_and_copies() {
        let args = remux_args(
            Some(Path::new("/w/v.m3u8")),
            Some(Path::new("/w/a.m3u8")),
            Path::new("/w/out.mp4"),
        );
        let joined = args.join(" ");
        assert!(joined.contains("-i /w/v.m3u8"));
        assert!(joined.contains("-map 0:v:0 -map 1:a:0 -c copy -movflags +faststart /w/out.mp4"));
        let audio = remux_args(None, Some(Path::new("/w/a.m3u8")), Path::new("/w/out.m4a"));
        assert!(audio.join(" ").contains("-map 0:a:0 -c copy"));
    }

    #[test]
    fn file_names_are_plain() {
        assert_eq!(file_name("My talk.mov", "HD", "mp4"), "My talk-HD.mp4");
        assert_eq!(
            file_name("\"a\r\nb/..\".mp4", "AUDIO", "m4a"),
            "_a__b_.._-AUDIO.m4a"
        );
        assert_eq!(file_name("...", "LD", "mp4"), "video-LD.mp4");
    }
}
