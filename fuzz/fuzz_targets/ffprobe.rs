//! ffprobe's JSON (`reel::media::probe::parse`), and what the transcode job makes of the
//! result (`src/jobs/transcode.rs::plan` is private, so its few lines are mirrored here):
//! display size, the ladder, the ffmpeg arguments, the sprite and its WebVTT, progress.
//!
//! Invariants: nothing panics; rotation is 0, 90, 180 or 270; the info survives being
//! stored as JSON (as `record_media_info` does) and read back.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use reel::media::MediaInfo;
use reel::media::ladder::{MIN_SIDE, ladder};
use reel::media::probe::parse;
use reel::media::transcode::{Plan, progress_line, thumbnails_vtt};
use reel::video::Definition;

fuzz_target!(|data: &[u8]| {
    let Ok(info) = parse(data) else {
        return;
    };
    if let Some(v) = &info.video {
        assert!([0, 90, 180, 270].contains(&v.rotation), "{}", v.rotation);
    }

    let stored = serde_json::to_value(&info).expect("MediaInfo serialises");
    let back: MediaInfo = serde_json::from_value(stored).expect("and reads back");
    let finite = info
        .video
        .as_ref()
        .and_then(|v| v.fps)
        .is_none_or(f64::is_finite);
    if finite {
        assert_eq!(back, info);
    }

    // jobs::transcode::plan
    let Some((w, h)) = info.display_size() else {
        return;
    };
    if w < MIN_SIDE as i32 || h < MIN_SIDE as i32 {
        return;
    }
    // Only sizes ffmpeg itself accepts (its av_image_check_size: (w+128)·(h+128) < INT_MAX/8);
    // it refuses to decode anything larger, so the job would fail in ffmpeg anyway.
    // (`Plan::sprite` overflowed beyond it once: fuzz/README.md, "Findings".)
    if (w as u64 + 128) * (h as u64 + 128) >= i32::MAX as u64 / 8 {
        return;
    }
    let Some(duration_ms) = info.duration_ms.filter(|d| *d > 0) else {
        return;
    };
    let plan = Plan {
        rungs: ladder(w as u32, h as u32, &Definition::ALL),
        has_audio: info.audio.is_some(),
        duration_ms,
        fps: info.video.as_ref().and_then(|v| v.fps).unwrap_or(30.0),
        snapshots: 3,
        threads: 2,
    };
    assert!(!plan.rungs.is_empty());
    let _ = plan.ffmpeg_args(Path::new("/in/source"), Path::new("/out"));
    let _ = thumbnails_vtt(&plan.sprite(), plan.duration_ms, "sprite.jpg");
    let _ = progress_line("out_time_us=1000000", plan.duration_ms);
});
