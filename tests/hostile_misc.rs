//! Leftovers a hostile client found (issue 14, item 8 and the robustness list): job
//! priorities are bounded (the queue is shared by every app), `/metrics` is closed unless
//! the operator opens it, and `passthrough` is at most 1 KiB.

mod common;

use common::{TestApp, error_code};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn priorities_are_bounded_per_app() {
    let app = TestApp::builder()
        .config(|c| c.limits.max_priority = 10)
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let init = "mutation($p: Int!) { initUpload(input: { fileName: \"a.mp4\", fileSize: 10, priority: $p }) { instant } }";
    let out = app.graphql(&creds, init, json!({ "p": 1_000_000 })).await;
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    assert!(
        out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("-10..=10"),
        "{out}"
    );
    let out = app.graphql(&creds, init, json!({ "p": -10 })).await;
    assert!(out["errors"].is_null(), "the bound itself is fine: {out}");

    let vid = app
        .insert_video(creds.app_id, reel::model::VideoStatus::Uploaded)
        .await;
    let transcode = "mutation($id: ID!, $p: Int) { transcode(id: $id, priority: $p) { id } }";
    let out = app
        .graphql(
            &creds,
            transcode,
            json!({ "id": vid.to_string(), "p": i32::MAX }),
        )
        .await;
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    let (status, body) = app
        .rest(
            &creds,
            "GET",
            "/video/upload/init",
            &[
                ("fn", "YS5tcDQ="),
                ("fsize", "10"),
                ("priority", "-2147483648"),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("BAD_REQUEST")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_closed_unless_opened() {
    let closed = TestApp::start().await;
    let resp = closed
        .http
        .get(closed.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "not even from loopback");
    let open = TestApp::builder()
        .config(|c| c.metrics.open = true)
        .start()
        .await;
    let resp = open.http.get(open.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn passthrough_is_capped_at_one_kib() {
    use base64::Engine;
    let (app, creds, token) = TestApp::builder().signed_in().await;
    let init = "mutation($p: String!) { initUpload(input: { fileName: \"a.mp4\", fileSize: 10, passthrough: $p }) { instant } }";
    let out = app
        .graphql(&creds, init, json!({ "p": "x".repeat(1025) }))
        .await;
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    let out = app
        .graphql(&creds, init, json!({ "p": "é".repeat(512) }))
        .await;
    assert!(out["errors"].is_null(), "1024 bytes are kept: {out}");

    // The same over tus, where it arrives in Upload-Metadata.
    let meta = |p: &str| {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        format!("filename {},passthrough {}", b64("a.mp4"), b64(p))
    };
    let create = |p: String| {
        app.http
            .post(app.url("/files/"))
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", "10")
            .header("Upload-Metadata", meta(&p))
            .send()
    };
    assert_eq!(create("y".repeat(4096)).await.unwrap().status(), 400);
    assert_eq!(create("order-42".into()).await.unwrap().status(), 201);
}
