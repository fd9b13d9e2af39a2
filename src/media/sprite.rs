//! The scrubbing sprite: one sheet of thumbnails taken from the transcode's decode, and
//! the WebVTT cues that point players into it.

use super::plan::Plan;

/// Width of one thumbnail in the sprite sheet.
pub const THUMB_WIDTH: u32 = 160;
const SPRITE_COLUMNS: u32 = 10;
const MAX_THUMBS: u32 = 100;
/// Tallest thumbnail (a 1:4 portrait at `THUMB_WIDTH`), so ten rows stay a valid JPEG.
const MAX_THUMB_HEIGHT: u32 = 640;

/// Geometry of the sprite sheet (thumbnails left to right, top to bottom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sprite {
    pub count: u32,
    pub columns: u32,
    pub rows: u32,
    pub thumb_width: u32,
    pub thumb_height: u32,
    pub interval_secs: f64,
}

impl Plan {
    pub fn sprite(&self) -> Sprite {
        let seconds = self.seconds();
        let interval = (seconds / f64::from(MAX_THUMBS)).max(1.0);
        let count = ((seconds / interval).floor() as u32).clamp(1, MAX_THUMBS);
        let smallest = self.rungs[0];
        // Clamped: an absurd aspect ratio (16×2147483647, found by fuzzing) overflowed.
        let half_height = (f64::from(THUMB_WIDTH) * f64::from(smallest.height)
            / f64::from(smallest.width.max(1))
            / 2.0)
            .round()
            .clamp(1.0, f64::from(MAX_THUMB_HEIGHT / 2));
        let thumb_height = half_height as u32 * 2;
        Sprite {
            count,
            columns: count.min(SPRITE_COLUMNS),
            rows: count.div_ceil(SPRITE_COLUMNS),
            thumb_width: THUMB_WIDTH,
            thumb_height,
            interval_secs: interval,
        }
    }
}

impl Sprite {
    /// The filter chain that turns decoded frames into the sheet.
    pub fn filter(&self) -> String {
        format!(
            "fps=fps=1/{:.3},scale={}:{},tile={}x{}",
            self.interval_secs, self.thumb_width, self.thumb_height, self.columns, self.rows
        )
    }
}

/// WebVTT cues pointing into the sprite sheet (`sprite_url#xywh=x,y,w,h`).
pub fn thumbnails_vtt(sprite: &Sprite, duration_ms: i64, sprite_url: &str) -> String {
    let stamp = |ms: i64| {
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let mut vtt = String::from("WEBVTT\n");
    let step = (sprite.interval_secs * 1000.0) as i64;
    for i in 0..sprite.count {
        let start = i64::from(i) * step;
        if start >= duration_ms {
            break;
        }
        let end = if i + 1 == sprite.count {
            duration_ms
        } else {
            (start + step).min(duration_ms)
        };
        let x = (i % sprite.columns) * sprite.thumb_width;
        let y = (i / sprite.columns) * sprite.thumb_height;
        vtt.push_str(&format!(
            "\n{} --> {}\n{sprite_url}#xywh={x},{y},{},{}\n",
            stamp(start),
            stamp(end),
            sprite.thumb_width,
            sprite.thumb_height
        ));
    }
    vtt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ladder::ladder;
    use crate::model::Definition;

    fn plan(w: u32, h: u32) -> Plan {
        Plan {
            kind: crate::model::MediaKind::Video,
            key_info: None,
            overlay: None,
            rungs: ladder(w, h, &Definition::ALL),
            audio: vec![crate::model::AudioTrack::of_stream(0, None, None)],
            duration_ms: 30_000,
            fps: 30.0,
            snapshots: 10,
            threads: 2,
        }
    }

    #[test]
    fn absurd_aspect_ratios_give_bounded_even_thumbnails() {
        // Found by fuzzing (fuzz/fuzz_targets/ffprobe.rs): 16×2147483647 overflowed.
        for (w, h) in [(16, 2_147_483_647), (2_147_483_647, 16), (16, 16)] {
            let mut p = plan(1920, 1080);
            p.rungs[0].width = w;
            p.rungs[0].height = h;
            let sprite = p.sprite();
            assert!(
                (2..=MAX_THUMB_HEIGHT).contains(&sprite.thumb_height),
                "{w}x{h}: {sprite:?}"
            );
            assert_eq!(sprite.thumb_height % 2, 0);
        }
    }

    #[test]
    fn vtt_cues_cover_the_video() {
        let p = plan(1280, 720);
        let sprite = p.sprite();
        assert_eq!((sprite.count, sprite.columns, sprite.rows), (30, 10, 3));
        assert_eq!((sprite.thumb_width, sprite.thumb_height), (160, 90));
        let vtt = thumbnails_vtt(&sprite, 30_000, "sprite.jpg");
        assert!(vtt.starts_with("WEBVTT\n"));
        assert!(vtt.contains("00:00:00.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,160,90"));
        assert!(vtt.contains("00:00:29.000 --> 00:00:30.000\nsprite.jpg#xywh=1440,180,160,90"));
    }
}
