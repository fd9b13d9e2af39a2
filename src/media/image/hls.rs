//! What an image is cut from: the rungs a master playlist lists, the segments of a rung's
//! media playlist, and which of them hold the asked times. Pure: playlists in, choices out.

use super::{BadSpec, Fit, ImageSpec, MAX_SIDE};

/// A rung with pictures, as the master playlist lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub width: u32,
    pub height: u32,
    /// Its media playlist, relative to the master.
    pub uri: String,
}

/// One segment of a media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Relative to the media playlist.
    pub uri: String,
    /// Where it starts on the video's timeline, and how long it lasts, in seconds.
    pub start: f64,
    pub duration: f64,
}

/// A media playlist's segments, and whether they are AES-128 encrypted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MediaPlaylist {
    pub segments: Vec<Segment>,
    pub encrypted: bool,
}

/// The segments an image is cut from, and where the asked span starts in the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut<'a> {
    pub segments: &'a [Segment],
    pub offset: f64,
}

/// A URI Reel wrote: relative, no parent directories, no query, no scheme.
fn plain(uri: &str) -> bool {
    !uri.is_empty()
        && !uri.contains("://")
        && !uri.contains(['?', '#', '\\'])
        && uri
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

/// The rungs with pictures of a master playlist, smallest first (an audio-only master
/// has none).
pub fn variants(master: &str) -> Vec<Variant> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, u32)> = None;
    for line in master.lines().map(str::trim) {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            pending = attribute(attrs, "RESOLUTION").and_then(|r| {
                let (w, h) = r.split_once('x')?;
                Some((w.parse().ok()?, h.parse().ok()?))
            });
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some((width, height)) = pending.take()
            && width > 0
            && height > 0
            && plain(line)
        {
            out.push(Variant {
                width,
                height,
                uri: line.to_string(),
            });
        }
    }
    out.sort_by_key(|v| (v.width, v.height));
    out
}

/// The value of `name` in an attribute list (`A=1,B="x,y"`), unquoted.
fn attribute<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], quoted[end + 1..].trim_start_matches(','))
            }
            None => match after.split_once(',') {
                Some((v, next)) => (v, next),
                None => (after, ""),
            },
        };
        if key.trim() == name {
            return Some(value);
        }
        rest = next;
    }
    None
}

/// The segments of a media playlist on the video's timeline (the first starts at 0).
pub fn media_playlist(text: &str) -> MediaPlaylist {
    let mut out = MediaPlaylist::default();
    let mut pending: Option<f64> = None;
    let mut start = 0.0;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#EXTINF:") {
            let secs = rest.split(',').next().unwrap_or("").trim();
            pending = secs
                .parse::<f64>()
                .ok()
                .filter(|d| d.is_finite() && *d > 0.0);
        } else if let Some(attrs) = line.strip_prefix("#EXT-X-KEY:") {
            out.encrypted = attribute(attrs, "METHOD").is_some_and(|m| m != "NONE");
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some(duration) = pending.take()
            && plain(line)
        {
            out.segments.push(Segment {
                uri: line.to_string(),
                start,
                duration,
            });
            start += duration;
        }
    }
    out
}

impl MediaPlaylist {
    /// Its length in milliseconds.
    pub fn duration_ms(&self) -> i64 {
        self.segments
            .last()
            .map_or(0, |s| ((s.start + s.duration) * 1000.0).floor() as i64)
    }

    /// The segments holding `spec`'s times (checked against the playlist's length first).
    pub fn cut(&self, spec: &ImageSpec) -> Result<Cut<'_>, BadSpec> {
        spec.within(self.duration_ms())?;
        let (start, end) = spec.span_ms();
        let (start, end) = (start as f64 / 1000.0, end as f64 / 1000.0);
        let holds = |t: f64| {
            self.segments
                .iter()
                .rposition(|s| s.start <= t)
                .unwrap_or(0)
        };
        let first = holds(start);
        // An animation's last frame is just before `end`.
        let last = if end > start {
            holds(end - 0.001)
        } else {
            first
        };
        Ok(Cut {
            segments: &self.segments[first..=last.max(first)],
            offset: (start - self.segments[first].start).max(0.0),
        })
    }
}

/// The smallest rung whose pictures are at least as large as what `spec` makes of them
/// (none upscaled unless no rung is large enough), or, without a size, the largest
/// whose sides are within `MAX_SIDE`.
pub fn choose<'a>(variants: &'a [Variant], spec: &ImageSpec) -> Option<&'a Variant> {
    let largest = variants.last()?;
    let aspect = f64::from(largest.width) / f64::from(largest.height);
    let needed = match spec {
        ImageSpec::Thumbnail(t) => match (t.width, t.height) {
            (None, None) => {
                return variants
                    .iter()
                    .rev()
                    .find(|v| v.width <= MAX_SIDE && v.height <= MAX_SIDE)
                    .or(variants.first());
            }
            (Some(w), None) => (f64::from(w), f64::from(w) / aspect),
            (None, Some(h)) => (f64::from(h) * aspect, f64::from(h)),
            (Some(w), Some(h)) => {
                let (w, h) = (f64::from(w), f64::from(h));
                match t.fit {
                    Fit::Crop => (w.max(h * aspect), h.max(w / aspect)),
                    Fit::Preserve | Fit::Pad => (w.min(h * aspect), h.min(w / aspect)),
                }
            }
        },
        ImageSpec::Animated(a) => (f64::from(a.width), f64::from(a.width) / aspect),
    };
    // Half a pixel of rounding (rungs have even sides) still covers.
    variants
        .iter()
        .find(|v| f64::from(v.width) + 0.5 >= needed.0 && f64::from(v.height) + 0.5 >= needed.1)
        .or(Some(largest))
}
