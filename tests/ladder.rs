//! The chunked ladder (docs/architecture.md, "Chunked ladder"): a long source plays on its
//! early rung first, the other rungs are encoded in chunks by any worker and stitched
//! into continuous playlists; a failed chunk retries alone; deleting the video cancels
//! every chunk. Real ffmpeg, Postgres, Redis and storage.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;

use common::media::{clip, upload};
use common::{Credentials, TestApp};
use reel::events::VideoEvent;
use reel::jobs::Registry;
use reel::model::{AppId, Definition, VideoId, VideoStatus};
use reel::video::Video;
use reel::video::work::Transcode;

/// Source length, seconds; frame rate.
const SECS: u32 = 24;
const FPS: f64 = 25.0;

/// A server whose chunked ladder starts at 10 s with 8 s chunks, and no worker of its own
/// (each test starts the runners it needs).
async fn setup() -> (TestApp, Credentials, String) {
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
/// are not on segment boundaries of the source's own timeline.
fn source(dir: &Path) -> PathBuf {
    clip(
        dir,
        "long.mp4",
        &format!(
            "-f lavfi -i testsrc2=size=854x480:rate=25:duration={SECS} \
             -f lavfi -i sine=frequency=440:duration={SECS} -c:a aac \
             -c:v libx264 -preset ultrafast -g 37 -pix_fmt yuv420p -shortest"
        ),
    )
}

/// A runner with `workers` slots that knows only the `transcode` kind: it does the early
/// pass and cuts the chunks, and leaves the chunks queued.
fn early_only(app: &TestApp) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    let registry = Registry::default().with::<Transcode>();
    app.reel
        .runner_with(registry)
        .spawn(&app.reel.lanes(1), stopped);
    stop
}

/// A runner of every kind with one slot (one worker node).
fn worker(app: &TestApp) -> watch::Sender<bool> {
    let (stop, stopped) = watch::channel(false);
    app.reel.runner().spawn(&app.reel.lanes(1), stopped);
    stop
}

async fn wait_until(
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
async fn playable_early(app: &TestApp, owner: AppId, id: VideoId) -> Video {
    let v = wait_until(app, owner, id, |v| {
        v.status == VideoStatus::Playable || v.status == VideoStatus::TranscodeFailed
    })
    .await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);
    v
}

async fn ladder_complete(app: &TestApp, owner: AppId, id: VideoId) -> Video {
    wait_until(app, owner, id, |v| v.ladder_complete).await
}

/// Every object under `prefix`, copied from storage into a local directory (the same on
/// fs and S3 storage).
async fn download(app: &TestApp, prefix: &str, into: &Path) {
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

async fn keys_under(app: &TestApp, prefix: &str) -> Vec<String> {
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

/// (pts, duration) of every packet of the first stream of `kind` (`v` or `a`), by pts.
fn packets(playlist: &Path, kind: &str) -> Vec<(f64, f64)> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", &format!("{kind}:0")])
        .args([
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ])
        .arg(playlist)
        .output()
        .unwrap();
    common::assert_success(&out);
    let mut packets: Vec<(f64, f64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (pts, dur) = l.trim().trim_end_matches(',').split_once(',')?;
            Some((pts.parse().ok()?, dur.parse().unwrap_or(0.0)))
        })
        .collect();
    packets.sort_by(|a, b| a.0.total_cmp(&b.0));
    packets
}

fn segment_durations(playlist: &Path) -> Vec<String> {
    std::fs::read_to_string(playlist)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("#EXTINF"))
        .map(String::from)
        .collect()
}

