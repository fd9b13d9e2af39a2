//! The job queue under workers: priority order, no double runs, a worker killed with
//! SIGKILL, and live status over a real WebSocket.

mod common;

use std::time::Duration;

use common::media::{lavfi, wait_for};
use common::node::{Cluster, REEL};
use common::tus::{Tus, metadata};
use common::{Credentials, TestApp, graphql_at, token_at};
use futures_util::{SinkExt, StreamExt};
use reel::model::VideoId;
use reel::model::VideoStatus;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Uploads a clip without transcoding it; returns its id.
async fn uploaded(app: &TestApp, token: &str, file: &std::path::Path) -> VideoId {
    let data = std::fs::read(file).unwrap();
    let tus = Tus {
        app,
        token: token.to_string(),
    };
    let url = tus
        .create_url(
            data.len(),
            &[("filename", "clip.mp4"), ("autoTranscode", "false")],
        )
        .await;
    let resp = tus.patch(&url, 0, data).await;
    common::media::video_id_header(&resp)
}

async fn transcode(app: &TestApp, creds: &Credentials, id: VideoId, priority: i32) {
    let out = app
        .graphql(
            creds,
            "mutation($id: ID!, $p: Int) { transcode(id: $id, priority: $p) { status } }",
            json!({ "id": id.to_string(), "p": priority }),
        )
        .await;
    assert_eq!(
        out["data"]["transcode"]["status"], "TRANSCODE_QUEUED",
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_worker_takes_jobs_by_priority_and_two_never_share_one() {
    let app = TestApp::start().await; // workers are started by hand below
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "c.mp4", 320, 240, 1, false);
    let mut ids = Vec::new();
    for priority in [1, 9, 5] {
        let id = uploaded(&app, &token, &file).await;
        transcode(&app, &creds, id, priority).await;
        ids.push(id);
    }
    let mut events = app.reel.events.app_events(creds.app_id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app
        .reel
        .runner()
        .spawn(&[(reel::jobs::Lane::Media, 1)], stopped);
    let mut started = Vec::new();
    while started.len() < 3 {
        let e = tokio::time::timeout(Duration::from_secs(60), events.next())
            .await
            .unwrap()
            .unwrap();
        if e.status == VideoStatus::Transcoding && e.progress == 0 && !started.contains(&e.video_id)
        {
            started.push(e.video_id);
        }
    }
    assert_eq!(
        started,
        vec![ids[1], ids[2], ids[0]],
        "priority 9, then 5, then 1"
    );
    for id in &ids {
        wait_for(&app, creds.app_id, *id, &[VideoStatus::Playable]).await;
    }
    let _ = stop.send(true);
    worker.await.unwrap();

    // Two workers with two slots each, six jobs: each runs exactly once.
    let mut more = Vec::new();
    for _ in 0..6 {
        let id = uploaded(&app, &token, &file).await;
        transcode(&app, &creds, id, 0).await;
        more.push(id);
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let a = app
        .reel
        .runner()
        .spawn(&[(reel::jobs::Lane::Media, 2)], stopped.clone());
    let b = app
        .reel
        .runner()
        .spawn(&[(reel::jobs::Lane::Media, 2)], stopped);
    for id in &more {
        wait_for(&app, creds.app_id, *id, &[VideoStatus::Playable]).await;
        let attempts = attempts(&app, *id).await;
        assert_eq!(attempts, vec![1], "video {id} transcoded once");
    }
    let _ = stop.send(true);
    let _ = tokio::join!(a, b);
}

async fn attempts(app: &TestApp, video: VideoId) -> Vec<i32> {
    let (client, conn) =
        tokio_postgres::connect(&common::database_url(&app.db_name), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(conn);
    client
        .query("SELECT attempts FROM jobs WHERE video_id = $1", &[&video.0])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn subscription_sees_queued_transcoding_progress_transcoded() {
    let app = TestApp::builder().config(|c| c.workers = 1).start().await;
    let creds = app.create_app("alpha").await;
    let token = app.token(&creds, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "s.mp4", 640, 360, 6, true);
    let id = uploaded(&app, &token, &file).await;

    let mut req = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))).await.unwrap();
    ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { videoStatus(id: $id) { status progress } }",
        "variables": { "id": id.to_string() } } })))
        .await
        .unwrap();

    let mut seen: Vec<(String, i64)> = Vec::new();
    let mut transcode_sent = false;
    while seen.last().map(|(s, _)| s.as_str()) != Some("PLAYABLE") {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["type"] != "next" {
            continue;
        }
        let e = &v["payload"]["data"]["videoStatus"];
        seen.push((
            e["status"].as_str().unwrap().to_string(),
            e["progress"].as_i64().unwrap(),
        ));
        if !transcode_sent {
            // The current state arrived first; now start the transcode.
            assert_eq!(seen[0].0, "UPLOADED");
            transcode(&app, &creds, id, 0).await;
            transcode_sent = true;
        }
    }
    let statuses: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
    let first = |s: &str| {
        statuses
            .iter()
            .position(|x| *x == s)
            .unwrap_or_else(|| panic!("{s} in {seen:?}"))
    };
    assert!(first("UPLOADED") < first("TRANSCODE_QUEUED"));
    assert!(first("TRANSCODE_QUEUED") < first("TRANSCODING"));
    let progress: Vec<i64> = seen
        .iter()
        .filter(|(s, _)| s == "TRANSCODING")
        .map(|(_, p)| *p)
        .collect();
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress only grows: {progress:?}"
    );
    assert!(
        progress.iter().any(|p| *p > 0 && *p < 100),
        "progress steps arrive: {seen:?}"
    );
    assert!(first("TRANSCODING") < first("TRANSCODED"));
    assert_eq!(seen.last().unwrap(), &("PLAYABLE".to_string(), 100));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_transcode_loses_the_job_to_another() {
    let cluster = Cluster::new().await;
    let creds = cluster.create_app("alpha");
    let mut env = cluster.env();
    env.push(("REEL_WORKERS", "0".into()));
    let api = common::node::Node::start(env.clone()).await;
    let token = token_at(&api.base, &creds).await;
    let dir = tempfile::tempdir().unwrap();
    let file = lavfi(dir.path(), "k.mp4", 1280, 720, 20, true);
    let data = std::fs::read(&file).unwrap();
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/files/", api.base))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", data.len().to_string())
        .header("Upload-Metadata", metadata(&[("filename", "k.mp4")]))
        .send()
        .await
        .unwrap();
    let url = created.headers()["location"].to_str().unwrap().to_string();
    let done = http
        .patch(&url)
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(data)
        .send()
        .await
        .unwrap();
    let vid = done.headers()["reel-video-id"]
        .to_str()
        .unwrap()
        .to_string();

    let worker_env = |env: &Vec<(&'static str, String)>| {
        let mut env = env.clone();
        env.push(("REEL_JOBS__LEASE_SECS", "3".into()));
        env
    };
    let spawn_worker = || {
        tokio::process::Command::new(REEL)
            .arg("worker")
            .envs(worker_env(&env))
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let status = |vid: String| {
        let (http, base, creds) = (http.clone(), api.base.clone(), creds.clone());
        async move {
            let out = graphql_at(
                &http,
                &base,
                &creds,
                "query($id: ID!) { video(id: $id) { status progress error } }",
                json!({ "id": vid }),
            )
            .await;
            out["data"]["video"].clone()
        }
    };
    let mut first = spawn_worker();
    for _ in 0..300 {
        let v = status(vid.clone()).await;
        if v["status"] == "TRANSCODING" && v["progress"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ffmpegs = children_named(first.id().unwrap(), "ffmpeg");
    assert!(!ffmpegs.is_empty(), "the first worker runs ffmpeg");
    first.kill().await.unwrap(); // SIGKILL: no cleanup, the lease just stops being renewed
    // Its ffmpeg does not outlive it (parent-death signal), so it stops eating CPU.
    for _ in 0..50 {
        if ffmpegs.iter().all(|pid| !alive(*pid)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ffmpegs.iter().all(|pid| !alive(*pid)),
        "orphaned ffmpeg {ffmpegs:?}"
    );
    let _second = spawn_worker();
    let mut last = Value::Null;
    for _ in 0..1200 {
        last = status(vid.clone()).await;
        if last["status"] == "PLAYABLE" || last["status"] == "TRANSCODE_FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["status"], "PLAYABLE", "{last}");
    let out = graphql_at(
        &http,
        &api.base,
        &creds,
        "query($id: ID!) { video(id: $id) { renditions { definition } } }",
        json!({ "id": vid }),
    )
    .await;
    assert_eq!(
        out["data"]["video"]["renditions"].as_array().unwrap().len(),
        3,
        "{out}"
    );
}

/// Pids of `parent`'s children whose command is `name` (Linux /proc).
fn children_named(parent: u32, name: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            status.lines().any(|l| l == format!("Name:\t{name}"))
                && status.lines().any(|l| l == format!("PPid:\t{parent}"))
        })
        .collect()
}

/// Running (not gone, not a zombie waiting to be reaped).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .is_ok_and(|s| !s.lines().any(|l| l.starts_with("State:\tZ")))
}
