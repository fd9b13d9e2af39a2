//! Following a video until it is playable or failed: the `videoStatus` subscription over
//! `/graphql/ws` (graphql-transport-ws), with a progress bar; polling if the socket fails.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Client, ClientError, GraphqlError, Output};

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

/// How a followed video ended; `reel upload --wait --json` prints both fields (`error`
/// as null when there is none).
#[derive(Debug, Serialize)]
pub struct Settled {
    pub status: String,
    pub error: Option<String>,
}

/// A video's state, from the subscription's `videoStatus` or from polling `video`.
#[derive(Deserialize)]
struct StatusEvent {
    status: String,
    progress: i32,
    error: Option<String>,
    /// Only the subscription asks for it.
    #[serde(default)]
    deleted: bool,
}

impl StatusEvent {
    /// The fields polling asks for.
    const POLLED: &str = "status progress error";

    /// The end state, if this is one.
    fn settled(self) -> Option<Settled> {
        if !FINAL.contains(&self.status.as_str()) {
            return None;
        }
        Some(Settled {
            status: self.status,
            error: self.error,
        })
    }
}

/// The graphql-transport-ws messages the client acts on; the others (`connection_ack`,
/// `ping`, ...) are skipped.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage {
    Next {
        payload: NextPayload,
    },
    Error,
    Complete,
    #[serde(other)]
    Other,
}

/// One result of the subscription: `data`, or the errors that ended it.
#[derive(Deserialize)]
struct NextPayload {
    data: Option<NextData>,
    errors: Option<Vec<GraphqlError>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NextData {
    video_status: StatusEvent,
}

/// Waits for a final state.
pub async fn follow(client: &Client, vid: &str, out: &Output) -> Result<Settled, ClientError> {
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

fn show(progress: &ProgressBar, out: &Output, event: &StatusEvent, last: &mut String) {
    let status = event.status.as_str();
    progress.set_message(status.to_string());
    progress.set_position(u64::try_from(event.progress).unwrap_or(0));
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
) -> Result<Settled, ClientError> {
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
        let message: ServerMessage = serde_json::from_str(&text)
            .map_err(|e| fail(format!("unexpected message {text}: {e}")))?;
        match message {
            ServerMessage::Next { payload } => {
                if let Some(err) = payload.errors.into_iter().flatten().next() {
                    return Err(err.into());
                }
                let Some(NextData { video_status: e }) = payload.data else {
                    return Err(fail(format!("a result without data: {text}")));
                };
                show(progress, out, &e, &mut last);
                if e.deleted {
                    return Err(ClientError::Api {
                        code: "NOT_FOUND".into(),
                        message: "the video was deleted".into(),
                    });
                }
                if let Some(settled) = e.settled() {
                    let _ = ws.close(None).await;
                    return Ok(settled);
                }
            }
            ServerMessage::Error | ServerMessage::Complete => return Err(fail(text.to_string())),
            ServerMessage::Other => {}
        }
    }
    Err(fail("the server closed the connection".into()))
}

async fn poll(
    client: &Client,
    vid: &str,
    progress: &ProgressBar,
    out: &Output,
) -> Result<Settled, ClientError> {
    let mut last = String::new();
    loop {
        let e: StatusEvent = super::commands::video(client, vid, StatusEvent::POLLED).await?;
        show(progress, out, &e, &mut last);
        if let Some(settled) = e.settled() {
            return Ok(settled);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_graphql_ws_messages() {
        let next = r#"{"id":"1","type":"next","payload":{"data":{"videoStatus":
            {"status":"PLAYABLE","progress":100,"error":null,"deleted":false}}}}"#;
        let ServerMessage::Next { payload } = serde_json::from_str(next).unwrap() else {
            panic!("not next");
        };
        let settled = payload.data.unwrap().video_status.settled().unwrap();
        assert_eq!((settled.status.as_str(), settled.error), ("PLAYABLE", None));

        let failed = r#"{"id":"1","type":"next","payload":{"data":null,
            "errors":[{"message":"video not found","extensions":{"code":"NOT_FOUND"}}]}}"#;
        let ServerMessage::Next { payload } = serde_json::from_str(failed).unwrap() else {
            panic!("not next");
        };
        let err: ClientError = payload.errors.unwrap().remove(0).into();
        assert_eq!(err.to_string(), "NOT_FOUND: video not found");

        for (text, want) in [
            (r#"{"type":"connection_ack"}"#, "other"),
            (r#"{"type":"ping","payload":{}}"#, "other"),
            (r#"{"id":"1","type":"complete"}"#, "complete"),
            (
                r#"{"id":"1","type":"error","payload":[{"message":"x"}]}"#,
                "error",
            ),
        ] {
            let got = match serde_json::from_str(text).unwrap() {
                ServerMessage::Next { .. } => "next",
                ServerMessage::Error => "error",
                ServerMessage::Complete => "complete",
                ServerMessage::Other => "other",
            };
            assert_eq!(got, want, "{text}");
        }
        assert!(serde_json::from_str::<ServerMessage>("not json").is_err());
    }
}
