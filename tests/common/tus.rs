//! A minimal tus client for tests (bearer-token auth), plus media helpers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Digest;
use reqwest::{Method, Response};

use super::TestApp;

pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(md5::Md5::digest(bytes))
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

pub struct Tus<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl Tus<'_> {
    pub fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.app
            .http
            .request(method, url)
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
    }

    /// POST /files/ with these headers; returns the response.
    pub async fn create(&self, headers: &[(&str, String)]) -> Response {
        let mut req = self.request(Method::POST, &self.app.url("/files/"));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.send().await.unwrap()
    }

    /// Creates an upload of `len` bytes and returns its URL.
    pub async fn create_url(&self, len: usize, meta: &[(&str, &str)]) -> String {
        let resp = self
            .create(&[
                ("Upload-Length", len.to_string()),
                ("Upload-Metadata", metadata(meta)),
            ])
            .await;
        assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
        resp.headers()["location"].to_str().unwrap().to_string()
    }

    pub async fn patch(&self, url: &str, offset: usize, chunk: Vec<u8>) -> Response {
        self.request(Method::PATCH, url)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(chunk)
            .send()
            .await
            .unwrap()
    }

    pub async fn head(&self, url: &str) -> Response {
        self.request(Method::HEAD, url).send().await.unwrap()
    }

    /// The server's offset of an upload.
    pub async fn offset(&self, url: &str) -> u64 {
        let resp = self.head(url).await;
        assert_eq!(resp.status(), 200);
        resp.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }
}

pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}
