//! The node's one Redis subscription: forwards every published event to the app's local
//! channel, reconnecting with backoff; after an outage it replays from Postgres the
//! current state of what changed meanwhile, so subscribers do not miss final states.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::{Channels, VideoEvent};
use crate::db::{self, DbPool};
use crate::error::InfraError;

/// Changes this long before the subscription dropped are replayed too: a change is written
/// to Postgres before it is published, and the publish may fail a moment later.
pub(super) const REPLAY_MARGIN: Duration = Duration::from_secs(10);
/// Most changes replayed after one outage.
const REPLAY_LIMIT: i64 = 10_000;

pub(super) struct Relay {
    pub client: redis::Client,
    pub channel: String,
    pub db: DbPool,
    pub local: Channels,
}

impl Relay {
    /// Runs until `stopped` resolves (the last handle to the bus is gone).
    pub async fn run(self, ready: oneshot::Sender<()>, mut stopped: oneshot::Receiver<()>) {
        tokio::select! {
            () = self.forward(ready) => {}
            _ = &mut stopped => {}
        }
    }

    async fn forward(&self, ready: oneshot::Sender<()>) {
        let mut ready = Some(ready);
        let mut backoff = Duration::from_millis(100);
        // When the last subscription dropped; replayed from once subscribed again.
        let mut lost_at: Option<DateTime<Utc>> = None;
        loop {
            let subscribed = async {
                let mut pubsub = self.client.get_async_pubsub().await?;
                pubsub.subscribe(&self.channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            }
            .await;
            match subscribed {
                Ok(pubsub) => {
                    backoff = Duration::from_millis(100);
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                    if let Some(since) = lost_at.take() {
                        self.replay(since).await;
                    }
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        match serde_json::from_str::<VideoEvent>(&payload) {
                            Ok(event) => self.local.send(event),
                            Err(e) => tracing::warn!(error = %e, "ignoring malformed event"),
                        }
                    }
                    tracing::warn!("event subscription lost; reconnecting");
                    lost_at.get_or_insert_with(Utc::now);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot subscribe to events; retrying");
                    // Only after a first subscription: before it, nobody was listening.
                    if ready.is_none() {
                        lost_at.get_or_insert_with(Utc::now);
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Sends local subscribers the current state of every video changed since shortly
    /// before `since` (they treat a repeated state as a no-op).
    async fn replay(&self, since: DateTime<Utc>) {
        let since = since - chrono::Duration::from_std(REPLAY_MARGIN).unwrap_or_default();
        let changed = async {
            let mut conn = self.db.get().await?;
            Ok::<_, InfraError>(
                db::scans::changed_since(&mut conn, None, since, REPLAY_LIMIT).await?,
            )
        }
        .await;
        match changed {
            Ok(videos) => {
                tracing::info!(replayed = videos.len(), %since, "events replayed after the channel came back");
                for video in &videos {
                    self.local.send(VideoEvent::snapshot(video));
                }
            }
            Err(e) => tracing::warn!(error = %e, "missed events could not be replayed"),
        }
    }
}
