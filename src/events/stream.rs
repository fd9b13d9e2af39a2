//! One subscriber's stream of its app's events. When it falls behind its channel (a slow
//! client), the events it missed are gone from the channel; it is sent instead the current
//! state of every video of its app that changed since the last event it received.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use futures_util::Stream;
use futures_util::stream;
use tokio::sync::broadcast::{self, error::RecvError};

use super::VideoEvent;
use super::relay::REPLAY_MARGIN;
use crate::db::{self, DbPool};
use crate::error::InfraError;
use crate::model::AppId;

/// Most videos re-sent after one lag.
const CATCH_UP_LIMIT: i64 = 10_000;

struct Subscriber {
    rx: broadcast::Receiver<VideoEvent>,
    db: DbPool,
    app: AppId,
    /// Re-sent states waiting to be delivered.
    pending: VecDeque<VideoEvent>,
    /// When the newest event delivered was made (catch-ups start shortly before).
    seen_until: DateTime<Utc>,
}

pub(super) fn app_events(
    rx: broadcast::Receiver<VideoEvent>,
    db: DbPool,
    app: AppId,
) -> impl Stream<Item = VideoEvent> + Send + use<> {
    let subscriber = Subscriber {
        rx,
        db,
        app,
        pending: VecDeque::new(),
        seen_until: Utc::now(),
    };
    stream::unfold(subscriber, |mut s| async move {
        let event = s.next().await?;
        Some((event, s))
    })
}

impl Subscriber {
    async fn next(&mut self) -> Option<VideoEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            match self.rx.recv().await {
                Ok(event) => {
                    self.seen_until = self.seen_until.max(event.at);
                    return Some(event);
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(app = %self.app, missed, "slow subscriber: sending current states");
                    match self.changed().await {
                        Ok(states) => self.pending.extend(states),
                        Err(e) => tracing::warn!(error = %e, "current states could not be read"),
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The current state of each of the app's videos changed since shortly before the
    /// last event delivered (events are written before they are published).
    async fn changed(&mut self) -> Result<Vec<VideoEvent>, InfraError> {
        let margin = chrono::Duration::from_std(REPLAY_MARGIN).unwrap_or_default();
        let since = self.seen_until - margin;
        let mut conn = self.db.get().await?;
        let videos =
            db::scans::changed_since(&mut conn, Some(self.app), since, CATCH_UP_LIMIT).await?;
        if let Some(last) = videos.last() {
            self.seen_until = self.seen_until.max(last.update_time);
        }
        Ok(videos.iter().map(VideoEvent::snapshot).collect())
    }
}
