//! tus uploads over time and under faults: expiry, sessions Redis lost, md5 (declared or
//! deferred), instant upload, concurrent and broken-off PATCHes, resuming at once.

mod common;

use std::time::Duration;

use common::media::video_id_header as video_id;
use common::tus::{Tus, bytes, header, md5_hex, metadata};
use common::{Credentials, TestApp};
use reel::model::VideoStatus;
use tokio::io::AsyncWriteExt;

async fn setup() -> (TestApp, Credentials, String) {
    TestApp::builder().signed_in().await
}

async fn setup_with(
    f: impl FnOnce(&mut reel::config::Config) + 'static,
) -> (TestApp, Credentials, String) {
    TestApp::builder().config(f).signed_in().await
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
    let video = &app.newest_video(creds.app_id).await;
    assert_eq!(video.status, VideoStatus::UploadFailed);
    assert!(video.error.as_deref().unwrap().contains("expired"));
    assert_eq!(tus.head(&url).await.status(), 410);
    assert_eq!(app.reel.uploads.sweep_expired().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_whose_sessions_are_gone_are_failed_and_their_bytes_removed() {
    let (app, creds, token) = setup().await;
    let tus = Tus { app: &app, token };
    let lost = tus.create_url(1000, &[("filename", "lost.mp4")]).await;
    let live = tus.create_url(1000, &[("filename", "live.mp4")]).await;
    for url in [&lost, &live] {
        assert_eq!(tus.patch(url, 0, vec![1; 100]).await.status(), 204);
    }
    let lost_id = lost.rsplit('/').next().unwrap().to_string();
    // The session is gone (it was in Redis before sessions moved to Postgres)...
    let mut conn = app.reel.db.get().await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "DELETE FROM upload_sessions WHERE id = '{lost_id}'"
        )),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(tus.head(&lost).await.status(), 404);
    // ...and a day passes for that upload only.
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
    let video = &app.newest_video(creds.app_id).await;
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
