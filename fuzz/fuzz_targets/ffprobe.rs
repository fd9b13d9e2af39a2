//! ffprobe's JSON (`reel::media::probe::parse`), and what the transcode job makes of the
//! result (`reel::media::Plan::for_source`): display size, the ladder, the ffmpeg
//! arguments, the sprite and its WebVTT, progress.
//!
//! Invariants: nothing panics; rotation is 0, 90, 180 or 270; the info survives being
//! stored as JSON (as `record_media_info` does) and read back.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use reel::config::MediaConfig;
use reel::media::Plan;
use reel::media::probe::parse;
use reel::media::sprite::thumbnails_vtt;
use reel::media::transcode::progress_line;
use reel::model::MediaInfo;

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

    let Some((w, h)) = info.display_size() else {
        return;
    };
    // Only sizes ffmpeg itself accepts (its av_image_check_size: (w+128)·(h+128) < INT_MAX/8);
    // it refuses to decode anything larger, so the job would fail in ffmpeg anyway.
    // (`Plan::sprite` overflowed beyond it once: fuzz/README.md, "Findings".)
    if (w as u64 + 128) * (h as u64 + 128) >= i32::MAX as u64 / 8 {
        return;
    }
    let config = MediaConfig {
        threads: 2,
        ..MediaConfig::default()
    };
    let Ok(plan) = Plan::for_source(&info, 3, &config) else {
        return;
    };
    assert!(!plan.rungs.is_empty());
    let _ = plan.ffmpeg_args(Path::new("/in/source"), Path::new("/out"));
    let _ = thumbnails_vtt(&plan.sprite(), plan.duration_ms, "sprite.jpg");
    let _ = progress_line("out_time_us=1000000", plan.duration_ms);
});
