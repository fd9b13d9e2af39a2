//! `/graphql/ws` with a real WebSocket client, in both sub-protocols.

mod common;

use std::time::Duration;

use common::TestApp;
use common::metrics::counter;
use common::own_redis::OwnRedis;
use common::ws::{connect, next, send, signed_in};
use reel::metrics::EVENT_RENDERINGS;
use reel::model::VideoStatus;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const STATUS: &str =
    "subscription($id: ID!) { videoStatus(id: $id) { videoId status progress deleted } }";

#[tokio::test(flavor = "multi_thread")]
async fn graphql_transport_ws_sees_current_state_then_changes() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let video = app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    let token = app.token(&alpha, 600).await;

    let mut ws = signed_in(&app, &token).await;
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": STATUS, "variables": { "id": video.to_string() } } })).await;

    let first = next(&mut ws).await;
    assert_eq!(first["type"], "next", "{first}");
    assert_eq!(
        first["payload"]["data"]["videoStatus"]["status"],
        "UPLOADED"
    );
    assert_eq!(first["payload"]["data"]["videoStatus"]["deleted"], false);

    // A change made through the API reaches the subscriber.
    let out = app
        .graphql(
            &alpha,
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            json!({ "id": video.to_string() }),
        )
        .await;
    assert_eq!(out["data"]["deleteVideo"], true);
    let gone = next(&mut ws).await;
    assert_eq!(
        gone["payload"]["data"]["videoStatus"]["deleted"], true,
        "{gone}"
    );
    assert_eq!(next(&mut ws).await["type"], "complete");
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_graphql_ws_protocol_and_token_field_work() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let video = app
        .insert_video(alpha.app_id, VideoStatus::TranscodeFailed)
        .await;
    let token = app.token(&alpha, 600).await;

    let mut ws = connect(&app, "graphql-ws").await;
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "token": token } }),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({ "id": "7", "type": "start", "payload": { "query": STATUS, "variables": { "id": video.to_string() } } })).await;
    let first = next(&mut ws).await;
    assert_eq!(first["type"], "data", "{first}");
    assert_eq!(
        first["payload"]["data"]["videoStatus"]["status"],
        "TRANSCODE_FAILED"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn video_events_are_scoped_to_the_callers_app() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let beta = app.create_app("beta").await;
    let theirs = app.insert_video(beta.app_id, VideoStatus::Uploaded).await;
    let mine = app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    let token = app.token(&alpha, 600).await;

    let mut ws = signed_in(&app, &token).await;
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { videoEvents { videoId deleted } }" } })).await;
    // The subscription is registered once the server processed `subscribe`; give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let delete = "mutation($id: ID!) { deleteVideo(id: $id) }";
    app.graphql(&beta, delete, json!({ "id": theirs.to_string() }))
        .await;
    app.graphql(&alpha, delete, json!({ "id": mine.to_string() }))
        .await;
    let event = next(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["videoEvents"]["videoId"],
        mine.to_string(),
        "{event}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_without_valid_token_is_refused() {
    let app = TestApp::start().await;
    for payload in [json!({}), json!({ "token": "forged.token.value" })] {
        let mut ws = connect(&app, "graphql-transport-ws").await;
        send(
            &mut ws,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;
        let reply = next(&mut ws).await;
        assert_ne!(reply["type"], "connection_ack", "{reply}");
    }
    // A bad signature on the upgrade itself is refused before the WebSocket opens.
    let url = format!(
        "ws://{}/graphql/ws?app_key=ak_x&timestamp=1&random=r&signature=00",
        app.addr
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_from_another_node_reaches_the_subscriber() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let video = app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    let token = app.token(&alpha, 600).await;
    // A second node: the same database and Redis namespace, its own connections and bus.
    let other = reel::Reel::start((*app.reel.config).clone(), false)
        .await
        .unwrap();

    let mut ws = connect(&app, "graphql-transport-ws").await;
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "token": token } }),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": STATUS, "variables": { "id": video.to_string() } } })).await;
    assert_eq!(
        next(&mut ws).await["payload"]["data"]["videoStatus"]["status"],
        "UPLOADED"
    );

    other
        .videos
        .transcode((alpha.app_id, &alpha.key), video, Some(1))
        .await
        .unwrap();
    let event = next(&mut ws).await;
    assert_eq!(
        event["payload"]["data"]["videoStatus"]["status"], "TRANSCODE_QUEUED",
        "{event}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_made_while_redis_was_down_reaches_subscribers_once_it_is_back() {
    let mut redis = OwnRedis::start().await;
    let app = TestApp::builder().redis_url(redis.url()).start().await;
    let alpha = app.create_app("alpha").await;
    let video = app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    let token = app.token(&alpha, 600).await;
    let mut ws = signed_in(&app, &token).await;
    let events = "subscription { videoEvents { videoId status } }";
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": events } }),
    )
    .await;
    // Subscribed once the relay works: a change made now arrives.
    let queued = reel::db::videos::VideoChange::default();
    let mut conn = app.reel.db.get().await.unwrap();
    let row = reel::db::videos::transition(&mut conn, video, VideoStatus::TranscodeQueued, queued)
        .await
        .unwrap()
        .unwrap();
    app.reel
        .events
        .publish(&reel::events::VideoEvent::snapshot(&row))
        .await
        .unwrap();
    let first = next(&mut ws).await;
    assert_eq!(
        first["payload"]["data"]["videoEvents"]["status"], "TRANSCODE_QUEUED",
        "{first}"
    );

    // Redis dies; the video changes meanwhile and the publish fails.
    redis.kill().await;
    let change = reel::db::videos::VideoChange::default();
    let row = reel::db::videos::transition(&mut conn, video, VideoStatus::Transcoding, change)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let lost = app
        .reel
        .events
        .publish(&reel::events::VideoEvent::snapshot(&row))
        .await;
    assert!(lost.is_err(), "nothing to publish to");

    // Back (empty): the subscriber still gets the state it missed.
    redis.restart().await;
    let missed = next(&mut ws).await;
    assert_eq!(
        missed["payload"]["data"]["videoEvents"]["videoId"],
        video.to_string(),
        "{missed}"
    );
    assert_eq!(
        missed["payload"]["data"]["videoEvents"]["status"], "TRANSCODING",
        "{missed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribers_asking_alike_share_an_event_each_with_its_own_answer() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let beta = app.create_app("beta").await;
    let video = app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    let theirs = app.insert_video(beta.app_id, VideoStatus::Uploaded).await;
    let token = app.token(&alpha, 600).await;
    let same = "subscription { videoEvents { videoId status } }";
    let named = "subscription Feed($at: Boolean!) { feed: videoEvents { videoId at @include(if: $at) deleted } }";

    // Two alike (rendered once per event on the node), one of each protocol; one alike
    // but of another app; others with their own selection or variables.
    let mut alike = [signed_in(&app, &token).await, signed_in(&app, &token).await];
    for ws in &mut alike {
        send(
            ws,
            json!({ "id": "s", "type": "subscribe", "payload": { "query": same } }),
        )
        .await;
    }
    let mut legacy = connect(&app, "graphql-ws").await;
    send(
        &mut legacy,
        json!({ "type": "connection_init", "payload": { "token": token } }),
    )
    .await;
    assert_eq!(next(&mut legacy).await["type"], "connection_ack");
    send(
        &mut legacy,
        json!({ "id": "l", "type": "start", "payload": { "query": same } }),
    )
    .await;
    let other_app_token = app.token(&beta, 600).await;
    let mut other_app = signed_in(&app, &other_app_token).await;
    send(
        &mut other_app,
        json!({ "id": "o", "type": "subscribe", "payload": { "query": same } }),
    )
    .await;
    let mut with_at = signed_in(&app, &token).await;
    send(&mut with_at, json!({ "id": "a", "type": "subscribe", "payload": { "query": named, "variables": { "at": true } } })).await;
    let mut without_at = signed_in(&app, &token).await;
    send(&mut without_at, json!({ "id": "b", "type": "subscribe", "payload": { "query": named, "operationName": "Feed", "variables": { "at": false } } })).await;

    // Refused as if alone: a field that does not exist, a token that may not read.
    let mut bad = signed_in(&app, &token).await;
    send(&mut bad, json!({ "id": "x", "type": "subscribe", "payload": { "query": "subscription { videoEvents { nope } }" } })).await;
    let refused = next(&mut bad).await;
    assert!(refused.to_string().contains("nope"), "{refused}");
    let upload_only = app.scoped_token(&alpha, &["UPLOAD"]).await;
    let mut forbidden = signed_in(&app, &upload_only).await;
    send(
        &mut forbidden,
        json!({ "id": "f", "type": "subscribe", "payload": { "query": same } }),
    )
    .await;
    let refused = next(&mut forbidden).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    let rendered = counter(EVENT_RENDERINGS);
    let delete = "mutation($id: ID!) { deleteVideo(id: $id) }";
    app.graphql(&alpha, delete, json!({ "id": video.to_string() }))
        .await;
    for ws in &mut alike {
        let event = next(ws).await;
        assert_eq!(event["type"], "next");
        assert_eq!(event["id"], "s");
        assert_eq!(
            event["payload"]["data"],
            json!({ "videoEvents": { "videoId": video.to_string(), "status": "UPLOADED" } })
        );
    }
    let event = next(&mut legacy).await;
    assert_eq!(
        (&event["type"], &event["id"]),
        (&json!("data"), &json!("l"))
    );
    assert_eq!(
        event["payload"]["data"]["videoEvents"]["videoId"],
        video.to_string()
    );
    let event = next(&mut with_at).await;
    assert_eq!(event["id"], "a");
    let feed = &event["payload"]["data"]["feed"];
    assert_eq!(feed["deleted"], true, "{event}");
    assert!(feed["at"].is_string(), "{event}");
    let event = next(&mut without_at).await;
    let feed = &event["payload"]["data"]["feed"];
    assert_eq!(feed["videoId"], video.to_string(), "{event}");
    assert!(feed.get("at").is_none(), "{event}");
    // Five subscribers of the app, three distinct requests: three renderings.
    assert_eq!(counter(EVENT_RENDERINGS) - rendered, 3.0);

    // The other app's subscriber, alike in every other way, sees only its own app.
    app.graphql(&beta, delete, json!({ "id": theirs.to_string() }))
        .await;
    let event = next(&mut other_app).await;
    assert_eq!(
        event["payload"]["data"]["videoEvents"]["videoId"],
        theirs.to_string(),
        "{event}"
    );

    // Completing one alike subscription leaves the other running.
    let [mut first, mut second] = alike;
    send(&mut first, json!({ "id": "s", "type": "complete" })).await;
    let again = app.insert_video(alpha.app_id, VideoStatus::Uploaded).await;
    app.graphql(&alpha, delete, json!({ "id": again.to_string() }))
        .await;
    let event = next(&mut second).await;
    assert_eq!(
        event["payload"]["data"]["videoEvents"]["videoId"],
        again.to_string(),
        "{event}"
    );
}
