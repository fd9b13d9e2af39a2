//! `reel upload`: tus uploads that survive Ctrl-C. The upload URL of each file is
//! remembered (by server, path, size and mtime), so running the command again asks the
//! server where it stopped and sends only the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{Client, ClientError, Output, watch};

/// Bytes per PATCH: what a Ctrl-C can cost at most is re-sending the chunk in flight.
const CHUNK: u64 = 32 << 20;

pub struct UploadOptions {
    pub wait: bool,
    pub priority: Option<i32>,
    pub transcode: bool,
    /// Bytes per second at most (None: as fast as the link goes).
    pub limit_rate: Option<u64>,
}

/// Remembered upload URLs, in `$XDG_STATE_HOME/reel/uploads.json`.
struct Resumes {
    path: Option<PathBuf>,
    map: BTreeMap<String, String>,
}

impl Resumes {
    fn load() -> Self {
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

    fn save(&self) {
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

fn bar(size: u64, name: &str, out: &Output) -> ProgressBar {
    if !out.tty {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:20!} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_message(name.to_string());
    bar
}

/// Uploads every file in turn; returns one JSON result per file.
pub async fn upload(
    client: &Client,
    files: &[PathBuf],
    opts: &UploadOptions,
    out: &Output,
) -> Result<Vec<Value>, ClientError> {
    let mut results = Vec::new();
    for file in files {
        let mut result = upload_one(client, file, opts, out).await?;
        if opts.wait && opts.transcode {
            let vid = result["vid"].as_str().unwrap_or_default().to_string();
            let video = watch::follow(client, &vid, out).await?;
            result["status"] = video["status"].clone();
            result["error"] = video["error"].clone();
            if video["status"] == "PLAYABLE" {
                let play = super::commands::play_url(client, &vid, None).await?;
                result["play_url"] = play["url"].clone();
            }
        }
        out.line(&result, || {
            let mut s = format!(
                "{}: vid {} ({} bytes sent{})",
                file.display(),
                result["vid"].as_str().unwrap_or("?"),
                result["bytes_sent"],
                match result["resumed_at"].as_u64() {
                    Some(0) | None => String::new(),
                    Some(at) => format!(", resumed at byte {at}"),
                }
            );
            if let Some(err) = result["error"].as_str() {
                s.push_str(&format!("\nerror: {err}"));
            }
            if let Some(url) = result["play_url"].as_str() {
                s.push_str(&format!("\nplay: {url}"));
            }
            s
        });
        results.push(result);
    }
    Ok(results)
}

async fn upload_one(
    client: &Client,
    file: &Path,
    opts: &UploadOptions,
    out: &Output,
) -> Result<Value, ClientError> {
    let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let meta = std::fs::metadata(&abs)
        .map_err(|e| ClientError::File(format!("{}: {e}", file.display())))?;
    if !meta.is_file() {
        return Err(ClientError::File(format!(
            "{} is not a file",
            file.display()
        )));
    }
    let size = meta.len();
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let key = format!("{}|{}|{size}|{mtime}", client.base(), abs.display());
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let mut resumes = Resumes::load();
    let mut resumed = None;
    if let Some(url) = resumes.map.get(&key).cloned() {
        match offset_of(client, &url).await? {
            Some((offset, vid)) => resumed = Some((url, offset, vid)),
            None => {
                resumes.map.remove(&key);
                resumes.save();
            }
        }
    }
    let (url, start, mut vid) = match resumed {
        Some(r) => {
            if !out.tty && !out.json {
                println!("resuming {} at byte {} of {size}", file.display(), r.1);
            }
            r
        }
        None => {
            let url = create(client, &name, size, opts).await?;
            resumes.map.insert(key.clone(), url.clone());
            resumes.save();
            (url, 0, None)
        }
    };
    let progress = bar(size, &name, out);
    progress.set_position(start);
    let started = Instant::now();
    let mut offset = start;
    let mut failures = 0;
    while offset < size && vid.is_none() {
        let len = CHUNK.min(size - offset);
        let sent = patch(
            client,
            &url,
            &abs,
            offset,
            len,
            &progress,
            opts.limit_rate,
            started,
            offset - start,
        )
        .await;
        match sent {
            Ok((next, done)) => (offset, vid, failures) = (next, done, 0),
            // A dropped connection, a write still holding the upload (423) or an offset
            // that moved (409): ask the server where it stands and go on from there.
            Err(e) if retryable(&e) && failures < RETRIES => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(200 << failures)).await;
                let Some((at, done)) = offset_of(client, &url).await? else {
                    return Err(e);
                };
                (offset, vid) = (at, done);
                progress.set_position(offset);
            }
            Err(e) => return Err(e),
        }
    }
    if vid.is_none() {
        // A zero-byte file, or the last PATCH's answer was lost: ask the server.
        vid = offset_of(client, &url).await?.and_then(|(_, v)| v);
    }
    progress.finish_and_clear();
    resumes.map.remove(&key);
    resumes.save();
    let vid = vid.ok_or_else(|| ClientError::Server {
        status: 0,
        message: "the upload completed but the server named no video".into(),
    })?;
    Ok(json!({
        "file": file.display().to_string(),
        "vid": vid,
        "size": size,
        "bytes_sent": offset - start,
        "resumed_at": start,
    }))
}

/// The server's offset of an unfinished upload (and the vid once complete); `None`
/// when the server no longer knows it (expired or deleted).
async fn offset_of(
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

async fn create(
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
const RETRIES: u32 = 5;

fn retryable(e: &ClientError) -> bool {
    match e {
        ClientError::Network { .. } => true,
        ClientError::Server { status, .. } => matches!(status, 409 | 423 | 429 | 500..=599),
        _ => false,
    }
}

/// Sends `len` bytes from `offset`; returns the new offset and the vid when complete.
#[allow(clippy::too_many_arguments)]
async fn patch(
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
