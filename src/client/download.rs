//! `reel download VID`: save a video's MP4 (or M4A) download to a file, asking the server
//! to make it first with `--enable`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::commands::{Output, video};
use super::{Client, ClientError};

/// What `reel download` was asked.
#[derive(Debug, Clone, Default)]
pub struct DownloadOptions {
    /// A rung name or `AUDIO`; default: the largest made.
    pub definition: Option<String>,
    /// File (or directory) to write; default: the server's file name, here.
    pub output: Option<PathBuf>,
    /// Ask the server to make the download when it has none, then wait for it.
    pub enable: bool,
    /// How long to wait for it.
    pub wait: Duration,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Download {
    definition: String,
    url: String,
    file_size: i64,
}

#[derive(Deserialize)]
struct Downloads {
    downloads: Vec<Download>,
}

/// What was saved (printed, also with `--json`).
#[derive(Serialize)]
struct Saved {
    path: String,
    definition: String,
    bytes: u64,
}

/// Larger rungs first, the audio file last.
fn rank(definition: &str) -> i32 {
    definition
        .parse::<crate::model::Definition>()
        .map(|d| d as i32)
        .unwrap_or(-1)
}

fn choose(list: Vec<Download>, wanted: Option<&str>) -> Option<Download> {
    match wanted {
        Some(w) => list
            .into_iter()
            .find(|d| d.definition.eq_ignore_ascii_case(w) || w.eq_ignore_ascii_case("HIGHEST")),
        None => list.into_iter().max_by_key(|d| rank(&d.definition)),
    }
}

async fn made(client: &Client, vid: &str) -> Result<Vec<Download>, ClientError> {
    let found: Downloads = video(client, vid, "downloads { definition url fileSize }").await?;
    Ok(found.downloads)
}

/// Saves the download of `vid` that `options` names.
pub async fn download(
    client: &Client,
    vid: &str,
    options: &DownloadOptions,
    out: &Output,
) -> Result<(), ClientError> {
    let wanted = options.definition.as_deref();
    let mut chosen = choose(made(client, vid).await?, wanted);
    if chosen.is_none() && options.enable {
        let definitions = wanted.map(|w| vec![w.to_ascii_uppercase()]);
        let _: serde_json::Value = client
            .graphql(
                "mutation($id: ID!, $d: [String!]) { enableDownloads(videoId: $id, definitions: $d) { id } }",
                json!({ "id": vid, "d": definitions }),
            )
            .await?;
        let started = Instant::now();
        while chosen.is_none() && started.elapsed() < options.wait {
            tokio::time::sleep(Duration::from_secs(1)).await;
            chosen = choose(made(client, vid).await?, wanted);
        }
    }
    let Some(chosen) = chosen else {
        return Err(ClientError::Api {
            code: "NOT_FOUND".into(),
            message: match options.enable {
                true => format!("video {vid} has no such download yet (still transcoding?)"),
                false => format!(
                    "video {vid} has no such download; `reel download {vid} --enable` asks for it"
                ),
            },
        });
    };
    let saved = save(client, &chosen, vid, options.output.as_deref(), out).await?;
    out.line(&saved, || {
        format!(
            "{}\t{}\t{} bytes",
            saved.path, saved.definition, saved.bytes
        )
    });
    Ok(())
}

/// Streams the file to `output` (through `NAME.part`, renamed when complete).
async fn save(
    client: &Client,
    download: &Download,
    vid: &str,
    output: Option<&Path>,
    out: &Output,
) -> Result<Saved, ClientError> {
    let net = |e: reqwest::Error| ClientError::Network {
        url: download.url.clone(),
        reason: e.to_string(),
    };
    let resp = client.http().get(&download.url).send().await.map_err(net)?;
    let status = resp.status().as_u16();
    if status >= 400 {
        let message = resp.text().await.unwrap_or_default();
        return Err(ClientError::Server { status, message });
    }
    let extension = if download.definition == "AUDIO" {
        "m4a"
    } else {
        "mp4"
    };
    let default_name = format!("{vid}-{}.{extension}", download.definition);
    let path = match output {
        Some(p) if p.is_dir() => p.join(default_name),
        Some(p) => p.to_path_buf(),
        None => PathBuf::from(default_name),
    };
    let part = path.with_extension(format!("{extension}.part"));
    let io = |e: std::io::Error| ClientError::File(format!("{}: {e}", path.display()));
    let mut file = tokio::fs::File::create(&part).await.map_err(io)?;
    let bar = match out.tty {
        true => ProgressBar::new(download.file_size.max(0) as u64),
        false => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template("{bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}")
            .expect("template"),
    );
    let mut bytes = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(net)?;
        file.write_all(&chunk).await.map_err(io)?;
        bytes += chunk.len() as u64;
        bar.set_position(bytes);
    }
    file.flush().await.map_err(io)?;
    drop(file);
    bar.finish_and_clear();
    tokio::fs::rename(&part, &path).await.map_err(io)?;
    Ok(Saved {
        path: path.display().to_string(),
        definition: download.definition.clone(),
        bytes,
    })
}
