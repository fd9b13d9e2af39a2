//! Images cut from a generation's renditions (docs/architecture.md, "Images"): what a
//! request asks for (`ImageSpec`, parsed and bounded here, with the one name its cached
//! copy has), the HLS it is cut from (`hls`) and the ffmpeg command that makes it (`args`).

pub mod args;
pub mod hls;
#[cfg(test)]
mod tests;
pub mod warm;

/// Largest side of a thumbnail, asked or made.
pub const MAX_SIDE: u32 = 1920;
/// Widest animated preview, and the width of one when none is asked.
pub const MAX_ANIMATED_WIDTH: u32 = 640;
pub const DEFAULT_ANIMATED_WIDTH: u32 = 320;
/// Frame rates of animated previews.
pub const MAX_FPS: u32 = 30;
pub const DEFAULT_FPS: u32 = 15;
/// Longest animated preview (with `MAX_FPS`, at most 300 frames).
pub const MAX_RANGE_MS: i64 = 10_000;
/// Times beyond this are no video's (a day; `media.max_duration_secs` is 12 h).
const MAX_TIME_MS: i64 = 24 * 3600 * 1000;

/// How a thumbnail fills a `width`×`height` box (with only one side asked, `Preserve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fit {
    /// Scaled to fit inside the box, keeping the aspect ratio (the picture may be smaller).
    Preserve,
    /// Scaled to cover the box and cut to it: exactly the box.
    Crop,
    /// Scaled to fit inside the box and padded with black bars: exactly the box.
    Pad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpg,
    Png,
    Webp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnimatedFormat {
    Gif,
    Webp,
}

/// One frame at `time_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Thumbnail {
    pub time_ms: i64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub format: ImageFormat,
}

/// The frames of `start_ms..end_ms` at `fps`, `width` wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Animated {
    pub start_ms: i64,
    pub end_ms: i64,
    pub width: u32,
    pub fps: u32,
    pub format: AnimatedFormat,
}

/// What an image request asks for, checked and normalised: two requests for the same
/// picture are equal, and so are their cache names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageSpec {
    Thumbnail(Thumbnail),
    Animated(Animated),
}

/// Why a request cannot be answered with an image: said to the client as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadSpec(pub String);

fn bad(message: impl Into<String>) -> BadSpec {
    BadSpec(message.into())
}

/// Seconds as milliseconds, refusing what no video has.
fn millis(name: &str, secs: f64) -> Result<i64, BadSpec> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad(format!(
            "{name} must be a number of seconds, 0 or more"
        )));
    }
    let ms = (secs * 1000.0).round();
    if ms > MAX_TIME_MS as f64 {
        return Err(bad(format!("{name} is past the end of the video")));
    }
    Ok(ms as i64)
}

fn side(name: &str, value: Option<i64>, max: u32) -> Result<Option<u32>, BadSpec> {
    match value {
        None => Ok(None),
        Some(v) if v >= 1 && v <= i64::from(max) => Ok(Some(v as u32)),
        Some(v) => Err(bad(format!("{name} must be between 1 and {max} (got {v})"))),
    }
}

/// Seconds as the shortest decimal of their milliseconds (`2.5`, `10`, `0.04`).
pub fn secs(ms: i64) -> String {
    let text = format!("{}.{:03}", ms / 1000, ms % 1000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Thumbnail {
    pub fn new(
        time: f64,
        width: Option<i64>,
        height: Option<i64>,
        fit: Fit,
        format: ImageFormat,
    ) -> Result<Self, BadSpec> {
        let width = side("width", width, MAX_SIDE)?;
        let height = side("height", height, MAX_SIDE)?;
        // Crop and pad need a box; with one side there is nothing to cut or fill.
        let fit = if width.is_some() && height.is_some() {
            fit
        } else {
            Fit::Preserve
        };
        Ok(Self {
            time_ms: millis("time", time)?,
            width,
            height,
            fit,
            format,
        })
    }
}

impl Animated {
    pub fn new(
        start: f64,
        end: f64,
        width: Option<i64>,
        fps: Option<i64>,
        format: AnimatedFormat,
    ) -> Result<Self, BadSpec> {
        let (start_ms, end_ms) = (millis("start", start)?, millis("end", end)?);
        if start_ms >= end_ms {
            return Err(bad(format!(
                "start ({}) must be before end ({})",
                secs(start_ms),
                secs(end_ms)
            )));
        }
        if end_ms - start_ms > MAX_RANGE_MS {
            return Err(bad(format!(
                "an animated image lasts at most {} s (asked {} s)",
                secs(MAX_RANGE_MS),
                secs(end_ms - start_ms)
            )));
        }
        let width = side("width", width, MAX_ANIMATED_WIDTH)?.unwrap_or(DEFAULT_ANIMATED_WIDTH);
        let fps = match fps {
            None => DEFAULT_FPS,
            Some(f) if (1..=i64::from(MAX_FPS)).contains(&f) => f as u32,
            Some(f) => {
                return Err(bad(format!(
                    "fps must be between 1 and {MAX_FPS} (got {f})"
                )));
            }
        };
        Ok(Self {
            start_ms,
            end_ms,
            width,
            fps,
            format,
        })
    }
}

impl Fit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preserve => "preserve",
            Self::Crop => "crop",
            Self::Pad => "pad",
        }
    }
}

impl ImageFormat {
    pub fn ext(self) -> &'static str {
        match self {
            Self::Jpg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }
}

impl AnimatedFormat {
    pub fn ext(self) -> &'static str {
        match self {
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }
}

/// Whether a file name under a generation names an image (`thumbnail.jpg`, `animated.gif`, …).
pub fn is_image_name(name: &str) -> bool {
    matches!(
        name,
        "thumbnail.jpg" | "thumbnail.png" | "thumbnail.webp" | "animated.gif" | "animated.webp"
    )
}

