//! Per-app limits: the request rate shared by every node (Redis), open uploads and stored
//! bytes, each refused with 429 `RATE_LIMITED` in the shape of the protocol asked.

mod common;

use std::time::{Duration, Instant};

use common::node::{Cluster, Node};
use common::tus::{bytes, metadata};
use common::{Credentials, TestApp, error_code, token_at};
use reel::db::models::NewApp;
use serde_json::{Value, json};

const MIB: usize = 1 << 20;
const QUERY: &str = "{ videos(first: 1) { nodes { id } } }";

async fn graphql(http: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    http.post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": QUERY }))
        .send()
        .await
        .unwrap()
}

/// Sends the request until the rate limit refuses it (at most 8 times, more than the burst
/// refills in that time); every answer before is the route's own 404.
async fn until_refused<F, Fut>(send: F) -> reqwest::Response
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    for _ in 0..8 {
        let resp = send().await.unwrap();
        match resp.status().as_u16() {
            429 => return resp,
            404 => continue,
            other => panic!("unexpected status {other}"),
        }
    }
    panic!("8 requests in a row passed an exhausted budget of 2 per second");
}

fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_rate_is_one_budget_across_nodes() {
    let cluster = Cluster::new().await;
    let alpha = cluster.create_app("alpha");
    let beta = cluster.create_app("beta");
    let env = || {
        let mut env = cluster.env();
        env.push(("REEL_RATE_LIMIT_RPS", "2".into()));
        env.push(("REEL_LIMITS__BURST", "8".into()));
        env
    };
    let (a, b) = tokio::join!(Node::start(env()), Node::start(env()));
    let http = reqwest::Client::new();
    // One request of each budget goes to the tokens.
    let alpha_token = token_at(&a.base, &alpha).await;
    let beta_token = token_at(&b.base, &beta).await;

    // Alternate the nodes: each would let 8 through on its own.
    let start = Instant::now();
    let mut passed = 0;
    let mut refused = None;
    for i in 0..16 {
        let node = if i % 2 == 0 { &a } else { &b };
        let resp = graphql(&http, &node.base, &alpha_token).await;
        match resp.status().as_u16() {
            200 => passed += 1,
            429 => {
                let after = retry_after(&resp).expect("429 carries Retry-After");
                let body: Value = resp.json().await.unwrap();
                refused.get_or_insert((after, body));
            }
            other => panic!("unexpected status {other}"),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    // 8 in the burst, less the token's request, plus what 2/s refilled meanwhile.
    let most = 7 + (2.0 * elapsed).ceil() as usize;
    assert!(
        (7..=most).contains(&passed),
        "{passed} of 16 passed in {elapsed:.2} s (expected 7..={most})"
    );
    let (after, body) = refused.expect("the shared budget ran out");
    assert!((1..=1).contains(&after), "Retry-After {after}");
    assert_eq!(body["code"], "RATE_LIMITED", "{body}");
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], after);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("2 requests per second"),
        "{body}"
    );

    // Another app's budget is its own.
    assert_eq!(graphql(&http, &b.base, &beta_token).await.status(), 200);

    // Other protocols answer in their own shape: tus and the seed API. The budget refills at
    // 2/s while these run, so each is asked until refused; the answers before are the normal 404.
    let resp = until_refused(|| {
        http.head(format!("{}/files/nothing", a.base))
            .bearer_auth(&alpha_token)
            .header("Tus-Resumable", "1.0.0")
            .send()
    })
    .await;
    assert!(retry_after(&resp).is_some());
    let resp = until_refused(|| {
        http.get(format!("{}/video/upload/resume?upid=nothing", b.base))
            .bearer_auth(&alpha_token)
            .send()
    })
    .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED", "{body}");

    // After waiting as told, requests pass again.
    tokio::time::sleep(Duration::from_secs(after)).await;
    assert_eq!(graphql(&http, &a.base, &alpha_token).await.status(), 200);
}

