//! Subscription root: live status of one video or of all the caller's videos.

use async_graphql::{Context, ID, Result, Subscription};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};

use super::errors::{allowed, coded, gql, reel, video_id};
use super::types::VideoEventObject;
use crate::auth::Scope;
use crate::error::ErrorCode;
use crate::events::VideoEvent;
use crate::model::AppId;
use crate::services::Reel;

pub struct Subscription;

/// The root field `shared.rs` renders once per event for every subscriber asking the same.
pub(super) const VIDEO_EVENTS: &str = "videoEvents";

/// Set on a request by `shared.rs`: `videoEvents` yields this event alone (none: nothing,
/// which only checks the request) instead of the live stream.
pub(super) struct GivenEvent(pub Option<VideoEvent>);

/// The events of one app (a slow subscriber is sent current states instead of a gap),
/// counted as an open subscription for as long as the stream lives.
fn app_events(reel: &Reel, app: AppId) -> impl Stream<Item = VideoEvent> + Send + use<> {
    let open = crate::metrics::GaugeGuard::new(crate::metrics::SUBSCRIPTIONS);
    reel.events.app_events(app).map(move |event| {
        let _open = &open;
        event
    })
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
        let changes = app_events(reel, caller.app_id);
        let video = reel
            .videos
            .get(caller.app_id, id)
            .await
            .map_err(gql)?
            .ok_or_else(|| coded(ErrorCode::NotFound, "video not found"))?;
        let current = VideoEvent::snapshot(&video);
        let changes = changes.filter(move |e| std::future::ready(e.video_id == id));
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
        let events = match ctx.data_opt::<GivenEvent>() {
            Some(GivenEvent(given)) => stream::iter(given.clone()).boxed(),
            None => app_events(reel(ctx), caller.app_id).boxed(),
        };
        Ok(events.map(VideoEventObject::from))
    }
}
