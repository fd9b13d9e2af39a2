//! Instant clips: a clip's playlists are the parent's, cut to the segments that overlap the
//! clip's range (segment-accurate, no encode). They sit beside the parent's playlists in
//! the same directories and name the same segment files, so relative URIs and the
//! generation's token and key stay valid (docs/architecture.md, "Derived media").

/// The name of an instant clip's playlists, in each directory of the parent generation.
pub fn clip_playlist_name(clip: impl std::fmt::Display) -> String {
    format!("clip_{clip}.m3u8")
}

/// Reads only `[start_ms, end_ms)` of the first input of `args` (ffmpeg's input seek is
/// frame-accurate when it decodes: a precise clip is transcoded from its range only).
pub fn trim_input(args: &mut Vec<String>, start_ms: i64, end_ms: i64) {
    let Some(at) = args.iter().position(|a| a == "-i") else {
        return;
    };
    let seconds = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    let trim = [
        "-ss".into(),
        seconds(start_ms),
        "-t".into(),
        seconds(end_ms - start_ms),
    ];
    args.splice(at..at, trim);
}

/// A media playlist cut to `[start, end)` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct CutPlaylist {
    pub text: String,
    /// Seconds of the segments kept.
    pub duration: f64,
    /// Where the first kept segment starts in the parent, in seconds.
    pub starts_at: f64,
}

/// Keeps the segments of `playlist` that overlap `[start, end)`; `None` when none does.
/// `EXT-X-MEDIA-SEQUENCE` moves to the first kept segment so that encrypted segments
/// keep their implicit IV (the sequence number).
pub fn cut_media_playlist(playlist: &str, start: f64, end: f64) -> Option<CutPlaylist> {
    let mut header = Vec::new();
    let mut base_sequence: u64 = 0;
    // Per segment: its tags (EXTINF and any before it), its URI.
    let mut segments: Vec<(Vec<&str>, &str, f64)> = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    let mut seen_segment = false;
    for line in playlist
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
    {
        if let Some(n) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            base_sequence = n.trim().parse().unwrap_or(0);
        } else if line == "#EXT-X-ENDLIST" {
            continue;
        } else if line.starts_with("#EXTINF:") {
            seen_segment = true;
            pending.push(line);
        } else if line.starts_with('#') {
            // Tags before the first segment are the header (version, target duration,
            // key, map); later ones belong to the next segment (a key change, say).
            if seen_segment || line.starts_with("#EXT-X-KEY") && !pending.is_empty() {
                pending.push(line);
            } else {
                header.push(line);
            }
        } else {
            let seconds = pending
                .iter()
                .find_map(|t| t.strip_prefix("#EXTINF:"))
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            segments.push((std::mem::take(&mut pending), line, seconds));
        }
    }
    let mut at = 0.0;
    let mut kept = Vec::new();
    let mut first = None;
    let mut starts_at = 0.0;
    for (index, (tags, uri, seconds)) in segments.into_iter().enumerate() {
        let (from, to) = (at, at + seconds);
        at = to;
        if to > start && from < end {
            if first.is_none() {
                first = Some(index as u64);
                starts_at = from;
            }
            kept.push((tags, uri, seconds));
        }
    }
    let first = first?;
    let mut text = String::new();
    let mut duration = 0.0;
    for line in header {
        text.push_str(line);
        text.push('\n');
        if line == "#EXTM3U" {
            text.push_str(&format!(
                "#EXT-X-MEDIA-SEQUENCE:{}\n",
                base_sequence + first
            ));
        }
    }
    for (tags, uri, seconds) in kept {
        duration += seconds;
        for tag in tags {
            text.push_str(tag);
            text.push('\n');
        }
        text.push_str(uri);
        text.push('\n');
    }
    text.push_str("#EXT-X-ENDLIST\n");
    Some(CutPlaylist {
        text,
        duration,
        starts_at,
    })
}

/// The media playlists a master names (variant URIs and `EXT-X-MEDIA` URIs), but
/// subtitles, whose WebVTT files cover the whole parent.
pub fn media_playlists(master: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in master.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        if line.starts_with("#EXT-X-MEDIA:") {
            if line.contains("TYPE=SUBTITLES") {
                continue;
            }
            if let Some(uri) = attribute(line, "URI") {
                out.push(uri.to_string());
            }
        } else if !line.starts_with('#') {
            out.push(line.to_string());
        }
    }
    out.dedup();
    out
}

