//! Crafted media (issue 14, robustness): files beyond the operator's limits (frame size,
//! duration, frame rate) and a file whose ffprobe description is over 16 MiB fail at
//! once, for good, with the reason, instead of holding a worker.

mod common;

use common::TestApp;
use common::media::{clip, settle, upload};
use reel::model::VideoStatus;

#[tokio::test(flavor = "multi_thread")]
async fn files_beyond_the_media_limits_fail_at_once_with_the_reason() {
    let (app, creds, token) = TestApp::builder()
        .config(|c| {
            c.workers = 1;
            c.media.max_pixels = 320 * 240;
            c.media.max_duration_secs = 3;
            c.media.max_fps = 30.0;
        })
        .signed_in()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let x264 = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p";
    let large = clip(
        dir.path(),
        "large.mp4",
        &format!("-f lavfi -i testsrc2=size=640x480:rate=25:duration=1 {x264}"),
    );
    let long = clip(
        dir.path(),
        "long.mp4",
        &format!("-f lavfi -i testsrc2=size=320x240:rate=25:duration=5 {x264}"),
    );
    let fast = clip(
        dir.path(),
        "fast.mp4",
        &format!("-f lavfi -i testsrc2=size=320x240:rate=120:duration=1 {x264}"),
    );
    // Five tags of 4 MiB: ffprobe's JSON about it is over 20 MiB.
    let meta = dir.path().join("meta.txt");
    let tags: String = (0..5)
        .map(|i| format!("c{i}={}\n", "a".repeat(4 << 20)))
        .collect();
    std::fs::write(&meta, format!(";FFMETADATA1\n{tags}")).unwrap();
    let tagged = clip(
        dir.path(),
        "tagged.mkv",
        &format!(
            "-f lavfi -i testsrc2=size=160x120:rate=25:duration=1 -i {} -map_metadata 1 {x264}",
            meta.display()
        ),
    );

    for (file, reason) in [
        (large, "at most 76800 pixels"),
        (long, "at most 3 s"),
        (fast, "at most 30"),
        (tagged, "more than 16 MiB"),
    ] {
        let vid = upload(&app, &token, &file).await;
        let v = settle(&app, creds.app_id, vid).await;
        assert_eq!(v.status, VideoStatus::TranscodeFailed, "{file:?}");
        let error = v.error.unwrap_or_default();
        assert!(error.contains(reason), "{file:?}: {error}");
        assert_eq!(
            app.jobs_of(vid).await,
            vec![("transcode".into(), "failed".into())],
            "{file:?}: failed for good, not retried"
        );
    }
}
