//! `reel upload`: tus uploads that survive Ctrl-C. The upload URL of each file is
//! remembered (by server, path, size and mtime), so running the command again asks the
//! server where it stopped and sends only the rest.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::tus::{RETRIES, Resumes, create, offset_of, patch, retryable};
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

/// What `reel upload` prints for one file; with `--json`, these keys.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    pub file: String,
    pub vid: String,
    pub size: u64,
    pub bytes_sent: u64,
    pub resumed_at: u64,
    /// With `--wait` (and transcoding): `status` and `error` of the end state.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub settled: Option<watch::Settled>,
    /// With `--wait`, once PLAYABLE: the play URL, null if the server gave none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub play_url: Option<Option<String>>,
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

/// Uploads every file in turn; returns what was printed for each.
pub async fn upload(
    client: &Client,
    files: &[PathBuf],
    opts: &UploadOptions,
    out: &Output,
) -> Result<Vec<Uploaded>, ClientError> {
    let mut results = Vec::new();
    for file in files {
        let mut result = upload_one(client, file, opts, out).await?;
        if opts.wait && opts.transcode {
            let settled = watch::follow(client, &result.vid, out).await?;
            if settled.status == "PLAYABLE" {
                let play = super::commands::play_url(client, &result.vid, None).await?;
                result.play_url = Some(play.map(|p| p.url));
            }
            result.settled = Some(settled);
        }
        out.line(&result, || {
            let mut s = format!(
                "{}: vid {} ({} bytes sent{})",
                file.display(),
                result.vid,
                result.bytes_sent,
                match result.resumed_at {
                    0 => String::new(),
                    at => format!(", resumed at byte {at}"),
                }
            );
            if let Some(err) = result.settled.as_ref().and_then(|v| v.error.as_ref()) {
                s.push_str(&format!("\nerror: {err}"));
            }
            if let Some(url) = result.play_url.as_ref().and_then(Option::as_ref) {
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
) -> Result<Uploaded, ClientError> {
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
    Ok(Uploaded {
        file: file.display().to_string(),
        vid,
        size,
        bytes_sent: offset - start,
        resumed_at: start,
        settled: None,
        play_url: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn uploaded() -> Uploaded {
        Uploaded {
            file: "a.mp4".into(),
            vid: "v1".into(),
            size: 10,
            bytes_sent: 6,
            resumed_at: 4,
            settled: None,
            play_url: None,
        }
    }

    #[test]
    fn json_keys_are_those_of_the_cli() {
        let plain = uploaded();
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            json!({ "file": "a.mp4", "vid": "v1", "size": 10, "bytes_sent": 6, "resumed_at": 4 })
        );
        let waited = Uploaded {
            settled: Some(watch::Settled {
                status: "PLAYABLE".into(),
                error: None,
            }),
            play_url: Some(Some("http://cdn/m.m3u8".into())),
            ..uploaded()
        };
        assert_eq!(
            serde_json::to_value(&waited).unwrap(),
            json!({ "file": "a.mp4", "vid": "v1", "size": 10, "bytes_sent": 6, "resumed_at": 4,
                    "status": "PLAYABLE", "error": null, "play_url": "http://cdn/m.m3u8" })
        );
    }
}
