//! Test harness: `TestApp` runs a real server on a free port against its own Postgres
//! database (cloned from a migrated template), its own Redis prefix and its own data dir,
//! and removes all three when dropped.
#![allow(dead_code)]

pub mod browser;
pub mod edge;
pub mod hooks;
pub mod ladder;
pub mod media;
pub mod metrics;
pub mod node;
pub mod own_redis;
pub mod raw;
pub mod signing;
pub mod tls_services;
pub mod tus;
pub mod watermark;
pub mod ws;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use reel::config::Config;
use reel::db::models::NewVideo;
use reel::model::VideoStatus;
use reel::model::{AppId, VideoId};
use reel::{Reel, api};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use signing::Credentials;

/// Maintenance URL of the test server (the `postgres` database).
pub fn admin_url() -> String {
    std::env::var("REEL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("REEL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// `admin_url` pointed at another database.
pub fn database_url(name: &str) -> String {
    let mut url = url::Url::parse(&admin_url()).expect("REEL_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn admin() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls)
        .await
        .expect("test Postgres is reachable (scripts/setup starts it)");
    tokio::spawn(conn);
    client
}

/// Name of the template database for the migrations compiled into this binary.
fn template_name() -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut entries: Vec<_> = walk(std::path::Path::new(dir));
    entries.sort();
    for path in entries {
        hash.update(path.to_string_lossy().as_bytes());
        hash.update(std::fs::read(&path).unwrap());
    }
    format!("reel_tpl_{}", &hex::encode(hash.finalize())[..12])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A fresh, migrated database; the template is built once per migration set, under a lock.
pub async fn fresh_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let template = template_name();
    let client = admin().await;
    client
        .execute("SELECT pg_advisory_lock(7319001)", &[])
        .await
        .unwrap();
    let ready = client
        .query_opt(
            "SELECT datistemplate FROM pg_database WHERE datname = $1",
            &[&template],
        )
        .await
        .unwrap()
        .map(|row| row.get::<_, bool>(0));
    if ready != Some(true) {
        if ready.is_some() {
            // A run died while building it.
            client
                .batch_execute(&format!("DROP DATABASE \"{template}\" WITH (FORCE)"))
                .await
                .unwrap();
        }
        client
            .batch_execute(&format!("CREATE DATABASE \"{template}\""))
            .await
            .unwrap();
        reel::db::migrate(&database_url(&template))
            .await
            .expect("migrations apply");
        client
            .batch_execute(&format!(
                "ALTER DATABASE \"{template}\" WITH is_template true"
            ))
            .await
            .unwrap();
    }
    client
        .execute("SELECT pg_advisory_unlock(7319001)", &[])
        .await
        .unwrap();
    let name = format!(
        "reel_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        reel::auth::new_nonce().get(..8).unwrap()
    );
    for attempt in 0.. {
        let created = client
            .batch_execute(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            ))
            .await;
        match created {
            Ok(()) => break,
            // Another process is cloning the template at this instant.
            Err(_) if attempt < 50 => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
            Err(e) => panic!("cannot clone template: {e}"),
        }
    }
    name
}

/// Drops a test database and the Redis keys under `prefix`, from any context (used in Drop).
pub fn cleanup(db_name: String, redis: String, prefix: String) {
    let work = move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            if let Ok((client, conn)) =
                tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await
            {
                tokio::spawn(conn);
                let _ = client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS \"{db_name}\" WITH (FORCE)"
                    ))
                    .await;
            }
            if let Ok(client) = redis::Client::open(redis.as_str())
                && let Ok(mut conn) = client.get_multiplexed_async_connection().await
            {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}*"))
                    .query_async(&mut conn)
                    .await
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: redis::RedisResult<()> =
                        redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
                }
            }
        });
    };
    let _ = std::thread::spawn(work).join();
}

type ConfigTweak = Box<dyn FnOnce(&mut Config)>;

pub struct TestAppBuilder {
    redis_url: String,
    tweak: Vec<ConfigTweak>,
}

