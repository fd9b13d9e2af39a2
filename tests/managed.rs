//! Managed services (issue 19): Reel against a PostgreSQL and a Redis of the test's own
//! that take TLS connections only, with certificates the test made, as RDS or ElastiCache
//! would require: end to end over both, plain connections refused, a wrong CA a clear
//! start-up error, and settings from files.

mod common;

use std::time::Duration;

use common::node::{Node, REEL};
use common::tls_services::{Certs, TlsPostgres, TlsRedis};
use common::{Credentials, token_at};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Services {
    certs: Certs,
    pg: TlsPostgres,
    redis: TlsRedis,
    data: tempfile::TempDir,
}

impl Services {
    async fn start() -> Self {
        let certs = Certs::make();
        let pg = TlsPostgres::start(&certs);
        let redis = TlsRedis::start(&certs).await;
        Self {
            certs,
            pg,
            redis,
            data: tempfile::tempdir().unwrap(),
        }
    }

    /// Verified TLS to both.
    fn env(&self) -> Vec<(&'static str, String)> {
        let query = format!("sslmode=verify-full&sslrootcert={}", self.certs.ca());
        vec![
            ("DATABASE_URL", self.pg.url("reel", &query)),
            ("REDIS_URL", self.redis.url()),
            ("REEL_REDIS_CA_FILE", self.certs.ca()),
            ("REEL_REDIS_PREFIX", "reel-managed:".into()),
            ("REEL_DATA_DIR", self.data.path().to_string_lossy().into()),
            ("REEL_LISTEN", "127.0.0.1:0".into()),
            ("REEL_PLAYGROUND__ENABLED", "false".into()),
        ]
    }

    /// `reel ARGS` with `env`; returns whether it succeeded, and its stderr.
    fn reel(&self, env: &[(&str, String)], args: &[&str]) -> (bool, String, Vec<u8>) {
        let out = std::process::Command::new(REEL)
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stderr, out.stdout)
    }
}

