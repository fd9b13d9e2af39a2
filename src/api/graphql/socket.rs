//! GraphQL over WebSocket (`/graphql/ws`, both sub-protocols), with the controls an HTTP
//! request gets: `connection_init` within `server.ws_init_timeout_secs`, messages of at
//! most `server.ws_max_message_bytes`, every operation counted against the app's rate
//! limit, keep-alive pings (a peer silent for two of them is dropped), and the socket
//! closed when the token it was opened with expires.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{WebSocketProtocols, WsMessage};
use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{Message, WebSocketConfig, WebSocketStream};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::shared::SocketExecutor;
use crate::Reel;
use crate::auth::{AuthError, AuthMethod, Caller};
use crate::error::Coded;

/// graphql-ws close codes.
const CLOSE_INIT_TIMEOUT: u16 = 4408;
const CLOSE_FORBIDDEN: u16 = 4403;

/// First size of a socket's read buffer (it grows for a longer message, up to the limit).
/// tungstenite's default, 128 KiB, was most of an idle subscriber's memory (issue 18).
const READ_BUFFER: usize = 4 << 10;

/// The socket's limits, from `[server]`.
pub fn config(reel: &Reel) -> WebSocketConfig {
    let max = reel.config.server.ws_max_message_bytes;
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        // Each message goes out at once instead of waiting to fill a 128 KiB buffer; a
        // client that stops reading gets at most this much queued before sends fail.
        .write_buffer_size(0)
        .max_write_buffer_size(max.saturating_mul(4))
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
}

/// WebSockets this process holds (`server.ws_max_connections`).
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// One of the node's WebSocket places, given back on drop.
pub struct Place(());

