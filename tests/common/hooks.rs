//! A webhook receiver for tests: records each POST's `Reel-Signature` and body, checks
//! signatures, and makes events happen (a tiny tus upload).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use poem::http::StatusCode;
use poem::{EndpointExt, Route, handler, post};

/// What the receiver saw: (Reel-Signature, body).
pub type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

#[derive(Clone)]
struct Receiver {
    seen: Seen,
    fail_first: usize,
}

#[handler]
fn hook(req: &poem::Request, body: Vec<u8>, state: poem::web::Data<&Receiver>) -> StatusCode {
    let sig = req
        .headers()
        .get("reel-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut seen = state.seen.lock().unwrap();
    seen.push((sig, body));
    if seen.len() <= state.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// An HTTP receiver on loopback `port` answering 500 to the first `fail_first` POSTs.
pub async fn receiver(port: u16, fail_first: usize) -> Seen {
    receiver_at(&format!("127.0.0.1:{port}"), fail_first).await
}

/// A receiver listening on `addr` (`[::1]:port` for IPv6).
pub async fn receiver_at(addr: &str, fail_first: usize) -> Seen {
    let seen: Seen = Arc::default();
    let app = Route::new().at("/hook", post(hook)).data(Receiver {
        seen: seen.clone(),
        fail_first,
    });
    let listener = poem::listener::TcpListener::bind(addr.to_string());
    tokio::spawn(poem::Server::new(listener).run(app));
    tokio::time::sleep(Duration::from_millis(200)).await;
    seen
}

pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

pub const CREATE: &str = "mutation($url: String!, $events: [String!]!) {
    createWebhook(url: $url, events: $events) { id secret events } }";

/// Uploads a few bytes through tus (no transcode) with a `passthrough`; returns the vid.
pub async fn upload(http: &reqwest::Client, base: &str, token: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let meta = format!(
        "filename {},autoTranscode {},passthrough {}",
        b64("note.bin"),
        b64("false"),
        b64("order-42")
    );
    let created = http
        .post(format!("{base}/files/"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "5")
        .header("Upload-Metadata", meta)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("{base}{location}")
    };
    let done = http
        .patch(url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 204);
    done.headers()["reel-video-id"]
        .to_str()
        .unwrap()
        .to_string()
}

pub async fn wait_seen(seen: &Seen, n: usize, secs: u64) {
    for _ in 0..secs * 10 {
        if seen.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "receiver saw {} POSTs, expected {n}",
        seen.lock().unwrap().len()
    );
}
