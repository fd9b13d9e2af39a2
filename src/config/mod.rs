//! Configuration: embedded defaults, then a TOML file, then environment variables.
//! The names fixed by the API contract (`DATABASE_URL`, `REDIS_URL`, `REEL_LISTEN`, …) map onto top-level keys.

pub mod auth;
pub mod delivery;
pub mod images;
pub mod limits;
pub mod media;
mod secrets;
pub mod server;
pub mod webhooks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use auth::{AuthConfig, SecretString};
pub use delivery::DeliveryConfig;
pub use images::ImagesConfig;
pub use limits::LimitsConfig;
pub use media::MediaConfig;
pub use server::ServerConfig;
pub use webhooks::WebhookConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `host:port` the HTTP server binds (`REEL_LISTEN`).
    pub listen: String,
    /// Base of every URL the server hands out (`REEL_PUBLIC_URL`); derived from `listen` when empty.
    pub public_url: String,
    /// Root of local state: the fs storage lives here (`REEL_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `DATABASE_URL`; the database is created when missing.
    pub database_url: String,
    /// `REDIS_URL` (`rediss://` for TLS).
    pub redis_url: String,
    /// PEM file of the CA that signed the Redis server's certificate (`REEL_REDIS_CA_FILE`),
    /// for a private CA; the system's roots otherwise.
    pub redis_ca_file: Option<PathBuf>,
    /// Namespace of every Redis key and channel (`REEL_REDIS_PREFIX`).
    pub redis_prefix: String,
    /// `text` or `json` (`REEL_LOG_FORMAT`).
    pub log_format: LogFormat,
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub graphql: GraphqlConfig,
    pub storage: StorageConfig,
    pub upload: UploadConfig,
    /// Transcode workers embedded in `reel serve` (`--workers`), or run by `reel worker`.
    pub workers: usize,
    pub media: MediaConfig,
    /// Thumbnails and animated previews made on demand (`[images]`).
    pub images: ImagesConfig,
    pub jobs: JobsConfig,
    pub delivery: DeliveryConfig,
    pub webhooks: WebhookConfig,
    pub playground: PlaygroundConfig,
    pub metrics: MetricsConfig,
    /// Requests per second each app may send (`REEL_RATE_LIMIT_RPS`); 0: unlimited.
    pub rate_limit_rps: u32,
    pub limits: LimitsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobsConfig {
    /// A running job's lease; a worker that stops renewing it (crashed) loses the job
    /// to another worker after this long.
    pub lease_secs: u32,
    /// Fallback polling of the queue when no wake-up signal arrives, in milliseconds.
    pub poll_ms: u64,
    /// Attempts of a job before its video is failed.
    pub max_attempts: i32,
    /// Done and failed jobs are deleted this long after they ended, so the queue's table
    /// does not grow without bound. 0: kept for ever.
    pub keep_finished_secs: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            lease_secs: 30,
            poll_ms: 2000,
            max_attempts: 3,
            keep_finished_secs: 7 * 24 * 3600,
        }
    }
}

/// `/metrics`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Scrapers send `Authorization: Bearer <token>`.
    pub token: String,
    /// Serve `/metrics` to anyone, without a token (a network the operator trusts).
    /// Neither set: `/metrics` answers 401.
    pub open: bool,
}

/// The web app at `/playground/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PlaygroundConfig {
    /// Serve it, and print a sign-in link for a local `playground` app at start-up.
    pub enabled: bool,
    /// The built app (`npm run build --prefix playground`).
    pub dir: PathBuf,
    /// Lifetime of the printed sign-in token.
    pub token_ttl_secs: i64,
}

