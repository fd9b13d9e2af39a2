//! The `reel` command-line client: signed requests to a Reel server (docs/api.md),
//! resumable tus uploads, following a video's status live, and its text tracks.

mod commands;
mod download;
mod tracks;
mod tus;
mod upload;
mod watch;

pub use commands::{Output, delete, play, status, videos};
pub use download::{DownloadOptions, download};
pub use tracks::{
    MAX_TRACK_FILE_BYTES, TextTrack, TrackOptions, add_track, delete_track, list_tracks,
};
pub use upload::{UploadOptions, Uploaded, upload};

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::signature::{UNSIGNED_PAYLOAD, body_hash, canonical_string, sign};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Config(String),
    #[error("cannot reach {url}: {reason}")]
    Network { url: String, reason: String },
    #[error("the server answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("{code}: {message}")]
    Api { code: String, message: String },
    #[error("{0}")]
    File(String),
}

impl ClientError {
    fn network(url: &str, e: reqwest::Error) -> Self {
        Self::Network {
            url: url.to_string(),
            reason: e.to_string(),
        }
    }

    /// An answer that is JSON but not the shape the client expects.
    fn unexpected(status: u16, e: serde_json::Error) -> Self {
        Self::Server {
            status,
            message: format!("unexpected answer: {e}"),
        }
    }
}

/// Where the client connects and who it is.
#[derive(Debug, Clone, serde::Deserialize, Default)]
pub struct ClientConfig {
    pub server: Option<String>,
    pub app_key: Option<String>,
    pub app_secret: Option<String>,
}

impl ClientConfig {
    /// `REEL_SERVER`, `REEL_APP_KEY`, `REEL_APP_SECRET`, over `~/.config/reel/client.toml`.
    pub fn load() -> Result<Self, ClientError> {
        let mut cfg = Self::default();
        let file = std::env::var_os("REEL_CLIENT_CONFIG")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                let base = std::env::var_os("XDG_CONFIG_HOME")
                    .map(std::path::PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".config"))
                    })?;
                Some(base.join("reel/client.toml"))
            });
        if let Some(path) = file.filter(|p| p.exists()) {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))?;
            cfg = toml_from_str(&text)
                .map_err(|e| ClientError::Config(format!("{}: {e}", path.display())))?;
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        cfg.server = env("REEL_SERVER").or(cfg.server);
        cfg.app_key = env("REEL_APP_KEY").or(cfg.app_key);
        cfg.app_secret = env("REEL_APP_SECRET").or(cfg.app_secret);
        Ok(cfg)
    }
}

fn toml_from_str(text: &str) -> Result<ClientConfig, String> {
    use figment::providers::{Format, Toml};
    figment::Figment::from(Toml::string(text))
        .extract()
        .map_err(|e| e.to_string())
}

/// A signed connection to one server as one app.
#[derive(Clone)]
pub struct Client {
    base: String,
    key: String,
    secret: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Self, ClientError> {
        let missing = |what: &str| {
            ClientError::Config(format!(
                "{what} is not set: export REEL_SERVER, REEL_APP_KEY and REEL_APP_SECRET (see `reel app create NAME --json`), or write them to ~/.config/reel/client.toml"
            ))
        };
        let base = cfg.server.unwrap_or_else(|| "http://127.0.0.1:8080".into());
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            key: cfg.app_key.ok_or_else(|| missing("REEL_APP_KEY"))?,
            secret: cfg.app_secret.ok_or_else(|| missing("REEL_APP_SECRET"))?,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| ClientError::Config(e.to_string()))?,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The HTTP client, for URLs that carry their own signature (downloads).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request to `url` (on this server) signed with headers; `body` is `None` for upload
    /// data (`UNSIGNED-PAYLOAD`).
    fn signed(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let parsed =
            url::Url::parse(url).map_err(|_| ClientError::Config(format!("bad URL {url}")))?;
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let random = crate::auth::new_nonce();
        let mut params: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        params.push(("app_key".into(), self.key.clone()));
        params.push(("timestamp".into(), timestamp.clone()));
        params.push(("random".into(), random.clone()));
        let hash = body
            .map(body_hash)
            .unwrap_or_else(|| UNSIGNED_PAYLOAD.to_string());
        let canonical = canonical_string(method.as_str(), parsed.path(), &params, &hash);
        Ok(self
            .http
            .request(method, url)
            .header("X-Reel-App-Key", &self.key)
            .header("X-Reel-Timestamp", timestamp)
            .header("X-Reel-Random", random)
            .header("X-Reel-Signature", sign(&self.secret, &canonical)))
    }

