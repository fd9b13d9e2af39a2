//! Operating the server: health, migrations, the schema file, the CLI and the README recipe.

mod common;

use std::process::Command;
use std::time::Duration;

use common::own_redis::OwnRedis;
use common::{TestApp, database_url, fresh_database};
use serde_json::Value;

const REEL: &str = env!("CARGO_BIN_EXE_reel");

#[tokio::test(flavor = "multi_thread")]
async fn healthz_is_ok_when_postgres_and_redis_answer() {
    let app = TestApp::start().await;
    let resp = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["postgres"]["ok"], true);
    assert_eq!(body["redis"]["ok"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_reports_a_stopped_redis() {
    let mut redis = OwnRedis::start().await;
    let app = TestApp::builder().redis_url(redis.url()).start().await;
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );

    redis.kill().await;
    let resp = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["redis"]["ok"], false, "{body}");
    assert!(
        body["redis"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    assert_eq!(body["postgres"]["ok"], true, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_are_idempotent() {
    let name = fresh_database().await;
    let url = database_url(&name);
    // The template is already migrated: nothing is pending, twice over.
    assert!(reel::db::migrate(&url).await.unwrap().is_empty());
    assert!(reel::db::migrate(&url).await.unwrap().is_empty());
    let out = Command::new(REEL)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "database is up to date"
    );
    common::cleanup(name, common::redis_url(), "reeltest:none:".into());
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_creates_a_missing_database() {
    let name = format!(
        "reel_t_created_{}",
        reel::auth::new_nonce().get(..10).unwrap()
    );
    let url = database_url(&name);
    let out = Command::new(REEL)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    common::assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied migrations"));
    let again = Command::new(REEL)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "database is up to date"
    );
    common::cleanup(name, common::redis_url(), "reeltest:none:".into());
}

#[test]
fn schema_file_is_in_sync() {
    let out = Command::new(REEL).arg("schema").output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        printed == checked_in,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
    for name in [
        "videoStatus(id: ID!): VideoEvent!",
        "videoEvents: VideoEvent!",
        "createToken(ttlSeconds: Int, scopes: [TokenScope!]): Token!",
        "deleteVideo(id: ID!): Boolean!",
        "TRANSCODE_QUEUED",
    ] {
        assert!(printed.contains(name), "schema names {name}");
    }
}

#[test]
fn unreachable_dependencies_give_one_clear_line() {
    let out = Command::new(REEL)
        .arg("migrate")
        .env(
            "DATABASE_URL",
            "postgres://someone:hunter2@127.0.0.1:1/reel",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("127.0.0.1:1") && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "passwords are not printed");
    assert!(!stderr.contains("panicked"));

    let out = Command::new(REEL)
        .arg("serve")
        .env("DATABASE_URL", database_url("reel_cli_unreachable_redis"))
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("REEL_LISTEN", "127.0.0.1:0")
        .env("REEL_DATA_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.trim().lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: cannot reach Redis at redis://127.0.0.1:1"),
        "{stderr}"
    );
    assert!(last.contains("REDIS_URL"));
    assert!(!stderr.contains("panicked"));
    common::cleanup(
        "reel_cli_unreachable_redis".into(),
        common::redis_url(),
        "reeltest:none:".into(),
    );
}

/// `reel media plan` probes a local file only: it works with Postgres and Redis down.
#[test]
fn media_plan_needs_neither_postgres_nor_redis() {
    let dir = tempfile::tempdir().unwrap();
    let file = common::media::lavfi(dir.path(), "in.mp4", 854, 480, 2, true);
    let plan = |extra: &[&str]| {
        let out = Command::new(REEL)
            .args(["media", "plan"])
            .args(extra)
            .arg(&file)
            .arg(dir.path().join("out"))
            .env("DATABASE_URL", "postgres://reel@127.0.0.1:1/reel")
            .env("REDIS_URL", "redis://127.0.0.1:1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let single = plan(&[]);
    let args: Vec<&str> = single
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.contains(&file.to_str().unwrap()), "{args:?}");
    assert!(
        args.contains(&"-filter_complex"),
        "one pass over every rung"
    );
    let per_rung = plan(&["--per-rung"]);
    assert_eq!(
        per_rung.as_array().unwrap().len(),
        2,
        "480p source: LD and SD"
    );
    // --chunks: the split, the early pass and one encode per chunk (a 2 s source is too
    // short for the chunked ladder by default; the commands are shown all the same).
    let chunked = plan(&["--chunks"]);
    assert_eq!(chunked["applies"], false);
    let chunks = chunked["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 1, "{chunked}");
    assert_eq!(chunked["chunk_encodes"].as_array().unwrap().len(), 1);
    let early: Vec<&str> = chunked["early"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(early.contains(&"-force_key_frames"), "{early:?}");
    let split = chunked["split"].to_string();
    assert!(
        split.contains("\"segment\"") && split.contains("\"copy\""),
        "{split}"
    );
}

#[test]
fn help_and_version() {
    let help = Command::new(REEL).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for cmd in ["serve", "worker", "migrate", "app", "schema"] {
        assert!(text.contains(cmd), "--help lists {cmd}");
    }
    let version = Command::new(REEL).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("reel {}", env!("CARGO_PKG_VERSION"))
    );
}

/// The new-user path of the README: start the binary, create an app with the CLI,
/// then answer a request signed by the README's Python recipe.
#[tokio::test(flavor = "multi_thread")]
async fn readme_path_serve_create_app_and_signed_request() {
    let cluster = common::node::Cluster::new().await;
    let mut server = cluster.start_node().await;
    let base = server.base.clone();
    let app = cluster.create_app("demo");
    let (key, secret) = (app.key.as_str(), app.secret.as_str());

    let recipe = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/signed_request.py");
    let out = tokio::process::Command::new("python3")
        .arg(recipe)
        .env("REEL_SERVER", &base)
        .env("REEL_APP_KEY", key)
        .env("REEL_APP_SECRET", secret)
        .output()
        .await
        .unwrap();
    common::assert_success(&out);
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["data"]["videos"]["edges"], serde_json::json!([]));

    // SIGTERM stops it gracefully.
    let pid = server.child.id().unwrap();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(15), server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "graceful exit, got {status}");
}
