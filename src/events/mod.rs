//! Live video events (docs/architecture.md, "Live events"): published on one Redis channel
//! so every node sees them, and fanned out in-process to each app's subscribers through
//! that app's own broadcast channel, so a busy tenant cannot make another's subscribers
//! lag. A subscriber that lags anyway gets the current state of what changed instead of a
//! gap (`stream.rs`); when the node's Redis subscription drops, what changed meanwhile is
//! replayed from Postgres once it is back (`relay.rs`).

mod relay;
mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

use crate::db::{DbPool, models::Video};
use crate::error::InfraError;
use crate::kv::Kv;
use crate::model::{AppId, Definition, VideoId, VideoStatus};

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
    /// False while rungs are still coming after the first was published.
    #[serde(default = "complete")]
    pub ladder_complete: bool,
    /// This event announces one more rung of a playable video.
    #[serde(default)]
    pub rendition_added: Option<Definition>,
    pub at: DateTime<Utc>,
}

fn complete() -> bool {
    true
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
            ladder_complete: video.ladder_complete,
            rendition_added: None,
            at: video.update_time,
        }
    }
}

/// Events one app's subscribers on this node may fall behind by before they lag.
const APP_CHANNEL_CAPACITY: usize = 1024;

/// Each app's in-process channel, made by its first subscriber and dropped once it has
/// none (so the map holds only apps someone is watching).
#[derive(Clone, Default)]
struct Channels(Arc<Mutex<HashMap<AppId, broadcast::Sender<VideoEvent>>>>);

impl Channels {
    fn subscribe(&self, app: AppId) -> broadcast::Receiver<VideoEvent> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(app)
            .or_insert_with(|| broadcast::channel(APP_CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Hands `event` to its app's subscribers, if any.
    fn send(&self, event: VideoEvent) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(channel) = map.get(&event.app_id)
            && channel.send(event.clone()).is_err()
        {
            // Every receiver is gone.
            map.remove(&event.app_id);
        }
    }
}

#[derive(Clone)]
pub struct EventBus {
    kv: Kv,
    db: DbPool,
    channel: String,
    local: Channels,
    /// Dropped with the last handle to the bus, which stops the relay.
    _alive: Arc<oneshot::Sender<()>>,
}

impl EventBus {
    /// Subscribes this node to the install's event channel; returns once the
    /// subscription is live (or after a short wait, retrying in the background).
    pub async fn start(kv: Kv, db: DbPool) -> Self {
        let channel = kv.key("events");
        let (alive, stopped) = oneshot::channel();
        let bus = Self {
            kv,
            db,
            channel,
            local: Channels::default(),
            _alive: Arc::new(alive),
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        let relay = relay::Relay {
            client: bus.kv.client().clone(),
            channel: bus.channel.clone(),
            db: bus.db.clone(),
            local: bus.local.clone(),
        };
        tokio::spawn(relay.run(ready_tx, stopped));
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

    /// Every event of `app` from now on. A subscriber too slow to keep up is sent the
    /// current state of each video that changed while it lagged.
    pub fn app_events(&self, app: AppId) -> BoxStream<'static, VideoEvent> {
        Box::pin(stream::app_events(
            self.local.subscribe(app),
            self.db.clone(),
            app,
        ))
    }
}
