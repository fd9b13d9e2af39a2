//! Watermarks (docs/api.md, "Watermarks"): a profile's overlay burned into every rung of
//! the single pass and of the chunked ladder (its early rung and each chunk), an upload
//! that opts out, bad input refused, and each app alone with its profiles. Real ffmpeg,
//! Postgres, Redis and storage; the pixels are read back from the renditions.

mod common;

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use common::ladder::{download, keys_under, ladder_complete, worker};
use common::media::{settle, upload, upload_with};
use common::tus::Tus;
use common::watermark::*;
use common::{TestApp, error_code};
use reel::model::VideoStatus;

/// The size of the top rung of `black()` sources, which the overlay is sized against.
const TOP_WIDTH: usize = 854;

/// The rendition `def` of the generation downloaded into `dir`: its first frame.
fn rung_frame(dir: &Path, def: &str) -> Frame {
    Frame::first(&dir.join(def).join("index.m3u8"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_watermark_is_in_every_rung_and_an_upload_may_opt_out() {
    let (app, creds, token) = TestApp::builder()
        .config(|c| c.workers = 1)
        .signed_in()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let png = red_png(dir.path());
    let profile = json!({
        "name": "logo", "content": base64_of(&png), "position": "TOP_LEFT",
        "opacity": 1.0, "default": true
    });
    let out = create(&app, &creds, profile).await;
    let made = &out["data"]["createWatermark"];
    assert_eq!(made["default"], true, "{out}");
    assert_eq!(made["imageFormat"], "png");
    assert_eq!(
        (made["imageWidth"].as_i64(), made["margin"].as_f64()),
        (Some(64), Some(0.02))
    );
    let id = made["id"].as_str().unwrap().to_string();

    let source = black(dir.path(), "black.mp4", 3);
    let marked = upload(&app, &token, &source).await;
    let plain = upload_with(&app, &token, &source, &[("watermark", "none")]).await;
    let q = "query($a: ID!, $b: ID!) { a: video(id: $a) { watermark { id name } } b: video(id: $b) { watermark { id } } }";
    let out = app
        .graphql(
            &creds,
            q,
            json!({ "a": marked.to_string(), "b": plain.to_string() }),
        )
        .await;
    assert_eq!(out["data"]["a"]["watermark"]["id"], id.as_str(), "{out}");
    assert_eq!(out["data"]["b"]["watermark"], Value::Null, "{out}");

    for (vid, watermarked) in [(marked, true), (plain, false)] {
        let video = settle(&app, creds.app_id, vid).await;
        assert_eq!(video.status, VideoStatus::Playable, "{:?}", video.error);
        let files = tempfile::tempdir().unwrap();
        download(&app, video.generation().unwrap().prefix(), files.path()).await;
        // The tone is still the audio (the image is ffmpeg's second input).
        assert!(files.path().join("audio/index.m3u8").exists());
        let renditions = app.reel.videos.renditions(&video).await.unwrap();
        assert_eq!(renditions.len(), 2, "LD and SD");
        for rendition in renditions {
            let def = rendition.definition.unwrap().to_string();
            let frame = rung_frame(files.path(), &def);
            let middle = frame.overlay_middle(TOP_WIDTH);
            match watermarked {
                true => assert!(
                    frame.patch(middle, red),
                    "{def}: {:?}",
                    frame.pixel(middle.0, middle.1)
                ),
                false => assert!(
                    frame.patch(middle, dark),
                    "{def}: {:?}",
                    frame.pixel(middle.0, middle.1)
                ),
            }
            // Elsewhere the picture is the source's.
            assert!(
                frame.patch((frame.width / 2, 300 * frame.width / TOP_WIDTH), dark),
                "{def}"
            );
        }
        // The snapshots come from the same picture.
        let snapshot = Frame::first(&files.path().join("snapshots/snap_001.jpg"));
        let middle = snapshot.overlay_middle(TOP_WIDTH);
        assert_eq!(snapshot.patch(middle, red), watermarked);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chosen_watermark_is_in_the_early_rung_and_every_chunk() {
    let (app, creds, token) = common::ladder::setup().await;
    let dir = tempfile::tempdir().unwrap();
    let png = red_png(dir.path());
    // Not the default: the upload names it.
    let id = create_ok(
        &app,
        &creds,
        json!({ "name": "corner", "content": base64_of(&png), "position": "TOP_LEFT" }),
    )
    .await;
    let source = black(dir.path(), "long.mp4", 14);
    let _worker = worker(&app);
    let vid = upload_with(&app, &token, &source, &[("watermark", &id)]).await;
    let video = ladder_complete(&app, creds.app_id, vid).await;
    assert_eq!(video.ladder_chunks, 2, "14 s in chunks of about 8 s");

    let files = tempfile::tempdir().unwrap();
    download(&app, video.generation().unwrap().prefix(), files.path()).await;
    // The early pass made LD; the chunks made SD, each from its own ffmpeg.
    let ld = rung_frame(files.path(), "LD");
    assert!(ld.patch(ld.overlay_middle(TOP_WIDTH), red), "early rung");
    for chunk in 0..2 {
        let segment = files.path().join(format!("SD/seg_{chunk:05}_00000.ts"));
        let frame = Frame::first(&segment);
        let middle = frame.overlay_middle(TOP_WIDTH);
        assert!(
            frame.patch(middle, red),
            "chunk {chunk}: {:?}",
            frame.pixel(middle.0, middle.1)
        );
    }
}

/// `extensions.code` and message of a mutation's answer.
fn refused(out: &Value) -> (&str, &str) {
    let message = out["errors"][0]["message"].as_str().unwrap_or("");
    (error_code(out).unwrap_or("none"), message)
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_watermarks_are_refused_and_each_app_has_its_own() {
    let (app, creds, token) = TestApp::builder().signed_in().await;
    let dir = tempfile::tempdir().unwrap();
    let png = base64_of(&red_png(dir.path()));
    for (input, says) in [
        (
            json!({ "name": "t", "content": STANDARD.encode("plain text") }),
            "image",
        ),
        (
            json!({ "name": "t", "content": "%%% not base64" }),
            "base64",
        ),
        (
            json!({ "name": "t", "content": png, "opacity": 2.0 }),
            "opacity",
        ),
        (
            json!({ "name": "t", "content": png, "scale": 0.0 }),
            "scale",
        ),
        (
            json!({ "name": "t", "content": png, "margin": -0.1 }),
            "margin",
        ),
        (json!({ "name": " ", "content": png }), "name"),
        (json!({ "name": "t" }), "image"),
    ] {
        let out = create(&app, &creds, input.clone()).await;
        let (code, message) = refused(&out);
        assert_eq!(code, "BAD_REQUEST", "{input}: {out}");
        assert!(message.contains(says), "{input}: {message}");
    }
    let first = create_ok(
        &app,
        &creds,
        json!({ "name": "a", "content": png, "default": true }),
    )
    .await;

    // A browser token without MANAGE may not see or change them.
    let (_, out) = app.graphql_bearer(&token, "{ watermarks { id } }").await;
    assert_eq!(error_code(&out), Some("FORBIDDEN"), "{out}");

    // An upload naming a profile the app does not have, by every protocol.
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let bad_meta = common::tus::metadata(&[("filename", "a.mp4"), ("watermark", "424242")]);
    let resp = tus
        .create(&[
            ("Upload-Length", "10".into()),
            ("Upload-Metadata", bad_meta),
        ])
        .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("424242"));
    let init = "mutation($w: String) { initUpload(input: { fileName: \"a.mp4\", fileSize: 10, watermark: $w }) { instant } }";
    for w in ["424242", "logo"] {
        let out = app.graphql(&creds, init, json!({ "w": w })).await;
        assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{w}: {out}");
    }
    let name = STANDARD.encode("a.mp4");
    let params = [
        ("fn", name.as_str()),
        ("fsize", "10"),
        ("watermark", "424242"),
    ];
    let (status, body) = app
        .rest(&creds, "POST", "/video/upload/init", &params, None)
        .await;
    assert_eq!(status, 400, "{body}");

    // An image through tus: bounded at creation, taken once by createWatermark.
    let big = tus
        .create(&[
            ("Upload-Length", (3 << 20).to_string()),
            (
                "Upload-Metadata",
                common::tus::metadata(&[("watermarkImage", "true")]),
            ),
        ])
        .await;
    assert_eq!(big.status(), 413);
    let bytes = STANDARD.decode(&png).unwrap();
    let url = tus
        .create_url(bytes.len(), &[("watermarkImage", "true")])
        .await;
    assert_eq!(tus.patch(&url, 0, bytes).await.status(), 204);
    let upload_id = url.rsplit('/').next().unwrap().to_string();
    let from_upload = json!({ "name": "b", "uploadId": upload_id, "position": "CENTER" });

    // Another app sees none of it and uses none of it.
    let beta = app.create_app("beta").await;
    let beta_token = app.token(&beta, 3600).await;
    let out = app.graphql(&beta, "{ watermarks { id } }", json!({})).await;
    assert_eq!(out["data"]["watermarks"], json!([]), "{out}");
    let update = "mutation($id: ID!) { updateWatermark(id: $id, input: { opacity: 0.5 }) { id } }";
    let out = app.graphql(&beta, update, json!({ "id": first })).await;
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");
    let delete = "mutation($id: ID!) { deleteWatermark(id: $id) }";
    let out = app.graphql(&beta, delete, json!({ "id": first })).await;
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");
    let out = create(&app, &beta, from_upload.clone()).await;
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");
    let beta_tus = Tus {
        app: &app,
        token: beta_token,
    };
    let theirs = common::tus::metadata(&[("filename", "a.mp4"), ("watermark", &first)]);
    let resp = beta_tus
        .create(&[("Upload-Length", "10".into()), ("Upload-Metadata", theirs)])
        .await;
    assert_eq!(resp.status(), 400);

    let out = create(&app, &creds, from_upload.clone()).await;
    let second = &out["data"]["createWatermark"];
    assert_eq!(
        (second["position"].as_str(), second["imageFormat"].as_str()),
        (Some("CENTER"), Some("png")),
        "{out}"
    );
    let second = second["id"].as_str().unwrap().to_string();
    let again = create(&app, &creds, from_upload).await;
    assert_eq!(error_code(&again), Some("BAD_REQUEST"), "{again}");

    // One default at a time; a deleted profile takes its image with it.
    let make_default = "mutation($id: ID!) { updateWatermark(id: $id, input: { default: true, opacity: 0.5 }) { default opacity } }";
    let out = app
        .graphql(&creds, make_default, json!({ "id": second }))
        .await;
    assert_eq!(
        out["data"]["updateWatermark"],
        json!({ "default": true, "opacity": 0.5 }),
        "{out}"
    );
    let out = app
        .graphql(&creds, &update.replace("0.5", "2"), json!({ "id": second }))
        .await;
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    let list = "{ watermarks { id default } }";
    let out = app.graphql(&creds, list, json!({})).await;
    let defaults: Vec<_> = out["data"]["watermarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["id"].as_str().unwrap().to_string(), w["default"] == true))
        .collect();
    assert_eq!(
        defaults,
        vec![(first.clone(), false), (second.clone(), true)]
    );
    let area = format!("apps/{}/watermarks/", creds.app_id);
    assert_eq!(
        keys_under(&app, &area).await.len(),
        2,
        "the upload's copy went"
    );
    let out = app.graphql(&creds, delete, json!({ "id": second })).await;
    assert_eq!(out["data"]["deleteWatermark"], true, "{out}");
    assert_eq!(keys_under(&app, &area).await.len(), 1);
    let out = app.graphql(&creds, delete, json!({ "id": second })).await;
    assert_eq!(error_code(&out), Some("NOT_FOUND"), "{out}");
}
