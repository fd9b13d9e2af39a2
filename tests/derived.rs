//! Derived media (issue 17): MP4/M4A downloads remuxed from the renditions, instant
//! clips that play the parent's segments, precise clips transcoded from the range.

mod common;

use std::path::Path;
use std::time::Duration;

use common::media::{lavfi, playable, text, video_id_json, wait_for};
use common::{Credentials, TestApp, error_code};
use reel::model::{VideoId, VideoStatus};
use serde_json::{Value, json};

const DOWNLOADS: &str =
    "query($id: ID!) { video(id: $id) { downloads { definition url fileSize } } }";
const ENABLE: &str = "mutation($id: ID!, $d: [String!]) {
    enableDownloads(videoId: $id, definitions: $d) { id } }";
const CLIP: &str = "mutation($id: ID!, $s: Float!, $e: Float!, $p: Boolean) {
    createClip(videoId: $id, start: $s, end: $e, precise: $p) {
        id status duration clipOf { id } } }";
const PLAY: &str = "query($id: ID!) { video(id: $id) { status playUrl { url
    definitions { definition url } } } }";

/// The video's downloads once those named `wanted` are made (60 s at most).
async fn downloads(app: &TestApp, creds: &Credentials, id: VideoId, wanted: &[&str]) -> Vec<Value> {
    for _ in 0..600 {
        let out = app
            .graphql(creds, DOWNLOADS, json!({ "id": id.to_string() }))
            .await;
        assert!(out["errors"].is_null(), "{out}");
        let list = out["data"]["video"]["downloads"]
            .as_array()
            .unwrap()
            .clone();
        if wanted
            .iter()
            .all(|w| list.iter().any(|d| d["definition"] == *w))
        {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("video {id} never had the downloads {wanted:?}");
}

/// The names of a file's top-level ISO BMFF boxes, in order.
fn top_level_boxes(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).unwrap();
    let mut boxes = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let mut size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        boxes.push(String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned());
        if size == 1 {
            size = u64::from_be_bytes(data[at + 8..at + 16].try_into().unwrap()) as usize;
        }
        if size < 8 {
            break;
        }
        at += size;
    }
    boxes
}

/// `(codec_type of each stream, duration)` as ffprobe reads a file or URL.
fn streams(input: &str) -> (Vec<String>, f64) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type",
            "-of",
            "csv=p=0",
        ])
        .arg(input)
        .output()
        .unwrap();
    common::assert_success(&out);
    let kinds = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_end_matches(',').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    (kinds, common::media::duration(input))
}

/// Saves the body of `url` into `path`; returns the response's `Content-Disposition`.
async fn fetch(app: &TestApp, url: &str, path: &Path) -> String {
    let resp = app.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    std::fs::write(path, resp.bytes().await.unwrap()).unwrap();
    disposition
}

