//! GraphQL cost (issue 14, robustness): renditions and snapshots of a page of videos are
//! read in batches (each video still gets its own), and list sizes count in a query's
//! complexity, so 200 aliases of a 100-video listing are refused before any work.
//! (`bench/graphql` measures the queries one request costs.)

mod common;

use common::TestApp;
use reel::model::VideoStatus;
use serde_json::json;

/// Gives `video` renditions of the first `renditions` definitions and `snapshots` snapshots.
async fn outputs(
    app: &TestApp,
    owner: reel::model::AppId,
    video: reel::model::VideoId,
    renditions: usize,
    snapshots: i32,
) {
    let url = common::database_url(&app.db_name);
    let (db, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let (app_id, id) = (owner.0, video.0);
    for (definition, height) in [("LD", 240), ("SD", 360), ("HD", 720)]
        .iter()
        .take(renditions)
    {
        db.execute(
            "INSERT INTO videos (app_id, parent_id, source_name, status, storage_uri, definition, video_height)
             VALUES ($1, $2, 'r', 'PLAYABLE', 'videos/x', $3, $4)",
            &[&app_id, &id, definition, height],
        )
        .await
        .unwrap();
    }
    for i in 0..snapshots {
        db.execute(
            "INSERT INTO video_snapshots (video_id, image_index, storage_uri, file_size)
             VALUES ($1, $2, 'videos/x/snap.jpg', 1)",
            &[&id, &i],
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_video_gets_its_own_batched_outputs_and_list_sizes_count() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let mut expected = Vec::new();
    for (renditions, snapshots) in [(1, 2), (3, 0), (2, 1)] {
        let id = app.insert_video(alpha.app_id, VideoStatus::Playable).await;
        outputs(&app, alpha.app_id, id, renditions, snapshots).await;
        expected.push((id.to_string(), renditions, snapshots as usize));
    }
    let query = "{ videos(first: 100) { edges { node {
        id renditions { parentId definition } snapshots { imageIndex } cover { imageIndex } } } } }";
    let out = app.graphql(&alpha, query, json!({})).await;
    assert!(out["errors"].is_null(), "{out}");
    let nodes = out["data"]["videos"]["edges"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    for edge in nodes {
        let node = &edge["node"];
        let id = node["id"].as_str().unwrap();
        let (_, renditions, snapshots) = expected.iter().find(|(e, ..)| e == id).unwrap();
        let got = node["renditions"].as_array().unwrap();
        assert_eq!(got.len(), *renditions, "{node}");
        assert!(got.iter().all(|r| r["parentId"] == id), "{node}");
        assert_eq!(
            node["snapshots"].as_array().unwrap().len(),
            *snapshots,
            "{node}"
        );
        // The cover is snapshot 0, when there is one.
        assert_eq!(node["cover"].is_null(), *snapshots == 0, "{node}");
    }

    // 200 aliases of the same listing: refused as too complex, before any work.
    let aliases: Vec<String> = (0..200)
        .map(|i| format!("a{i}: videos(first: 100) {{ edges {{ node {{ renditions {{ id }} snapshots {{ url }} }} }} }}"))
        .collect();
    let out = app
        .graphql(&alpha, &format!("{{ {} }}", aliases.join(" ")), json!({}))
        .await;
    let message = out["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("too complex"), "{out}");
    assert!(out["data"].is_null());
}