    /// A GraphQL operation whose `data` is read as `T`; API errors become
    /// `ClientError::Api` with their code.
    pub async fn graphql<T: DeserializeOwned>(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<T, ClientError> {
        let url = format!("{}/graphql", self.base);
        let body =
            serde_json::to_vec(&serde_json::json!({ "query": query, "variables": variables }))
                .expect("JSON");
        let resp = self
            .signed(reqwest::Method::POST, &url, Some(&body))?
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| ClientError::network(&url, e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::network(&url, e))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| ClientError::Server {
            status,
            message: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
        })?;
        let answer =
            GraphqlAnswer::deserialize(&value).map_err(|e| ClientError::unexpected(status, e))?;
        if let Some(err) = answer.errors.into_iter().flatten().next() {
            return Err(err.into());
        }
        if status >= 400 {
            return Err(ClientError::Server {
                status,
                message: value.to_string(),
            });
        }
        T::deserialize(answer.data).map_err(|e| ClientError::unexpected(status, e))
    }

    /// A short-lived browser token (for the WebSocket subscription).
    async fn token(&self) -> Result<String, ClientError> {
        /// `createToken` is null only next to an error, which `graphql` already returned.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            create_token: Option<Token>,
        }
        #[derive(Deserialize)]
        struct Token {
            token: String,
        }
        let data: Data = self
            .graphql(
                "mutation { createToken(ttlSeconds: 3600) { token } }",
                Value::Null,
            )
            .await?;
        data.create_token
            .map(|t| t.token)
            .ok_or_else(|| ClientError::Config("the server returned no token".into()))
    }
}

/// The envelope of a GraphQL answer; `data` is read by the caller's own type once
/// `errors` is known to be empty.
#[derive(Deserialize)]
struct GraphqlAnswer {
    #[serde(default)]
    data: Value,
    errors: Option<Vec<GraphqlError>>,
}

/// One entry of a GraphQL `errors` list, over HTTP or in a WebSocket `next` message.
#[derive(Deserialize)]
struct GraphqlError {
    #[serde(default)]
    message: String,
    extensions: Option<ErrorExtensions>,
}

/// Reel puts its error code (docs/api.md) in `extensions.code`.
#[derive(Deserialize)]
struct ErrorExtensions {
    code: Option<String>,
}

impl From<GraphqlError> for ClientError {
    fn from(err: GraphqlError) -> Self {
        Self::Api {
            code: err
                .extensions
                .and_then(|x| x.code)
                .unwrap_or_else(|| "ERROR".into()),
            message: err.message,
        }
    }
}

/// `500k`, `20M`, `1G` or plain bytes per second.
pub fn parse_rate(raw: &str) -> Result<u64, String> {
    let raw = raw.trim();
    let (num, mult) = match raw.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('k') => (&raw[..raw.len() - 1], 1 << 10),
        Some('m') => (&raw[..raw.len() - 1], 1 << 20),
        Some('g') => (&raw[..raw.len() - 1], 1 << 30),
        _ => (raw, 1),
    };
    num.parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .map(|n| n * mult)
        .ok_or_else(|| format!("{raw:?} is not a rate like 500k or 20M"))
}
