//! Uploads outlive their Redis (issue 18): a Redis of the test's own is killed mid-upload
//! and started again empty; the upload answers while it is down and goes on from its
//! durable offset, over tus and over seed parts, ending with the right md5.

mod common;

use base64::Engine;
use common::own_redis::OwnRedis;
use common::tus::{Tus, bytes, md5_hex, metadata};
use common::{Credentials, TestApp};
use reel::model::{VideoId, VideoStatus};
use serde_json::Value;

const KIB: usize = 1024;

async fn setup(redis: &OwnRedis) -> (TestApp, Credentials, String) {
    TestApp::builder().redis_url(redis.url()).signed_in().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tus_upload_resumes_at_its_offset_after_redis_restarts_empty() {
    let mut redis = OwnRedis::start().await;
    let (app, creds, token) = setup(&redis).await;
    let tus = Tus { app: &app, token };
    let data = bytes(600 * KIB, 3);
    let md5 = md5_hex(&data);
    let url = tus.create_url(data.len(), &[("filename", "a.mp4")]).await;
    let third = data.len() / 3;
    assert_eq!(
        tus.patch(&url, 0, data[..third].to_vec()).await.status(),
        204
    );

    // Redis goes: HEAD still answers with the durable offset, and a PATCH still lands.
    redis.kill().await;
    assert_eq!(tus.offset(&url).await, third as u64);
    let resp = tus
        .patch(&url, third, data[third..2 * third].to_vec())
        .await;
    assert_eq!(resp.status(), 204);
    assert_eq!(tus.offset(&url).await, 2 * third as u64);

    // It comes back empty: the upload goes on where it was and completes.
    redis.restart().await;
    assert_eq!(tus.offset(&url).await, 2 * third as u64);
    let resp = tus.patch(&url, 2 * third, data[2 * third..].to_vec()).await;
    assert_eq!(resp.status(), 204);
    let video = app.newest_video(creds.app_id).await;
    assert_uploaded(&video);
    assert_eq!(video.hash.as_deref(), Some(md5.as_str()));
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5);
    assert_eq!(
        app.newest_video(creds.app_id).await.id,
        video.id,
        "no second upload"
    );
    assert!(app.staged_files().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_parts_survive_redis_restarting_empty() {
    let mut redis = OwnRedis::start().await;
    let (app, creds, token) = setup(&redis).await;
    let part_size = 1024 * KIB; // the smallest the seed API takes
    let data = bytes(4 * part_size + 1000, 5);
    let md5 = md5_hex(&data);
    let name = base64::engine::general_purpose::STANDARD.encode("parts.mp4");
    let (status, out) = app
        .rest(
            &creds,
            "POST",
            "/video/upload/init",
            &[
                ("fn", &name),
                ("fsize", &data.len().to_string()),
                ("psize", &part_size.to_string()),
                ("hash", &md5),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let upid = out["upload_id"].as_str().unwrap().to_string();
    let chunk = |n: usize| data[(n - 1) * part_size..(n * part_size).min(data.len())].to_vec();
    for n in [1, 3] {
        let (status, out) = put_part(&app, &creds, &upid, n, chunk(n)).await;
        assert_eq!(status, 200, "{out}");
    }

    // While Redis is down, resume (with a bearer token: signed requests need their nonce
    // store) answers which parts are missing.
    redis.kill().await;
    let resp = app
        .http
        .get(app.url(&format!("/video/upload/resume?upid={upid}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    assert_eq!(out["missing_parts"], serde_json::json!([2, 4, 5]), "{out}");

    redis.restart().await;
    let (status, out) = app
        .rest(
            &creds,
            "GET",
            "/video/upload/resume",
            &[("upid", &upid)],
            None,
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["missing_parts"], serde_json::json!([2, 4, 5]), "{out}");
    let mut vid = None;
    for n in [5, 2, 4] {
        let (status, out) = put_part(&app, &creds, &upid, n, chunk(n)).await;
        assert_eq!(status, 200, "{out}");
        vid = vid.or(out["vid"].as_i64());
    }
    let video = app
        .video(creds.app_id, VideoId(vid.expect("the last part completes")))
        .await;
    assert_uploaded(&video);
    assert_eq!(video.hash.as_deref(), Some(md5.as_str()));
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_started_while_redis_is_down_completes() {
    let mut redis = OwnRedis::start().await;
    let (app, creds, token) = setup(&redis).await;
    redis.kill().await;
    let tus = Tus { app: &app, token };
    let data = bytes(100 * KIB, 9);
    let resp = tus
        .create(&[
            ("Upload-Length", data.len().to_string()),
            ("Upload-Metadata", metadata(&[("filename", "down.mp4")])),
        ])
        .await;
    assert_eq!(resp.status(), 201);
    let url = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(tus.patch(&url, 0, data.clone()).await.status(), 204);
    let video = app.newest_video(creds.app_id).await;
    assert_uploaded(&video);
    assert_eq!(video.hash.as_deref(), Some(md5_hex(&data).as_str()));
}

/// Uploaded, and (auto-transcode being on) perhaps already queued for transcoding.
fn assert_uploaded(video: &reel::video::Video) {
    assert!(
        matches!(
            video.status,
            VideoStatus::Uploaded | VideoStatus::TranscodeQueued
        ),
        "{:?}",
        video.status
    );
}

async fn put_part(
    app: &TestApp,
    creds: &Credentials,
    upid: &str,
    n: usize,
    body: Vec<u8>,
) -> (u16, Value) {
    let n = n.to_string();
    let params = [("upid", upid), ("pseq", n.as_str())];
    app.rest(creds, "PUT", "/video/upload/upload", &params, Some(body))
        .await
}