impl Place {
    /// A place, unless `max` (0: no cap) are taken.
    pub fn take(max: usize) -> Option<Self> {
        let taken = OPEN.fetch_add(1, Ordering::AcqRel);
        if max > 0 && taken >= max {
            OPEN.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        metrics::gauge!(crate::metrics::WS_CONNECTIONS).set((taken + 1) as f64);
        Some(Self(()))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let left = OPEN.fetch_sub(1, Ordering::AcqRel) - 1;
        metrics::gauge!(crate::metrics::WS_CONNECTIONS).set(left as f64);
    }
}

/// What the socket needs to know of a client message.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

/// Serves one upgraded socket; `caller` is set when the upgrade request carried
/// credentials, else `connection_init` brings a token.
pub async fn serve(
    stream: WebSocketStream,
    executor: SocketExecutor,
    protocol: WebSocketProtocols,
    reel: Reel,
    caller: Option<Caller>,
) {
    let limits = reel.config.server.clone();
    let known: Arc<Mutex<Option<Caller>>> = Arc::new(Mutex::new(caller));
    let (mut sink, mut incoming) = stream.split();
    let (to_graphql, from_client) = mpsc::channel::<Vec<u8>>(16);
    let on_init = {
        let (known, auth) = (known.clone(), reel.auth.clone());
        move |payload: serde_json::Value| async move {
            let upgraded_as = known.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let caller = match upgraded_as {
                Some(caller) => caller,
                None => {
                    let token = init_token(payload).ok_or(AuthError::Missing);
                    let caller = match token {
                        Ok(token) => auth.verify_token(&token).await,
                        Err(e) => Err(e),
                    };
                    caller.map_err(|e| async_graphql::Error::new(e.to_string()))?
                }
            };
            *known.lock().unwrap_or_else(|e| e.into_inner()) = Some(caller.clone());
            let mut data = Data::default();
            data.insert(caller);
            Ok(data)
        }
    };
    let input = stream_of(from_client);
    let mut graphql = async_graphql::http::WebSocket::new(executor, input, protocol)
        .on_connection_init(on_init)
        .boxed();

    let init_deadline = tokio::time::sleep(Duration::from_secs(limits.ws_init_timeout_secs));
    tokio::pin!(init_deadline);
    let ping_every = Duration::from_secs(limits.ws_ping_secs.max(1));
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut silent_pings = 0u32;
    let mut initialised = false;
    let mut expiry: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;

    loop {
        if expiry.is_none()
            && let Some(Caller {
                method: AuthMethod::Token { expires_at },
                ..
            }) = known.lock().unwrap_or_else(|e| e.into_inner()).clone()
        {
            let left = (expires_at - chrono::Utc::now().timestamp()).max(0) as u64;
            expiry = Some(Box::pin(tokio::time::sleep(Duration::from_secs(left))));
        }
        let expired = async {
            match expiry.as_mut() {
                Some(sleep) => sleep.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            message = incoming.next() => {
                let Some(Ok(message)) = message else { break };
                silent_pings = 0;
                let bytes = match message {
                    Message::Text(text) => text.into_bytes(),
                    Message::Binary(bytes) => bytes,
                    Message::Close(_) => break,
                    _ => continue, // pings are answered by the socket itself
                };
                let envelope = serde_json::from_slice::<Envelope>(&bytes).ok();
                match envelope.as_ref().map(|e| e.kind.as_str()) {
                    Some("connection_init") => initialised = true,
                    Some("subscribe" | "start") => {
                        let caller = known.lock().unwrap_or_else(|e| e.into_inner()).clone();
                        if let Some(caller) = caller
                            && let Err(refused) =
                                reel.limits.check_request(caller.app_id, &caller.app_key).await
                        {
                            let id = envelope.and_then(|e| e.id);
                            let reply = refusal(protocol, id, &refused);
                            if sink.send(Message::Text(reply)).await.is_err() {
                                break;
                            }
                            continue;
                        }
                    }
                    _ => {}
                }
                if to_graphql.send(bytes).await.is_err() {
                    break;
                }
            }
            reply = graphql.next() => {
                let message = match reply {
                    Some(WsMessage::Text(text)) => Message::Text(text),
                    Some(WsMessage::Close(code, reason)) => Message::close_with(code, reason),
                    None => break,
                };
                let closing = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || closing {
                    break;
                }
            }
            _ = &mut init_deadline, if !initialised => {
                let _ = sink
                    .send(Message::close_with(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout"))
                    .await;
                break;
            }
            _ = pings.tick() => {
                silent_pings += 1;
                if silent_pings > 2 {
                    break; // the peer is gone
                }
                if sink.send(Message::Ping(Vec::new())).await.is_err() {
                    break;
                }
            }
            _ = expired => {
                let _ = sink
                    .send(Message::close_with(CLOSE_FORBIDDEN, "Forbidden: the token expired"))
                    .await;
                break;
            }
        }
    }
    let _ = sink.close().await;
}

/// The reply to an operation an app's limit refused, in the socket's protocol.
fn refusal(protocol: WebSocketProtocols, id: Option<String>, refused: &impl Coded) -> String {
    let error = super::errors::error_entry(refused);
    let payload = match protocol {
        WebSocketProtocols::GraphQLWS => json!([error]),
        WebSocketProtocols::SubscriptionsTransportWS => error,
    };
    json!({ "type": "error", "id": id, "payload": payload }).to_string()
}

/// The client's messages, as the stream async-graphql reads.
fn stream_of(rx: mpsc::Receiver<Vec<u8>>) -> impl futures_util::Stream<Item = Vec<u8>> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) })
}

/// What a `connection_init` payload may carry.
#[derive(Deserialize, Default)]
struct InitPayload {
    #[serde(rename = "Authorization", alias = "authorization")]
    authorization: Option<String>,
    token: Option<String>,
}

/// The bearer token of a `connection_init` payload: `{"Authorization": "Bearer …"}` or
/// `{"token": "…"}`.
fn init_token(payload: serde_json::Value) -> Option<String> {
    let payload: InitPayload = serde_json::from_value(payload).unwrap_or_default();
    match payload.authorization {
        Some(value) => {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        }
        None => payload.token,
    }
}
