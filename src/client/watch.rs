//! Following a video until it is playable or failed: the `videoStatus` subscription over
//! `/graphql/ws` (graphql-transport-ws), with a progress bar; polling if the socket fails.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Client, ClientError, Output};

const FINAL: [&str; 3] = ["PLAYABLE", "TRANSCODE_FAILED", "UPLOAD_FAILED"];

fn bar(out: &Output) -> ProgressBar {
    if !out.tty {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(100);
    bar.set_style(
        ProgressStyle::with_template("{msg:20!} [{bar:30.green/white}] {pos:>3}%  {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar
}

/// Waits for a final state; returns `{status, error}`.
pub async fn follow(client: &Client, vid: &str, out: &Output) -> Result<Value, ClientError> {
    let progress = bar(out);
    let result = match subscribe(client, vid, &progress, out).await {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::debug!(error = %e, "subscription failed; polling");
            poll(client, vid, &progress, out).await
        }
    };
    progress.finish_and_clear();
    result
}

fn show(progress: &ProgressBar, out: &Output, status: &str, pct: u64, last: &mut String) {
    progress.set_message(status.to_string());
    progress.set_position(pct);
    if !out.tty && !out.json && last != status {
        println!("status: {status}");
    }
    *last = status.to_string();
}

async fn subscribe(
    client: &Client,
    vid: &str,
    progress: &ProgressBar,
    out: &Output,
) -> Result<Value, ClientError> {
    let token = client.token().await?;
    let ws_url = format!("{}/graphql/ws", client.base().replacen("http", "ws", 1));
    let fail = |e: String| ClientError::Network {
        url: ws_url.clone(),
        reason: e,
    };
    let mut req = ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| fail(e.to_string()))?;
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })))
        .await
        .map_err(|e| fail(e.to_string()))?;
    ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { videoStatus(id: $id) { status progress error deleted } }",
        "variables": { "id": vid } } })))
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut last = String::new();
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg.map_err(|e| fail(e.to_string()))? else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        match v["type"].as_str() {
            Some("next") => {
                if let Some(err) = v["payload"]["errors"].as_array().and_then(|e| e.first()) {
                    return Err(ClientError::Api {
                        code: err["extensions"]["code"].as_str().unwrap_or("ERROR").into(),
                        message: err["message"].as_str().unwrap_or("").into(),
                    });
                }
                let e = &v["payload"]["data"]["videoStatus"];
                let status = e["status"].as_str().unwrap_or("");
                show(
                    progress,
                    out,
                    status,
                    e["progress"].as_u64().unwrap_or(0),
                    &mut last,
                );
                if e["deleted"] == true {
                    return Err(ClientError::Api {
                        code: "NOT_FOUND".into(),
                        message: "the video was deleted".into(),
                    });
                }
                if FINAL.contains(&status) {
                    let _ = ws.close(None).await;
                    return Ok(json!({ "status": status, "error": e["error"] }));
                }
            }
            Some("error") | Some("complete") => return Err(fail(text.to_string())),
            _ => {}
        }
    }
    Err(fail("the server closed the connection".into()))
}

async fn poll(
    client: &Client,
    vid: &str,
    progress: &ProgressBar,
    out: &Output,
) -> Result<Value, ClientError> {
    let mut last = String::new();
    loop {
        let v = super::commands::video(client, vid, "status progress error").await?;
        let status = v["status"].as_str().unwrap_or("").to_string();
        show(
            progress,
            out,
            &status,
            v["progress"].as_u64().unwrap_or(0),
            &mut last,
        );
        if FINAL.contains(&status.as_str()) {
            return Ok(json!({ "status": status, "error": v["error"] }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
