//! Browser tokens are not app credentials (issue 14, item 6): scopes limit what a token
//! may do, a token cannot give more than it has, webhook secrets show once, and the
//! playground's printed link carries no `MANAGE`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::node::REEL;
use common::{TestApp, error_code};
use serde_json::{Value, json};

const CREATE_WEBHOOK: &str =
    r#"mutation { createWebhook(url: "https://hooks.example.com/reel") { id secret } }"#;

async fn as_token(app: &TestApp, token: &str, query: &str) -> Value {
    app.graphql_bearer(token, query).await.1
}

#[tokio::test(flavor = "multi_thread")]
async fn a_default_token_reads_uploads_and_plays_but_does_not_manage() {
    let app = TestApp::start().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 600).await;
    let listed = as_token(&app, &token, "{ videos { edges { cursor } } }").await;
    assert!(listed["errors"].is_null(), "{listed}");
    for refused in [
        "{ webhooks { id } }",
        CREATE_WEBHOOK,
        r#"mutation { transcodeUri(src: "fs://imports/a.mp4") { id } }"#,
        "mutation { createToken(scopes: [MANAGE]) { token } }",
    ] {
        let out = as_token(&app, &token, refused).await;
        assert_eq!(error_code(&out), Some("FORBIDDEN"), "{refused}: {out}");
    }
    // Signed requests may do everything, and may give a token that manages.
    let manager = app.scoped_token(&creds, &["MANAGE"]).await;
    let made = as_token(&app, &manager, CREATE_WEBHOOK).await;
    assert!(made["errors"].is_null(), "{made}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_token_cannot_upload_or_play() {
    let app = TestApp::start().await;
    let creds = app.create_app("alpha").await;
    let token = app.scoped_token(&creds, &["READ"]).await;
    let init = as_token(
        &app,
        &token,
        r#"mutation { initUpload(input: { fileName: "a.mp4", fileSize: 10 }) { instant } }"#,
    )
    .await;
    assert_eq!(error_code(&init), Some("FORBIDDEN"), "{init}");
    let tus = common::tus::Tus {
        app: &app,
        token: token.clone(),
    };
    let resp = tus.create(&[("Upload-Length", "10".into())]).await;
    assert_eq!(resp.status(), 403);
    let (status, body) = {
        let resp = reqwest::Client::new()
            .get(app.url("/video/playurl?vid=1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "{body}"
    );
    // Nor give itself more.
    let out = as_token(
        &app,
        &token,
        "mutation { createToken(scopes: [UPLOAD]) { token } }",
    )
    .await;
    assert_eq!(error_code(&out), Some("FORBIDDEN"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_secrets_show_once() {
    let app = TestApp::start().await;
    let creds = app.create_app("alpha").await;
    let made = app.graphql(&creds, CREATE_WEBHOOK, json!({})).await;
    let secret = made["data"]["createWebhook"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{made}");
    let listed = app
        .graphql(&creds, "{ webhooks { id secret } }", json!({}))
        .await;
    assert!(listed["data"]["webhooks"][0]["id"].is_string(), "{listed}");
    assert!(
        listed["data"]["webhooks"][0]["secret"].is_null(),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_playground_link_is_printed_only_when_served_and_cannot_manage() {
    let app = TestApp::start().await;
    let serve = |dist: &std::path::Path| {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(REEL)
            .args(["serve", "--workers", "0"])
            .env("DATABASE_URL", common::database_url(&app.db_name))
            .env("REDIS_URL", common::redis_url())
            .env("REEL_REDIS_PREFIX", format!("{}pg:", app.prefix))
            .env("REEL_LISTEN", "127.0.0.1:0")
            .env("REEL_DATA_DIR", data.path())
            .env("REEL_PLAYGROUND__DIR", dist)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut printed = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let playground = line.starts_with("playground:");
            printed.push(line);
            if playground {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        printed
    };
    let empty = tempfile::tempdir().unwrap();
    let printed = serve(empty.path());
    assert!(
        !printed.iter().any(|l| l.contains("#token=")),
        "{printed:?}"
    );

    let built = tempfile::tempdir().unwrap();
    std::fs::write(built.path().join("index.html"), "<html></html>").unwrap();
    let printed = serve(built.path());
    let token = printed
        .iter()
        .find_map(|l| l.split("#token=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no link in {printed:?}"))
        .to_string();
    let out = as_token(&app, &token, "{ webhooks { id } }").await;
    assert_eq!(error_code(&out), Some("FORBIDDEN"), "{out}");
    let out = as_token(&app, &token, "{ videos { edges { cursor } } }").await;
    assert!(out["errors"].is_null(), "{out}");
}