fn with(
    env: &[(&'static str, String)],
    name: &'static str,
    value: String,
) -> Vec<(&'static str, String)> {
    let mut env: Vec<_> = env.iter().filter(|(k, _)| *k != name).cloned().collect();
    env.push((name, value));
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn reel_serves_end_to_end_over_tls_to_postgres_and_redis() {
    let services = Services::start().await;
    let env = services.env();
    // The CLI creates the database, migrates and makes an app, all over verified TLS.
    let (ok, stderr, stdout) = services.reel(&env, &["app", "create", "managed", "--json"]);
    assert!(ok, "{stderr}");
    let app: Value = serde_json::from_slice(&stdout).unwrap();
    let creds = Credentials {
        app_id: reel::model::AppId(0),
        key: app["app_key"].as_str().unwrap().into(),
        secret: app["app_secret"].as_str().unwrap().into(),
    };
    let mut node_env = env.clone();
    node_env.push(("REEL_WORKERS", "1".into()));
    let node = Node::start(node_env).await;
    // A signed request: its nonce goes to Redis over TLS.
    let token = token_at(&node.base, &creds).await;

    // A subscriber (events come through Redis pub/sub over TLS)...
    let url = format!("{}/graphql/ws", node.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    ws.send(send(init)).await.unwrap();
    let query = "subscription { videoEvents { videoId status } }";
    let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    ws.send(send(sub)).await.unwrap();

    // ...sees an upload (tus, its session in Postgres) transcoded by the worker.
    let dir = tempfile::tempdir().unwrap();
    let clip = common::media::lavfi(dir.path(), "managed.mp4", 320, 240, 2, true);
    let bytes = std::fs::read(&clip).unwrap();
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/files/", node.base))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", "filename bWFuYWdlZC5tcDQ=")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let patched = http
        .patch(&location)
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 204);
    let video = patched.headers()["reel-video-id"]
        .to_str()
        .unwrap()
        .to_string();
    let playable = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(msg) = ws.next().await {
            let Ok(Message::Text(text)) = msg else {
                continue;
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            let event = &v["payload"]["data"]["videoEvents"];
            if event["videoId"] == video.as_str() && event["status"] == "PLAYABLE" {
                return true;
            }
        }
        false
    })
    .await
    .expect("PLAYABLE within 120 s");
    assert!(playable, "the socket closed before PLAYABLE");
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_connections_are_refused_and_a_wrong_ca_stops_start_up_with_one_clear_line() {
    let services = Services::start().await;
    let env = services.env();
    let secret_url = |query: &str| {
        let url = services.pg.url("reel", query);
        url.replace("postgres@", "postgres:hunter2@")
    };

    // Without TLS: PostgreSQL's pg_hba has no entry for it, Redis hangs up.
    let plain = with(&env, "DATABASE_URL", secret_url("sslmode=disable"));
    let (ok, stderr, _) = services.reel(&plain, &["migrate"]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot reach PostgreSQL at postgres://postgres:"),
        "{stderr}"
    );
    assert!(stderr.contains("no encryption"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password is shown: {stderr}"
    );
    let plain_redis = with(
        &env,
        "REDIS_URL",
        services.redis.url().replace("rediss", "redis"),
    );
    let (ok, stderr, _) = services.reel(&plain_redis, &["serve"]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot reach Redis at redis://reel:"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("redis-pw"),
        "the password is shown: {stderr}"
    );

    // A CA that did not sign the server's certificate.
    let query = format!(
        "sslmode=verify-full&sslrootcert={}",
        services.certs.other_ca()
    );
    let wrong = with(&env, "DATABASE_URL", secret_url(&query));
    let (ok, stderr, _) = services.reel(&wrong, &["migrate"]);
    assert!(!ok);
    let line = stderr
        .lines()
        .find(|l| l.contains("cannot reach PostgreSQL"))
        .unwrap_or(&stderr);
    eprintln!("wrong CA, PostgreSQL: {line}");
    assert!(line.contains("certificate"), "{stderr}");
    assert!(
        line.contains(&format!("127.0.0.1:{}/reel", services.pg.port)),
        "{stderr}"
    );
    assert!(
        !stderr.contains("hunter2"),
        "the password is shown: {stderr}"
    );
    let wrong_redis = with(&env, "REEL_REDIS_CA_FILE", services.certs.other_ca());
    let (ok, stderr, _) = services.reel(&wrong_redis, &["serve"]);
    assert!(!ok);
    let line = stderr
        .lines()
        .find(|l| l.contains("cannot reach Redis"))
        .unwrap_or(&stderr);
    eprintln!("wrong CA, Redis: {line}");
    assert!(
        line.contains("rediss://reel:") && line.contains("certificate"),
        "{stderr}"
    );

    // `require` without a root certificate encrypts but trusts whoever answers, as libpq;
    // `verify-ca` checks the chain and not the name.
    for query in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-ca&sslrootcert={}", services.certs.ca()),
    ] {
        let env = with(&env, "DATABASE_URL", services.pg.url("reel", &query));
        let (ok, stderr, _) = services.reel(&env, &["migrate"]);
        assert!(ok, "{query}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_come_from_files_as_secrets_are_mounted() {
    let services = Services::start().await;
    let env = services.env();
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("database-url");
    let (_, database_url) = env.iter().find(|(k, _)| *k == "DATABASE_URL").unwrap();
    std::fs::write(&url_file, format!("{database_url}\n")).unwrap();
    let token_file = dir.path().join("metrics-token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let mut from_files: Vec<_> = env
        .iter()
        .filter(|(k, _)| *k != "DATABASE_URL")
        .cloned()
        .collect();
    from_files.push(("DATABASE_URL_FILE", url_file.to_string_lossy().into()));
    from_files.push((
        "REEL_METRICS__TOKEN_FILE",
        token_file.to_string_lossy().into(),
    ));
    let (ok, stderr, _) = services.reel(&from_files, &["migrate"]);
    assert!(ok, "{stderr}");

    // The token from its file guards /metrics (its newline is not part of it).
    let node = Node::start(from_files.clone()).await;
    let http = reqwest::Client::new();
    let metrics = |token: &'static str| {
        http.get(format!("{}/metrics", node.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(metrics("s3cret-token").await.unwrap().status(), 200);
    assert_eq!(metrics("wrong").await.unwrap().status(), 401);

    // Both forms at once is a mistake, said as such.
    let mut both = from_files.clone();
    both.push(("DATABASE_URL", database_url.clone()));
    let (ok, stderr, _) = services.reel(&both, &["migrate"]);
    assert!(!ok);
    assert!(
        stderr.contains("both DATABASE_URL and DATABASE_URL_FILE"),
        "{stderr}"
    );
}
