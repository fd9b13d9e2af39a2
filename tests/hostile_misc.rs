//! Leftovers a hostile client found (issue 14, item 8): job priorities are bounded (the
//! queue is shared by every app), and `/metrics` is closed unless the operator opens it.

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