/// Seconds of media a playlist lists (the sum of its `EXTINF`s).
fn playlist_seconds(playlist: &str) -> f64 {
    playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .filter_map(|v| v.split(',').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_are_faststart_mp4s_with_the_source_duration() {
    let (app, creds, _) = TestApp::builder()
        .config(|c| c.workers = 1)
        .signed_in()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let source = lavfi(dir.path(), "talk.mp4", 854, 480, 5, true);
    let meta = [("filename", "talk.mp4"), ("downloads", "highest,AUDIO")];
    let id = playable(&app, &creds, &source, &meta).await;

    let list = downloads(&app, &creds, id, &["SD", "AUDIO"]).await;
    let by = |d: &str| list.iter().find(|x| x["definition"] == d).unwrap().clone();
    let (mp4, m4a) = (by("SD"), by("AUDIO"));

    let file = dir.path().join("download.mp4");
    let disposition = fetch(&app, mp4["url"].as_str().unwrap(), &file).await;
    assert!(
        disposition.contains("attachment; filename=\"talk-SD.mp4\""),
        "{disposition}"
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().len() as i64,
        mp4["fileSize"]
    );
    let boxes = top_level_boxes(&file);
    let at = |name: &str| boxes.iter().position(|b| b == name).unwrap();
    assert!(at("moov") < at("mdat"), "moov after mdat: {boxes:?}");
    let (kinds, seconds) = streams(file.to_str().unwrap());
    assert_eq!(kinds, ["video", "audio"]);
    assert!((seconds - 5.0).abs() < 0.3, "{seconds} s");

    let audio = dir.path().join("download.m4a");
    fetch(&app, m4a["url"].as_str().unwrap(), &audio).await;
    let (kinds, seconds) = streams(audio.to_str().unwrap());
    assert_eq!(kinds, ["audio"]);
    assert!((seconds - 5.0).abs() < 0.3, "{seconds} s");

    // More can be asked of a video that already plays; the seed API lists them too.
    let out = app
        .graphql(
            &creds,
            ENABLE,
            json!({ "id": id.to_string(), "d": ["LD", "audio"] }),
        )
        .await;
    assert!(out["errors"].is_null(), "{out}");
    downloads(&app, &creds, id, &["LD", "AUDIO"]).await;
    let vid = id.to_string();
    let (status, rest) = app
        .rest(&creds, "GET", "/video/downloads", &[("vid", &vid)], None)
        .await;
    assert_eq!((status, &rest["code"]), (200, &json!("OK")), "{rest}");
    assert!(
        rest["downloads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["definition"] == "LD")
    );

    // Deleting the video deletes its files.
    let key = app
        .pg()
        .await
        .query_one(
            "SELECT storage_key FROM downloads WHERE video_id = $1 LIMIT 1",
            &[&id.0],
        )
        .await
        .unwrap()
        .get::<_, String>(0);
    assert!(app.storage_path(&key).exists());
    assert!(app.delete_video(&creds, id).await);
    assert!(!app.storage_path(&key).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_download_and_clip_requests_answer_a_clear_400() {
    let (app, creds, _) = TestApp::builder()
        .config(|c| c.workers = 1)
        .signed_in()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let source = lavfi(dir.path(), "short.mp4", 320, 240, 4, false);
    let id = playable(&app, &creds, &source, &[]).await;
    let vid = id.to_string();

    let out = app
        .graphql(&creds, ENABLE, json!({ "id": vid, "d": ["XXL"] }))
        .await;
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    for (start, end) in [
        (3.0, 2.0),
        (1.0, 1.0),
        (-1.0, 2.0),
        (1.0, 30.0),
        (10.0, 12.0),
    ] {
        let vars = json!({ "id": vid, "s": start, "e": end });
        let out = app.graphql(&creds, CLIP, vars).await;
        assert_eq!(
            error_code(&out),
            Some("BAD_REQUEST"),
            "{start}..{end}: {out}"
        );
    }
    let out = app
        .graphql(&creds, CLIP, json!({ "id": "999999", "s": 0.0, "e": 1.0 }))
        .await;
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");

    // Another app cannot clip it or ask for its downloads.
    let other = app.create_app("other").await;
    let out = app
        .graphql(&other, CLIP, json!({ "id": vid, "s": 0.0, "e": 1.0 }))
        .await;
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");
    let out = app.graphql(&other, ENABLE, json!({ "id": vid })).await;
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");

    // tus metadata is checked before any byte is taken.
    let tus = common::tus::Tus {
        app: &app,
        token: app.token(&creds, 60).await,
    };
    let meta = common::tus::metadata(&[("filename", "a.mp4"), ("downloads", "HD,bogus")]);
    let resp = tus
        .create(&[("Upload-Length", "100".into()), ("Upload-Metadata", meta)])
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instant_clip_plays_the_parents_segments_and_outlives_it() {
    let (app, creds, _) = TestApp::builder()
        .config(|c| c.workers = 1)
        .signed_in()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let source = lavfi(dir.path(), "long.mp4", 320, 240, 12, true);
    let parent = playable(&app, &creds, &source, &[]).await;

    let vars = json!({ "id": parent.to_string(), "s": 2.0, "e": 6.0 });
    let out = app.graphql(&creds, CLIP, vars).await;
    assert!(out["errors"].is_null(), "{out}");
    let clip = &out["data"]["createClip"];
    assert_eq!(clip["status"], "PLAYABLE");
    assert_eq!(clip["clipOf"]["id"], parent.to_string());
    let clip_id = video_id_json(&clip["id"]);
    assert_ne!(clip_id, parent);

    let out = app
        .graphql(&creds, PLAY, json!({ "id": clip_id.to_string() }))
        .await;
    let master_url = out["data"]["video"]["playUrl"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let master = text(&app, &master_url).await;
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let media_url = reqwest::Url::parse(&master_url)
        .unwrap()
        .join(variant)
        .unwrap();
    let seconds = playlist_seconds(&text(&app, media_url.as_str()).await);
    // Segment-accurate: about 4 s, give or take one 4 s segment.
    assert!((seconds - 4.0).abs() <= 4.0 + 0.1, "{seconds} s");
    let played = dir.path().join("clip.ts");
    let read = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i", &master_url, "-c", "copy"])
        .arg(&played)
        .output()
        .unwrap();
    common::assert_success(&read);
    let length = common::media::duration(&played);
    assert!(
        (length - seconds).abs() < 0.5,
        "{length} s played of {seconds} s listed"
    );

    // It has no source to transcode again.
    let retranscode = "mutation($id: ID!) { retranscode(id: $id) { id } }";
    let out = app
        .graphql(&creds, retranscode, json!({ "id": clip_id.to_string() }))
        .await;
    assert_eq!(error_code(&out), Some("CONFLICT"), "{out}");

    // The parent goes; the clip still plays its segments.
    let segment = app
        .pg()
        .await
        .query_one(
            "SELECT generation FROM clips WHERE video_id = $1",
            &[&clip_id.0],
        )
        .await
        .unwrap()
        .get::<_, String>(0);
    assert!(app.delete_video(&creds, parent).await);
    assert!(
        app.storage_path(&segment).exists(),
        "the clip's generation was removed"
    );
    let out = app
        .graphql(&creds, PLAY, json!({ "id": clip_id.to_string() }))
        .await;
    let url = out["data"]["video"]["playUrl"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let again = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", &url, "-f", "null", "-"])
        .output()
        .unwrap();
    common::assert_success(&again);

    // The last clip goes: so does the generation it kept.
    assert!(app.delete_video(&creds, clip_id).await);
    assert!(
        !app.storage_path(&segment).exists(),
        "the kept generation stayed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_precise_clip_lasts_its_range_to_the_frame() {
    let (app, creds, _) = TestApp::builder()
        .config(|c| c.workers = 1)
        .signed_in()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let source = lavfi(dir.path(), "exact.mp4", 320, 240, 8, true);
    let parent = playable(&app, &creds, &source, &[]).await;

    let vars = json!({ "id": parent.to_string(), "s": 1.52, "e": 4.0, "p": true });
    let out = app.graphql(&creds, CLIP, vars).await;
    assert!(out["errors"].is_null(), "{out}");
    let clip = video_id_json(&out["data"]["createClip"]["id"]);
    let states = [VideoStatus::Playable, VideoStatus::TranscodeFailed];
    let v = wait_for(&app, creds.app_id, clip, &states).await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);

    let out = app
        .graphql(&creds, PLAY, json!({ "id": clip.to_string() }))
        .await;
    let rung = out["data"]["video"]["playUrl"]["definitions"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let frames = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            &rung,
        ])
        .output()
        .unwrap();
    common::assert_success(&frames);
    let text = String::from_utf8_lossy(&frames.stdout);
    let frames: f64 = text
        .split(|c: char| !c.is_ascii_digit())
        .find_map(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no frame count in {text:?}"));
    // 25 fps: 2.48 s is 62 frames; within one frame.
    assert!(
        (frames / 25.0 - 2.48).abs() <= 1.0 / 25.0 + 1e-9,
        "{frames} frames"
    );
}
