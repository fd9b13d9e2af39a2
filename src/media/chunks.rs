//! The chunked ladder's timeline (docs/architecture.md, "Chunked ladder"): where the
//! source is cut (at its own keyframes), where every segment of every rung starts, and
//! how the per-chunk playlists become one. Pure functions: the ffmpeg arguments that use
//! them are in `chunked`.

use serde::{Deserialize, Serialize};

use super::transcode::SEGMENT_SECS;

/// A tail shorter than this joins the segment before it (no sub-second segments).
const MIN_SEGMENT_SECS: f64 = 1.0;

/// One piece of the source's video, cut at a keyframe, encoded by one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    pub index: u32,
    /// Source timestamps, seconds: `start` is a keyframe of the source.
    pub start: f64,
    pub end: f64,
    /// Where its segments start (source timestamps): `start`, then every segment length.
    pub segments: Vec<f64>,
}

impl Chunk {
    pub fn seconds(&self) -> f64 {
        (self.end - self.start).max(0.0)
    }
}

/// Cuts `[start, end)` at keyframes near every `chunk_secs`, never leaving a chunk shorter
/// than half of it; a source with rare keyframes gets uneven chunks.
pub fn split(keyframes: &[f64], start: f64, end: f64, chunk_secs: f64) -> Vec<Chunk> {
    let chunk_secs = chunk_secs.max(f64::from(SEGMENT_SECS));
    let mut cuts = vec![start];
    loop {
        let last = *cuts.last().expect("starts with one");
        let target = last + chunk_secs;
        if target >= end - chunk_secs / 2.0 {
            break;
        }
        let candidate = keyframes
            .iter()
            .copied()
            .filter(|k| *k >= last + chunk_secs / 2.0 && *k <= end - chunk_secs / 2.0)
            .min_by(|a, b| (a - target).abs().total_cmp(&(b - target).abs()));
        match candidate {
            Some(k) => cuts.push(k),
            None => break,
        }
    }
    let ends = cuts.iter().skip(1).copied().chain([end]);
    cuts.iter()
        .zip(ends)
        .enumerate()
        .map(|(i, (&s, e))| Chunk {
            index: i as u32,
            start: s,
            end: e,
            segments: segment_starts(s, e),
        })
        .collect()
}

/// Segment starts of `[start, end)`: every `SEGMENT_SECS`, a short tail merged.
fn segment_starts(start: f64, end: f64) -> Vec<f64> {
    let step = f64::from(SEGMENT_SECS);
    let mut starts = vec![start];
    let mut t = start + step;
    while end - t >= MIN_SEGMENT_SECS {
        starts.push(t);
        t += step;
    }
    starts
}

