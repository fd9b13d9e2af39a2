//! Webhooks: signed, retried from the durable queue, delivered across a restart.

mod common;

use std::time::Duration;

use common::edge::free_port;
use common::hooks::{CREATE, receiver, receiver_at, upload, verify, wait_seen};
use common::node::Cluster;
use common::{Credentials, TestApp, graphql_at, token_at};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_failing_twice_gets_the_signed_event_on_the_third_try() {
    let app = TestApp::builder()
        .config(|c| {
            c.webhooks.allow_private = true;
            c.webhooks.retry_base_secs = 1;
            c.jobs.poll_ms = 100;
        })
        .start()
        .await;
    let creds = app.create_app("hooked").await;
    let port = free_port();
    let seen = receiver(port, 2).await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let out = app
        .graphql(
            &creds,
            CREATE,
            json!({ "url": url, "events": ["video.uploaded"] }),
        )
        .await;
    assert!(out["errors"].is_null(), "{out}");
    let secret = out["data"]["createWebhook"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let hook_id = out["data"]["createWebhook"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let token = app.token(&creds, 600).await;
    let vid = upload(&app.http, &app.base, &token).await;
    wait_seen(&seen, 3, 30).await;

    let posts = seen.lock().unwrap().clone();
    let bodies: Vec<Value> = posts
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).unwrap())
        .collect();
    for ((sig, body), event) in posts.iter().zip(&bodies) {
        assert!(verify(&secret, sig, body), "signature verifies: {sig}");
        assert!(!verify("whsec_other", sig, body));
        assert_eq!(event["id"], bodies[0]["id"], "one event id across retries");
        assert_eq!(event["type"], "video.uploaded");
        assert_eq!(event["data"]["video_id"], vid.as_str());
        assert_eq!(event["data"]["passthrough"], "order-42");
    }
    // The delivery and its three attempts are visible to the app.
    let mut delivery = Value::Null;
    for _ in 0..50 {
        let out = app
            .graphql(
                &creds,
                "{ webhooks { id deliveries { eventId event state attempts { statusCode } } } }",
                json!({}),
            )
            .await;
        assert!(out["errors"].is_null(), "{out}");
        assert_eq!(out["data"]["webhooks"][0]["id"], hook_id.as_str());
        delivery = out["data"]["webhooks"][0]["deliveries"][0].clone();
        if delivery["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(delivery["eventId"], bodies[0]["id"]);
    let codes: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 204]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(seen.lock().unwrap().len(), 3, "nothing more after a 2xx");
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_are_checked_and_private_addresses_refused_by_default() {
    let app = TestApp::builder()
        .config(|c| c.jobs.poll_ms = 100)
        .start()
        .await;
    let creds: Credentials = app.create_app("careful").await;
    for (url, events) in [
        ("ftp://example.com/x", json!([])),
        ("https://user:pw@example.com/", json!([])),
        ("https://example.com/", json!(["video.exploded"])),
    ] {
        let out = app
            .graphql(&creds, CREATE, json!({ "url": url, "events": events }))
            .await;
        assert_eq!(
            common::error_code(&out),
            Some("BAD_REQUEST"),
            "{url}: {out}"
        );
    }
    let port = free_port();
    let seen = receiver(port, 0).await;
    let out = app
        .graphql(
            &creds,
            CREATE,
            json!({ "url": format!("http://127.0.0.1:{port}/hook"), "events": [] }),
        )
        .await;
    assert!(out["errors"].is_null(), "{out}");
    let token = app.token(&creds, 600).await;
    upload(&app.http, &app.base, &token).await;
    let mut attempt = Value::Null;
    for _ in 0..100 {
        let out = app
            .graphql(
                &creds,
                "{ webhooks { deliveries { attempts { statusCode error } } } }",
                json!({}),
            )
            .await;
        attempt = out["data"]["webhooks"][0]["deliveries"][0]["attempts"][0].clone();
        if !attempt.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(attempt["statusCode"].is_null(), "{attempt}");
    assert!(
        attempt["error"].as_str().unwrap().contains("private"),
        "{attempt}"
    );
    assert!(seen.lock().unwrap().is_empty(), "nothing sent to loopback");
    // Another app sees none of these endpoints.
    let other = app.create_app("other").await;
    let out = app.graphql(&other, "{ webhooks { id } }", json!({})).await;
    assert_eq!(out["data"]["webhooks"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_event_is_lost_across_a_server_restart() {
    let cluster = Cluster::new().await;
    let mut env = cluster.env();
    env.push(("REEL_WEBHOOKS__ALLOW_PRIVATE", "true".into()));
    env.push(("REEL_WEBHOOKS__RETRY_BASE_SECS", "1".into()));
    env.push(("REEL_JOBS__POLL_MS", "100".into()));
    env.push(("REEL_WORKERS", "0".into()));
    let creds = cluster.create_app("durable");
    let first = common::node::Node::start(env.clone()).await;
    let http = reqwest::Client::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let out = graphql_at(
        &http,
        &first.base,
        &creds,
        CREATE,
        json!({ "url": url, "events": [] }),
    )
    .await;
    assert!(out["errors"].is_null(), "{out}");
    let token = token_at(&first.base, &creds).await;
    let vid = upload(&http, &first.base, &token).await;
    // The receiver is down: attempts fail, then the node dies without a goodbye.
    tokio::time::sleep(Duration::from_millis(800)).await;
    first.kill().await;

    let seen = receiver(port, 0).await;
    let _second = common::node::Node::start(env).await;
    wait_seen(&seen, 1, 30).await;
    let (_, body) = seen.lock().unwrap()[0].clone();
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "video.uploaded");
    assert_eq!(event["data"]["video_id"], vid.as_str());
}

/// The last attempt's error of each of the app's endpoints, once every one has one.
async fn attempt_errors(app: &TestApp, creds: &Credentials, hooks: usize) -> Vec<String> {
    for _ in 0..100 {
        let out = app
            .graphql(
                creds,
                "{ webhooks { deliveries { attempts { error } } } }",
                json!({}),
            )
            .await;
        let errors: Vec<String> = out["data"]["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w["deliveries"][0]["attempts"][0]["error"].as_str())
            .map(str::to_string)
            .collect();
        if errors.len() == hooks {
            return errors;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not every endpoint was attempted");
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_forms_of_private_addresses_are_refused_and_ipv6_literals_deliver() {
    let app = TestApp::builder()
        .config(|c| c.jobs.poll_ms = 100)
        .start()
        .await;
    let creds = app.create_app("v6").await;
    let port = free_port();
    // Loopback and cloud metadata reached through NAT64, 6to4, IPv4-compatible and
    // IPv4-translated forms, and a Teredo tunnel.
    let hosts = [
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::1",
        "::127.0.0.1",
        "::ffff:0:7f00:1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ];
    for host in hosts {
        let url = format!("http://[{host}]:{port}/hook");
        let out = app
            .graphql(&creds, CREATE, json!({ "url": url, "events": [] }))
            .await;
        assert!(out["errors"].is_null(), "{out}");
    }
    let token = app.token(&creds, 600).await;
    upload(&app.http, &app.base, &token).await;
    for error in attempt_errors(&app, &creds, hosts.len()).await {
        assert!(error.contains("private"), "{error}");
    }

    // Where the operator allows private networks, an IPv6 literal is delivered to.
    let app = TestApp::builder()
        .config(|c| {
            c.jobs.poll_ms = 100;
            c.webhooks.allow_private = true;
        })
        .start()
        .await;
    let creds = app.create_app("v6").await;
    let seen = receiver_at(&format!("[::1]:{port}"), 0).await;
    let url = format!("http://[::1]:{port}/hook");
    let out = app
        .graphql(&creds, CREATE, json!({ "url": url, "events": [] }))
        .await;
    let secret = out["data"]["createWebhook"]["secret"].as_str().unwrap();
    let token = app.token(&creds, 600).await;
    upload(&app.http, &app.base, &token).await;
    wait_seen(&seen, 1, 30).await;
    let (signature, body) = seen.lock().unwrap()[0].clone();
    assert!(verify(secret, &signature, &body));
}
