//! The client of `bench/subscribers`: opens N graphql-transport-ws subscriptions to
//! `videoEvents`, reports when every one is acknowledged, then waits for one event on each
//! and prints how long after the event's `at` each arrived (JSON on stdout).
//!
//! Usage: subscribers URL TOKEN N [TIMEOUT_SECS]
//!   URL: ws://host:port/graphql/ws. Prints `ready` on stderr once all N are subscribed.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Connections being opened at once (the server's accept queue is finite).
const OPENING: usize = 256;

enum Report {
    Subscribed,
    Failed(String),
    /// Milliseconds from the event's `at` to its arrival here.
    Event(f64),
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, token, n) = match args.as_slice() {
        [_, url, token, n, ..] => (url.clone(), token.clone(), n.parse::<usize>().unwrap()),
        _ => {
            eprintln!("usage: subscribers URL TOKEN N [TIMEOUT_SECS]");
            std::process::exit(2);
        }
    };
    let timeout = Duration::from_secs(args.get(4).map_or(120, |s| s.parse().unwrap()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(OPENING));
    let started = Instant::now();
    for _ in 0..n {
        let (url, token, tx, gate) = (url.clone(), token.clone(), tx.clone(), gate.clone());
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            if let Err(e) = subscriber(&url, &token, &tx, permit).await {
                let _ = tx.send(Report::Failed(e));
            }
        });
    }
    drop(tx);
    let (mut subscribed, mut failed, mut latencies) = (0, Vec::new(), Vec::new());
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    while subscribed + failed.len() < n || latencies.len() < subscribed {
        let report = tokio::select! {
            r = rx.recv() => r,
            () = &mut deadline => None,
        };
        match report {
            Some(Report::Subscribed) => {
                subscribed += 1;
                if subscribed + failed.len() == n {
                    let secs = started.elapsed().as_secs_f64();
                    eprintln!(
                        "ready {subscribed} subscribed, {} failed in {secs:.1} s",
                        failed.len()
                    );
                }
            }
            Some(Report::Failed(e)) => failed.push(e),
            Some(Report::Event(ms)) => latencies.push(ms),
            None => break,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
    };
    let mut errors: Vec<&String> = failed.iter().collect();
    errors.dedup();
    errors.truncate(3);
    let out = json!({
        "subscribers": n,
        "subscribed": subscribed,
        "failed": failed.len(),
        "errors": errors,
        "received": latencies.len(),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": latencies.last(),
    });
    println!("{out}");
}

async fn subscriber(
    url: &str,
    token: &str,
    tx: &mpsc::UnboundedSender<Report>,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), String> {
    let mut req = url.into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    // Small buffers, so the client's own memory does not limit how many it can hold.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true)
        .await
        .map_err(|e| e.to_string())?;
    let send = |v: Value| Message::Text(v.to_string().into());
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    ws.send(send(init)).await.map_err(|e| e.to_string())?;
    let mut permit = Some(permit);
    let mut seen = false;
    while let Some(msg) = ws.next().await {
        let text = match msg.map_err(|e| e.to_string())? {
            Message::Text(text) => text,
            // The answer to the ping sent after subscribing: the server has read (and so
            // registered) the subscription. Let the next connection open.
            Message::Pong(_) => {
                if let Some(permit) = permit.take() {
                    let _ = tx.send(Report::Subscribed);
                    drop(permit);
                }
                continue;
            }
            Message::Close(frame) => return Err(format!("closed: {frame:?}")),
            _ => continue,
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        match v["type"].as_str() {
            Some("connection_ack") => {
                let query = "subscription { videoEvents { videoId status at } }";
                let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
                ws.send(send(sub)).await.map_err(|e| e.to_string())?;
                let ping = Message::Ping(Vec::new().into());
                ws.send(ping).await.map_err(|e| e.to_string())?;
            }
            Some("ping") => {
                let pong = json!({ "type": "pong" });
                ws.send(send(pong)).await.map_err(|e| e.to_string())?;
            }
            Some("next") => {
                let at = v["payload"]["data"]["videoEvents"]["at"]
                    .as_str()
                    .unwrap_or("");
                let at = chrono::DateTime::parse_from_rfc3339(at).map_err(|e| e.to_string())?;
                let late = chrono::Utc::now() - at.with_timezone(&chrono::Utc);
                let ms = late.num_microseconds().unwrap_or(0) as f64 / 1000.0;
                // Stay connected, as a viewer would: sockets closing here would make the
                // server busy with closes while the event is still going out to others.
                if !seen {
                    seen = true;
                    let _ = tx.send(Report::Event(ms));
                }
            }
            Some("error") => return Err(format!("error: {v}")),
            _ => {}
        }
    }
    if seen {
        Ok(())
    } else {
        Err("closed before the event".into())
    }
}
