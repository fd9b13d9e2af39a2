//! tus 1.0.0 at /files/ against a running server, real Redis, Postgres and fs storage.

mod common;

use common::media::video_id_header as video_id;
use common::tus::{Tus, bytes, header, md5_hex, metadata};
use common::{Credentials, TestApp};
use reel::model::VideoStatus;
use reqwest::Method;

async fn setup() -> (TestApp, Credentials, String) {
    TestApp::builder().signed_in().await
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
    let (app, _, token) = TestApp::builder()
        .config(|c| c.upload.max_size = 10_000)
        .signed_in()
        .await;
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
