//! The media pipeline with real ffmpeg: ladder, HLS, snapshots, sprite, bad input, delete.

mod common;

use std::time::Duration;

use common::media::{clip, lavfi, upload, wait_for};
use common::{Credentials, TestApp, error_code};
use reel::model::{Definition, VideoStatus};
use serde_json::json;

async fn setup() -> (TestApp, Credentials, String) {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 3600).await;
    (app, creds, token)
}

fn storage_path(app: &TestApp, key: &str) -> std::path::PathBuf {
    app.data_dir.path().join("storage").join(key)
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
    let video = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::Playable, VideoStatus::TranscodeFailed],
    )
    .await;
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

    let master = storage_path(&app, video.playlist_uri.as_deref().unwrap());
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
    let hd = std::fs::read_to_string(storage_path(&app, &renditions[2].storage_uri)).unwrap();
    assert!(hd.contains("#EXT-X-ENDLIST") && hd.contains(".ts"), "{hd}");

    let snapshots = app.reel.videos.snapshots(&video).await.unwrap();
    assert_eq!(snapshots.len(), 10);
    assert!(
        snapshots
            .iter()
            .all(|s| storage_path(&app, &s.storage_uri).exists() && s.file_size > 0)
    );
    let vtt = std::fs::read_to_string(storage_path(&app, video.thumbnails_uri.as_deref().unwrap()))
        .unwrap();
    assert!(
        vtt.starts_with("WEBVTT") && vtt.contains("sprite.jpg#xywh=0,0,160,90"),
        "{vtt}"
    );
    assert!(storage_path(&app, video.sprite_uri.as_deref().unwrap()).exists());

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
    let small = wait_for(
        &app,
        creds.app_id,
        a,
        &[VideoStatus::Playable, VideoStatus::TranscodeFailed],
    )
    .await;
    assert_eq!(small.status, VideoStatus::Playable, "{:?}", small.error);
    let rungs = app.reel.videos.renditions(&small).await.unwrap();
    assert_eq!(rungs.len(), 1, "a 240p source yields one rung");
    assert_eq!(
        (rungs[0].video_width, rungs[0].video_height),
        (Some(320), Some(240))
    );

    let portrait = wait_for(
        &app,
        creds.app_id,
        b,
        &[VideoStatus::Playable, VideoStatus::TranscodeFailed],
    )
    .await;
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
    let probed = probe_playlist(&storage_path(&app, &rungs[0].storage_uri));
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
    let audio = clip(
        dir.path(),
        "audio.m4a",
        "-f lavfi -i sine=duration=2 -c:a aac",
    );
    let tiny = clip(
        dir.path(),
        "tiny.mkv",
        "-f lavfi -i color=c=red:size=16x16:duration=1 -vf scale=1:1 -c:v png",
    );

    let cases = [
        (dir.path().join("notes.txt"), "not a media file"),
        (audio, "no video stream"),
        (tiny, "at least 16x16"),
    ];
    for (file, reason) in &cases {
        let vid = upload(&app, &token, file).await;
        let v = wait_for(
            &app,
            creds.app_id,
            vid,
            &[VideoStatus::TranscodeFailed, VideoStatus::Playable],
        )
        .await;
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
    let v = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::Playable, VideoStatus::TranscodeFailed],
    )
    .await;
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
    let out = app
        .graphql(
            &creds,
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            json!({ "id": vid.to_string() }),
        )
        .await;
    assert_eq!(out["data"]["deleteVideo"], true);
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
async fn transcode_uri_takes_files_from_storage_only() {
    let (app, creds, _) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "in.mp4", 320, 240, 2, true);
    app.reel
        .storage
        .op()
        .write("imports/in.mp4", std::fs::read(&file).unwrap())
        .await
        .unwrap();
    let mutation = "mutation($src: String!, $dst: String) { transcodeUri(src: $src, dst: $dst, priority: 3) { id status sourceName taskPriority } }";
    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": "fs://imports/in.mp4", "dst": "fs://exports/site" }),
        )
        .await;
    let video = &out["data"]["transcodeUri"];
    assert_eq!(video["status"], "TRANSCODE_QUEUED", "{out}");
    assert_eq!(video["sourceName"], "in.mp4");
    let vid = reel::model::VideoId(video["id"].as_str().unwrap().parse().unwrap());
    let done = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::Playable, VideoStatus::TranscodeFailed],
    )
    .await;
    assert_eq!(done.status, VideoStatus::Playable, "{:?}", done.error);
    let playlist = done.playlist_uri.clone().unwrap();
    assert!(
        playlist.starts_with(&format!("exports/site/{vid}/")),
        "{playlist}"
    );
    assert!(storage_path(&app, &playlist).exists());

    // Another app cannot read this app's files through storage URIs: not its outputs at
    // dst, not uploaded sources, not Reel's output area.
    let other = app.create_app("other").await;
    let generation = playlist.strip_suffix("master.m3u8").unwrap();
    let rendition = app.reel.videos.renditions(&done).await.unwrap()[0]
        .storage_uri
        .clone();
    for src in [
        format!("fs://{rendition}"),
        format!("fs://{generation}snapshots/snap_001.jpg"),
        format!("fs://sources/{vid}/source"),
        format!("fs://{playlist}"),
    ] {
        let out = app.graphql(&other, mutation, json!({ "src": src })).await;
        assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{src}: {out}");
    }

    // Deleting removes the outputs at dst, and never the client's own source file.
    let out = app
        .graphql(
            &creds,
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            json!({ "id": vid.to_string() }),
        )
        .await;
    assert_eq!(out["data"]["deleteVideo"], true);
    assert!(!storage_path(&app, &playlist).exists());
    assert!(storage_path(&app, "imports/in.mp4").exists());

    for (src, dst) in [
        ("fs://../../etc/passwd", None),
        ("fs:///etc/passwd", None),
        ("https://127.0.0.1/x.mp4", None),
        ("http://169.254.169.254/latest", None),
        ("s3://bucket/key", None),
        ("fs://imports/missing.mp4", None),
        ("fs://imports/in.mp4", Some("fs://../out")),
        ("fs://imports/in.mp4", Some("fs://videos/1")),
    ] {
        let out = app
            .graphql(&creds, mutation, json!({ "src": src, "dst": dst }))
            .await;
        assert_eq!(
            error_code(&out),
            Some("BAD_REQUEST"),
            "{src} {dst:?}: {out}"
        );
    }
    let (status, body) = app
        .rest(
            &creds,
            "GET",
            "/video/transcode",
            &[("src", "fs://imports/in.mp4")],
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "TRANSCODE_QUEUED");
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
    let vid = reel::model::VideoId(
        resp.headers()["reel-video-id"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    let v = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::TranscodeFailed, VideoStatus::Playable],
    )
    .await;
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
    let v = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::TranscodeFailed, VideoStatus::Playable],
    )
    .await;
    assert_eq!(v.status, VideoStatus::Playable, "{:?}", v.error);
    assert_eq!(v.duration, Some(1_200_000));
    assert_eq!(app.reel.videos.snapshots(&v).await.unwrap().len(), 10);
}

