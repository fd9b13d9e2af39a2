//! The outbox: an event about a video becomes one delivery per endpoint that wants it,
//! each with the job that sends it, written in the transaction that changed the video,
//! so none is lost and none is sent for a rollback.

use chrono::Utc;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use crate::db::{self, models::Video};
use crate::queue::{self, NewJob, Payload};

/// The job that sends one delivery (`jobs/webhook.rs`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Deliver {
    pub delivery: i64,
}

impl Payload for Deliver {
    const KIND: &'static str = "webhook";
}

/// Records `event` about `video` for every endpoint of its app that wants it; returns
/// whether any delivery was queued.
pub async fn record(conn: &mut AsyncPgConnection, video: &Video, event: &str) -> QueryResult<bool> {
    let hooks = db::webhooks::list(conn, video.app_id).await?;
    let wanted: Vec<_> = hooks
        .iter()
        .filter(|h| h.events.is_empty() || h.events.iter().any(|e| e == event))
        .collect();
    if wanted.is_empty() {
        return Ok(false);
    }
    let event_id = format!("evt_{}", hex::encode(rand::random::<[u8; 12]>()));
    let payload = super::payload(&event_id, event, video, Utc::now());
    for hook in wanted {
        let delivery =
            db::webhooks::insert_delivery(conn, hook, video.id, &event_id, event, &payload).await?;
        let job = NewJob::new(&Deliver { delivery }).for_app(video.app_id);
        queue::enqueue(conn, job).await?;
    }
    Ok(true)
}
