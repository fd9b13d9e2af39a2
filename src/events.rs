//! Live video events: published on one Redis channel so every node sees them, and fanned
//! out in-process to subscribers through a broadcast channel (one Redis subscription per node).
//! When that subscription drops (Redis restarted), what changed meanwhile is replayed from
//! Postgres once it is back, so subscribers do not silently miss final states.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

use crate::db::{self, DbPool, models::Video};
use crate::error::InfraError;
use crate::kv::Kv;
use crate::model::{AppId, VideoId, VideoStatus};

/// What subscribers (and later webhooks) learn about a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoEvent {
    pub app_id: AppId,
    pub video_id: VideoId,
    pub status: VideoStatus,
    pub progress: i16,
    pub error: Option<String>,
    /// The video is gone; `status` is the last it had.
    pub deleted: bool,
    pub at: DateTime<Utc>,
}

impl VideoEvent {
    /// The event describing `video` as it is now.
    pub fn snapshot(video: &Video) -> Self {
        Self {
            app_id: video.app_id,
            video_id: video.id,
            status: video.status,
            progress: video.progress,
            error: video.error.clone(),
            deleted: false,
            at: video.update_time,
        }
    }
}

/// Changes this long before the subscription dropped are replayed too: a change is written
/// to Postgres before it is published, and the publish may fail a moment later.
const REPLAY_MARGIN: Duration = Duration::from_secs(10);
/// Most changes replayed after one outage.
const REPLAY_LIMIT: i64 = 10_000;

#[derive(Clone)]
pub struct EventBus {
    kv: Kv,
    channel: String,
    local: broadcast::Sender<VideoEvent>,
}

impl EventBus {
    /// Subscribes this node to the install's event channel; returns once the
    /// subscription is live (or after a short wait, retrying in the background).
    pub async fn start(kv: Kv, db: DbPool) -> Self {
        let channel = kv.key("events");
        let (local, _) = broadcast::channel(1024);
        let bus = Self { kv, channel, local };
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(bus.clone().relay(db, ready_tx));
        let _ = tokio::time::timeout(Duration::from_secs(3), ready_rx).await;
        bus
    }

    /// Publishes to every node, retrying a dropped connection (events are snapshots, so
    /// a duplicate is harmless; a loss is not).
    pub async fn publish(&self, event: &VideoEvent) -> Result<(), InfraError> {
        let payload = serde_json::to_string(event).expect("events serialize");
        self.kv
            .retry_dropped(|mut conn| {
                let (channel, payload) = (self.channel.clone(), payload.clone());
                async move { conn.publish::<_, _, i64>(channel, payload).await }
            })
            .await?;
        Ok(())
    }

    /// Every event of every app from now on; callers filter.
    pub fn subscribe(&self) -> broadcast::Receiver<VideoEvent> {
        self.local.subscribe()
    }

    /// Forwards Redis messages to local subscribers, reconnecting with backoff.
    /// Stops when the last handle to the bus is dropped.
    async fn relay(self, db: DbPool, ready: oneshot::Sender<()>) {
        let mut ready = Some(ready);
        let mut backoff = Duration::from_millis(100);
        let local = self.local.downgrade();
        let (client, channel) = (self.kv.client().clone(), self.channel.clone());
        drop(self);
        // When the last subscription dropped; replayed from once subscribed again.
        let mut lost_at: Option<DateTime<Utc>> = None;
        loop {
            let subscribed = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            }
            .await;
            match subscribed {
                Ok(pubsub) => {
                    backoff = Duration::from_millis(100);
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                    if let (Some(since), Some(local)) = (lost_at.take(), local.upgrade()) {
                        replay(&db, &local, since).await;
                    }
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let Some(local) = local.upgrade() else { return };
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        match serde_json::from_str::<VideoEvent>(&payload) {
                            Ok(event) => {
                                let _ = local.send(event);
                            }
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
            if local.upgrade().is_none() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

/// Sends local subscribers the current state of every video changed since shortly before
/// `since` (they filter by app and video, and treat a repeated state as a no-op).
async fn replay(db: &DbPool, local: &broadcast::Sender<VideoEvent>, since: DateTime<Utc>) {
    let since = since - chrono::Duration::from_std(REPLAY_MARGIN).unwrap_or_default();
    let changed = async {
        let mut conn = db.get().await?;
        Ok::<_, InfraError>(db::scans::changed_since(&mut conn, since, REPLAY_LIMIT).await?)
    }
    .await;
    match changed {
        Ok(videos) => {
            tracing::info!(replayed = videos.len(), %since, "events replayed after the channel came back");
            for video in &videos {
                let _ = local.send(VideoEvent::snapshot(video));
            }
        }
        Err(e) => tracing::warn!(error = %e, "missed events could not be replayed"),
    }
}