/// Live events of `owner`, collected from now on.
fn record_events(app: &TestApp, owner: AppId) -> tokio::sync::mpsc::UnboundedReceiver<VideoEvent> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut events = app.reel.events.app_events(owner);
    tokio::spawn(async move {
        while let Some(e) = events.next().await {
            if tx.send(e).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_video_plays_on_its_first_rung_then_two_workers_share_its_chunks() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let mut events = record_events(&app, creds.app_id);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _early = early_only(&app);
    let vid = upload(&app, &token, &source(dir.path())).await;

    // Playable on LD alone: one rendition, a master playlist naming only it.
    let video = playable_early(&app, creds.app_id, vid).await;
    assert!(!video.ladder_complete);
    assert_eq!(video.ladder_chunks, 3, "24 s in chunks of about 8 s");
    let renditions = app.reel.videos.renditions(&video).await.unwrap();
    let defs: Vec<_> = renditions.iter().map(|r| r.definition.unwrap()).collect();
    assert_eq!(defs, vec![Definition::LD]);
    let early = tempfile::tempdir().unwrap();
    let generation = video.generation().unwrap();
    download(&app, generation.prefix(), early.path()).await;
    let master = std::fs::read_to_string(early.path().join("master.m3u8")).unwrap();
    assert!(
        master.contains("LD/index.m3u8") && !master.contains("SD/"),
        "{master}"
    );
    let chunk_keys = keys_under(&app, &format!("videos/{vid}/chunks/")).await;
    assert_eq!(chunk_keys.len(), 3, "{chunk_keys:?}");

    // Two workers take the chunks.
    let (_a, _b) = (worker(&app), worker(&app));
    let video = ladder_complete(&app, creds.app_id, vid).await;
    assert_eq!(video.status, VideoStatus::Playable);
    assert_eq!(video.progress, 100);
    let renditions = app.reel.videos.renditions(&video).await.unwrap();
    let defs: Vec<_> = renditions.iter().map(|r| r.definition.unwrap()).collect();
    assert_eq!(defs, vec![Definition::LD, Definition::SD]);
    assert!(renditions.iter().all(|r| r.file_size > 0));
    let workers = chunk_workers(&app, vid).await;
    assert_eq!(workers.len(), 3, "every chunk done once: {workers:?}");
    let mut distinct = workers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 2, "both workers took chunks: {workers:?}");

    // Events: playable on the early rung, then SD added, then complete.
    let mut seen = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), events.recv()).await {
        if e.video_id == vid {
            seen.push(e);
        }
    }
    let early_playable = seen
        .iter()
        .position(|e| e.status == VideoStatus::Playable && !e.ladder_complete)
        .expect("a PLAYABLE event before the ladder was complete");
    let added = seen
        .iter()
        .position(|e| e.rendition_added == Some(Definition::SD))
        .expect("an event for the SD rung");
    assert!(early_playable < added);
    assert!(seen[added].ladder_complete);

    // The stitched ladder: continuous, as long as the source, aligned with the early rung.
    let out = tempfile::tempdir().unwrap();
    download(&app, generation.prefix(), out.path()).await;
    let master = std::fs::read_to_string(out.path().join("master.m3u8")).unwrap();
    assert!(
        master.contains("LD/index.m3u8") && master.contains("SD/index.m3u8"),
        "{master}"
    );
    assert!(!master.contains("chunk_"), "{master}");
    let sd = out.path().join("SD/index.m3u8");
    let sd_text = std::fs::read_to_string(&sd).unwrap();
    assert!(!sd_text.contains("DISCONTINUITY"), "{sd_text}");
    assert_eq!(
        segment_durations(&sd),
        segment_durations(&out.path().join("LD/index.m3u8")),
        "segments (and keyframes) aligned across rungs"
    );
    let frame = 1.0 / FPS;
    for rung in ["LD", "SD"] {
        let video = packets(&out.path().join(format!("{rung}/index.m3u8")), "v");
        assert_eq!(
            video.len(),
            (f64::from(SECS) * FPS) as usize,
            "{rung}: every frame once"
        );
        for w in video.windows(2) {
            let gap = w[1].0 - w[0].0;
            assert!(
                gap <= frame * 1.01 && gap > 0.0,
                "{rung}: gap of {gap} s at {}",
                w[0].0
            );
        }
        let span = video.last().unwrap().0 + frame - video[0].0;
        assert!((span - f64::from(SECS)).abs() <= frame, "{rung}: {span} s");
        let audio = packets(&out.path().join("audio/index.m3u8"), "a");
        let audio_end = audio.last().map(|(p, d)| p + d).unwrap();
        let video_end = video.last().unwrap().0 + frame;
        assert!(
            (audio_end - video_end).abs() <= 0.05,
            "{rung}: audio ends at {audio_end}, video at {video_end}"
        );
    }
    // The chunks' sources and playlists are gone.
    assert!(
        keys_under(&app, &format!("videos/{vid}/chunks/"))
            .await
            .is_empty()
    );
    assert!(
        !keys_under(&app, generation.prefix())
            .await
            .iter()
            .any(|k| k.contains("chunk_"))
    );
}

