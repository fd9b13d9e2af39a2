//! tus 1.0.0 at /files/ against a running server, real Redis, Postgres and fs storage.

mod common;

use std::time::Duration;

use common::tus::{Tus, bytes, header, md5_hex, metadata};
use common::{Credentials, TestApp};
use reel::model::VideoId;
use reel::model::VideoStatus;
use reqwest::Method;
use tokio::io::AsyncWriteExt;

async fn setup() -> (TestApp, Credentials, String) {
    setup_with(|_| {}).await
}

async fn setup_with(
    f: impl FnOnce(&mut reel::config::Config) + 'static,
) -> (TestApp, Credentials, String) {
    let app = TestApp::builder().config(f).start().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 3600).await;
    (app, creds, token)
}

fn video_id(resp: &reqwest::Response) -> VideoId {
    VideoId(
        header(resp, "reel-video-id")
            .expect("Reel-Video-Id")
            .parse()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn options_advertises_the_protocol_without_auth() {
    let (app, _, _) = setup().await;
    let resp = app
        .http
        .request(Method::OPTIONS, app.url("/files/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let ext = header(&resp, "tus-extension").unwrap();
    for e in [
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "termination",
        "checksum",
        "expiration",
        "concatenation",
    ] {
        assert!(ext.split(',').any(|x| x == e), "{e} in {ext}");
    }
    assert_eq!(header(&resp, "tus-version").unwrap(), "1.0.0");
    assert_eq!(
        header(&resp, "tus-max-size").unwrap(),
        (20u64 << 30).to_string()
    );
    assert_eq!(
        header(&resp, "tus-checksum-algorithm").unwrap(),
        "md5,sha1,sha256"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chunked_upload_stores_the_bytes_and_records_the_video() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(3 * 1024 * 1024 + 17, 1);
    let url = tus
        .create_url(
            data.len(),
            &[
                ("filename", "holiday.mp4"),
                ("autoTranscode", "false"),
                ("passthrough", "order-7"),
            ],
        )
        .await;
    assert!(url.starts_with(&app.base), "{url}");
    let mut offset = 0;
    let mut last = None;
    for chunk in data.chunks(1024 * 1024) {
        let resp = tus.patch(&url, offset, chunk.to_vec()).await;
        assert_eq!(resp.status(), 204);
        offset += chunk.len();
        assert_eq!(header(&resp, "upload-offset").unwrap(), offset.to_string());
        last = Some(resp);
    }
    let vid = video_id(&last.unwrap());
    let video = app.video(creds.app_id, vid).await;
    assert_eq!(video.status, VideoStatus::Uploaded);
    assert_eq!(video.hash.as_deref(), Some(md5_hex(&data).as_str()));
    assert_eq!(video.file_size, data.len() as i64);
    assert_eq!(video.source_name, "holiday.mp4");
    assert_eq!(video.passthrough.as_deref(), Some("order-7"));
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5_hex(&data));
    assert!(
        app.staged_files().await.is_empty(),
        "staging emptied: {:?}",
        app.staged_files().await
    );
    assert!(
        app.jobs_of(vid).await.is_empty(),
        "autoTranscode=false queues nothing"
    );

    let head = tus.head(&url).await;
    assert_eq!(head.status(), 200);
    assert_eq!(video_id(&head), vid);
    assert_eq!(
        header(&head, "upload-length").unwrap(),
        data.len().to_string()
    );
    assert_eq!(header(&head, "cache-control").unwrap(), "no-store");
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_transcode_queues_the_job_in_the_same_step() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(1000, 2);
    let url = tus
        .create_url(data.len(), &[("filename", "a.mp4"), ("priority", "5")])
        .await;
    let resp = tus.patch(&url, 0, data).await;
    let vid = video_id(&resp);
    assert_eq!(
        app.video(creds.app_id, vid).await.status,
        VideoStatus::TranscodeQueued
    );
    assert_eq!(
        app.jobs_of(vid).await,
        vec![("transcode".to_string(), "queued".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn protocol_errors_use_the_specified_status_codes() {
    let (app, _, token) = setup_with(|c| c.upload.max_size = 10_000).await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let url = tus.create_url(100, &[("filename", "a.mp4")]).await;

    let no_version = app
        .http
        .head(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(no_version.status(), 412);
    assert_eq!(header(&no_version, "tus-version").unwrap(), "1.0.0");

    let wrong_type = tus
        .request(Method::PATCH, &url)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);

    assert_eq!(tus.patch(&url, 5, vec![0; 10]).await.status(), 409);
    assert_eq!(tus.offset(&url).await, 0);
    assert_eq!(
        tus.patch(&url, 0, vec![0; 101]).await.status(),
        400,
        "past the declared end"
    );
    assert_eq!(tus.offset(&url).await, 0);

    let too_big = tus.create(&[("Upload-Length", "10001".into())]).await;
    assert_eq!(too_big.status(), 413);
    let both = tus
        .create(&[
            ("Upload-Length", "1".into()),
            ("Upload-Defer-Length", "1".into()),
        ])
        .await;
    assert_eq!(both.status(), 400);
    let bad_meta = tus
        .create(&[
            ("Upload-Length", "1".into()),
            ("Upload-Metadata", "filename !!!".into()),
        ])
        .await;
    assert_eq!(bad_meta.status(), 400);
    let traversal = tus
        .create(&[
            ("Upload-Length", "1".into()),
            (
                "Upload-Metadata",
                metadata(&[("filename", "../../etc/passwd")]),
            ),
        ])
        .await;
    assert_eq!(traversal.status(), 400);

    let unknown = format!("{}/files/{}", app.base, "0".repeat(32));
    assert_eq!(tus.head(&unknown).await.status(), 404);
    assert_eq!(
        tus.head(&format!("{}/files/..%2F..", app.base))
            .await
            .status(),
        404
    );

    // Another app's upload does not exist for us.
    let beta = app.create_app("beta").await;
    let other = Tus {
        app: &app,
        token: app.token(&beta, 600).await,
    };
    assert_eq!(other.head(&url).await.status(), 404);
    assert_eq!(other.patch(&url, 0, vec![1; 100]).await.status(), 404);
    assert_eq!(tus.offset(&url).await, 0);

    let unauthenticated = app
        .http
        .head(&url)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn checksum_mismatch_discards_the_chunk() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(2000, 3);
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "a.mp4"), ("autoTranscode", "false")],
        )
        .await;
    let send = |offset: usize, chunk: &[u8], checksum: String| {
        tus.request(Method::PATCH, &url)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Checksum", checksum)
            .body(chunk.to_vec())
            .send()
    };
    let b64 = |d: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d);
    let sha1 = |d: &[u8]| b64(&<sha1::Sha1 as sha1::Digest>::digest(d));
    let sha256 = |d: &[u8]| b64(&<sha2::Sha256 as sha2::Digest>::digest(d));

    let wrong = send(0, &data[..1000], format!("sha1 {}", sha1(b"other bytes")))
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 460);
    assert_eq!(tus.offset(&url).await, 0);
    let unsupported = send(0, &data[..1000], "crc32 AAAA".into()).await.unwrap();
    assert_eq!(unsupported.status(), 400);

    let ok = send(0, &data[..1000], format!("sha1 {}", sha1(&data[..1000])))
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    let ok = send(
        1000,
        &data[1000..],
        format!("sha256 {}", sha256(&data[1000..])),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 204);
    let video = app.video(creds.app_id, video_id(&ok)).await;
    assert_eq!(
        video.hash.unwrap(),
        md5_hex(&data),
        "the rejected chunk left no trace"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deferred_length_and_creation_with_upload() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(5000, 4);

    let resp = tus
        .request(Method::POST, &app.url("/files/"))
        .header("Upload-Defer-Length", "1")
        .header(
            "Upload-Metadata",
            metadata(&[("filename", "live.mp4"), ("autoTranscode", "false")]),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .body(data[..2000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(header(&resp, "upload-offset").unwrap(), "2000");
    let url = header(&resp, "location").unwrap();
    let head = tus.head(&url).await;
    assert_eq!(header(&head, "upload-defer-length").unwrap(), "1");

    let last = tus
        .request(Method::PATCH, &url)
        .header("Upload-Offset", "2000")
        .header("Upload-Length", data.len().to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(data[2000..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 204);
    let video = app.video(creds.app_id, video_id(&last)).await;
    assert_eq!(video.hash.unwrap(), md5_hex(&data));
    assert_eq!(video.file_size, 5000);
}

#[tokio::test(flavor = "multi_thread")]
async fn concatenation_joins_partial_uploads() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(3000, 5);
    let mut partials = Vec::new();
    for piece in data.chunks(1200) {
        let resp = tus
            .create(&[
                ("Upload-Length", piece.len().to_string()),
                ("Upload-Concat", "partial".into()),
            ])
            .await;
        let url = header(&resp, "location").unwrap();
        assert_eq!(tus.patch(&url, 0, piece.to_vec()).await.status(), 204);
        assert_eq!(
            header(&tus.head(&url).await, "upload-concat").unwrap(),
            "partial"
        );
        partials.push(url);
    }
    let resp = tus
        .create(&[
            ("Upload-Concat", format!("final;{}", partials.join(" "))),
            (
                "Upload-Metadata",
                metadata(&[("filename", "joined.mp4"), ("autoTranscode", "false")]),
            ),
        ])
        .await;
    assert_eq!(resp.status(), 201);
    let vid = video_id(&resp);
    let video = app.video(creds.app_id, vid).await;
    assert_eq!(video.status, VideoStatus::Uploaded);
    assert_eq!(video.hash.unwrap(), md5_hex(&data));
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5_hex(&data));
    let final_url = header(&resp, "location").unwrap();
    assert!(
        header(&tus.head(&final_url).await, "upload-concat")
            .unwrap()
            .starts_with("final;")
    );
    assert!(
        app.staged_files().await.is_empty(),
        "{:?}",
        app.staged_files().await
    );

    let unfinished = tus
        .create(&[
            ("Upload-Length", "10".into()),
            ("Upload-Concat", "partial".into()),
        ])
        .await;
    let unfinished = header(&unfinished, "location").unwrap();
    let refused = tus
        .create(&[("Upload-Concat", format!("final;{unfinished}"))])
        .await;
    assert_eq!(refused.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn termination_forgets_bytes_and_video() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let url = tus.create_url(1000, &[("filename", "a.mp4")]).await;
    assert_eq!(tus.patch(&url, 0, vec![1; 400]).await.status(), 204);
    assert_eq!(app.staged_files().await.len(), 1);
    let listed = app
        .reel
        .videos
        .list(creds.app_id, None, None, 10)
        .await
        .unwrap();
    assert_eq!(listed.videos[0].status, VideoStatus::Uploading);

    let resp = tus.request(Method::DELETE, &url).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(tus.head(&url).await.status(), 404);
    assert!(app.staged_files().await.is_empty());
    assert!(
        app.reel
            .videos
            .list(creds.app_id, None, None, 10)
            .await
            .unwrap()
            .videos
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_uploads_answer_410_and_are_swept() {
    let (app, creds, token) = setup_with(|c| c.upload.expiry_secs = 1).await;
    let tus = Tus { app: &app, token };
    let url = tus.create_url(1000, &[("filename", "a.mp4")]).await;
    assert_eq!(tus.patch(&url, 0, vec![1; 100]).await.status(), 204);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(tus.patch(&url, 100, vec![1; 100]).await.status(), 410);
    assert_eq!(tus.head(&url).await.status(), 410);

    assert_eq!(app.reel.uploads.sweep_expired().await.unwrap(), 1);
    assert!(app.staged_files().await.is_empty());
    let video = &app
        .reel
        .videos
        .list(creds.app_id, None, None, 10)
        .await
        .unwrap()
        .videos[0];
    assert_eq!(video.status, VideoStatus::UploadFailed);
    assert!(video.error.as_deref().unwrap().contains("expired"));
    assert_eq!(tus.head(&url).await.status(), 410);
    assert_eq!(app.reel.uploads.sweep_expired().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_whose_sessions_redis_lost_are_failed_and_their_bytes_removed() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let lost = tus.create_url(1000, &[("filename", "lost.mp4")]).await;
    let live = tus.create_url(1000, &[("filename", "live.mp4")]).await;
    for url in [&lost, &live] {
        assert_eq!(tus.patch(url, 0, vec![1; 100]).await.status(), 204);
    }
    let lost_id = lost.rsplit('/').next().unwrap().to_string();
    // Redis forgets the session (a restart without persistence)...
    let mut redis = app.reel.kv.conn();
    let _: () = redis::cmd("DEL")
        .arg(app.reel.kv.key(&format!("upload:{lost_id}")))
        .arg(app.reel.kv.key("uploads:expiry"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(tus.head(&lost).await.status(), 404);
    // ...and a day passes for that upload only.
    let mut conn = app.reel.db.get().await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE videos SET create_time = now() - interval '2 days' WHERE source_name = 'lost.mp4'",
        ),
        &mut conn,
    )
    .await
    .unwrap();
    drop(conn);
    let fs_staging = app.reel.config.upload.staging == reel::config::StagingKind::Fs;
    if fs_staging {
        let file = std::fs::File::options()
            .write(true)
            .open(app.data_dir.path().join("staging").join(&lost_id))
            .unwrap();
        let two_days = std::time::SystemTime::now() - Duration::from_secs(2 * 86400);
        file.set_modified(two_days).unwrap();
    }

    let (failed, removed) = app.reel.uploads.sweep_orphans().await.unwrap();
    assert_eq!((failed, removed), (1, usize::from(fs_staging)));
    let videos = app
        .reel
        .videos
        .list(creds.app_id, None, None, 10)
        .await
        .unwrap()
        .videos;
    let status = |name: &str| {
        let v = videos.iter().find(|v| v.source_name == name).unwrap();
        (v.status, v.error.clone().unwrap_or_default())
    };
    let (lost_status, reason) = status("lost.mp4");
    assert_eq!(lost_status, VideoStatus::UploadFailed);
    assert!(reason.contains("session lost"), "{reason}");
    // The live upload is untouched and completes.
    assert_eq!(status("live.mp4").0, VideoStatus::Uploading);
    if fs_staging {
        assert_eq!(
            app.staged_files().await,
            vec![live.rsplit('/').next().unwrap()]
        );
    }
    assert_eq!(tus.patch(&live, 100, vec![1; 900]).await.status(), 204);
    assert_eq!(app.reel.uploads.sweep_orphans().await.unwrap(), (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn declared_md5_mismatch_fails_the_upload() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(1000, 6);
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "a.mp4"), ("md5", &md5_hex(b"something else"))],
        )
        .await;
    let resp = tus.patch(&url, 0, data).await;
    assert_eq!(resp.status(), 422);
    let video = &app
        .reel
        .videos
        .list(creds.app_id, None, None, 10)
        .await
        .unwrap()
        .videos[0];
    assert_eq!(video.status, VideoStatus::UploadFailed);
    assert!(
        video.error.as_deref().unwrap().contains("md5 mismatch"),
        "{:?}",
        video.error
    );
    assert!(app.staged_files().await.is_empty());
    assert_eq!(tus.head(&url).await.status(), 422);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deferred_md5_is_computed_by_a_job_and_then_feeds_instant_upload() {
    let (app, creds, token) =
        setup_with(|c| c.upload.md5 = reel::config::Md5Timing::Deferred).await;
    let tus = Tus { app: &app, token };
    let data = bytes(3 * 1024 * 1024 + 5, 9);
    let md5 = md5_hex(&data);
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "later.mp4"), ("autoTranscode", "false")],
        )
        .await;
    let first = video_id(&tus.patch(&url, 0, data.clone()).await);
    let video = app.video(creds.app_id, first).await;
    assert_eq!(video.status, VideoStatus::Uploaded);
    assert_eq!(video.hash, None, "not computed while receiving");
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5);
    assert_eq!(app.jobs_of(first).await, [("hash".into(), "queued".into())]);

    // A worker computes it.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app
        .reel
        .runner()
        .spawn(&[(reel::jobs::Lane::Media, 1)], stopped);
    let mut hash = None;
    for _ in 0..200 {
        hash = app.video(creds.app_id, first).await.hash;
        if hash.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hash.as_deref(), Some(md5.as_str()));
    assert_eq!(app.jobs_of(first).await, [("hash".into(), "done".into())]);

    // Now the same bytes are an instant upload.
    let resp = tus
        .create(&[
            ("Upload-Length", data.len().to_string()),
            (
                "Upload-Metadata",
                metadata(&[("filename", "again.mp4"), ("md5", &md5)]),
            ),
        ])
        .await;
    assert_eq!(resp.status(), 201);
    let second = app.video(creds.app_id, video_id(&resp)).await;
    assert_eq!(second.unique_id, Some(first));

    // A declared md5 is still verified while receiving.
    let url = tus
        .create_url(1000, &[("filename", "x.mp4"), ("md5", &md5_hex(b"other"))])
        .await;
    assert_eq!(tus.patch(&url, 0, bytes(1000, 3)).await.status(), 422);
    let _ = stop.send(true);
    worker.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn instant_upload_through_tus_metadata() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(4096, 7);
    let md5 = md5_hex(&data);
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "first.mp4"), ("autoTranscode", "false")],
        )
        .await;
    let first = video_id(&tus.patch(&url, 0, data.clone()).await);

    let resp = tus
        .create(&[
            ("Upload-Length", data.len().to_string()),
            (
                "Upload-Metadata",
                metadata(&[
                    ("filename", "again.mp4"),
                    ("md5", &md5),
                    ("autoTranscode", "false"),
                ]),
            ),
        ])
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        header(&resp, "upload-offset").unwrap(),
        data.len().to_string()
    );
    let second = video_id(&resp);
    assert_ne!(second, first);
    let video = app.video(creds.app_id, second).await;
    assert_eq!(video.unique_id, Some(first));
    assert_eq!(video.status, VideoStatus::Uploaded);
    assert_eq!(video.source_name, "again.mp4");
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5);

    // Another app with the same bytes gets no shortcut.
    let beta = app.create_app("beta").await;
    let other = Tus {
        app: &app,
        token: app.token(&beta, 600).await,
    };
    let resp = other
        .create(&[
            ("Upload-Length", data.len().to_string()),
            ("Upload-Metadata", metadata(&[("md5", &md5)])),
        ])
        .await;
    assert!(header(&resp, "reel-video-id").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_patches_never_corrupt_an_upload() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let data = bytes(8 * 1024 * 1024, 8);
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "a.mp4"), ("autoTranscode", "false")],
        )
        .await;
    // Two clients race to write the first half at offset 0.
    let half = data[..data.len() / 2].to_vec();
    let (a, b) = tokio::join!(
        tus.patch(&url, 0, half.clone()),
        tus.patch(&url, 0, half.clone())
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(statuses.contains(&204), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [204, 409, 423].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(tus.offset(&url).await, half.len() as u64);
    let done = tus
        .patch(&url, half.len(), data[half.len()..].to_vec())
        .await;
    let video = app.video(creds.app_id, video_id(&done)).await;
    assert_eq!(video.hash.unwrap(), md5_hex(&data));
}

/// Opens a PATCH at offset 0 promising all of `data` and sends its first `sent` bytes
/// over a raw socket, which the caller drops to break the request off.
async fn patch_part_of(
    app: &TestApp,
    url: &str,
    token: &str,
    data: &[u8],
    sent: usize,
) -> tokio::net::TcpStream {
    let path = url.strip_prefix(&app.base).unwrap();
    let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        app.addr,
        data.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&data[..sent]).await.unwrap();
    sock.flush().await.unwrap();
    sock
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_off_patch_keeps_what_arrived() {
    let (app, creds, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = bytes(1_000_000, 9);
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "a.mp4"), ("autoTranscode", "false")],
        )
        .await;

    // Promise the whole file, send 300 000 bytes, hang up.
    let sock = patch_part_of(&app, &url, &token, &data, 300_000).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(sock);

    let mut offset = 0;
    for _ in 0..50 {
        offset = tus.offset(&url).await;
        if offset > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(offset, 300_000, "bytes before the break are kept");
    let done = tus
        .patch(&url, offset as usize, data[offset as usize..].to_vec())
        .await;
    assert_eq!(done.status(), 204);
    let video = app.video(creds.app_id, video_id(&done)).await;
    assert_eq!(video.hash.unwrap(), md5_hex(&data));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_right_after_a_break_sees_the_bytes_that_arrived() {
    let (app, creds, token) = setup().await;
    let tus = Tus {
        app: &app,
        token: token.clone(),
    };
    let data = bytes(4 << 20, 11);
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "a.mp4"), ("autoTranscode", "false")],
        )
        .await;
    let sent = 3 << 20;
    let sock = patch_part_of(&app, &url, &token, &data, sent).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A resuming client asks while the old connection is still dying (a reloaded page is
    // that quick): the HEAD waits for the broken-off PATCH to save what arrived instead
    // of reporting the offset from before it, and the PATCH after it needs no retry.
    let (offset, ()) = tokio::join!(tus.offset(&url), async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(sock);
    });
    assert_eq!(offset, sent as u64);
    let done = tus.patch(&url, sent, data[sent..].to_vec()).await;
    assert_eq!(done.status(), 204);
    let video = app.video(creds.app_id, video_id(&done)).await;
    assert_eq!(video.hash.unwrap(), md5_hex(&data));
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_patch_uses_unsigned_payload() {
    let (app, creds, _) = setup().await;
    let data = bytes(777, 10);
    let create_url = common::signing::signed_url(&app.base, &creds, "POST", "/files/", &[], b"");
    let resp = app
        .http
        .post(create_url)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", data.len().to_string())
        .header("Upload-Metadata", metadata(&[("autoTranscode", "false")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let path = header(&resp, "location")
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_string();
    let sig = common::signing::Signature::new(&creds);
    let signature = sig.sign_upload("PATCH", &path, &[]);
    let resp = app
        .http
        .patch(format!("{}{path}?{}", app.base, sig.query(&signature, &[])))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        app.video(creds.app_id, video_id(&resp)).await.hash.unwrap(),
        md5_hex(&data)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn browsers_on_other_origins_may_upload() {
    let (app, _, token) = setup().await;
    let origin = "https://app.example.com";
    let preflight = app
        .http
        .request(Method::OPTIONS, app.url("/files/0123"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization,tus-resumable,upload-offset,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        header(&preflight, "access-control-allow-origin").unwrap(),
        origin
    );
    let allowed = header(&preflight, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("upload-offset") && allowed.contains("authorization"),
        "{allowed}"
    );

    let tus = Tus { app: &app, token };
    let resp = tus
        .request(Method::POST, &app.url("/files/"))
        .header("Origin", origin)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let exposed = header(&resp, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "location",
        "upload-offset",
        "upload-length",
        "tus-resumable",
        "reel-video-id",
    ] {
        assert!(exposed.contains(h), "{h} exposed in {exposed}");
    }
}