/// An HTTPS server on loopback serving `dir`, with its own CA; returns (child, port, ca path).
fn https_server(dir: &std::path::Path) -> (std::process::Child, u16, std::path::PathBuf) {
    let run = |args: &str| {
        let ok = std::process::Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "openssl {args}");
    };
    run(
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=reel-test-ca",
    );
    run("req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=localhost");
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 1 -extfile ext.cnf",
    );
    let script = r#"
import http.server, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain('leaf.pem', 'leaf.key')
srv = http.server.HTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    (child, line.trim().parse().unwrap(), dir.join("ca.pem"))
}

#[tokio::test(flavor = "multi_thread")]
async fn transcode_uri_fetches_https_sources_from_allowed_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "remote.mp4", 320, 240, 2, true);
    let (mut server, port, ca) = https_server(dir.path());
    let app = TestApp::builder()
        .config(move |c| {
            c.workers = 1;
            c.media.fetch_allow_hosts = vec!["localhost".into()];
            // The test server is on loopback; production keeps this off.
            c.media.fetch_allow_private = true;
            c.media.fetch_ca_file = Some(ca);
        })
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let mutation = "mutation($src: String!) { transcodeUri(src: $src) { id status sourceName } }";
    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": format!("https://localhost:{port}/remote.mp4") }),
        )
        .await;
    assert_eq!(out["data"]["transcodeUri"]["status"], "UPLOADING", "{out}");
    assert_eq!(out["data"]["transcodeUri"]["sourceName"], "remote.mp4");
    let vid = reel::model::VideoId(
        out["data"]["transcodeUri"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    let done = wait_for(
        &app,
        creds.app_id,
        vid,
        &[
            VideoStatus::Playable,
            VideoStatus::TranscodeFailed,
            VideoStatus::UploadFailed,
        ],
    )
    .await;
    assert_eq!(done.status, VideoStatus::Playable, "{:?}", done.error);
    assert_eq!(
        done.hash.as_deref(),
        Some(common::tus::md5_hex(&std::fs::read(&file).unwrap()).as_str())
    );

    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": format!("https://localhost:{port}/missing.mp4") }),
        )
        .await;
    let vid = reel::model::VideoId(
        out["data"]["transcodeUri"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
    );
    let failed = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::UploadFailed, VideoStatus::Playable],
    )
    .await;
    assert_eq!(failed.status, VideoStatus::UploadFailed);
    assert!(
        failed.error.as_deref().unwrap().contains("404"),
        "{:?}",
        failed.error
    );

    let out = app
        .graphql(
            &creds,
            mutation,
            json!({ "src": format!("https://127.0.0.1:{port}/remote.mp4") }),
        )
        .await;
    assert_eq!(
        error_code(&out),
        Some("BAD_REQUEST"),
        "hosts outside the allow-list: {out}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
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

    let mut events = app.reel.events.subscribe();
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
        let e = tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .unwrap()
            .unwrap();
        if e.video_id == vid && e.status == VideoStatus::Transcoding {
            let during = app.video(creds.app_id, vid).await;
            assert_eq!(during.playlist_uri.as_deref(), Some(old_playlist.as_str()));
            assert!(storage_path(&app, &old_rendition).exists());
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
    assert!(storage_path(&app, &new_playlist).exists());
    // Viewers holding the old playlist can finish: it stays for retain_replaced_secs,
    // then the purge job removes it.
    assert!(
        storage_path(&app, &old_playlist).exists(),
        "old generation kept for its viewers"
    );
    for _ in 0..150 {
        if !storage_path(&app, &old_playlist).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !storage_path(&app, &old_playlist).exists(),
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
    let v = wait_for(
        &app,
        creds.app_id,
        vid,
        &[VideoStatus::Playable, VideoStatus::TranscodeFailed],
    )
    .await;
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
