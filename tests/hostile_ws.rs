//! Hostile clients on `/graphql/ws` (issue 14, items 1 and 4): a socket must initialise in
//! time, its operations count against the app's rate limit, it closes when its token
//! expires, and its messages are bounded.

mod common;

use std::time::Duration;

use common::TestApp;
use common::ws::{connect, next, send, signed_in};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// Waits for the socket's close frame; returns its code (`None` when it just ended).
async fn closed_with(ws: &mut common::ws::Ws, within: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("the socket stayed open for {within:?}"),
            Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code.into()),
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_that_never_initialises_is_closed() {
    let app = TestApp::builder()
        .config(|c| c.server.ws_init_timeout_secs = 1)
        .start()
        .await;
    let mut ws = connect(&app, "graphql-transport-ws").await;
    assert_eq!(
        closed_with(&mut ws, Duration::from_secs(5)).await,
        Some(4408)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_on_a_socket_count_against_the_rate_limit() {
    let app = TestApp::builder()
        .config(|c| {
            c.rate_limit_rps = 5;
            c.limits.burst = 5;
        })
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let mut ws = signed_in(&app, &token).await;
    for id in 0..50 {
        send(
            &mut ws,
            json!({ "id": id.to_string(), "type": "subscribe",
                    "payload": { "query": "{ videos { edges { cursor } } }" } }),
        )
        .await;
    }
    let (mut ran, mut refused) = (0, 0);
    while ran + refused < 50 {
        let msg = next(&mut ws).await;
        match msg["type"].as_str() {
            Some("next") => ran += 1,
            Some("error") => {
                assert_eq!(
                    msg["payload"][0]["extensions"]["code"], "RATE_LIMITED",
                    "{msg}"
                );
                refused += 1;
            }
            Some("complete") => {}
            other => panic!("unexpected {other:?}: {msg}"),
        }
    }
    assert!(
        refused >= 40,
        "50 operations at once, a burst of 5: {ran} ran"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_closes_when_its_token_expires() {
    let app = TestApp::start().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 2).await;
    let mut ws = signed_in(&app, &token).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe",
                "payload": { "query": "subscription { videoEvents { videoId } }" } }),
    )
    .await;
    assert_eq!(
        closed_with(&mut ws, Duration::from_secs(6)).await,
        Some(4403)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_message_ends_the_socket() {
    let app = TestApp::builder()
        .config(|c| c.server.ws_max_message_bytes = 4096)
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let mut ws = signed_in(&app, &token).await;
    let huge = json!({ "id": "1", "type": "subscribe",
                       "payload": { "query": format!("{{ videos {{ edges {{ cursor }} }} }} #{}", "x".repeat(64 << 10)) } });
    let _ = ws.send(Message::Text(huge.to_string().into())).await;
    let code = closed_with(&mut ws, Duration::from_secs(5)).await;
    assert!(
        code.is_none() || code == Some(1009),
        "closed for its size, not served: {code:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_pings_and_drops_a_silent_peer() {
    let app = TestApp::builder()
        .config(|c| c.server.ws_ping_secs = 1)
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let mut ws = signed_in(&app, &token).await;
    let ping = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let Some(Ok(Message::Ping(_))) = ws.next().await {
                return;
            }
        }
    })
    .await;
    assert!(ping.is_ok(), "a keep-alive ping within 3 s");
    // A peer that stops answering (nothing read, so no pong) is dropped.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut ended = false;
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
        if matches!(msg, Err(_) | Ok(Message::Close(_))) {
            ended = true;
            break;
        }
    }
    assert!(ended, "the silent peer's socket was closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_holds_at_most_its_cap_of_sockets() {
    let app = TestApp::builder()
        .config(|c| c.server.ws_max_connections = 2)
        .start()
        .await;
    let first = connect(&app, "graphql-transport-ws").await;
    let _second = connect(&app, "graphql-transport-ws").await;
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/graphql/ws", app.addr),
    )
    .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let refused = tokio_tungstenite::connect_async(req.clone()).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(resp)) = refused else {
        panic!("a third socket was accepted");
    };
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["code"], "UNAVAILABLE", "{body}");

    // A closed socket gives its place back.
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio_tungstenite::connect_async(req.clone()).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("no place after a socket closed: {e}"),
        }
    }
}