impl ImageSpec {
    /// The request for file `name` (see `is_image_name`) with query `pairs` (other
    /// parameters, such as the token's, are ignored).
    pub fn parse<'a>(
        name: &str,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, BadSpec> {
        let (mut time, mut start, mut end, mut width, mut height, mut fit, mut fps) =
            (None, None, None, None, None, None, None);
        for (k, v) in pairs {
            match k {
                "time" => time = Some(number(k, v)?),
                "start" => start = Some(number(k, v)?),
                "end" => end = Some(number(k, v)?),
                "width" => width = Some(integer(k, v)?),
                "height" => height = Some(integer(k, v)?),
                "fps" => fps = Some(integer(k, v)?),
                "fit" => fit = Some(v),
                _ => {}
            }
        }
        let fit = match fit.map(str::to_ascii_lowercase).as_deref() {
            None | Some("preserve") => Fit::Preserve,
            Some("crop") => Fit::Crop,
            Some("pad") => Fit::Pad,
            Some(other) => {
                return Err(bad(format!(
                    "fit must be preserve, crop or pad (got {other:?})"
                )));
            }
        };
        let thumbnail = |format| {
            let time = time.ok_or_else(|| bad("time (seconds) is required"))?;
            Thumbnail::new(time, width, height, fit, format).map(Self::Thumbnail)
        };
        let animated = |format| {
            let (Some(start), Some(end)) = (start, end) else {
                return Err(bad("start and end (seconds) are required"));
            };
            if height.is_some() {
                return Err(bad("an animated image takes a width only"));
            }
            Animated::new(start, end, width, fps, format).map(Self::Animated)
        };
        match name {
            "thumbnail.jpg" => thumbnail(ImageFormat::Jpg),
            "thumbnail.png" => thumbnail(ImageFormat::Png),
            "thumbnail.webp" => thumbnail(ImageFormat::Webp),
            "animated.gif" => animated(AnimatedFormat::Gif),
            "animated.webp" => animated(AnimatedFormat::Webp),
            _ => Err(bad(
                "images are thumbnail.jpg, thumbnail.png, thumbnail.webp, animated.gif or animated.webp",
            )),
        }
    }

    /// The file name the request is made of (under the generation).
    pub fn file_name(&self) -> String {
        match self {
            Self::Thumbnail(t) => format!("thumbnail.{}", t.format.ext()),
            Self::Animated(a) => format!("animated.{}", a.format.ext()),
        }
    }

    /// Its parameters as a query string (without `?`).
    pub fn query(&self) -> String {
        match self {
            Self::Thumbnail(t) => {
                let mut q = format!("time={}", secs(t.time_ms));
                if let Some(w) = t.width {
                    q.push_str(&format!("&width={w}"));
                }
                if let Some(h) = t.height {
                    q.push_str(&format!("&height={h}"));
                }
                if t.fit != Fit::Preserve {
                    q.push_str(&format!("&fit={}", t.fit.as_str()));
                }
                q
            }
            Self::Animated(a) => format!(
                "start={}&end={}&width={}&fps={}",
                secs(a.start_ms),
                secs(a.end_ms),
                a.width,
                a.fps
            ),
        }
    }

    /// Where its copy is kept, relative to the generation: every parameter, normalised,
    /// is in the name, so equal requests share it and the generation's removal takes it.
    pub fn cache_name(&self) -> String {
        let size = |s: Option<u32>| s.map_or("auto".to_string(), |s| s.to_string());
        match self {
            Self::Thumbnail(t) => format!(
                "images/thumbnail_{}ms_{}x{}_{}.{}",
                t.time_ms,
                size(t.width),
                size(t.height),
                t.fit.as_str(),
                t.format.ext()
            ),
            Self::Animated(a) => format!(
                "images/animated_{}-{}ms_{}w_{}fps.{}",
                a.start_ms,
                a.end_ms,
                a.width,
                a.fps,
                a.format.ext()
            ),
        }
    }

    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Thumbnail(t) => match t.format {
                ImageFormat::Jpg => "image/jpeg",
                ImageFormat::Png => "image/png",
                ImageFormat::Webp => "image/webp",
            },
            Self::Animated(a) => match a.format {
                AnimatedFormat::Gif => "image/gif",
                AnimatedFormat::Webp => "image/webp",
            },
        }
    }

    /// The times it needs, `start..end` in milliseconds (a thumbnail: its instant).
    pub fn span_ms(&self) -> (i64, i64) {
        match self {
            Self::Thumbnail(t) => (t.time_ms, t.time_ms),
            Self::Animated(a) => (a.start_ms, a.end_ms),
        }
    }

    /// Checks it against a video `duration_ms` long.
    pub fn within(&self, duration_ms: i64) -> Result<(), BadSpec> {
        let (start, end) = self.span_ms();
        let past = match self {
            Self::Thumbnail(_) => start >= duration_ms,
            Self::Animated(_) => end > duration_ms,
        };
        if past {
            let what = match self {
                Self::Thumbnail(_) => format!("time {}", secs(start)),
                Self::Animated(_) => format!("end {}", secs(end)),
            };
            return Err(bad(format!(
                "{what} is past the end of the video ({} s)",
                secs(duration_ms)
            )));
        }
        Ok(())
    }
}

fn number(name: &str, v: &str) -> Result<f64, BadSpec> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| bad(format!("{name} must be a number of seconds (got {v:?})")))
}

fn integer(name: &str, v: &str) -> Result<i64, BadSpec> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| bad(format!("{name} must be a whole number (got {v:?})")))
}
