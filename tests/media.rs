//! The media pipeline with real ffmpeg: ladder, HLS, snapshots, sprite, bad input, delete.

mod common;

use futures_util::StreamExt;

use std::time::Duration;

use common::media::{clip, lavfi, settle, upload, video_id_header, wait_for};
use common::{Credentials, TestApp, error_code};
use reel::model::{Definition, VideoStatus};
use serde_json::json;

async fn setup() -> (TestApp, Credentials, String) {
    TestApp::builder()
        .config(|c| c.workers = 1)
        .signed_in()
        .await
}

/// ffprobe's view of a stored HLS playlist: (width, height) of each video stream.
fn probe_playlist(path: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output()
        .unwrap();
    common::assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_720p_clip_gets_the_ladder_hls_snapshots_and_sprite() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "hd.mp4", 1280, 720, 3, true);
    let vid = upload(&app, &token, &file).await;
    let video = settle(&app, creds.app_id, vid).await;
    assert_eq!(video.status, VideoStatus::Playable, "{:?}", video.error);
    assert_eq!(video.progress, 100);
    assert_eq!(
        (video.video_width, video.video_height),
        (Some(1280), Some(720))
    );
    assert!(
        (2900..=3100).contains(&video.duration.unwrap()),
        "{:?}",
        video.duration
    );

    let renditions = app.reel.videos.renditions(&video).await.unwrap();
    let ladder: Vec<_> = renditions
        .iter()
        .map(|r| {
            (
                r.definition.unwrap(),
                r.video_width.unwrap(),
                r.video_height.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ladder,
        vec![
            (Definition::LD, 640, 360),
            (Definition::SD, 854, 480),
            (Definition::HD, 1280, 720)
        ]
    );
    assert!(
        renditions
            .iter()
            .all(|r| r.status == VideoStatus::Transcoded && r.file_size > 0)
    );

    let master = app.storage_path(video.playlist_uri.as_deref().unwrap());
    let text = std::fs::read_to_string(&master).unwrap();
    for needle in [
        "#EXT-X-STREAM-INF",
        "BANDWIDTH=",
        "RESOLUTION=640x360",
        "RESOLUTION=1280x720",
        "CODECS=",
        "TYPE=AUDIO",
    ] {
        assert!(
            text.contains(needle),
            "{needle} in master playlist:\n{text}"
        );
    }
    let probed = probe_playlist(&master);
    let sizes: Vec<(i64, i64)> = probed["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == "video")
        .map(|s| (s["width"].as_i64().unwrap(), s["height"].as_i64().unwrap()))
        .collect();
    assert!(
        sizes.contains(&(1280, 720)) && sizes.contains(&(640, 360)),
        "{sizes:?}"
    );
    let hd = std::fs::read_to_string(app.storage_path(&renditions[2].storage_uri)).unwrap();
    assert!(hd.contains("#EXT-X-ENDLIST") && hd.contains(".ts"), "{hd}");

    let snapshots = app.reel.videos.snapshots(&video).await.unwrap();
    assert_eq!(snapshots.len(), 10);
    assert!(
        snapshots
            .iter()
            .all(|s| app.storage_path(&s.storage_uri).exists() && s.file_size > 0)
    );
    let vtt = std::fs::read_to_string(app.storage_path(video.thumbnails_uri.as_deref().unwrap()))
        .unwrap();
    assert!(
        vtt.starts_with("WEBVTT") && vtt.contains("sprite.jpg#xywh=0,0,160,90"),
        "{vtt}"
    );
    assert!(
        app.storage_path(video.sprite_uri.as_deref().unwrap())
            .exists()
    );

    let info = app
        .graphql(&creds, "query($id: ID!) { video(id: $id) { mediaInfo { duration video { codec width height } audio { codec channels } } cover { imageIndex } renditions { definition } } }", json!({ "id": vid.to_string() }))
        .await;
    let media = &info["data"]["video"]["mediaInfo"];
    assert_eq!(media["video"]["width"], 1280, "{info}");
    assert_eq!(media["audio"]["codec"], "aac");
    assert_eq!(info["data"]["video"]["cover"]["imageIndex"], 0);
    assert!(
        app.jobs_of(vid)
            .await
            .iter()
            .all(|(_, state)| state == "done")
    );
    assert!(
        std::fs::read_dir(app.data_dir.path().join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "temp dirs removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn small_portrait_and_silent_sources() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let small = lavfi(dir.path(), "small.mp4", 320, 240, 2, false);
    let base = lavfi(dir.path(), "base.mp4", 640, 360, 2, false);
    let portrait = clip(
        dir.path(),
        "portrait.mp4",
        &format!("-i {} -c copy -metadata:s:v:0 rotate=90", base.display()),
    );
    let (a, b) = (
        upload(&app, &token, &small).await,
        upload(&app, &token, &portrait).await,
    );
    let small = settle(&app, creds.app_id, a).await;
    assert_eq!(small.status, VideoStatus::Playable, "{:?}", small.error);
    let rungs = app.reel.videos.renditions(&small).await.unwrap();
    assert_eq!(rungs.len(), 1, "a 240p source yields one rung");
    assert_eq!(
        (rungs[0].video_width, rungs[0].video_height),
        (Some(320), Some(240))
    );

    let portrait = settle(&app, creds.app_id, b).await;
    assert_eq!(
        portrait.status,
        VideoStatus::Playable,
        "{:?}",
        portrait.error
    );
    assert_eq!(
        (portrait.video_width, portrait.video_height),
        (Some(360), Some(640))
    );
    let rungs = app.reel.videos.renditions(&portrait).await.unwrap();
    assert_eq!(
        (rungs[0].video_width, rungs[0].video_height),
        (Some(360), Some(640))
    );
    let probed = probe_playlist(&app.storage_path(&rungs[0].storage_uri));
    let stream = &probed["streams"][0];
    assert_eq!(
        (stream["width"].as_i64(), stream["height"].as_i64()),
        (Some(360), Some(640)),
        "portrait in the rendition"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_fail_with_a_reason_and_the_worker_goes_on() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "this is not a video\n").unwrap();
    let hd = lavfi(dir.path(), "ok.mp4", 320, 240, 2, true);
    let truncated = dir.path().join("truncated.mp4");
    let bytes = std::fs::read(&hd).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    // Subtitles only: neither pictures nor sound (an audio file is media: tests/tracks.rs).
    let srt = dir.path().join("only.srt");
    std::fs::write(&srt, "1\n00:00:00,000 --> 00:00:01,000\nhi\n").unwrap();
    let subtitles = clip(
        dir.path(),
        "subtitles.mkv",
        &format!("-i {}", srt.display()),
    );
    let tiny = clip(
        dir.path(),
        "tiny.mkv",
        "-f lavfi -i color=c=red:size=16x16:duration=1 -vf scale=1:1 -c:v png",
    );

    let cases = [
        (dir.path().join("notes.txt"), "not a media file"),
        (subtitles, "neither a video nor an audio stream"),
        (tiny, "at least 16x16"),
    ];
    for (file, reason) in &cases {
        let vid = upload(&app, &token, file).await;
        let v = settle(&app, creds.app_id, vid).await;
        assert_eq!(v.status, VideoStatus::TranscodeFailed, "{file:?}");
        assert!(
            v.error.as_deref().unwrap_or("").contains(reason),
            "{file:?}: {:?}",
            v.error
        );
        assert_eq!(
            app.jobs_of(vid).await,
            vec![("transcode".into(), "failed".into())],
            "no retry of permanent failures"
        );
    }
    // A truncated file ends in a defined state too: transcoded as far as it goes, failed,
    // or queued for a retry — the last two with a readable error.
    let vid = upload(&app, &token, &truncated).await;
    let mut settled = None;
    for _ in 0..600 {
        let v = app.video(creds.app_id, vid).await;
        let retry_pending = v.status == VideoStatus::TranscodeQueued && v.error.is_some();
        if matches!(
            v.status,
            VideoStatus::TranscodeFailed | VideoStatus::Playable
        ) || retry_pending
        {
            settled = Some(v);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = settled.expect("the truncated file settles");
    if v.status != VideoStatus::Playable {
        assert!(v.error.is_some(), "{v:?}");
    }
    // …and the worker still serves good jobs.
    let vid = upload(&app, &token, &hd).await;
    let v = settle(&app, creds.app_id, vid).await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);
}

#[tokio::test(flavor = "multi_thread")]
async fn transcode_rules_follow_the_status_machine() {
    let app = TestApp::start().await; // no workers: jobs stay queued
    let creds = app.create_app("alpha").await;
    let uploading = app.insert_video(creds.app_id, VideoStatus::Uploading).await;
    let uploaded = app.insert_video(creds.app_id, VideoStatus::Uploaded).await;
    let mutation = "mutation($id: ID!) { transcode(id: $id, priority: 7) { status taskPriority } }";
    let out = app
        .graphql(&creds, mutation, json!({ "id": uploading.to_string() }))
        .await;
    assert_eq!(error_code(&out), Some("CONFLICT"), "{out}");
    let out = app
        .graphql(&creds, mutation, json!({ "id": uploaded.to_string() }))
        .await;
    assert_eq!(
        out["data"]["transcode"]["status"], "TRANSCODE_QUEUED",
        "{out}"
    );
    assert_eq!(out["data"]["transcode"]["taskPriority"], 7);
    let again = app
        .graphql(
            &creds,
            "mutation($id: ID!) { retranscode(id: $id) { status } }",
            json!({ "id": uploaded.to_string() }),
        )
        .await;
    assert_eq!(
        error_code(&again),
        Some("CONFLICT"),
        "already queued: {again}"
    );
    let (status, body) = app
        .rest(
            &creds,
            "GET",
            "/video/retransocde",
            &[("vid", &uploading.to_string())],
            None,
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("CONFLICT")));
    let beta = app.create_app("beta").await;
    let foreign = app
        .graphql(&beta, mutation, json!({ "id": uploaded.to_string() }))
        .await;
    assert_eq!(error_code(&foreign), Some("NOT_FOUND"));
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_during_transcode_leaves_nothing_behind() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let long = lavfi(dir.path(), "long.mp4", 1280, 720, 30, true);
    let vid = upload(&app, &token, &long).await;
    let v = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::Transcoding, VideoStatus::Playable],
    )
    .await;
    assert_eq!(
        v.status,
        VideoStatus::Transcoding,
        "the clip is long enough to catch it running"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(app.delete_video(&creds, vid).await);
    // The worker notices within a lease tick (10 s), kills ffmpeg and cleans up.
    for _ in 0..150 {
        let tmp_empty = std::fs::read_dir(app.data_dir.path().join("tmp"))
            .map(|mut d| d.next().is_none())
            .unwrap_or(true);
        let outputs = app.data_dir.path().join(format!("storage/videos/{vid}"));
        if tmp_empty && !outputs.exists() && !ffmpeg_running(app.data_dir.path()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!ffmpeg_running(app.data_dir.path()), "ffmpeg was killed");
    assert!(
        std::fs::read_dir(app.data_dir.path().join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "temp dir removed"
    );
    let outputs = app.data_dir.path().join(format!("storage/videos/{vid}"));
    let left: Vec<_> = walkdir(&outputs);
    assert!(!outputs.exists(), "outputs left: {left:?}");
    assert!(
        !app.data_dir
            .path()
            .join(format!("storage/sources/{vid}"))
            .exists()
    );
    assert!(app.jobs_of(vid).await.is_empty());
}

/// Whether an ffmpeg of this test's server runs (its output dir is under our data dir).
fn ffmpeg_running(data_dir: &std::path::Path) -> bool {
    let pattern = format!("ffmpeg.*{}", data_dir.join("tmp").display());
    let out = std::process::Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .unwrap();
    !out.stdout.is_empty()
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_length_and_twenty_minute_sources_end_in_a_defined_state() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let tus = common::tus::Tus {
        app: &app,
        token: token.clone(),
    };
    let resp = tus
        .create(&[
            ("Upload-Length", "0".into()),
            (
                "Upload-Metadata",
                common::tus::metadata(&[("filename", "empty.mp4")]),
            ),
        ])
        .await;
    let vid = video_id_header(&resp);
    let v = settle(&app, creds.app_id, vid).await;
    assert_eq!(v.status, VideoStatus::TranscodeFailed);
    assert!(
        v.error.as_deref().unwrap().contains("not a media file"),
        "{:?}",
        v.error
    );

    let long = clip(
        dir.path(),
        "long.mp4",
        "-f lavfi -i testsrc2=size=64x48:rate=5:duration=1200 -c:v libx264 -preset ultrafast -pix_fmt yuv420p",
    );
    let vid = upload(&app, &token, &long).await;
    let v = settle(&app, creds.app_id, vid).await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);
    assert_eq!(v.duration, Some(1_200_000));
    assert_eq!(app.reel.videos.snapshots(&v).await.unwrap().len(), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn retranscode_keeps_the_old_renditions_until_the_new_ones_are_in() {
    let app = TestApp::builder()
        .config(|c| {
            c.workers = 1;
            c.jobs.poll_ms = 200;
            c.delivery.retain_replaced_secs = 3;
        })
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "r.mp4", 640, 360, 2, true);
    let vid = upload(&app, &token, &file).await;
    let first = wait_for(&app, creds.app_id, vid, &[VideoStatus::Playable]).await;
    let old_playlist = first.playlist_uri.clone().unwrap();
    let old_rendition = app.reel.videos.renditions(&first).await.unwrap()[0]
        .storage_uri
        .clone();

    let mut events = app.reel.events.app_events(creds.app_id);
    let out = app
        .graphql(
            &creds,
            "mutation($id: ID!) { retranscode(id: $id) { status } }",
            json!({ "id": vid.to_string() }),
        )
        .await;
    assert_eq!(
        out["data"]["retranscode"]["status"], "TRANSCODE_QUEUED",
        "{out}"
    );
    // While it runs, the old outputs are still there and still listed.
    loop {
        let e = tokio::time::timeout(Duration::from_secs(60), events.next())
            .await
            .unwrap()
            .unwrap();
        if e.video_id == vid && e.status == VideoStatus::Transcoding {
            let during = app.video(creds.app_id, vid).await;
            assert_eq!(during.playlist_uri.as_deref(), Some(old_playlist.as_str()));
            assert!(app.storage_path(&old_rendition).exists());
            assert!(
                !app.reel
                    .videos
                    .renditions(&during)
                    .await
                    .unwrap()
                    .is_empty()
            );
            break;
        }
    }
    let second = wait_for(&app, creds.app_id, vid, &[VideoStatus::Playable]).await;
    let new_playlist = second.playlist_uri.clone().unwrap();
    assert_ne!(new_playlist, old_playlist);
    assert!(app.storage_path(&new_playlist).exists());
    // Viewers holding the old playlist can finish: it stays for retain_replaced_secs,
    // then the purge job removes it.
    assert!(
        app.storage_path(&old_playlist).exists(),
        "old generation kept for its viewers"
    );
    for _ in 0..150 {
        if !app.storage_path(&old_playlist).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !app.storage_path(&old_playlist).exists(),
        "old generation purged after retain_replaced_secs"
    );
    assert_eq!(
        app.reel.videos.renditions(&second).await.unwrap().len(),
        1,
        "360p: one rung"
    );
    assert_eq!(app.reel.videos.snapshots(&second).await.unwrap().len(), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uploaded_playlist_cannot_read_files_on_the_server() {
    let (app, creds, token) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = lavfi(dir.path(), "secret.ts", 320, 240, 2, false);
    let playlist = dir.path().join("trick.m3u8");
    std::fs::write(
        &playlist,
        format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{}\n#EXT-X-ENDLIST\n",
            secret.display()
        ),
    )
    .unwrap();
    let vid = upload(&app, &token, &playlist).await;
    let v = settle(&app, creds.app_id, vid).await;
    assert_eq!(
        v.status,
        VideoStatus::TranscodeFailed,
        "an HLS playlist is not a source"
    );
    let error = v.error.unwrap_or_default();
    assert!(error.contains("not a media file"), "{error}");
    assert!(!error.contains(&*dir.path().to_string_lossy()), "{error}");
}

/// Every file and directory under `dir` (none when it does not exist).
fn walkdir(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|e| {
            let path = e.path();
            let mut found = vec![path.clone()];
            if path.is_dir() {
                found.extend(walkdir(&path));
            }
            found
        })
        .collect()
}
