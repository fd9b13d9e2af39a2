//! `reel status`, `reel videos`, `reel play`, `reel delete`: one GraphQL call each,
//! printed as plain lines (or JSON with `--json`).

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Client, ClientError};

/// How results are printed: a progress bar and plain lines on a terminal, plain lines
/// otherwise, JSON with `--json`.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
    pub tty: bool,
}

impl Output {
    pub fn line(&self, value: &impl Serialize, plain: impl FnOnce() -> String) {
        if self.json {
            println!("{}", to_json(value));
        } else {
            println!("{}", plain());
        }
    }
}

/// One line of JSON; the values printed are the client's own structs of strings and
/// numbers, which always serialize.
pub(super) fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("client output serializes")
}

/// `data` of a query on one video: `video` is null when the app has no such video.
#[derive(Deserialize)]
struct VideoData<T> {
    video: Option<T>,
}

fn not_found(vid: &str) -> ClientError {
    ClientError::Api {
        code: "NOT_FOUND".into(),
        message: format!("no video {vid}"),
    }
}

/// One video's `fields`, read as `T` (which must name the same fields), or a NOT_FOUND
/// error.
pub async fn video<T: DeserializeOwned>(
    client: &Client,
    vid: &str,
    fields: &str,
) -> Result<T, ClientError> {
    let data: VideoData<T> = client
        .graphql(
            &format!("query($id: ID!) {{ video(id: $id) {{ {fields} }} }}"),
            json!({ "id": vid }),
        )
        .await?;
    data.video.ok_or_else(|| not_found(vid))
}

/// What `reel status` asks for and prints (every field, also with `--json`).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct VideoStatus {
    id: String,
    source_name: String,
    status: String,
    progress: i32,
    error: Option<String>,
    file_size: i64,
    duration: Option<i64>,
    video_width: Option<i32>,
    video_height: Option<i32>,
}

impl VideoStatus {
    const FIELDS: &str =
        "id sourceName status progress error fileSize duration videoWidth videoHeight";
}

pub async fn status(client: &Client, vid: &str, out: &Output) -> Result<(), ClientError> {
    let v: VideoStatus = video(client, vid, VideoStatus::FIELDS).await?;
    out.line(&v, || {
        let mut s = format!("{}\t{}\t{}%\t{}", v.id, v.status, v.progress, v.source_name);
        if let Some(e) = &v.error {
            s.push_str(&format!("\nerror: {e}"));
        }
        s
    });
    Ok(())
}

/// `data` of the `videos` query: a connection whose nodes are [`VideoRow`]s.
#[derive(Deserialize)]
struct VideosData {
    videos: Connection,
}

#[derive(Deserialize)]
struct Connection {
    edges: Vec<Edge>,
}

#[derive(Deserialize)]
struct Edge {
    node: VideoRow,
}

/// One line of `reel videos` (every field, also with `--json`).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct VideoRow {
    id: String,
    source_name: String,
    status: String,
    progress: i32,
    file_size: i64,
    create_time: String,
}

pub async fn videos(client: &Client, first: i64, out: &Output) -> Result<(), ClientError> {
    let data: VideosData = client
        .graphql(
            "query($first: Int) { videos(first: $first) { edges { node { id sourceName status progress fileSize createTime } } } }",
            json!({ "first": first }),
        )
        .await?;
    let nodes: Vec<VideoRow> = data.videos.edges.into_iter().map(|e| e.node).collect();
    if out.json {
        println!("{}", to_json(&nodes));
        return Ok(());
    }
    for v in nodes {
        println!("{}\t{}\t{}\t{}", v.id, v.status, v.file_size, v.source_name);
    }
    Ok(())
}

/// A video's signed play URLs, as `reel play --json` prints them.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayUrl {
    pub url: String,
    pub cdn: String,
    pub expires_at: String,
    pub fallbacks: Vec<CdnUrl>,
}

/// The same playlist through another CDN.
#[derive(Deserialize, Serialize)]
pub struct CdnUrl {
    pub cdn: String,
    pub url: String,
}

/// `video { playUrl }`: null, with an error, until renditions are published (and
/// `graphql` returns that error), so `None` is not expected in practice.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlayVideo {
    play_url: Option<PlayUrl>,
}

pub async fn play_url(
    client: &Client,
    vid: &str,
    cdn: Option<&str>,
) -> Result<Option<PlayUrl>, ClientError> {
    let data: VideoData<PlayVideo> = client
        .graphql(
            "query($id: ID!, $cdn: String) { video(id: $id) { playUrl(cdn: $cdn) { url cdn expiresAt fallbacks { cdn url } } } }",
            json!({ "id": vid, "cdn": cdn }),
        )
        .await?;
    let video = data.video.ok_or_else(|| not_found(vid))?;
    Ok(video.play_url)
}

pub async fn play(
    client: &Client,
    vid: &str,
    cdn: Option<&str>,
    out: &Output,
) -> Result<(), ClientError> {
    let play = play_url(client, vid, cdn).await?;
    out.line(&play, || {
        play.as_ref().map(|p| p.url.clone()).unwrap_or_default()
    });
    Ok(())
}

pub async fn delete(client: &Client, vid: &str, out: &Output) -> Result<(), ClientError> {
    // The answer is `true`; a failure comes back as an error.
    let _: IgnoredAny = client
        .graphql(
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            json!({ "id": vid }),
        )
        .await?;
    out.line(&json!({ "deleted": vid }), || format!("deleted {vid}"));
    Ok(())
}
