//! Redis: one connection manager, and the namespace (`REEL_REDIS_PREFIX`) that
//! every key and channel of this install lives under.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::redact_url;

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot reach Redis at {url}: {reason}. Start it (scripts/setup installs and starts it) or point REDIS_URL at a running server."
)]
pub struct KvSetupError {
    url: String,
    reason: String,
}

#[derive(Clone)]
pub struct Kv {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: Arc<str>,
}

impl Kv {
    /// Connects to `url` (`redis://`, or `rediss://` for TLS, verified against the system's
    /// roots or `ca_file`'s certificates).
    pub async fn connect(
        url: &str,
        prefix: &str,
        ca_file: Option<&Path>,
    ) -> Result<Self, KvSetupError> {
        let fail = |e: &dyn std::fmt::Display| KvSetupError {
            url: redact_url(url),
            reason: e.to_string(),
        };
        // Redis's client builds its TLS config from rustls's process default.
        crate::tls::provider();
        let client = match ca_file {
            None => redis::Client::open(url).map_err(|e| fail(&e))?,
            Some(path) => {
                // Read and checked here, so a bad file is named rather than a failed handshake.
                let pem = std::fs::read(path).map_err(|e| fail(&e))?;
                crate::tls::pem_certs(&pem, path).map_err(|e| fail(&e))?;
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                redis::Client::build_with_tls(url, certs).map_err(|e| fail(&e))?
            }
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| fail(&e))?;
        Ok(Self {
            client,
            conn,
            prefix: prefix.into(),
        })
    }

    /// `suffix` under this install's namespace.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{}", self.prefix, suffix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A handle to the shared, self-reconnecting connection.
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Runs `command` on the shared connection, and again (up to 3 times in all) when it
    /// failed because the connection had dropped: the manager only notices a dead
    /// connection by failing a command, then reconnects. Only for commands that are safe
    /// to repeat.
    pub async fn retry_dropped<T, F, Fut>(&self, mut command: F) -> redis::RedisResult<T>
    where
        F: FnMut(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        const ATTEMPTS: u32 = 3;
        let mut attempt = 1;
        loop {
            match command(self.conn()).await {
                Err(e) if attempt < ATTEMPTS && (e.is_io_error() || e.is_connection_dropped()) => {
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// For dedicated connections (pub/sub).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(Duration::from_secs(3), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 3 s".into()),
        }
    }
}
