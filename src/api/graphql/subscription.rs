//! Subscription root: live status of one video or of all the caller's videos.

use async_graphql::{Context, ID, Result, Subscription};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use tokio::sync::broadcast;

use super::errors::{allowed, coded, gql, reel, video_id};
use super::types::VideoEventObject;
use crate::auth::Scope;
use crate::error::ErrorCode;
use crate::events::VideoEvent;
use crate::model::AppId;

pub struct Subscription;

/// The events of one app, skipping over any a slow subscriber missed.
fn app_events(
    rx: broadcast::Receiver<VideoEvent>,
    app: AppId,
) -> impl Stream<Item = VideoEvent> + Send {
    // The guard lives as long as the stream: the gauge counts open subscriptions.
    let open = crate::metrics::GaugeGuard::new(crate::metrics::SUBSCRIPTIONS);
    stream::unfold((rx, open), |(mut rx, open)| async move {
        loop {
            match rx.recv().await {
                Ok(event) => return Some((event, (rx, open))),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "slow subscriber skipped events");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .filter(move |e| std::future::ready(e.app_id == app))
}

#[Subscription]
impl Subscription {
    /// The video's current state first, then every change until it is deleted.
    async fn video_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = VideoEventObject> + use<>> {
        let caller = allowed(ctx, Scope::Read)?;
        let id = video_id(&id)?;
        let reel = reel(ctx);
        // Subscribe before reading, so no change between the read and the stream is lost.
        let rx = reel.events.subscribe();
        let video = reel
            .videos
            .get(caller.app_id, id)
            .await
            .map_err(gql)?
            .ok_or_else(|| coded(ErrorCode::NotFound, "video not found"))?;
        let current = VideoEvent::snapshot(&video);
        let changes =
            app_events(rx, caller.app_id).filter(move |e| std::future::ready(e.video_id == id));
        let events = stream::once(async move { current }).chain(changes);
        // End right after the deletion, without waiting for another event.
        let events = stream::unfold(
            (Box::pin(events), false),
            |(mut events, finished)| async move {
                if finished {
                    return None;
                }
                let event = events.next().await?;
                let finished = event.deleted;
                Some((VideoEventObject::from(event), (events, finished)))
            },
        );
        Ok(events)
    }

    /// Every change of every video of the caller's app.
    async fn video_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = VideoEventObject> + use<>> {
        let caller = allowed(ctx, Scope::Read)?;
        let rx = reel(ctx).events.subscribe();
        Ok(app_events(rx, caller.app_id).map(VideoEventObject::from))
    }
}
