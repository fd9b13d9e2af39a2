//! Live events under load (issue 14, robustness): each app has its own channel, so a busy
//! tenant cannot make another's subscribers lag; a subscriber that lags is sent the
//! current state of its videos instead of a silent gap. Real Redis and Postgres; the
//! streams are the ones GraphQL subscriptions read.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::TestApp;
use futures_util::StreamExt;
use reel::events::VideoEvent;
use reel::model::{AppId, VideoId, VideoStatus};

/// More events than an app's channel holds.
const FLOOD: i16 = 3000;

fn event(app: AppId, video: VideoId, status: VideoStatus, progress: i16) -> VideoEvent {
    VideoEvent {
        app_id: app,
        video_id: video,
        status,
        progress,
        error: None,
        deleted: false,
        ladder_complete: true,
        rendition_added: None,
        at: Utc::now(),
    }
}

async fn flood(app: &TestApp, owner: AppId, video: VideoId) {
    for n in 0..FLOOD {
        let e = event(owner, video, VideoStatus::Transcoding, n % 100);
        app.reel.events.publish(&e).await.unwrap();
    }
    // Let the relay hand everything to the local channels.
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_tenant_cannot_make_another_lag() {
    let app = TestApp::start().await;
    let (busy, quiet) = (app.create_app("busy").await, app.create_app("quiet").await);
    let noisy = app.insert_video(busy.app_id, VideoStatus::Uploaded).await;
    let calm = app.insert_video(quiet.app_id, VideoStatus::Uploaded).await;
    let mut quiet_events = app.reel.events.app_events(quiet.app_id);

    // An event only the live channel carries (the database still says UPLOADED)…
    let live = event(quiet.app_id, calm, VideoStatus::Transcoding, 42);
    app.reel.events.publish(&live).await.unwrap();
    // …then the other tenant floods.
    flood(&app, busy.app_id, noisy).await;

    // (The insert's own event may come first.) Had the channel lagged, the live event
    // would be gone and only the database's state could be sent again.
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = quiet_events.next().await.unwrap();
            assert_eq!(e.app_id, quiet.app_id);
            if e.progress == 42 {
                return e;
            }
        }
    })
    .await
    .expect("the quiet app's live event arrives");
    assert_eq!(got.video_id, calm);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lagging_subscriber_is_sent_current_states() {
    let app = TestApp::start().await;
    let alpha = app.create_app("alpha").await;
    let finished = app.insert_video(alpha.app_id, VideoStatus::Playable).await;
    let busy = app
        .insert_video(alpha.app_id, VideoStatus::Transcoding)
        .await;
    let mut events = app.reel.events.app_events(alpha.app_id);

    // The subscriber does not read while its app makes more events than its channel
    // holds: the one saying `finished` is done is among those pushed out.
    let done = event(alpha.app_id, finished, VideoStatus::Playable, 100);
    app.reel.events.publish(&done).await.unwrap();
    flood(&app, alpha.app_id, busy).await;

    let mut seen = Vec::new();
    let caught_up = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = events.next().await {
            seen.push(e.clone());
            if e.video_id == finished {
                return e;
            }
        }
        panic!("the stream ended");
    })
    .await
    .expect("the finished video's state is sent again");
    assert_eq!(caught_up.status, VideoStatus::Playable);
    assert!(
        seen.len() < FLOOD as usize,
        "the lag was skipped, not replayed event by event ({} events)",
        seen.len()
    );
}
