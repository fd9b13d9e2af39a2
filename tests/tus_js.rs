//! A real browser-grade client: tus-js-client (npm) uploads in small chunks, is
//! interrupted, resumes from the server's offset, and the stored bytes match.

mod common;

use common::TestApp;
use common::tus::{bytes, md5_hex};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn tus_js_client_resumes_after_an_interruption() {
    let node_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node");
    assert!(
        std::path::Path::new(node_dir)
            .join("node_modules/tus-js-client")
            .exists(),
        "tus-js-client is not installed: run `npm ci --prefix tests/node` (scripts/test does)"
    );
    let app = TestApp::start().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let data = bytes(3 * 1024 * 1024 + 999, 21);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &data).unwrap();

    let out = tokio::process::Command::new("node")
        .arg(format!("{node_dir}/tus_resume.mjs"))
        .env("REEL_SERVER", &app.base)
        .env("REEL_TOKEN", &token)
        .env("FILE", file.path())
        .output()
        .await
        .expect("node is installed (scripts/setup)");
    common::assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let after_abort = report["offsetAfterAbort"].as_u64().unwrap();
    let resumed_from = report["resumedFrom"].as_u64().unwrap();
    assert!(after_abort >= data.len() as u64 / 4, "{report}");
    assert!(after_abort < data.len() as u64, "{report}");
    assert!(
        resumed_from >= after_abort,
        "resumed, not restarted: {report}"
    );

    let vid = common::media::video_id_json(&report["videoId"]);
    let video = app.video(creds.app_id, vid).await;
    assert_eq!(video.hash.as_deref(), Some(md5_hex(&data).as_str()));
    assert_eq!(app.stored_md5(&video.storage_uri).await, md5_hex(&data));
}
