//! App secrets (issue 14, item 9): a rotated secret, and tokens signed with it, stop
//! working when the grace ends; with a master key, no secret is readable in the database,
//! and a node without that key refuses to start instead of failing every request.

mod common;

use std::time::Duration;

use common::edge::free_port;
use common::hooks::{CREATE, receiver, upload, verify, wait_seen};
use common::node::{Cluster, Node};
use common::{Credentials, assert_success, graphql_at, token_at};
use serde_json::{Value, json};

const MASTER_KEY: &str = "test-master-key-0123456789abcdefghij";
const NEXT_MASTER_KEY: &str = "next-master-key-0123456789abcdefghijk";

/// The status of a signed request with `creds`.
async fn signed_status(base: &str, creds: &Credentials) -> u16 {
    let body = json!({ "query": "{ videos(first: 1) { id } }" }).to_string();
    let url = common::signing::signed_url(base, creds, "POST", "/graphql", &[], body.as_bytes());
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The status of a bearer request with `token`.
async fn bearer_status(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ videos(first: 1) { id } }" }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `reel app rotate-secret APP --grace GRACE --json`: the new credentials.
fn rotate(cluster: &Cluster, app: &str, grace: &str, old: &Credentials) -> Credentials {
    let out = cluster
        .command()
        .args(["app", "rotate-secret", app, "--grace", grace, "--json"])
        .output()
        .unwrap();
    assert_success(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["app_key"], old.key.as_str(), "the key stays");
    Credentials {
        secret: v["app_secret"].as_str().unwrap().into(),
        ..old.clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_and_its_tokens_work_for_the_grace_only() {
    let cluster = Cluster::new().await;
    let node = cluster.start_node().await;
    let old = cluster.create_app("acme");
    let old_token = token_at(&node.base, &old).await;

    let new = rotate(&cluster, "acme", "3s", &old);
    assert_ne!(new.secret, old.secret);
    // During the grace both secrets sign, and both generations of tokens work.
    assert_eq!(signed_status(&node.base, &old).await, 200);
    assert_eq!(signed_status(&node.base, &new).await, 200);
    assert_eq!(bearer_status(&node.base, &old_token).await, 200);
    let new_token = token_at(&node.base, &new).await;
    assert_eq!(bearer_status(&node.base, &new_token).await, 200);

    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(signed_status(&node.base, &old).await, 401, "grace over");
    assert_eq!(bearer_status(&node.base, &old_token).await, 401);
    assert_eq!(signed_status(&node.base, &new).await, 200);
    assert_eq!(bearer_status(&node.base, &new_token).await, 200);

    // No grace: the replaced secret stops at once (by app_key this time).
    let newest = rotate(&cluster, &old.key, "0s", &new);
    assert_eq!(signed_status(&node.base, &new).await, 401);
    assert_eq!(bearer_status(&node.base, &new_token).await, 401);
    assert_eq!(signed_status(&node.base, &newest).await, 200);

    // A name two apps share, or no app has, is refused with a reason.
    cluster.create_app("twin");
    cluster.create_app("twin");
    for (which, says) in [("twin", "name one by its app_key"), ("nobody", "no app")] {
        let out = cluster
            .command()
            .args(["app", "rotate-secret", which])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{stderr}");
    }
    node.kill().await;
}

/// Stored secrets: apps', webhooks' and the media key.
async fn stored_secrets(cluster: &Cluster) -> Vec<String> {
    let url = common::database_url(&cluster.db_name);
    let (db, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let sql = "SELECT app_secret FROM apps UNION ALL SELECT previous_secret FROM apps
               WHERE previous_secret IS NOT NULL UNION ALL SELECT secret FROM webhooks
               UNION ALL SELECT value FROM settings WHERE name = 'media_key'";
    let rows = db.query(sql, &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

fn with_keys(cluster: &Cluster, keys: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = cluster.env();
    env.extend(keys.iter().map(|(k, v)| (*k, v.to_string())));
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_master_key_no_secret_is_readable_in_the_database() {
    let cluster = Cluster::new().await;
    let http = reqwest::Client::new();
    // Before the operator sets a key: secrets are stored as they are.
    let node = cluster.start_node().await;
    let creds = cluster.create_app("early");
    let port = free_port();
    let seen = receiver(port, 0).await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let hook = graphql_at(
        &http,
        &node.base,
        &creds,
        CREATE,
        json!({ "url": url, "events": [] }),
    )
    .await;
    let hook_secret = hook["data"]["createWebhook"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{hook}"))
        .to_string();
    rotate(&cluster, "early", "1h", &creds);
    let plain = stored_secrets(&cluster).await;
    assert!(plain.contains(&creds.secret) && plain.contains(&hook_secret));
    node.kill().await;

    // With a master key every stored secret is sealed at start, and all still work.
    let env = with_keys(&cluster, &[("REEL_AUTH__MASTER_KEY", MASTER_KEY)]);
    let mut env = env;
    env.push(("REEL_WEBHOOKS__ALLOW_PRIVATE", "true".into()));
    let node = Node::start(env.clone()).await;
    let late = {
        let out = cluster
            .command()
            .envs(env.clone())
            .args(["app", "create", "late", "--json"])
            .output()
            .unwrap();
        assert_success(&out);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        Credentials {
            app_id: reel::model::AppId(0),
            key: v["app_key"].as_str().unwrap().into(),
            secret: v["app_secret"].as_str().unwrap().into(),
        }
    };
    let sealed = stored_secrets(&cluster).await;
    assert_eq!(sealed.len(), plain.len() + 1);
    for stored in &sealed {
        assert!(stored.starts_with("sealed:v1:"), "{stored}");
    }
    for secret in [&creds.secret, &late.secret, &hook_secret] {
        assert!(!sealed.iter().any(|s| s.contains(secret.as_str())));
    }
    assert_eq!(
        signed_status(&node.base, &creds).await,
        200,
        "previous secret"
    );
    assert_eq!(signed_status(&node.base, &late).await, 200);
    // A delivery is signed with the webhook's secret, opened from its seal.
    let token = token_at(&node.base, &creds).await;
    upload(&http, &node.base, &token).await;
    wait_seen(&seen, 1, 30).await;
    let (signature, body) = seen.lock().unwrap()[0].clone();
    assert!(verify(&hook_secret, &signature, &body), "{signature}");
    node.kill().await;

    // Without the key a node refuses to start, saying which setting it needs.
    let out = cluster.command().arg("serve").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("REEL_AUTH__MASTER_KEY"),
        "{stderr}"
    );

    // A new master key, with the old one as previous: sealed again under the new one.
    let before_ids: Vec<String> = sealed.iter().map(|s| key_id(s)).collect();
    let env = with_keys(
        &cluster,
        &[
            ("REEL_AUTH__MASTER_KEY", NEXT_MASTER_KEY),
            ("REEL_AUTH__PREVIOUS_MASTER_KEY", MASTER_KEY),
        ],
    );
    let node = Node::start(env).await;
    let resealed = stored_secrets(&cluster).await;
    for stored in &resealed {
        assert!(!before_ids.contains(&key_id(stored)), "{stored}");
    }
    assert_eq!(signed_status(&node.base, &creds).await, 200);
    assert_eq!(signed_status(&node.base, &late).await, 200);
    node.kill().await;
}

/// The master key id in a sealed value.
fn key_id(stored: &str) -> String {
    stored.split(':').nth(2).unwrap().to_string()
}
