//! Background work: the worker loop over the Postgres job queue, its wake-up signal,
//! and the job handlers (transcode).

mod failure;
mod hash;
mod import;
mod outputs;
mod publish;
pub mod transcode;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::Notify;

use crate::kv::Kv;

/// A name for this process's claims on the queue (`host:role:pid:nonce`), so job rows
/// say who holds them.
pub fn claimer_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let nonce = crate::auth::new_nonce();
    format!("{host}:{role}:{}:{}", std::process::id(), &nonce[..6])
}

/// How a job attempt ended badly.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Retrying cannot help (not a video, too small, …): fail now.
    #[error("{0}")]
    Permanent(String),
    /// Worth another attempt (a crash, storage hiccup, timeout).
    #[error("{0}")]
    Transient(String),
}

impl From<crate::error::InfraError> for JobError {
    fn from(e: crate::error::InfraError) -> Self {
        Self::Transient(e.to_string())
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Transient(format!("database: {e}"))
    }
}

impl From<crate::db::PoolError> for JobError {
    fn from(e: crate::db::PoolError) -> Self {
        Self::Transient(format!("database pool: {e}"))
    }
}

impl From<opendal::Error> for JobError {
    fn from(e: opendal::Error) -> Self {
        Self::Transient(format!("storage: {e}"))
    }
}

impl From<std::io::Error> for JobError {
    fn from(e: std::io::Error) -> Self {
        Self::Transient(format!("i/o: {e}"))
    }
}

/// Wakes idle workers on every node when a job is queued (Redis pub/sub); workers
/// also poll, so a lost message only delays a job.
#[derive(Clone)]
pub struct JobSignal {
    kv: Kv,
}

impl JobSignal {
    pub fn new(kv: Kv) -> Self {
        Self { kv }
    }

    fn channel(&self) -> String {
        self.kv.key("jobs")
    }

    /// Tells workers there is work. Best effort.
    pub async fn notify(&self) {
        let mut conn = self.kv.conn();
        let sent: redis::RedisResult<i64> = conn.publish(self.channel(), "1").await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "job signal not sent; workers will poll");
        }
    }

    /// A `Notify` fired on every signal, kept up by a background subscription.
    pub fn listen(&self) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        let (client, channel, fire) = (self.kv.client().clone(), self.channel(), notify.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(mut pubsub) = client.get_async_pubsub().await
                    && pubsub.subscribe(&channel).await.is_ok()
                {
                    let mut messages = pubsub.into_on_message();
                    while messages.next().await.is_some() {
                        fire.notify_waiters();
                    }
                }
                if Arc::strong_count(&fire) == 1 {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        notify
    }
}