/// Keyframe times from ffprobe's `-show_entries packet=pts_time,flags -of csv=p=0`, sorted.
pub fn parse_keyframes(csv: &str) -> Vec<f64> {
    let mut times: Vec<f64> = csv
        .lines()
        .filter_map(|line| {
            let (pts, flags) = line.trim().split_once(',')?;
            flags.contains('K').then(|| pts.parse::<f64>().ok())?
        })
        .filter(|t| t.is_finite())
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    times
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StitchError {
    #[error("chunk {0}'s playlist is unfinished (no #EXT-X-ENDLIST)")]
    Unfinished(usize),
    #[error("chunk {0}'s playlist has no segment")]
    Empty(usize),
}

/// One VOD media playlist from the chunks' playlists, in order: their segments one after
/// the other (timestamps already continue, so no discontinuity tag).
pub fn stitch(chunks: &[String]) -> Result<String, StitchError> {
    let mut body = String::new();
    let mut longest = 0f64;
    // An encrypted ladder: every chunk was encrypted with the same key and explicit IV,
    // so the first chunk's key line holds for all.
    let key = chunks
        .first()
        .and_then(|p| {
            p.lines()
                .map(str::trim)
                .find(|l| l.starts_with("#EXT-X-KEY:"))
        })
        .map(|l| format!("{l}\n"))
        .unwrap_or_default();
    for (i, playlist) in chunks.iter().enumerate() {
        if !playlist.lines().any(|l| l.trim() == "#EXT-X-ENDLIST") {
            return Err(StitchError::Unfinished(i));
        }
        let mut segments = 0;
        let mut pending: Option<&str> = None;
        for line in playlist.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("#EXTINF:") {
                let secs: f64 = rest.trim_end_matches(',').parse().unwrap_or(0.0);
                longest = longest.max(secs);
                pending = Some(line);
            } else if !line.is_empty()
                && !line.starts_with('#')
                && let Some(info) = pending.take()
            {
                body.push_str(info);
                body.push('\n');
                body.push_str(line);
                body.push('\n');
                segments += 1;
            }
        }
        if segments == 0 {
            return Err(StitchError::Empty(i));
        }
    }
    let target = (longest - 0.001).ceil().max(1.0) as u64;
    Ok(format!(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n{key}{body}#EXT-X-ENDLIST\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every(step: f64, until: f64) -> Vec<f64> {
        (0..)
            .map(|i| i as f64 * step)
            .take_while(|t| *t < until)
            .collect()
    }

    #[test]
    fn cuts_fall_on_keyframes_near_the_chunk_length() {
        let chunks = split(&every(4.5, 120.0), 0.0, 120.0, 30.0);
        let starts: Vec<f64> = chunks.iter().map(|c| c.start).collect();
        assert_eq!(starts, vec![0.0, 31.5, 63.0, 94.5]);
        assert_eq!(chunks.last().unwrap().end, 120.0);
        // Chunks tile the source: each ends where the next starts.
        for w in chunks.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        assert_eq!(
            chunks[1].segments,
            vec![31.5, 35.5, 39.5, 43.5, 47.5, 51.5, 55.5, 59.5]
        );
    }

    #[test]
    fn short_tails_join_the_segment_before() {
        // 31.5 → 63.0 leaves 3.5 s after 59.5: kept; 0 → 8.5 leaves 0.5 s after 8: merged.
        assert_eq!(segment_starts(0.0, 8.5), vec![0.0, 4.0]);
        assert_eq!(segment_starts(0.0, 9.0), vec![0.0, 4.0, 8.0]);
    }

    #[test]
    fn rare_keyframes_give_uneven_chunks_and_none_gives_one() {
        let chunks = split(&[0.0, 50.0, 55.0], 0.0, 120.0, 30.0);
        let starts: Vec<f64> = chunks.iter().map(|c| c.start).collect();
        assert_eq!(starts, vec![0.0, 50.0]);
        assert_eq!(split(&[0.0], 0.0, 120.0, 30.0).len(), 1);
        // The last chunk is never shorter than half the length.
        let c = split(&every(1.0, 70.0), 0.0, 70.0, 30.0);
        assert!(c.iter().all(|c| c.seconds() >= 15.0), "{c:?}");
    }

    #[test]
    fn keyframes_from_packets() {
        let csv = "0.000000,K_\n0.040000,__\nN/A,K_\n4.500000,K_\n4.500000,K_\n";
        assert_eq!(parse_keyframes(csv), vec![0.0, 4.5]);
    }

    #[test]
    fn stitched_playlist_lists_every_segment_once_in_order() {
        let chunk = |n: u32, tail: &str| {
            format!(
                "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.000000,\n\
                 seg_{n:05}_00000.ts\n#EXTINF:{tail},\nseg_{n:05}_00001.ts\n#EXT-X-ENDLIST\n"
            )
        };
        let out = stitch(&[chunk(0, "1.500000"), chunk(1, "4.500000")]).unwrap();
        assert!(out.contains("#EXT-X-TARGETDURATION:5\n"), "{out}");
        let uris: Vec<&str> = out.lines().filter(|l| l.starts_with("seg_")).collect();
        assert_eq!(
            uris,
            [
                "seg_00000_00000.ts",
                "seg_00000_00001.ts",
                "seg_00001_00000.ts",
                "seg_00001_00001.ts"
            ]
        );
        assert!(out.ends_with("#EXT-X-ENDLIST\n"));
        assert!(!out.contains("DISCONTINUITY"));
        let unfinished = "#EXTM3U\n#EXTINF:4.0,\nseg.ts\n".to_string();
        assert_eq!(stitch(&[unfinished]), Err(StitchError::Unfinished(0)));
        assert_eq!(
            stitch(&["#EXT-X-ENDLIST\n".into()]),
            Err(StitchError::Empty(0))
        );
    }
}