async fn tus_create(app: &TestApp, token: &str, len: usize) -> reqwest::Response {
    app.http
        .post(app.url("/files/"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", len.to_string())
        .header(
            "Upload-Metadata",
            metadata(&[("filename", "clip.mp4"), ("autoTranscode", "false")]),
        )
        .send()
        .await
        .unwrap()
}

async fn tus_patch(app: &TestApp, token: &str, location: &str, data: &[u8]) -> u16 {
    app.http
        .patch(location)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn location(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), 201);
    resp.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn open_uploads_are_capped_until_one_finishes_or_is_terminated() {
    let app = TestApp::builder()
        .config(|c| c.limits.max_concurrent_uploads = 2)
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let first = location(&tus_create(&app, &token, MIB).await);
    let second = location(&tus_create(&app, &token, MIB).await);

    let refused = tus_create(&app, &token, MIB).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(retry_after(&refused), Some(30));
    let text = refused.text().await.unwrap();
    assert!(text.contains("2 uploads open"), "{text}");

    // The seed API and GraphQL count the same uploads.
    let fname = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "a.mp4");
    let (status, body) = app
        .rest(
            &creds,
            "GET",
            "/video/upload/init",
            &[("fn", &fname), ("fsize", "1048576"), ("psize", "1048576")],
            None,
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (429, Some("RATE_LIMITED")));
    let out = app
        .graphql(
            &creds,
            "mutation { initUpload(input: { fileName: \"a.mp4\", fileSize: 1048576 }) { upload { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&out), Some("RATE_LIMITED"), "{out}");
    assert_eq!(out["errors"][0]["extensions"]["retryAfter"], 30, "{out}");

    // Terminating one frees its place; so does finishing one.
    let resp = app
        .http
        .delete(&first)
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    location(&tus_create(&app, &token, MIB).await);
    assert_eq!(tus_create(&app, &token, MIB).await.status(), 429);
    assert_eq!(tus_patch(&app, &token, &second, &bytes(MIB, 1)).await, 204);
    location(&tus_create(&app, &token, MIB).await);
    assert_eq!(tus_create(&app, &token, MIB).await.status(), 429);

    // Another app is not limited by alpha's uploads.
    let beta = app.create_app("beta").await;
    let beta_token = app.token(&beta, 600).await;
    location(&tus_create(&app, &beta_token, MIB).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_bytes_and_open_uploads_count_against_the_storage_quota() {
    let app = TestApp::builder()
        .config(|c| {
            c.limits.max_storage_bytes = 3 * MIB as u64;
            c.limits.apps.insert(
                "ak_vip".into(),
                reel::config::limits::AppLimitsOverride {
                    max_storage_bytes: Some(0),
                    ..Default::default()
                },
            );
        })
        .start()
        .await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;

    // 2 MiB stored, then 1 MiB open: the quota is full.
    let stored = location(&tus_create(&app, &token, 2 * MIB).await);
    assert_eq!(
        tus_patch(&app, &token, &stored, &bytes(2 * MIB, 2)).await,
        204
    );
    let open = location(&tus_create(&app, &token, MIB).await);
    let refused = tus_create(&app, &token, 1).await;
    assert_eq!(refused.status(), 429);
    // Waiting does not free storage: no Retry-After.
    assert_eq!(retry_after(&refused), None);
    let text = refused.text().await.unwrap();
    assert!(
        text.contains(&format!("stores {} of its {}", 3 * MIB, 3 * MIB)),
        "{text}"
    );

    // Terminating the open upload gives its declared bytes back.
    app.http
        .delete(&open)
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    location(&tus_create(&app, &token, MIB).await);
    assert_eq!(tus_create(&app, &token, 1).await.status(), 429);

    // An app whose override lifts the quota.
    let mut conn = app.reel.db.get().await.unwrap();
    let vip = reel::db::apps::insert(
        &mut conn,
        NewApp {
            name: "vip",
            app_key: "ak_vip",
            app_secret: "sk_vip_secret",
        },
    )
    .await
    .unwrap();
    drop(conn);
    let vip = Credentials {
        app_id: vip.id,
        key: vip.app_key,
        secret: vip.stored_secret,
    };
    let vip_token = app.token(&vip, 600).await;
    location(&tus_create(&app, &vip_token, 5 * MIB).await);
}