/// The master of a clip: the parent's, each media playlist `dir/index.m3u8` replaced by
/// `dir/{name}`, subtitles left out.
pub fn clip_master(master: &str, name: &str) -> String {
    let rename = |uri: &str| match uri.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{name}"),
        None => name.to_string(),
    };
    let mut out = String::new();
    for line in master.lines().map(str::trim_end) {
        if line.starts_with("#EXT-X-MEDIA:") && line.contains("TYPE=SUBTITLES") {
            continue;
        }
        let line = if line.starts_with("#EXT-X-STREAM-INF:") {
            without_attribute(line, "SUBTITLES")
        } else if line.starts_with("#EXT-X-MEDIA:") {
            match attribute(line, "URI") {
                Some(uri) => line.replace(
                    &format!("URI=\"{uri}\""),
                    &format!("URI=\"{}\"", rename(uri)),
                ),
                None => line.to_string(),
            }
        } else if !line.is_empty() && !line.starts_with('#') {
            rename(line)
        } else {
            line.to_string()
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The quoted value of `name` in a tag's attribute list.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(&tag[at..at + len])
}

fn without_attribute(tag: &str, name: &str) -> String {
    match attribute(tag, name) {
        Some(value) => tag
            .replace(&format!(",{name}=\"{value}\""), "")
            .replace(&format!("{name}=\"{value}\","), ""),
        None => tag.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEDIA: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n\
#EXT-X-KEY:METHOD=AES-128,URI=\"enc.key\"\n#EXTINF:4.000000,\nseg_000.ts\n#EXTINF:4.000000,\nseg_001.ts\n\
#EXTINF:4.000000,\nseg_002.ts\n#EXTINF:1.500000,\nseg_003.ts\n#EXT-X-ENDLIST\n";

    #[test]
    fn keeps_the_segments_overlapping_the_range() {
        let cut = cut_media_playlist(MEDIA, 2.0, 6.0).unwrap();
        assert_eq!(cut.duration, 8.0);
        assert_eq!(cut.starts_at, 0.0);
        assert!(cut.text.contains("seg_000.ts\n") && cut.text.contains("seg_001.ts\n"));
        assert!(!cut.text.contains("seg_002.ts"));
        assert!(
            cut.text
                .contains("#EXT-X-KEY:METHOD=AES-128,URI=\"enc.key\"\n")
        );
        assert!(cut.text.ends_with("#EXT-X-ENDLIST\n"));

        let cut = cut_media_playlist(MEDIA, 4.0, 8.0).unwrap();
        assert_eq!(cut.duration, 4.0);
        assert_eq!(cut.starts_at, 4.0);
        // The first kept segment keeps its sequence number (the IV of its key).
        assert!(cut.text.contains("#EXT-X-MEDIA-SEQUENCE:1\n"));
        assert_eq!(cut.text.matches("#EXT-X-MEDIA-SEQUENCE").count(), 1);

        assert!(cut_media_playlist(MEDIA, 20.0, 30.0).is_none());
    }

    #[test]
    fn trims_the_first_input_only() {
        let mut args: Vec<String> = ["-y", "-i", "a", "-i", "b"].map(String::from).to_vec();
        trim_input(&mut args, 2_000, 6_500);
        assert_eq!(
            args,
            ["-y", "-ss", "2.000", "-t", "4.500", "-i", "a", "-i", "b"]
        );
    }

    #[test]
    fn the_master_names_the_clip_playlists_without_subtitles() {
        let master = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"en\",URI=\"audio/index.m3u8\"\n\
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\",URI=\"subs/1/index.m3u8\"\n\
#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"aud\",SUBTITLES=\"subs\"\nHD/index.m3u8\n";
        let clip = clip_master(master, "clip_9.m3u8");
        assert!(clip.contains("URI=\"audio/clip_9.m3u8\""));
        assert!(clip.contains("\nHD/clip_9.m3u8\n"));
        assert!(!clip.contains("SUBTITLES"));
        assert_eq!(
            media_playlists(master),
            ["audio/index.m3u8", "HD/index.m3u8"]
        );
    }
}
