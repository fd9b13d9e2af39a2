//! The tus requests `reel upload` makes: create, ask the offset, PATCH a chunk (retried
//! after a dropped connection or a refusal that passes), and the upload URLs remembered
//! between runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use indicatif::ProgressBar;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::upload::UploadOptions;
use super::{Client, ClientError};

/// Remembered upload URLs, in `$XDG_STATE_HOME/reel/uploads.json`.
pub(super) struct Resumes {
    path: Option<PathBuf>,
    pub(super) map: BTreeMap<String, String>,
}

impl Resumes {
    pub(super) fn load() -> Self {
        let path = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state")))
            .map(|d| d.join("reel/uploads.json"));
        let map = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self { path, map }
    }

    pub(super) fn save(&self) {
        if let Some(path) = &self.path {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = path.with_extension("json.tmp");
            if std::fs::write(
                &tmp,
                serde_json::to_vec_pretty(&self.map).unwrap_or_default(),
            )
            .is_ok()
            {
                let _ = std::fs::rename(tmp, path);
            }
        }
    }
}

/// The server's offset of an unfinished upload (and the vid once complete); `None`
/// when the server no longer knows it (expired or deleted).
pub(super) async fn offset_of(
    client: &Client,
    url: &str,
) -> Result<Option<(u64, Option<String>)>, ClientError> {
    let resp = client
        .signed(reqwest::Method::HEAD, url, Some(b""))?
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .map_err(|e| ClientError::network(url, e))?;
    match resp.status().as_u16() {
        200 | 204 => {
            let header = |n: &str| {
                resp.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let offset = header("upload-offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            Ok(Some((offset, header("reel-video-id"))))
        }
        404 | 410 => Ok(None),
        status => Err(ClientError::Server {
            status,
            message: format!("HEAD {url}"),
        }),
    }
}

pub(super) async fn create(
    client: &Client,
    name: &str,
    size: u64,
    opts: &UploadOptions,
) -> Result<String, ClientError> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut meta = vec![
        format!("filename {}", b64(name)),
        format!(
            "autoTranscode {}",
            b64(if opts.transcode { "true" } else { "false" })
        ),
    ];
    if let Some(p) = opts.priority {
        meta.push(format!("priority {}", b64(&p.to_string())));
    }
    let url = format!("{}/files/", client.base());
    let resp = client
        .signed(reqwest::Method::POST, &url, Some(b""))?
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", size.to_string())
        .header("Upload-Metadata", meta.join(","))
        .send()
        .await
        .map_err(|e| ClientError::network(&url, e))?;
    let status = resp.status().as_u16();
    if status != 201 {
        let message = resp.text().await.unwrap_or_default();
        return Err(ClientError::Server { status, message });
    }
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ClientError::Server {
            status,
            message: "no Location".into(),
        })?;
    Ok(url::Url::parse(&url)
        .and_then(|base| base.join(location))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| location.to_string()))
}

/// PATCHes in a row that may fail before the upload gives up.
pub(super) const RETRIES: u32 = 5;

pub(super) fn retryable(e: &ClientError) -> bool {
    match e {
        ClientError::Network { .. } => true,
        ClientError::Server { status, .. } => matches!(status, 409 | 423 | 429 | 500..=599),
        _ => false,
    }
}

/// Sends `len` bytes from `offset`; returns the new offset and the vid when complete.
#[allow(clippy::too_many_arguments)]
pub(super) async fn patch(
    client: &Client,
    url: &str,
    path: &Path,
    offset: u64,
    len: u64,
    progress: &ProgressBar,
    limit_rate: Option<u64>,
    started: Instant,
    sent_before: u64,
) -> Result<(u64, Option<String>), ClientError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ClientError::File(e.to_string()))?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(|e| ClientError::File(e.to_string()))?;
    let reader = file.take(len);
    let progress2 = progress.clone();
    let mut sent = sent_before;
    let body = tokio_util::io::ReaderStream::with_capacity(reader, 256 << 10).then(move |chunk| {
        let progress = progress2.clone();
        if let Ok(c) = &chunk {
            sent += c.len() as u64;
            progress.inc(c.len() as u64);
        }
        let wait = limit_rate.map(|rate| {
            let due = Duration::from_secs_f64(sent as f64 / rate.max(1) as f64);
            due.saturating_sub(started.elapsed())
        });
        async move {
            if let Some(w) = wait.filter(|w| !w.is_zero()) {
                tokio::time::sleep(w).await;
            }
            chunk
        }
    });
    let resp = client
        .signed(reqwest::Method::PATCH, url, None)?
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .header("Content-Length", len.to_string())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .map_err(|e| ClientError::network(url, e))?;
    let status = resp.status().as_u16();
    if status != 204 {
        let message = resp.text().await.unwrap_or_default();
        return Err(ClientError::Server { status, message });
    }
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let next = header("upload-offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(offset + len);
    Ok((next, header("reel-video-id")))
}
