//! Helpers of the watermark tests: a red overlay, profiles made through GraphQL, and the
//! pixels of one frame of a rendition.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::media::clip;
use super::{Credentials, TestApp};

pub const CREATE: &str = "mutation($input: CreateWatermarkInput!) {
    createWatermark(input: $input) { id name position margin scale opacity default imageFormat imageWidth imageHeight }
}";

/// A 64x64 opaque red PNG.
pub fn red_png(dir: &Path) -> PathBuf {
    clip(
        dir,
        "red.png",
        "-f lavfi -i color=red:size=64x64 -frames:v 1",
    )
}

/// A black clip of `secs` s at 854x480 (LD and SD rungs), 25 fps, a keyframe every
/// second, with a tone (the overlay is ffmpeg's second input: `0:a` must stay the tone).
pub fn black(dir: &Path, name: &str, secs: u32) -> PathBuf {
    clip(
        dir,
        name,
        &format!(
            "-f lavfi -i color=black:size=854x480:rate=25:duration={secs} \
             -f lavfi -i sine=frequency=440:duration={secs} -c:a aac \
             -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -shortest"
        ),
    )
}

/// The file as `content` of `createWatermark`.
pub fn base64_of(path: &Path) -> String {
    STANDARD.encode(std::fs::read(path).unwrap())
}

/// `createWatermark` with `input`; the whole response.
pub async fn create(app: &TestApp, creds: &Credentials, input: Value) -> Value {
    app.graphql(creds, CREATE, json!({ "input": input })).await
}

/// `createWatermark` that must succeed; the new profile's id.
pub async fn create_ok(app: &TestApp, creds: &Credentials, input: Value) -> String {
    let out = create(app, creds, input).await;
    out["data"]["createWatermark"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no watermark in {out}"))
        .to_string()
}

/// One decoded frame: RGB24 rows.
pub struct Frame {
    pub width: usize,
    pub rgb: Vec<u8>,
}

impl Frame {
    /// The first frame of `input` (a playlist or a segment).
    pub fn first(input: &Path) -> Self {
        let probe = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0"])
            .args(["-show_entries", "stream=width", "-of", "csv=p=0"])
            .arg(input)
            .output()
            .unwrap();
        super::assert_success(&probe);
        // A playlist lists its program's streams too: the first number is the width.
        let text = String::from_utf8_lossy(&probe.stdout);
        let width = text
            .lines()
            .find_map(|l| l.trim().trim_end_matches(',').parse().ok())
            .unwrap_or_else(|| panic!("no width in {text:?}"));
        let out = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(input)
            .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .output()
            .unwrap();
        super::assert_success(&out);
        Self {
            width,
            rgb: out.stdout,
        }
    }

    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Where the middle of a 64x64 overlay at TOP_LEFT (margin 0.02, scale 0.15 of a
    /// `top_width` picture) lands in this frame.
    pub fn overlay_middle(&self, top_width: usize) -> (usize, usize) {
        let top = top_width as f64;
        let at = (0.02 * top).round() + (0.15 * top).round() / 2.0;
        let scaled = (at * self.width as f64 / top).round() as usize;
        (scaled, scaled)
    }

    /// Whether the 5x5 pixels around `(x, y)` are all `like`.
    pub fn patch(&self, (x, y): (usize, usize), like: fn([u8; 3]) -> bool) -> bool {
        (x - 2..=x + 2).all(|px| (y - 2..=y + 2).all(|py| like(self.pixel(px, py))))
    }
}

pub fn red(p: [u8; 3]) -> bool {
    p[0] > 180 && p[1] < 80 && p[2] < 80
}

pub fn dark(p: [u8; 3]) -> bool {
    p.iter().all(|c| *c < 50)
}
