//! Hostile uploads (issue 14, items 5 and 8): tus concatenation cannot amplify bytes or
//! slip past the quota, a deferred length meets the quota when it arrives, a consumed
//! partial cannot be used twice, and an upload whose video was deleted leaves nothing.

mod common;

use common::tus::{Tus, bytes, header, metadata};
use common::{Credentials, TestApp};
use reel::model::VideoStatus;

const MIB: usize = 1 << 20;

async fn setup(quota: u64) -> (TestApp, Credentials, String) {
    TestApp::builder()
        .config(move |c| {
            c.limits.max_storage_bytes = quota;
            c.upload.max_size = 6 << 20;
        })
        .signed_in()
        .await
}

/// A finished tus partial upload of `len` bytes; returns its URL.
async fn partial(tus: &Tus<'_>, len: usize, seed: u64) -> String {
    let resp = tus
        .create(&[
            ("Upload-Length", len.to_string()),
            ("Upload-Concat", "partial".into()),
        ])
        .await;
    assert_eq!(resp.status(), 201);
    let url = header(&resp, "location").unwrap();
    assert_eq!(tus.patch(&url, 0, bytes(len, seed)).await.status(), 204);
    url
}

async fn final_of(tus: &Tus<'_>, parts: &[&str]) -> reqwest::Response {
    tus.create(&[
        ("Upload-Concat", format!("final;{}", parts.join(" "))),
        (
            "Upload-Metadata",
            metadata(&[("filename", "joined.mp4"), ("autoTranscode", "false")]),
        ),
    ])
    .await
}

