//! Hostile clients naming storage keys (issue 14, item 2): an app names keys only in its
//! own area (and the operator's import area), as `src` and as `dst`; "missing" and "not
//! yours" get the same answer; a retranscode keeps `dst`.

mod common;

use common::media::{lavfi, settle, video_id_json};
use common::{Credentials, TestApp, error_code};
use reel::model::{Generation, VideoStatus};
use serde_json::{Value, json};

const TRANSCODE_URI: &str =
    "mutation($src: String!, $dst: String) { transcodeUri(src: $src, dst: $dst) { id status } }";

async fn transcode_uri(app: &TestApp, creds: &Credentials, src: &str, dst: Option<&str>) -> Value {
    app.graphql(creds, TRANSCODE_URI, json!({ "src": src, "dst": dst }))
        .await
}

fn message(out: &Value) -> String {
    out["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_reaches_no_key_of_another_app_not_even_replaced_outputs() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let (alpha, beta) = (app.create_app("alpha").await, app.create_app("beta").await);
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "a.mp4", 320, 240, 2, true);
    app.reel
        .storage
        .op()
        .write("imports/a.mp4", std::fs::read(&file).unwrap())
        .await
        .unwrap();

    // Alpha transcodes into its exports, then retranscodes: the first generation stays
    // stored (for viewers still playing it) until it is purged.
    let out = transcode_uri(&app, &alpha, "fs://imports/a.mp4", Some("fs://exports/a/")).await;
    let vid = video_id_json(&out["data"]["transcodeUri"]["id"]);
    let first = settle(&app, alpha.app_id, vid).await;
    assert_eq!(first.status, VideoStatus::Playable, "{:?}", first.error);
    let old = first.generation().unwrap();
    let out = app
        .graphql(
            &alpha,
            "mutation($id: ID!) { retranscode(id: $id) { id } }",
            json!({ "id": vid.to_string() }),
        )
        .await;
    assert!(out["errors"].is_null(), "{out}");
    let new = loop {
        let v = app.video(alpha.app_id, vid).await;
        match v.generation() {
            Some(g) if g != old && v.status == VideoStatus::Playable => break g,
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    let area = format!("apps/{}/exports/a/{vid}/", alpha.app_id);
    assert!(
        new.prefix().starts_with(&area),
        "the retranscode kept dst: {new}"
    );
    assert!(
        app.storage_path(old.prefix()).exists(),
        "the replaced generation is kept"
    );

    // Beta names alpha's replaced segment by the key alpha's URI gave, and by the real key.
    let relative = |g: &Generation| {
        g.prefix()
            .strip_prefix(&format!("apps/{}/", alpha.app_id))
            .unwrap()
            .to_string()
    };
    let segment = format!("fs://{}LD/seg_00000.ts", relative(&old));
    let out = transcode_uri(&app, &beta, &segment, None).await;
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");
    assert_eq!(message(&out), format!("{segment} does not exist"));
    let real = format!("fs://{}LD/seg_00000.ts", old.prefix());
    let out = transcode_uri(&app, &beta, &real, None).await;
    assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{out}");

    // A directory of alpha's, a missing key: the same answer, so probing tells nothing.
    let dir_of_alpha = format!("fs://{}", relative(&new).trim_end_matches('/'));
    let out = transcode_uri(&app, &beta, &dir_of_alpha, None).await;
    assert_eq!(message(&out), format!("{dir_of_alpha} does not exist"));
    let out = transcode_uri(&app, &alpha, &dir_of_alpha, None).await;
    assert_eq!(
        message(&out),
        format!("{dir_of_alpha} does not exist"),
        "not a file, for its owner too"
    );

    // Beta's dst is inside beta's area, never alpha's.
    let out = transcode_uri(&app, &beta, "fs://imports/a.mp4", Some("fs://exports/a/")).await;
    let theirs = video_id_json(&out["data"]["transcodeUri"]["id"]);
    let done = settle(&app, beta.app_id, theirs).await;
    assert_eq!(done.status, VideoStatus::Playable, "{:?}", done.error);
    let written = done.generation().unwrap();
    assert!(
        written
            .prefix()
            .starts_with(&format!("apps/{}/exports/a/", beta.app_id)),
        "{written}"
    );
    // Reel's own areas are refused however they are written.
    for dst in [
        "fs://staging/",
        "fs://sources/",
        "fs://staging",
        "fs://videos/1/",
        "fs://apps/1/",
    ] {
        let out = transcode_uri(&app, &beta, "fs://imports/a.mp4", Some(dst)).await;
        assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{dst}: {out}");
    }
}