impl Default for PlaygroundConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: PathBuf::from("playground/dist"),
            token_ttl_secs: 8 * 3600,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    pub pool_size: usize,
    /// How long a request waits for a free connection before failing.
    pub wait_timeout_ms: u64,
    /// How long connecting may take.
    pub connect_timeout_ms: u64,
    /// `statement_timeout` set on every pooled connection.
    pub statement_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphqlConfig {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_page_size: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// `fs`, `s3` or `oss`.
    pub kind: StorageKind,
    /// opendal options of the service (`bucket`, `endpoint`, `region`, `access_key_id`, …).
    /// For `fs`, `root` defaults to `{data_dir}/storage`.
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    Fs,
    S3,
    Oss,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadConfig {
    /// Largest accepted file, in bytes.
    pub max_size: u64,
    /// Lifetime of an unfinished upload session, in seconds.
    pub expiry_secs: u64,
    /// Where bytes wait until the upload completes: `fs` (a directory, shared between
    /// nodes if they are several) or `storage` (the object store itself).
    pub staging: StagingKind,
    /// Directory of `fs` staging; defaults to `{data_dir}/staging`.
    pub staging_dir: Option<PathBuf>,
    /// How often expired sessions are swept, in seconds.
    pub sweep_interval_secs: u64,
    /// When the md5 of a file whose client declared none is computed: `inline`, while
    /// the bytes arrive (the video has its `hash` when the upload completes), or
    /// `deferred`, by a job after it completes (uploads run at disk speed instead of
    /// md5 speed). A declared md5 is always verified inline.
    pub md5: Md5Timing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Md5Timing {
    Inline,
    Deferred,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StagingKind {
    Fs,
    Storage,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            data_dir: PathBuf::from("./data"),
            database_url: "postgres://localhost/reel".into(),
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_ca_file: None,
            redis_prefix: "reel:".into(),
            log_format: LogFormat::Text,
            database: DatabaseConfig::default(),
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            graphql: GraphqlConfig::default(),
            storage: StorageConfig::default(),
            upload: UploadConfig::default(),
            workers: 1,
            media: MediaConfig::default(),
            images: ImagesConfig::default(),
            jobs: JobsConfig::default(),
            delivery: Default::default(),
            webhooks: Default::default(),
            playground: PlaygroundConfig::default(),
            metrics: MetricsConfig::default(),
            rate_limit_rps: 200,
            limits: Default::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            pool_size: 16,
            wait_timeout_ms: 5_000,
            connect_timeout_ms: 5_000,
            statement_timeout_ms: 30_000,
        }
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 10_000,
            max_page_size: 100,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            kind: StorageKind::Fs,
            options: BTreeMap::new(),
        }
    }
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            max_size: 20 << 30,
            expiry_secs: 24 * 3600,
            staging: StagingKind::Fs,
            staging_dir: None,
            sweep_interval_secs: 60,
            md5: Md5Timing::Inline,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        let mut figment = figment
            // REEL_LISTEN → listen, REEL_STORAGE__KIND → storage.kind, …
            .merge(Env::prefixed("REEL_").split("__"))
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL"]));
        let defaults = serde_json::to_value(Config::default()).expect("the defaults serialize");
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        for setting in secrets::from_env(vars, &defaults).map_err(ConfigError)? {
            figment = figment.merge(Serialized::default(&setting.key, setting.value));
        }
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() && !self.listen.contains(':') {
            return Err(ConfigError(format!(
                "listen = {:?} is not host:port",
                self.listen
            )));
        }
        if self.redis_prefix.is_empty() {
            return Err(ConfigError("redis_prefix must not be empty".into()));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError("database.pool_size must be at least 1".into()));
        }
        let import = &self.media.import_prefix;
        if !import.is_empty()
            && (!import.ends_with('/') || crate::model::layout::is_reserved(import))
        {
            return Err(ConfigError(format!(
                "media.import_prefix = {import:?} must end with / and lie outside Reel's own areas"
            )));
        }
        self.delivery.validate().map_err(ConfigError)?;
        Ok(())
    }

    /// The public base URL, without a trailing slash.
    pub fn public_base(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
    }
}

/// A URL with its password replaced, fit for logs and error messages.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => raw.to_string(),
    }
}