async fn video_count(app: &TestApp, creds: &Credentials) -> usize {
    let page = app
        .reel
        .videos
        .list(creds.app_id, None, None, 100)
        .await
        .unwrap();
    page.videos.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_final_upload_names_each_partial_once_and_uses_it_once() {
    let (app, creds, token) = setup(0).await;
    let tus = Tus { app: &app, token };
    let a = partial(&tus, MIB, 1).await;
    let b = partial(&tus, MIB, 2).await;

    // The same partial 64 times would make 64 MiB out of 1.
    let twice: Vec<&str> = std::iter::repeat_n(a.as_str(), 64).collect();
    let resp = final_of(&tus, &twice).await;
    assert_eq!(resp.status(), 400, "{:?}", resp.text().await);
    assert_eq!(video_count(&app, &creds).await, 0, "nothing made");

    let resp = final_of(&tus, &[&a, &b]).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(video_count(&app, &creds).await, 1);

    // Consumed: a second final with them is refused, and leaves no UPLOADING row.
    let resp = final_of(&tus, &[&a, &b]).await;
    assert_eq!(resp.status(), 400, "{:?}", resp.text().await);
    let videos = app
        .reel
        .videos
        .list(creds.app_id, None, None, 100)
        .await
        .unwrap();
    assert_eq!(videos.videos.len(), 1);
    assert_eq!(videos.videos[0].status, VideoStatus::Uploaded);
    assert!(
        app.staged_files().await.is_empty(),
        "{:?}",
        app.staged_files().await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_final_upload_meets_the_size_limit_and_the_quota() {
    let (app, creds, token) = setup(3 << 20).await;
    let tus = Tus { app: &app, token };
    let a = partial(&tus, 2 * MIB, 1).await;
    let b = partial(&tus, 2 * MIB, 2).await;
    // 4 MiB joined, 3 MiB allowed.
    let resp = final_of(&tus, &[&a, &b]).await;
    assert_eq!(resp.status(), 429, "{:?}", resp.text().await);
    assert_eq!(video_count(&app, &creds).await, 0);

    let (app, creds, token) = setup(0).await;
    let tus = Tus { app: &app, token };
    let parts = [
        partial(&tus, 3 * MIB, 1).await,
        partial(&tus, 3 * MIB, 2).await,
        partial(&tus, MIB, 3).await,
    ];
    // 7 MiB joined, 6 MiB is the largest upload.
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let resp = final_of(&tus, &refs).await;
    assert_eq!(resp.status(), 413);
    assert_eq!(video_count(&app, &creds).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deferred_length_meets_the_quota_when_it_arrives() {
    let (app, creds, token) = setup(3 << 20).await;
    let tus = Tus { app: &app, token };
    let resp = tus
        .create(&[
            ("Upload-Defer-Length", "1".into()),
            ("Upload-Metadata", metadata(&[("filename", "late.mp4")])),
        ])
        .await;
    assert_eq!(resp.status(), 201);
    let url = header(&resp, "location").unwrap();
    let resp = tus
        .request(reqwest::Method::PATCH, &url)
        .header("Upload-Offset", "0")
        .header("Upload-Length", (4 * MIB).to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes(MIB, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429, "4 MiB against a 3 MiB quota");
    assert_eq!(tus.offset(&url).await, 0, "nothing was stored");
    let video = &app.newest_video(creds.app_id).await;
    assert_eq!(video.status, VideoStatus::Uploading);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_whose_video_was_deleted_leaves_nothing() {
    let (app, creds, token) = setup(0).await;
    let tus = Tus { app: &app, token };
    let url = tus.create_url(2000, &[("filename", "gone.mp4")]).await;
    assert_eq!(tus.patch(&url, 0, bytes(1000, 1)).await.status(), 204);
    let video = app.newest_video(creds.app_id).await;
    assert!(app.delete_video(&creds, video.id).await);
    let resp = tus.patch(&url, 1000, bytes(1000, 2)).await;
    assert_eq!(resp.status(), 422, "{:?}", resp.text().await);
    let source = app.storage_path(&format!("sources/{}/source", video.id));
    assert!(!source.exists(), "{source:?} left behind");
    assert!(app.staged_files().await.is_empty());
}

/// A PATCH of `url` whose body trickles 1 KiB every 100 ms (until 1 MiB).
fn slow_patch(tus: &Tus<'_>, url: &str) -> tokio::task::JoinHandle<u16> {
    let chunks = futures_util::stream::unfold(0usize, |sent| async move {
        if sent >= MIB {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        Some((Ok::<_, std::io::Error>(vec![7u8; 1024]), sent + 1024))
    });
    let req = tus
        .request(reqwest::Method::PATCH, url)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(reqwest::Body::wrap_stream(chunks));
    tokio::spawn(async move { req.send().await.map(|r| r.status().as_u16()).unwrap_or(0) })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writer_that_loses_its_lock_stops_and_commits_nothing() {
    let (app, _, token) = setup(0).await;
    let tus = Tus { app: &app, token };
    let url = tus.create_url(MIB, &[("filename", "a.bin")]).await;
    let id = url.rsplit('/').next().unwrap().to_string();
    let writing = slow_patch(&tus, &url);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // Another writer takes the lease, as after the first one's lapsed while its node
    // stalled: the first must stop instead of writing beside it.
    let pg = app.pg().await;
    let lease = format!("{id}:lock");
    let taken = pg
        .execute(
            "UPDATE upload_locks SET token = 'another-writer', expires_at = now() + interval '1 minute' WHERE name = $1",
            &[&lease],
        )
        .await
        .unwrap();
    assert_eq!(taken, 1, "the writer holds a lease");
    let status = tokio::time::timeout(std::time::Duration::from_secs(15), writing)
        .await
        .expect("the write stops within a renewal period or two")
        .unwrap();
    assert_eq!(status, 503);
    pg.execute("DELETE FROM upload_locks WHERE name = $1", &[&lease])
        .await
        .unwrap();
    assert_eq!(
        tus.offset(&url).await,
        0,
        "nothing of the stopped write counts"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn another_app_is_not_found_even_while_the_owner_writes() {
    let (app, _, token) = setup(0).await;
    let tus = Tus { app: &app, token };
    let url = tus.create_url(MIB, &[("filename", "a.bin")]).await;
    let writing = slow_patch(&tus, &url);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let beta = app.create_app("beta").await;
    let other = Tus {
        app: &app,
        token: app.token(&beta, 600).await,
    };
    // Not 423 "someone is writing": whether it exists is not beta's to learn.
    assert_eq!(other.patch(&url, 0, vec![1; 10]).await.status(), 404);
    assert_eq!(other.head(&url).await.status(), 404);
    writing.abort();
}