/// The worker of each done chunk job of `video`.
async fn chunk_workers(app: &TestApp, video: VideoId) -> Vec<String> {
    let sql = "SELECT worker FROM jobs WHERE video_id = $1 AND kind = 'transcode_chunk' \
               AND state = 'done' ORDER BY id";
    let rows = app.pg().await.query(sql, &[&video.0]).await.unwrap();
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_chunk_is_retried_alone() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let _early = early_only(&app);
    let vid = upload(&app, &token, &source(dir.path())).await;
    playable_early(&app, creds.app_id, vid).await;

    // Chunk 1's source goes missing: its job fails, the others do not wait for it.
    let mut keys = keys_under(&app, &format!("videos/{vid}/chunks/")).await;
    keys.sort();
    let op = app.reel.storage.op();
    let saved = op.read(&keys[1]).await.unwrap().to_vec();
    op.delete(&keys[1]).await.unwrap();
    let _worker = worker(&app);
    let failed = wait_until(&app, creds.app_id, vid, |v| {
        v.error
            .as_deref()
            .is_some_and(|e| e.contains("chunk 1 failed, will retry"))
    })
    .await;
    assert!(!failed.ladder_complete);

    // Back in place: the retry completes the ladder.
    op.write(&keys[1], saved).await.unwrap();
    let due = "UPDATE jobs SET run_at = now() WHERE state = 'queued' AND video_id = $1";
    app.pg().await.execute(due, &[&vid.0]).await.unwrap();
    let video = ladder_complete(&app, creds.app_id, vid).await;
    assert_eq!(video.error, None);
    let sql = "SELECT attempts FROM jobs WHERE video_id = $1 AND kind = 'transcode_chunk' \
               ORDER BY id";
    let rows = app.pg().await.query(sql, &[&vid.0]).await.unwrap();
    let attempts: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(attempts, vec![1, 2, 1], "only chunk 1 ran twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_the_video_cancels_every_chunk_and_cleans_up() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let _early = early_only(&app);
    let vid = upload(&app, &token, &source(dir.path())).await;
    playable_early(&app, creds.app_id, vid).await;
    let _worker = worker(&app);
    // Wait for a chunk to be running, then delete.
    for _ in 0..300 {
        if app
            .jobs_of(vid)
            .await
            .iter()
            .any(|(k, s)| k == "transcode_chunk" && s == "running")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.delete_video(&creds, vid).await);
    assert!(
        app.jobs_of(vid).await.is_empty(),
        "the chunks' jobs went with the video"
    );
    // The running chunk stops and leaves nothing: no work dir, nothing in storage.
    let tmp = app.data_dir.path().join("tmp");
    for _ in 0..100 {
        let left = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
        if left == 0 && keys_under(&app, &format!("videos/{vid}/")).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "left behind: {:?} {:?}",
        std::fs::read_dir(&tmp).map(|d| d.map(|e| e.unwrap().file_name()).collect::<Vec<_>>()),
        keys_under(&app, &format!("videos/{vid}/")).await
    );
}
