//! GraphQL core: app isolation, pagination, deletion, errors and limits.

mod common;

use std::collections::HashSet;

use common::{TestApp, error_code};
use reel::model::VideoId;
use reel::model::VideoStatus;
use reel::model::layout;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn apps_cannot_see_or_delete_each_others_videos() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let beta = app.create_app("beta").await;
    let theirs = app.insert_video(beta.app_id, VideoStatus::Uploaded).await;

    let seen = app
        .graphql(
            &alpha,
            "query($id: ID!) { video(id: $id) { id } }",
            json!({ "id": theirs.to_string() }),
        )
        .await;
    assert!(seen["data"]["video"].is_null(), "{seen}");
    assert!(
        seen["errors"].is_null(),
        "a foreign video looks exactly like a missing one"
    );

    let listed = app
        .graphql(&alpha, "{ videos { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(listed["data"]["videos"]["edges"], json!([]));

    let deleted = app
        .graphql(
            &alpha,
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            json!({ "id": theirs.to_string() }),
        )
        .await;
    assert_eq!(error_code(&deleted), Some("NOT_FOUND"), "{deleted}");

    let still = app
        .graphql(
            &beta,
            "query($id: ID!) { video(id: $id) { id status } }",
            json!({ "id": theirs.to_string() }),
        )
        .await;
    assert_eq!(still["data"]["video"]["status"], "UPLOADED");
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_returns_every_video_exactly_once() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let noise = app.create_app("noise").await;
    let mut expected = Vec::new();
    for i in 0..23 {
        let status = if i % 3 == 0 {
            VideoStatus::UploadFailed
        } else {
            VideoStatus::Uploaded
        };
        expected.push(app.insert_video(alpha.app_id, status).await);
        app.insert_video(noise.app_id, VideoStatus::Uploaded).await;
    }
    expected.reverse(); // newest first

    let query = "query($after: String) { videos(first: 5, after: $after) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for _ in 0..10 {
        let page = app.graphql(&alpha, query, json!({ "after": after })).await;
        let videos = &page["data"]["videos"];
        for edge in videos["edges"].as_array().unwrap() {
            seen.push(common::media::video_id_json(&edge["node"]["id"]));
        }
        if videos["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = videos["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, expected);

    let failed = app
        .graphql(
            &alpha,
            "{ videos(first: 100, status: UPLOAD_FAILED) { edges { node { status } } } }",
            json!({}),
        )
        .await;
    let edges = failed["data"]["videos"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 8);
    assert!(edges.iter().all(|e| e["node"]["status"] == "UPLOAD_FAILED"));

    // A cursor keeps its place when rows are added in front of it.
    let first = app.graphql(&alpha, query, json!({ "after": null })).await;
    let cursor = first["data"]["videos"]["pageInfo"]["endCursor"].clone();
    app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    let second = app.graphql(&alpha, query, json!({ "after": cursor })).await;
    assert_eq!(
        second["data"]["videos"]["edges"][0]["node"]["id"],
        expected[5].to_string()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_are_bad_requests() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    for query in [
        r#"{ video(id: "abc") { id } }"#,
        r#"{ video(id: "-4") { id } }"#,
        r#"{ videos(after: "%%%") { edges { cursor } } }"#,
        r#"{ videos(first: 0) { edges { cursor } } }"#,
        r#"{ videos(first: 1000) { edges { cursor } } }"#,
    ] {
        let out = app.graphql(&alpha, query, json!({})).await;
        assert_eq!(error_code(&out), Some("BAD_REQUEST"), "{query}: {out}");
    }
    let missing = app
        .graphql(&alpha, r#"{ video(id: "999999") { id } }"#, json!({}))
        .await;
    assert!(missing["data"]["video"].is_null());
    assert!(missing["errors"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn depth_and_complexity_are_limited() {
    let app = TestApp::builder()
        .config(|c| c.graphql.max_depth = 5)
        .start()
        .await;
    let alpha = app.create_app("alpha").await;
    let deep = "{ videos(first: 1) { edges { node { renditions { renditions { renditions { id } } } } } } }";
    let out = app.graphql(&alpha, deep, json!({})).await;
    let message = out["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("too deep") || message.contains("depth"),
        "{out}"
    );
    assert!(out["data"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_removes_rows_and_bytes_but_keeps_shared_bytes() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let original = app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    let mut sharer =
        reel::db::models::NewVideo::source(alpha.app_id, VideoStatus::Uploaded, "copy.mp4");
    sharer.unique_id = Some(original);
    let sharer = app.reel.videos.insert(&sharer).await.unwrap().id;

    let storage = app.reel.storage.op();
    let source_key = format!("{}source", layout::source_dir(original));
    storage.write(&source_key, vec![7u8; 1024]).await.unwrap();
    let output_key = format!("{}hls/master.m3u8", layout::output_dir(original));
    storage.write(&output_key, "#EXTM3U\n").await.unwrap();

    let del = |id: VideoId| json!({ "id": id.to_string() });
    let out = app
        .graphql(
            &alpha,
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            del(original),
        )
        .await;
    assert_eq!(out["data"]["deleteVideo"], true, "{out}");
    assert!(
        !storage.exists(&output_key).await.unwrap(),
        "renditions removed"
    );
    assert!(
        storage.exists(&source_key).await.unwrap(),
        "bytes kept while shared"
    );
    let gone = app
        .graphql(
            &alpha,
            "query($id: ID!) { video(id: $id) { id } }",
            del(original),
        )
        .await;
    assert!(gone["data"]["video"].is_null());

    let out = app
        .graphql(
            &alpha,
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            del(sharer),
        )
        .await;
    assert_eq!(out["data"]["deleteVideo"], true, "{out}");
    assert!(
        !storage.exists(&source_key).await.unwrap(),
        "last user deleted the bytes"
    );

    let again = app
        .graphql(
            &alpha,
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            del(sharer),
        )
        .await;
    assert_eq!(error_code(&again), Some("NOT_FOUND"));
}

#[tokio::test(flavor = "multi_thread")]
async fn video_exposes_seed_fields_and_renditions() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let mut source =
        reel::db::models::NewVideo::source(alpha.app_id, VideoStatus::Playable, "trip.mov");
    source.file_size = 5_000_000_000;
    source.hash = Some("9e107d9d372bb6826bd81d3542a419d6".into());
    source.duration = Some(4_000);
    source.passthrough = Some("order-42".into());
    let source = app.reel.videos.insert(&source).await.unwrap();
    for (definition, height) in [
        (reel::model::Definition::HD, 720),
        (reel::model::Definition::LD, 360),
    ] {
        let mut rendition =
            reel::db::models::NewVideo::source(alpha.app_id, VideoStatus::Transcoded, "trip.mov");
        rendition.parent_id = Some(source.id);
        rendition.definition = Some(definition);
        rendition.video_height = Some(height);
        rendition.video_width = Some(height * 16 / 9);
        app.reel.videos.insert(&rendition).await.unwrap();
    }
    let out = app
        .graphql(
            &alpha,
            "query($id: ID!) { video(id: $id) { id sourceName fileSize hash duration status passthrough
                imageIndex imageCount taskPriority progress mediaInfo { format } cover { url }
                renditions { definition videoHeight parentId } } }",
            json!({ "id": source.id.to_string() }),
        )
        .await;
    let video = &out["data"]["video"];
    assert_eq!(video["sourceName"], "trip.mov");
    assert_eq!(video["fileSize"], 5_000_000_000i64);
    assert_eq!(video["hash"], "9e107d9d372bb6826bd81d3542a419d6");
    assert_eq!(video["status"], "PLAYABLE");
    assert_eq!(video["passthrough"], "order-42");
    assert_eq!(video["imageCount"], 10);
    assert!(video["mediaInfo"].is_null());
    let renditions = video["renditions"].as_array().unwrap();
    assert_eq!(renditions.len(), 2);
    assert_eq!(renditions[0]["definition"], "LD");
    assert_eq!(renditions[1]["definition"], "HD");
    assert_eq!(renditions[0]["parentId"], source.id.to_string());

    // Renditions are not listed as videos of their own.
    let listed = app
        .graphql(&alpha, "{ videos { edges { node { id } } } }", json!({}))
        .await;
    let ids: HashSet<_> = listed["data"]["videos"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, HashSet::from([source.id.to_string()]));
}
