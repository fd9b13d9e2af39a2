//! `reel status`, `reel videos`, `reel play`, `reel delete`: one GraphQL call each,
//! printed as plain lines (or JSON with `--json`).

use serde_json::{Value, json};

use super::{Client, ClientError};

/// How results are printed: a progress bar and plain lines on a terminal, plain lines
/// otherwise, JSON with `--json`.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
    pub tty: bool,
}

impl Output {
    pub fn line(&self, value: &Value, plain: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", plain());
        }
    }
}

/// One video's fields, or a NOT_FOUND error.
pub async fn video(client: &Client, vid: &str, fields: &str) -> Result<Value, ClientError> {
    let data = client
        .graphql(
            &format!("query($id: ID!) {{ video(id: $id) {{ {fields} }} }}"),
            json!({ "id": vid }),
        )
        .await?;
    if data["video"].is_null() {
        return Err(ClientError::Api {
            code: "NOT_FOUND".into(),
            message: format!("no video {vid}"),
        });
    }
    Ok(data["video"].clone())
}

pub async fn status(client: &Client, vid: &str, out: &Output) -> Result<(), ClientError> {
    let v = video(
        client,
        vid,
        "id sourceName status progress error fileSize duration videoWidth videoHeight",
    )
    .await?;
    out.line(&v, || {
        let mut s = format!(
            "{}\t{}\t{}%\t{}",
            v["id"].as_str().unwrap_or(""),
            v["status"].as_str().unwrap_or(""),
            v["progress"],
            v["sourceName"].as_str().unwrap_or("")
        );
        if let Some(e) = v["error"].as_str() {
            s.push_str(&format!("\nerror: {e}"));
        }
        s
    });
    Ok(())
}

pub async fn videos(client: &Client, first: i64, out: &Output) -> Result<(), ClientError> {
    let data = client
        .graphql(
            "query($first: Int) { videos(first: $first) { edges { node { id sourceName status progress fileSize createTime } } } }",
            json!({ "first": first }),
        )
        .await?;
    let nodes: Vec<Value> = data["videos"]["edges"]
        .as_array()
        .map(|e| e.iter().map(|e| e["node"].clone()).collect())
        .unwrap_or_default();
    if out.json {
        println!("{}", Value::Array(nodes));
        return Ok(());
    }
    for v in nodes {
        println!(
            "{}\t{}\t{}\t{}",
            v["id"].as_str().unwrap_or(""),
            v["status"].as_str().unwrap_or(""),
            v["fileSize"],
            v["sourceName"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

pub async fn play_url(client: &Client, vid: &str, cdn: Option<&str>) -> Result<Value, ClientError> {
    let data = client
        .graphql(
            "query($id: ID!, $cdn: String) { video(id: $id) { playUrl(cdn: $cdn) { url cdn expiresAt fallbacks { cdn url } } } }",
            json!({ "id": vid, "cdn": cdn }),
        )
        .await?;
    if data["video"].is_null() {
        return Err(ClientError::Api {
            code: "NOT_FOUND".into(),
            message: format!("no video {vid}"),
        });
    }
    Ok(data["video"]["playUrl"].clone())
}

pub async fn play(
    client: &Client,
    vid: &str,
    cdn: Option<&str>,
    out: &Output,
) -> Result<(), ClientError> {
    let play = play_url(client, vid, cdn).await?;
    out.line(&play, || play["url"].as_str().unwrap_or("").to_string());
    Ok(())
}

pub async fn delete(client: &Client, vid: &str, out: &Output) -> Result<(), ClientError> {
    client
        .graphql(
            "mutation($id: ID!) { deleteVideo(id: $id) }",
            json!({ "id": vid }),
        )
        .await?;
    out.line(&json!({ "deleted": vid }), || format!("deleted {vid}"));
    Ok(())
}