impl TestAppBuilder {
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = url.into();
        self
    }

    pub fn config(mut self, f: impl FnOnce(&mut Config) + 'static) -> Self {
        self.tweak.push(Box::new(f));
        self
    }

    /// Starts the server with an app `alpha` and a browser token of it (1 h).
    pub async fn signed_in(self) -> (TestApp, Credentials, String) {
        let app = self.start().await;
        let creds = app.create_app("alpha").await;
        let token = app.token(&creds, 3600).await;
        (app, creds, token)
    }

    pub async fn start(self) -> TestApp {
        // Server logs show up in the output of a failing test.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn,reel=info"))
            .try_init();
        let db_name = fresh_database().await;
        let (acceptor, addr) = api::bind("127.0.0.1:0").await.unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let prefix = format!("reeltest:{db_name}:");
        let mut config = Config {
            listen: addr.to_string(),
            public_url: format!("http://{addr}"),
            data_dir: data_dir.path().to_path_buf(),
            database_url: database_url(&db_name),
            redis_url: self.redis_url.clone(),
            redis_prefix: prefix.clone(),
            ..Config::default()
        };
        config.database.pool_size = 4;
        // Workers only where a test asks for them (`.config(|c| c.workers = N)`).
        config.workers = 0;
        // The same suites run once against an S3-compatible server (scripts/test).
        if let Ok(endpoint) = std::env::var("REEL_TEST_S3_ENDPOINT") {
            config.storage.kind = reel::config::StorageKind::S3;
            config.storage.options = [
                ("bucket", "reel-test".to_string()),
                ("endpoint", endpoint),
                ("region", "us-east-1".into()),
                ("access_key_id", "test".into()),
                ("secret_access_key", "test".into()),
                ("root", format!("/{db_name}/")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            config.upload.staging = reel::config::StagingKind::Storage;
        }
        for f in self.tweak {
            f(&mut config);
        }
        let reel = Reel::start(config, false)
            .await
            .expect("test services are reachable");
        let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
        let workers = Some(
            reel.runner()
                .spawn(&reel.lanes(reel.config.workers), workers_stopped),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(api::serve(acceptor, reel.clone(), async move {
            let _ = stopped.await;
        }));
        TestApp {
            reel,
            addr,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            db_name,
            redis_url: self.redis_url,
            prefix,
            data_dir,
            stop: Some(stop),
            server: Some(server),
            stop_workers,
            workers,
        }
    }
}

pub struct TestApp {
    pub reel: Reel,
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub db_name: String,
    redis_url: String,
    pub prefix: String,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    stop_workers: tokio::sync::watch::Sender<bool>,
    workers: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            redis_url: redis_url(),
            tweak: Vec::new(),
        }
    }

    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Where `key` of the fs storage is on disk.
    pub fn storage_path(&self, key: &str) -> std::path::PathBuf {
        self.data_dir.path().join("storage").join(key)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn create_app(&self, name: &str) -> Credentials {
        let created = self.reel.apps.create(name).await.unwrap();
        Credentials {
            app_id: created.app.id,
            key: created.app.app_key,
            secret: created.secret,
        }
    }

    /// A source video row as an upload would leave it.
    pub async fn insert_video(&self, app: AppId, status: VideoStatus) -> VideoId {
        let new = NewVideo::source(app, status, "clip.mp4");
        self.reel.videos.insert(&new).await.unwrap().id
    }

    /// A signed GraphQL POST; returns the JSON body.
    pub async fn graphql(&self, creds: &Credentials, query: &str, variables: Value) -> Value {
        graphql_at(&self.http, &self.base, creds, query, variables).await
    }

    /// A signed request to the seed REST API; returns the status and JSON body.
    pub async fn rest(
        &self,
        creds: &Credentials,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        rest_at(&self.http, &self.base, creds, method, path, params, body).await
    }

    /// A GraphQL POST with a bearer token; returns the HTTP status and body.
    pub async fn graphql_bearer(&self, token: &str, query: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A bearer token for `creds`' app, from `createToken`.
    pub async fn token(&self, creds: &Credentials, ttl: i64) -> String {
        self.token_with(creds, ttl, None).await
    }

    /// A bearer token for `creds`' app allowed only `scopes` (`TokenScope` names).
    pub async fn scoped_token(&self, creds: &Credentials, scopes: &[&str]) -> String {
        self.token_with(creds, 600, Some(scopes)).await
    }

    async fn token_with(&self, creds: &Credentials, ttl: i64, scopes: Option<&[&str]>) -> String {
        let out = self
            .graphql(
                creds,
                "mutation($ttl: Int, $s: [TokenScope!]) { createToken(ttlSeconds: $ttl, scopes: $s) { token expiresAt } }",
                json!({ "ttl": ttl, "s": scopes }),
            )
            .await;
        out["data"]["createToken"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {out}"))
            .to_string()
    }

    pub async fn video(&self, app: AppId, id: VideoId) -> reel::video::Video {
        self.reel
            .videos
            .get(app, id)
            .await
            .unwrap()
            .expect("video exists")
    }

    /// The newest source video of `app`.
    pub async fn newest_video(&self, app: AppId) -> reel::video::Video {
        let page = self.reel.videos.list(app, None, None, 1).await.unwrap();
        page.videos.into_iter().next().expect("the app has a video")
    }

    /// `deleteVideo` through GraphQL; true when it was deleted.
    pub async fn delete_video(&self, creds: &Credentials, id: VideoId) -> bool {
        let out = self
            .graphql(
                creds,
                "mutation($id: ID!) { deleteVideo(id: $id) }",
                json!({ "id": id.to_string() }),
            )
            .await;
        out["data"]["deleteVideo"] == true
    }

    /// MD5 of a stored object.
    pub async fn stored_md5(&self, key: &str) -> String {
        let bytes = self.reel.storage.op().read(key).await.unwrap().to_vec();
        tus::md5_hex(&bytes)
    }

    /// Uploads with bytes left in staging (a directory, or `staging/` in the object store).
    pub async fn staged_files(&self) -> Vec<String> {
        if self.reel.config.upload.staging == reel::config::StagingKind::Storage {
            use futures_util::TryStreamExt;
            let entries: Vec<opendal::Entry> = self
                .reel
                .storage
                .op()
                .lister_with("staging/")
                .recursive(true)
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            return entries
                .iter()
                .map(|e| e.path().to_string())
                .filter(|p| !p.ends_with('/'))
                .collect();
        }
        match std::fs::read_dir(self.data_dir.path().join("staging")) {
            Ok(dir) => dir
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// A plain connection to the test's database, for what no service exposes.
    pub async fn pg(&self) -> tokio_postgres::Client {
        let (client, conn) =
            tokio_postgres::connect(&database_url(&self.db_name), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(conn);
        client
    }

    /// Jobs rows of a video (kind, state).
    pub async fn jobs_of(&self, video: VideoId) -> Vec<(String, String)> {
        self.pg()
            .await
            .query(
                "SELECT kind, state FROM jobs WHERE video_id = $1 ORDER BY id",
                &[&video.0],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop_workers.send(true);
        if let Some(w) = self.workers.take() {
            w.abort();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        cleanup(
            self.db_name.clone(),
            self.redis_url.clone(),
            self.prefix.clone(),
        );
    }
}

/// A signed GraphQL POST to the server at `base`; returns the JSON body.
pub async fn graphql_at(
    http: &reqwest::Client,
    base: &str,
    creds: &Credentials,
    query: &str,
    variables: Value,
) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let url = signing::signed_url(base, creds, "POST", "/graphql", &[], body.as_bytes());
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "graphql over HTTP answers 200");
    resp.json().await.unwrap()
}

/// A bearer token from `createToken` on the server at `base`.
pub async fn token_at(base: &str, creds: &Credentials) -> String {
    let out = graphql_at(
        &reqwest::Client::new(),
        base,
        creds,
        "mutation { createToken(ttlSeconds: 3600) { token } }",
        json!({}),
    )
    .await;
    out["data"]["createToken"]["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A signed request to the seed REST API at `base`; returns the status and JSON body.
pub async fn rest_at(
    http: &reqwest::Client,
    base: &str,
    creds: &Credentials,
    method: &str,
    path: &str,
    params: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    // Part bodies are upload data: signed as UNSIGNED-PAYLOAD; any other body is hashed.
    let sig = signing::Signature::new(creds);
    let signature = match &body {
        Some(_) if path == "/video/upload/upload" => sig.sign_upload(method, path, params),
        Some(body) => sig.sign(method, path, params, body),
        None => sig.sign(method, path, params, b""),
    };
    let url = format!("{}{path}?{}", base, sig.query(&signature, params));
    let mut req = http.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        req = req
            .header("content-type", "application/octet-stream")
            .body(body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
    (status, json)
}

/// `extensions.code` of the first GraphQL error.
pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

/// Fails the test with the command's stderr unless it exited successfully.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
