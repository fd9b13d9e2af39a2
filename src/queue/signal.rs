//! The wake-up signal of the queue: Redis pub/sub on every node; workers also poll, so
//! a lost message only delays a job.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::Notify;

use crate::kv::Kv;

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
