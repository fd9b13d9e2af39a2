//! The seed's REST upload API (`/video/upload/*`) and the GraphQL upload entry points.

mod common;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::tus::{bytes, md5_hex};
use common::{Credentials, TestApp, error_code};
use reel::model::VideoId;
use reel::model::VideoStatus;
use serde_json::{Value, json};

const MIB: usize = 1 << 20;

/// (parameters, expected status, words in the message)
type InitCase = (Vec<(&'static str, String)>, u16, &'static str);

async fn setup() -> (Arc<TestApp>, Credentials) {
    let app = TestApp::builder()
        .config(|c| c.upload.max_size = 64 << 20)
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    (Arc::new(app), creds)
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

async fn init(app: &TestApp, creds: &Credentials, params: &[(&str, &str)]) -> (u16, Value) {
    app.rest(creds, "POST", "/video/upload/init", params, None)
        .await
}

async fn part(
    app: &TestApp,
    creds: &Credentials,
    upid: &str,
    n: usize,
    data: &[u8],
    hash: Option<&str>,
) -> (u16, Value) {
    let n = n.to_string();
    let mut params = vec![("upid", upid), ("pseq", n.as_str())];
    if let Some(h) = hash {
        params.push(("hash", h));
    }
    app.rest(
        creds,
        "PUT",
        "/video/upload/upload",
        &params,
        Some(data.to_vec()),
    )
    .await
}

async fn resume(app: &TestApp, creds: &Credentials, upid: &str) -> (u16, Value) {
    app.rest(
        creds,
        "GET",
        "/video/upload/resume",
        &[("upid", upid)],
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn parts_in_any_order_and_in_parallel() {
    let (app, creds) = setup().await;
    let data = Arc::new(bytes(6 * MIB + 123, 11));
    let md5 = md5_hex(&data);
    let fsize = data.len().to_string();
    let (status, out) = init(
        &app,
        &creds,
        &[
            ("fn", &b64("trip.mp4")),
            ("fsize", &fsize),
            ("psize", "1048576"),
            ("auto", "0"),
            ("hash", &md5),
        ],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["code"], "OK");
    assert_eq!(out["part_count"], 7);
    let upid = out["upload_id"].as_str().unwrap().to_string();

    // Shuffled order, all at once.
    let order = [5usize, 7, 1, 3, 6, 2, 4];
    let mut tasks = Vec::new();
    for n in order {
        let (app, creds, data, upid) = (app.clone(), creds.clone(), data.clone(), upid.clone());
        tasks.push(tokio::spawn(async move {
            let chunk = &data[(n - 1) * MIB..(n * MIB).min(data.len())];
            part(&app, &creds, &upid, n, chunk, Some(&md5_hex(chunk))).await
        }));
    }
    let mut vids = Vec::new();
    for t in tasks {
        let (status, out) = t.await.unwrap();
        assert_eq!(status, 200, "{out}");
        if let Some(v) = out["vid"].as_i64() {
            vids.push(v);
        }
    }
    assert_eq!(vids.len(), 1, "exactly one part completes the upload");
    let video = app.video(creds.app_id, VideoId(vids[0])).await;
    assert_eq!(video.status, VideoStatus::Uploaded);
    assert_eq!(video.hash.as_deref(), Some(md5.as_str()));
    assert_eq!(video.source_name, "trip.mp4");
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5);
    assert!(app.staged_files().await.is_empty());

    let (status, out) = resume(&app, &creds, &upid).await;
    assert_eq!(status, 200);
    assert_eq!(out["state"], "COMPLETE");
    assert_eq!(out["vid"], vids[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn parts_with_a_deferred_md5_complete_without_a_second_pass_and_are_hashed_later() {
    let app = TestApp::builder()
        .config(|c| c.upload.md5 = reel::config::Md5Timing::Deferred)
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let data = bytes(3 * MIB + 7, 12);
    let fsize = data.len().to_string();
    let (status, out) = init(
        &app,
        &creds,
        &[
            ("fn", &b64("later.mp4")),
            ("fsize", &fsize),
            ("psize", "1048576"),
            ("auto", "1"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let upid = out["upload_id"].as_str().unwrap().to_string();
    let mut vid = None;
    for n in [4usize, 2, 3, 1] {
        let chunk = &data[(n - 1) * MIB..(n * MIB).min(data.len())];
        let (status, out) = part(&app, &creds, &upid, n, chunk, None).await;
        assert_eq!(status, 200, "{out}");
        vid = vid.or(out["vid"].as_i64());
    }
    let video = app.video(creds.app_id, VideoId(vid.unwrap())).await;
    assert_eq!(video.file_size, data.len() as i64);
    assert_eq!(video.hash, None);
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5_hex(&data));
    // The hash job runs before the transcode.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app
        .reel
        .runner()
        .spawn(&[(reel::jobs::Lane::Media, 1)], stopped);
    let mut hash = None;
    for _ in 0..200 {
        hash = app.video(creds.app_id, video.id).await.hash;
        if hash.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(hash, Some(md5_hex(&data)));
    let _ = stop.send(true);
    worker.await.unwrap();
    let jobs = app.jobs_of(video.id).await;
    assert_eq!(
        jobs[0],
        ("hash".to_string(), "done".to_string()),
        "{jobs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reverse_order_with_resume_and_duplicates() {
    let (app, creds) = setup().await;
    let data = bytes(3 * MIB, 12);
    let (_, out) = init(
        &app,
        &creds,
        &[
            ("fn", &b64("a.mp4")),
            ("fsize", &data.len().to_string()),
            ("psize", "1048576"),
            ("auto", "false"),
        ],
    )
    .await;
    let upid = out["upload_id"].as_str().unwrap().to_string();
    let piece = |n: usize| &data[(n - 1) * MIB..n * MIB];

    let (status, out) = part(&app, &creds, &upid, 3, piece(3), None).await;
    assert_eq!(status, 200, "{out}");
    let (_, r) = resume(&app, &creds, &upid).await;
    assert_eq!(r["mode"], "parts");
    assert_eq!(r["missing_parts"], json!([1, 2]));
    assert_eq!(r["offset"], MIB);

    // The same bytes again are fine; other bytes for a received part are refused.
    assert_eq!(part(&app, &creds, &upid, 3, piece(3), None).await.0, 200);
    let (status, out) = part(&app, &creds, &upid, 3, piece(1), None).await;
    assert_eq!(status, 409, "{out}");
    assert_eq!(out["code"], "CONFLICT");

    // Wrong size and wrong md5 are refused and leave the part missing.
    let (status, out) = part(&app, &creds, &upid, 2, &piece(2)[..1000], None).await;
    assert_eq!(status, 400, "{out}");
    let (status, out) = part(&app, &creds, &upid, 2, piece(2), Some(&md5_hex(b"nope"))).await;
    assert_eq!(status, 400);
    assert!(
        out["message"].as_str().unwrap().contains("md5 mismatch"),
        "{out}"
    );
    let (_, r) = resume(&app, &creds, &upid).await;
    assert_eq!(r["missing_parts"], json!([1, 2]));

    assert_eq!(part(&app, &creds, &upid, 2, piece(2), None).await.0, 200);
    let (_, out) = part(&app, &creds, &upid, 1, piece(1), None).await;
    let vid = VideoId(out["vid"].as_i64().expect("completed"));
    assert_eq!(
        app.video(creds.app_id, vid).await.hash.unwrap(),
        md5_hex(&data)
    );
    assert_eq!(
        part(&app, &creds, &upid, 1, piece(1), None).await.0,
        409,
        "already complete"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn whole_stream_with_content_range_resumes_from_the_offset() {
    let (app, creds) = setup().await;
    let data = bytes(300_000, 13);
    let total = data.len();
    let (_, out) = init(
        &app,
        &creds,
        &[
            ("fn", &b64("s.mp4")),
            ("fsize", &total.to_string()),
            ("auto", "0"),
        ],
    )
    .await;
    let upid = out["upload_id"].as_str().unwrap().to_string();
    let send = |start: usize, end: usize| {
        let app = app.clone();
        let creds = creds.clone();
        let upid = upid.clone();
        let chunk = data[start..end].to_vec();
        async move {
            let sig_params = [("upid", upid.as_str())];
            // Content-Range rides as a header; the signature covers the query only.
            let sig = common::signing::Signature::new(&creds);
            let signature = sig.sign_upload("POST", "/video/upload/upload", &sig_params);
            let resp = app
                .http
                .post(format!(
                    "{}/video/upload/upload?{}",
                    app.base,
                    sig.query(&signature, &sig_params)
                ))
                .header("content-type", "application/octet-stream")
                .header(
                    "content-range",
                    format!("bytes {start}-{}/{total}", end - 1),
                )
                .body(chunk)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, out) = send(0, 100_000).await;
    assert_eq!(status, 200, "{out}");
    let (_, r) = resume(&app, &creds, &upid).await;
    assert_eq!(r["mode"], "stream");
    assert_eq!(r["offset"], 100_000);
    let (status, out) = send(150_000, total).await;
    assert_eq!(status, 409, "a gap is refused: {out}");
    assert_eq!(out["code"], "OFFSET_MISMATCH");
    let (status, out) = send(100_000, total).await;
    assert_eq!(status, 200);
    let vid = VideoId(out["vid"].as_i64().unwrap());
    assert_eq!(
        app.video(creds.app_id, vid).await.hash.unwrap(),
        md5_hex(&data)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_init_parameters_change_nothing() {
    let (app, creds) = setup().await;
    let name = b64("a.mp4");
    let cases: Vec<InitCase> = vec![
        (
            vec![
                ("fn", name.clone()),
                ("fsize", "10485760".into()),
                ("psize", "1000".into()),
            ],
            400,
            "psize",
        ),
        (
            vec![
                ("fn", name.clone()),
                ("fsize", "10485760".into()),
                ("psize", "2147483648".into()),
            ],
            400,
            "psize",
        ),
        (
            vec![
                ("fn", name.clone()),
                ("fsize", (60u64 << 20).to_string()),
                ("psize", "1048576".into()),
                ("hash", "xyz".into()),
            ],
            400,
            "md5",
        ),
        (
            vec![("fn", "%%%".into()), ("fsize", "10".into())],
            400,
            "base64",
        ),
        (
            vec![("fn", b64("../etc/passwd")), ("fsize", "10".into())],
            400,
            "file name",
        ),
        (
            vec![("fn", b64("a/b.mp4")), ("fsize", "10".into())],
            400,
            "file name",
        ),
        (
            vec![("fn", b64("a\0b")), ("fsize", "10".into())],
            400,
            "file name",
        ),
        (
            vec![("fn", name.clone()), ("fsize", (65u64 << 20).to_string())],
            413,
            "allowed",
        ),
        (vec![("fn", name.clone()), ("fsize", "abc".into())], 400, ""),
        (vec![("fsize", "10".into())], 400, ""),
    ];
    for (params, status, words) in cases {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (got, out) = init(&app, &creds, &borrowed).await;
        assert_eq!(got, status, "{params:?}: {out}");
        assert!(
            out["code"].is_string() && out["message"].is_string(),
            "{out}"
        );
        assert!(
            out["message"].as_str().unwrap().contains(words),
            "{params:?}: {out}"
        );
    }
    assert!(
        app.reel
            .videos
            .list(creds.app_id, None, None, 10)
            .await
            .unwrap()
            .videos
            .is_empty()
    );

    let (status, out) = resume(&app, &creds, &"f".repeat(32)).await;
    assert_eq!((status, out["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, _) = resume(&app, &creds, "../../x").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn instant_upload_and_md5_mismatch() {
    let (app, creds) = setup().await;
    let data = bytes(MIB + 10, 14);
    let md5 = md5_hex(&data);
    let fsize = data.len().to_string();
    let (_, out) = init(
        &app,
        &creds,
        &[
            ("fn", &b64("one.mp4")),
            ("fsize", &fsize),
            ("psize", "1048576"),
            ("auto", "0"),
            ("hash", &md5),
        ],
    )
    .await;
    let upid = out["upload_id"].as_str().unwrap().to_string();
    part(&app, &creds, &upid, 2, &data[MIB..], None).await;
    let (_, out) = part(&app, &creds, &upid, 1, &data[..MIB], None).await;
    let first = out["vid"].as_i64().unwrap();

    let (status, out) = init(
        &app,
        &creds,
        &[
            ("fn", &b64("two.mp4")),
            ("fsize", &fsize),
            ("psize", "1048576"),
            ("hash", &md5),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(out["upload_id"].is_null(), "no bytes to send: {out}");
    let second = VideoId(out["vid"].as_i64().unwrap());
    assert_ne!(second.0, first);
    let video = app.video(creds.app_id, second).await;
    assert_eq!(video.unique_id, Some(VideoId(first)));
    assert_eq!(
        video.status,
        VideoStatus::TranscodeQueued,
        "auto defaults to on"
    );
    assert_eq!(app.jobs_of(second).await.len(), 1);

    // A declared md5 that the bytes do not match fails the upload with the reason.
    let (_, out) = init(
        &app,
        &creds,
        &[
            ("fn", &b64("bad.mp4")),
            ("fsize", &fsize),
            ("psize", "1048576"),
            ("hash", &md5_hex(b"other")),
        ],
    )
    .await;
    let upid = out["upload_id"].as_str().unwrap().to_string();
    part(&app, &creds, &upid, 1, &data[..MIB], None).await;
    let (status, out) = part(&app, &creds, &upid, 2, &data[MIB..], None).await;
    assert_eq!(status, 422, "{out}");
    assert_eq!(out["code"], "UPLOAD_FAILED");
    let (status, out) = resume(&app, &creds, &upid).await;
    assert_eq!(status, 422);
    assert!(out["message"].as_str().unwrap().contains("md5 mismatch"));
    let failed = app
        .reel
        .videos
        .list(creds.app_id, Some(VideoStatus::UploadFailed), None, 10)
        .await
        .unwrap();
    assert_eq!(failed.videos.len(), 1);
    assert!(app.staged_files().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn status_delete_mediainfo_and_openapi() {
    let (app, creds) = setup().await;
    let beta = app.create_app("beta").await;
    let vid = app
        .insert_video(creds.app_id, VideoStatus::Uploaded)
        .await
        .to_string();
    let (status, out) = app
        .rest(&creds, "GET", "/video/status", &[("vid", &vid)], None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(out["status"], "UPLOADED");
    let (status, out) = app
        .rest(&creds, "POST", "/video/mediainfo", &[("vid", &vid)], None)
        .await;
    assert_eq!(status, 200);
    assert!(out["media_info"].is_null());

    let (status, out) = app
        .rest(&beta, "GET", "/video/status", &[("vid", &vid)], None)
        .await;
    assert_eq!((status, out["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, _) = app
        .rest(&beta, "GET", "/video/delete", &[("vid", &vid)], None)
        .await;
    assert_eq!(status, 404);
    let (status, out) = app
        .rest(&creds, "GET", "/video/status", &[("vid", "x1")], None)
        .await;
    assert_eq!((status, out["code"].as_str()), (400, Some("BAD_REQUEST")));

    let (status, _) = app
        .rest(&creds, "GET", "/video/delete", &[("vid", &vid)], None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .rest(&creds, "GET", "/video/status", &[("vid", &vid)], None)
        .await;
    assert_eq!(status, 404);

    let unsigned = app
        .http
        .get(app.url("/video/status?vid=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let spec: Value = app
        .http
        .get(app.url("/video/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/upload/init",
        "/upload/upload",
        "/upload/resume",
        "/status",
        "/delete",
        "/mediainfo",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(
        app.http
            .get(app.url("/video/docs"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_init_upload_and_upload_status() {
    let (app, creds) = setup().await;
    let init = "mutation($input: InitUploadInput!) { initUpload(input: $input) {
        instant video { id status } upload { id state tusUrl partUrl partCount missingParts offset } } }";
    let out = app
        .graphql(&creds, init, json!({ "input": { "fileName": "g.mp4", "fileSize": 3 * MIB + 5, "partSize": MIB, "autoTranscode": false } }))
        .await;
    let upload = &out["data"]["initUpload"]["upload"];
    assert_eq!(out["data"]["initUpload"]["instant"], false, "{out}");
    assert_eq!(upload["partCount"], 4);
    assert_eq!(upload["missingParts"], json!([1, 2, 3, 4]));
    assert!(upload["tusUrl"].is_null());
    let upid = upload["id"].as_str().unwrap().to_string();

    let data = bytes(3 * MIB + 5, 15);
    part(&app, &creds, &upid, 4, &data[3 * MIB..], None).await;
    let query = "query($id: ID!) { upload(id: $id) { state offset missingParts videoId } }";
    let out = app.graphql(&creds, query, json!({ "id": upid })).await;
    assert_eq!(out["data"]["upload"]["missingParts"], json!([1, 2, 3]));
    assert_eq!(out["data"]["upload"]["offset"], 5);
    assert_eq!(out["data"]["upload"]["state"], "RECEIVING");

    let stream = app
        .graphql(
            &creds,
            init,
            json!({ "input": { "fileName": "t.mp4", "fileSize": 10 } }),
        )
        .await;
    let tus_url = stream["data"]["initUpload"]["upload"]["tusUrl"]
        .as_str()
        .unwrap();
    assert!(
        tus_url.starts_with(&format!("{}/files/", app.base)),
        "{tus_url}"
    );

    let bad = app
        .graphql(
            &creds,
            init,
            json!({ "input": { "fileName": "a/b", "fileSize": 10 } }),
        )
        .await;
    assert_eq!(error_code(&bad), Some("BAD_REQUEST"));
    let other = app.create_app("beta").await;
    let foreign = app.graphql(&other, query, json!({ "id": upid })).await;
    assert!(foreign["data"]["upload"].is_null());
}
