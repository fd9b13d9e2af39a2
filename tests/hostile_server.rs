//! Hostile clients against the HTTP server (issue 14, item 1, 3 and 7): credentials are
//! judged on the headers before any body is read; slow headers, slow bodies and idle
//! connections are cut; one body limit for every caller; a capped number of connections
//! per address; `UNSIGNED-PAYLOAD` only for upload data.

mod common;

use std::time::Duration;

use common::TestApp;
use common::raw::Raw;
use common::signing::Signature;

/// A server with short limits, so each attack is seen to end quickly.
async fn strict() -> TestApp {
    TestApp::builder()
        .config(|c| {
            c.server.header_read_timeout_secs = 1;
            c.server.idle_timeout_secs = 1;
            c.server.body_timeout_secs = 1;
            c.server.upload_idle_timeout_secs = 1;
            c.server.max_body_bytes = 64 << 10;
            c.server.max_connections_per_ip = 6;
        })
        .start()
        .await
}

/// The head of a signed POST to `/graphql` whose body is `length` bytes, never sent.
fn signed_head(sig: &Signature, signature: &str, length: usize) -> String {
    format!(
        "POST /graphql HTTP/1.1\r\nHost: reel\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nX-Reel-App-Key: {}\r\nX-Reel-Timestamp: {}\r\n\
         X-Reel-Random: {}\r\nX-Reel-Signature: {signature}\r\n\r\n",
        sig.app_key, sig.timestamp, sig.random
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_are_refused_on_the_headers_before_any_body() {
    let app = strict().await;
    let creds = app.create_app("alpha").await;
    let bogus = Signature {
        app_key: "ak_bogus".into(),
        ..Signature::new(&creds)
    };
    let stale = Signature {
        timestamp: chrono::Utc::now().timestamp() - 3600,
        ..Signature::new(&creds)
    };
    for (what, head) in [
        ("unknown key", signed_head(&bogus, &"0".repeat(64), 4 << 20)),
        (
            "stale timestamp",
            signed_head(&stale, &"0".repeat(64), 4 << 20),
        ),
        (
            "no signature",
            signed_head(&Signature::new(&creds), "", 4 << 20),
        ),
    ] {
        let mut raw = Raw::connect(app.addr).await;
        assert!(raw.send(head.as_bytes()).await);
        // Not one byte of the 4 MiB body is sent: the answer comes from the headers.
        let heard = raw.listen(Duration::from_secs(5)).await;
        assert_eq!(heard.status(), Some(401), "{what}: {}", heard.text());
        assert!(heard.text().contains("UNAUTHENTICATED"), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn half_sent_headers_and_idle_connections_are_closed() {
    let app = strict().await;
    let mut half = Raw::connect(app.addr).await;
    assert!(half.send(b"POST /graphql HTTP/1.1\r\nHost: reel\r\n").await);
    let heard = half.listen(Duration::from_secs(5)).await;
    assert!(heard.closed, "half-sent headers are dropped: {heard:?}");

    let mut idle = Raw::connect(app.addr).await;
    assert!(
        idle.send(b"GET /healthz HTTP/1.1\r\nHost: reel\r\n\r\n")
            .await
    );
    let first = idle.listen(Duration::from_secs(5)).await;
    assert_eq!(first.status(), Some(200), "{}", first.text());
    // Kept alive, then nothing: the connection goes.
    let then = idle.listen(Duration::from_secs(5)).await;
    assert!(then.closed && then.bytes.is_empty(), "{then:?}");

    let mut silent = Raw::connect(app.addr).await;
    let heard = silent.listen(Duration::from_secs(5)).await;
    assert!(heard.closed, "a connection that sends nothing is dropped");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_does_not_come_is_cut() {
    let app = strict().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let mut raw = Raw::connect(app.addr).await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: reel\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"query\""
    );
    assert!(raw.send(head.as_bytes()).await);
    let heard = raw.listen(Duration::from_secs(5)).await;
    assert_eq!(heard.status(), Some(408), "{}", heard.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_body_limit_for_every_caller() {
    let app = strict().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let big = format!(
        "{{\"query\": \"{{ videos {{ edges {{ cursor }} }} }}\", \"padding\": \"{}\"}}",
        "x".repeat(100 << 10)
    );
    let http = reqwest::Client::new();
    // Declared too large: refused before the body is read.
    let resp = http
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // Streamed without a length: refused once past the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .as_bytes()
        .chunks(8 << 10)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let resp = http
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    // A small one still works.
    let out = app
        .graphql_bearer(&token, "{ videos { edges { cursor } } }")
        .await;
    assert_eq!(out.0, 200, "{:?}", out.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_address_holds_a_capped_number_of_connections() {
    let app = strict().await;
    let mut held = Vec::new();
    for _ in 0..6 {
        let mut raw = Raw::connect(app.addr).await;
        // A request in flight keeps each connection busy (its body never ends).
        assert!(
            raw.send(b"POST /graphql HTTP/1.1\r\nHost: reel\r\nContent-Length: 10\r\n\r\n")
                .await
        );
        held.push(raw);
    }
    let mut seventh = Raw::connect(app.addr).await;
    let heard = seventh.listen(Duration::from_secs(2)).await;
    assert!(heard.closed && heard.bytes.is_empty(), "{heard:?}");
    drop(held);
    // Slots come back once connections close.
    let mut later = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut raw = Raw::connect(app.addr).await;
        raw.send(b"GET /healthz HTTP/1.1\r\nHost: reel\r\n\r\n")
            .await;
        let heard = raw.listen(Duration::from_secs(2)).await;
        if heard.status() == Some(200) {
            later = Some(heard);
            break;
        }
    }
    assert!(
        later.is_some(),
        "a new connection is served after the others closed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_payloads_are_only_for_upload_data() {
    let app = strict().await;
    let creds = app.create_app("alpha").await;
    let sig = Signature::new(&creds);
    // Signed as upload data, but sent to /graphql: the body is hashed and does not match.
    let signature = sig.sign_upload("POST", "/graphql", &[]);
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/graphql?{}",
            app.base,
            sig.query(&signature, &[])
        ))
        .header("content-type", "application/octet-stream")
        .body(r#"{"query":"mutation { createWebhook(url: \"https://example.com/x\") { id } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("signature"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_that_stalls_ends_and_keeps_what_arrived() {
    let app = strict().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let tus = common::tus::Tus {
        app: &app,
        token: token.clone(),
    };
    let url = tus.create_url(1000, &[("filename", "a.mp4")]).await;
    let path = url.strip_prefix(&app.base).unwrap_or(&url).to_string();
    let mut raw = Raw::connect(app.addr).await;
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: reel\r\nAuthorization: Bearer {token}\r\n\
         Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: 1000\r\n\r\n"
    );
    assert!(raw.send(head.as_bytes()).await);
    assert!(raw.send(&[7u8; 100]).await);
    // Nothing more: after the idle limit the request ends with what arrived.
    let heard = raw.listen(Duration::from_secs(5)).await;
    assert_eq!(heard.status(), Some(204), "{}", heard.text());
    let resp = tus.head(&url).await;
    assert_eq!(
        resp.headers()["upload-offset"].to_str().unwrap(),
        "100",
        "the bytes before the stall are kept"
    );
}
