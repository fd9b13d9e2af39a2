//! Helpers of the chunked-ladder tests: a server with short chunks, a source with
//! keyframes off the segment grid, runners that stop after the early rung, and storage
//! reads that work on fs and S3 alike.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::TryStreamExt;
use tokio::sync::watch;

use super::media::clip;
use super::{Credentials, TestApp};
use reel::model::{AppId, VideoId, VideoStatus};
use reel::video::Video;

/// Source length, seconds; frame rate.
pub const SECS: u32 = 24;
pub const FPS: f64 = 25.0;

/// A server whose chunked ladder starts at 10 s with 8 s chunks, and no worker of its own
/// (each test starts the runners it needs).
pub async fn setup() -> (TestApp, Credentials, String) {
    TestApp::builder()
        .config(|c| {
            c.media.chunk_threshold_secs = 10;
            c.media.chunk_secs = 8;
            c.jobs.poll_ms = 100;
            // A deleted video's running chunk notices within a second.
            c.jobs.lease_secs = 3;
        })
        .signed_in()
        .await
}

/// 854x480 at 25 fps with a tone, a keyframe every 37 frames (1.48 s), so chunk cuts
/// are not on segment boundaries of the source's own timeline, and B-frames (negative
/// decode timestamps at the start, which muxers like to shift).
pub fn source(dir: &Path) -> PathBuf {
    clip(
        dir,
        "long.mp4",
        &format!(
            "-f lavfi -i testsrc2=size=854x480:rate=25:duration={SECS} \
             -f lavfi -i sine=frequency=440:duration={SECS} -c:a aac \
             -c:v libx264 -preset veryfast -bf 2 -g 37 -pix_fmt yuv420p -shortest"
        ),
    )
}

/// A runner with one slot that knows every kind but `transcode_chunk`: it cuts the chunks
/// and publishes the early rung, and leaves the chunks queued.
pub fn early_only(app: &TestApp) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    let registry = reel::jobs::registry().without("transcode_chunk");
    app.reel
        .runner_with(registry)
        .spawn(&app.reel.lanes(1), stopped);
    stop
}

/// A runner of every kind with one slot (one worker node).
pub fn worker(app: &TestApp) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    app.reel.runner().spawn(&app.reel.lanes(1), stopped);
    stop
}

pub async fn wait_until(
    app: &TestApp,
    owner: AppId,
    id: VideoId,
    done: impl Fn(&Video) -> bool,
) -> Video {
    for _ in 0..1200 {
        if let Some(v) = app.reel.videos.get(owner, id).await.unwrap()
            && done(&v)
        {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "video {id} never got there: {:?}",
        app.reel.videos.get(owner, id).await
    );
}

/// Playable on the early rung, the rest still coming.
pub async fn playable_early(app: &TestApp, owner: AppId, id: VideoId) -> Video {
    let v = wait_until(app, owner, id, |v| {
        v.status == VideoStatus::Playable || v.status == VideoStatus::TranscodeFailed
    })
    .await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);
    v
}

pub async fn ladder_complete(app: &TestApp, owner: AppId, id: VideoId) -> Video {
    // `ladder_complete` is also true before the first transcode.
    wait_until(app, owner, id, |v| {
        v.status == VideoStatus::Playable && v.ladder_complete
    })
    .await
}

/// Every object under `prefix`, copied from storage into a local directory (the same on
/// fs and S3 storage).
pub async fn download(app: &TestApp, prefix: &str, into: &Path) {
    let op = app.reel.storage.op();
    let mut lister = op.lister_with(prefix).recursive(true).await.unwrap();
    while let Some(entry) = lister.try_next().await.unwrap() {
        if entry.metadata().is_file() {
            let rel = entry.path().strip_prefix(prefix).unwrap();
            let path = into.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, op.read(entry.path()).await.unwrap().to_vec()).unwrap();
        }
    }
}

pub async fn keys_under(app: &TestApp, prefix: &str) -> Vec<String> {
    let op = app.reel.storage.op();
    let Ok(mut lister) = op.lister_with(prefix).recursive(true).await else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    while let Ok(Some(entry)) = lister.try_next().await {
        if entry.metadata().is_file() {
            keys.push(entry.path().to_string());
        }
    }
    keys
}
