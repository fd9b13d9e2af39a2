//! The chunked ladder (docs/architecture.md, "Chunked ladder"): a long source plays on its
//! early rung first, the other rungs are encoded in chunks by any worker and stitched
//! into continuous playlists; a failed chunk retries alone; deleting the video cancels
//! every chunk. Real ffmpeg, Postgres, Redis and storage.

mod common;

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;

use common::TestApp;
use common::ladder::*;
use common::media::upload;
use reel::events::VideoEvent;
use reel::model::{AppId, Definition, VideoId, VideoStatus};
use serde_json::json;

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

#[tokio::test(flavor = "multi_thread")]
async fn hls_js_plays_a_chunked_rung_across_a_cut_and_seeks_over_one() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let _worker = worker(&app);
    let vid = upload(&app, &token, &source(dir.path())).await;
    ladder_complete(&app, creds.app_id, vid).await;
    let sql = "SELECT (payload->'chunk'->>'start')::float8 FROM jobs \
               WHERE video_id = $1 AND kind = 'transcode_chunk' ORDER BY id";
    let rows = app.pg().await.query(sql, &[&vid.0]).await.unwrap();
    let cuts: Vec<String> = rows
        .iter()
        .skip(1)
        .map(|r| r.get::<_, f64>(0).to_string())
        .collect();
    assert_eq!(cuts.len(), 2);
    let query = "query($id: ID!) { video(id: $id) { playUrl { url } } }";
    let play = app
        .graphql(&creds, query, json!({ "id": vid.to_string() }))
        .await;
    let url = play["data"]["video"]["playUrl"]["url"].as_str();
    let url = url.unwrap_or_else(|| panic!("{play}")).to_string();
    let hls = common::browser::repo().join("playground/node_modules/hls.js/dist/hls.min.js");
    let (page, cuts) = (app.url("/healthz"), cuts.join(","));
    let args: [&dyn AsRef<std::ffi::OsStr>; 5] = [&page, &url, &hls, &"SD", &cuts];
    common::browser::run("hls_chunks.mjs", &args, "OK: played SD").await;
}
